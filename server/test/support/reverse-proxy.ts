import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './backend-process.js';

// Real nginx and Caddy in front of the real backend. The site blocks below
// are what the README shows (rendered with its example values, which a test
// checks); only the wrapper around them is test-only: private pid, log and
// temp paths, no admin endpoint, no port 80.

export type ProxyKind = 'nginx' | 'caddy';

export interface ProxySite {
  hostname: string;
  /** Where the proxy listens. The README's form has no address and port 443. */
  listen: { address?: string; port: number };
  certFile: string;
  keyFile: string;
  backendPort: number;
}

/** The backend's flags behind a proxy on the same machine. */
export function serveArgs(hostname: string): string[] {
  return ['--trust-proxy', '127.0.0.1', '--allowed-hosts', hostname];
}

export function nginxSite(site: ProxySite): string {
  const listen = site.listen.address ? `${site.listen.address}:${site.listen.port}` : String(site.listen.port);
  return `upstream halo_forge {
    server 127.0.0.1:${site.backendPort};
    keepalive 8;
}

server {
    listen ${listen} ssl;
    server_name ${site.hostname};
    ssl_certificate     ${site.certFile};
    ssl_certificate_key ${site.keyFile};

    location / {
        proxy_pass http://halo_forge;
        # Keep-alive to the backend, and HTTP/1.1 for the event stream.
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        # The name the client used: the backend answers it only with --allowed-hosts.
        proxy_set_header Host $host;
        # Without this line any client can pass as a user on this machine.
        # Overwrite, never append: a client cannot put an address in front.
        proxy_set_header X-Forwarded-For $remote_addr;
        # nginx passes the client's own copies of these through; drop them.
        proxy_set_header Forwarded "";
        proxy_set_header X-Real-IP "";
    }
}
`;
}

export function caddySite(site: ProxySite): string {
  const address = site.listen.port === 443 ? site.hostname : `https://${site.hostname}:${site.listen.port}`;
  const bind = site.listen.address ? `\tbind ${site.listen.address}\n` : '';
  return `${address} {
${bind}\ttls ${site.certFile} ${site.keyFile}
\treverse_proxy 127.0.0.1:${site.backendPort} {
\t\t# Caddy writes X-Forwarded-For itself, but passes the client's own
\t\t# copies of these through; drop them.
\t\theader_up -Forwarded
\t\theader_up -X-Real-IP
\t}
}
`;
}

/** Why this proxy cannot run here, or null. CI installs both (nginx-light, caddy). */
export function proxyUnavailable(kind: ProxyKind): string | null {
  // Even `caddy version` creates ~/.step (its PKI library's home): the probe gets a throwaway one.
  const home = mkdtempSync(join(tmpdir(), 'halo-forge-proxy-probe-'));
  try {
    const probe = spawnSync(kind, kind === 'nginx' ? ['-v'] : ['version'], { stdio: 'ignore', env: { ...process.env, HOME: home } });
    return probe.error ? `${kind} is not installed (apt-get install ${kind === 'nginx' ? 'nginx-light' : 'caddy'})` : null;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** A port nobody listens on at `address` right now. */
export function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, address, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface RunningProxy {
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs nginx or Caddy in the foreground with `site` as its whole site
 * configuration, everything it writes kept in `dir`, and returns once it
 * accepts connections on `address:port`.
 */
export async function startProxy(kind: ProxyKind, dir: string, site: string, address: string, port: number): Promise<RunningProxy> {
  mkdirSync(dir, { recursive: true });
  // nginx workers drop to "nobody" and must reach their temp folders.
  chmodSync(dir, 0o755);
  let child: ChildProcess;
  if (kind === 'nginx') {
    const temp = (name: string) => join(dir, 'temp', name);
    for (const name of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(temp(name), { recursive: true });
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr notice;
events { worker_connections 64; }
http {
access_log off;
client_body_temp_path ${temp('body')};
proxy_temp_path ${temp('proxy')};
fastcgi_temp_path ${temp('fastcgi')};
uwsgi_temp_path ${temp('uwsgi')};
scgi_temp_path ${temp('scgi')};

${site}}
`,
    );
    child = spawn('nginx', ['-p', dir, '-c', conf, '-e', 'stderr'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } else {
    const conf = join(dir, 'Caddyfile');
    // grace_period: an open event stream must not hold up the shutdown.
    writeFileSync(conf, `{\n\tadmin off\n\tauto_https off\n\tgrace_period 1s\n}\n\n${site}`);
    const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
    child = spawn('caddy', ['run', '--config', conf, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${kind} exited with ${child.exitCode}:\n${out}`);
        return accepts(address, port);
      },
      10_000,
      `${kind} to listen on ${address}:${port}`,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${kind} said:\n${out}`);
  }
  return { output: () => out, stop };
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
