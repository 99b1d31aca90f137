import { execFileSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestHost {
  /** The namespace's name, for running any program in it: `ip netns exec <namespace> ...`. */
  namespace: string;
  /** This machine's address on the link, as the namespace sees it. */
  hostAddress: string;
  /** The namespace's own address. */
  nsAddress: string;
  /** Runs a real HTTP client inside the namespace; returns the status code, or "ERR <code>" when it cannot connect. */
  request(url: string, headers?: Record<string, string>): Promise<string>;
  /** The same, with a method and JSON body; returns the status and the response body. */
  send(url: string, init: { method: string; headers?: Record<string, string>; body?: unknown }): Promise<{ status: number; body: any }>;
  remove(): void;
}

let counter = 0;

/**
 * Why a namespace cannot be made here, or null when it can. The remote-client
 * tests skip with this reason only; CI runs as root and runs them.
 */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces exist only on Linux';
  if (process.getuid?.() !== 0) return 'creating a network namespace needs root (CAP_NET_ADMIN)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'the ip command (iproute2) is not installed';
  }
  const probe = `hfprobe${process.pid % 100000}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `ip netns add failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
}

/**
 * A second host: a network namespace joined to this machine by a veth pair on
 * a private 10.213.x.0/30 link. Traffic stays inside this machine.
 */
export function createTestHost(): TestHost {
  const n = ++counter;
  const tag = `${process.pid % 10000}${n}`;
  const ns = `hftest${tag}`;
  const hostIf = `hfh${tag}`;
  const nsIf = `hfn${tag}`;
  const subnet = ((process.pid + n * 7) % 250) + 1;
  const hostAddress = `10.213.${subnet}.1`;
  const nsAddress = `10.213.${subnet}.2`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const remove = () => {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* already gone */
    }
    try {
      ip('link', 'del', hostIf);
    } catch {
      /* removed with the namespace */
    }
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', ns);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsIf);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    remove();
    throw err;
  }
  const client = `fetch(process.argv[1], { headers: JSON.parse(process.argv[2]), signal: AbortSignal.timeout(3000) })
    .then((r) => console.log(r.status)).catch((e) => console.log('ERR ' + (e.cause?.code ?? e.name)))`;
  const sender = `const init = JSON.parse(process.argv[2]);
    fetch(process.argv[1], { method: init.method, headers: { 'content-type': 'application/json', ...init.headers }, body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: AbortSignal.timeout(3000) })
      .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json().catch(() => null) })))
      .catch((e) => console.log(JSON.stringify({ status: 0, body: String(e.cause?.code ?? e.name) })))`;
  return {
    namespace: ns,
    hostAddress,
    nsAddress,
    request: async (url, headers = {}) => {
      const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', client, url, JSON.stringify(headers)]);
      return stdout.trim();
    },
    send: async (url, init) => {
      const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', sender, url, JSON.stringify(init)]);
      return JSON.parse(stdout) as { status: number; body: any };
    },
    remove,
  };
}
