// The only file that knows keytar. To use another keyring library, replace
// this file: it has to return a KeyringBackend or throw why it cannot.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { disabledKeyring, guardedKeyring, type GuardOptions, type Keyring, type KeyringBackend } from './keyring.js';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

type Answer = { ok: true; result: unknown } | { ok: false; message: string };
export type KeyringCall = { op: 'get'; service: string; account: string } | { op: 'set'; service: string; account: string; value: string } | { op: 'delete'; service: string; account: string };

/** A fresh process that has never seen a keyring call longer than this is killed. */
const FRESH_PROCESS_LIMIT_MS = 30_000;

/**
 * keytar is a native, optional dependency: it may be missing, or built for
 * another Node ABI (Electron). Loaded on first use so a backend without it
 * starts just the same.
 *
 * libsecret, under keytar, keeps its connection to the Secret Service for the
 * life of the process and learns that the service went away only through a
 * GLib main loop, which Node never runs. Once gnome-keyring has restarted,
 * every later call of a long-running server would fail ("The name :1.7 was not
 * provided by any .service files") until the server restarts. So once a call
 * that had worked before fails, it and every later call run in a short-lived
 * process of their own, which connects afresh.
 */
export function loadKeytar(
  requireModule: (id: string) => unknown = createRequire(import.meta.url),
  // Inside the desktop app the executable is Electron's, which (RunAsNode fused off) runs no `-e` script: a fresh
  // process there would be a second copy of the app, so the app asks for a restart instead.
  freshProcess: (c: KeyringCall) => Promise<unknown> = freshProcessCaller(),
): KeyringBackend {
  let keytar: Keytar;
  try {
    keytar = requireModule('keytar') as Keytar;
  } catch (err) {
    const detail = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? 'it is not installed' : (err as Error).message.split('\n')[0];
    throw new Error(`The keyring library (keytar) could not be loaded: ${detail}.`);
  }
  let answered = false;
  let stale = false;
  const inProcess = (c: KeyringCall): Promise<unknown> =>
    c.op === 'get' ? keytar.getPassword(c.service, c.account) : c.op === 'set' ? keytar.setPassword(c.service, c.account, c.value) : keytar.deletePassword(c.service, c.account);
  async function call(c: KeyringCall): Promise<unknown> {
    if (stale) return freshProcess(c);
    try {
      const result = await inProcess(c);
      answered = true;
      return result;
    } catch (err) {
      // Never connected: libsecret kept nothing, so this process can keep asking itself.
      if (!answered) throw err;
      stale = true;
      return freshProcess(c);
    }
  }
  return {
    get: async (service, account) => (await call({ op: 'get', service, account })) as string | null,
    set: async (service, account, value) => void (await call({ op: 'set', service, account, value })),
    delete: async (service, account) => (await call({ op: 'delete', service, account })) as boolean,
  };
}

// Runs as `node -e`: the call comes on standard input (never the command line,
// which `ps` shows), the answer goes back on standard output.
const FRESH_PROCESS_SCRIPT = `
const keytar = require(process.argv[1]);
let input = '';
process.stdin.setEncoding('utf8').on('data', (d) => (input += d)).on('end', async () => {
  const c = JSON.parse(input);
  let answer;
  try {
    const result = c.op === 'get' ? await keytar.getPassword(c.service, c.account)
      : c.op === 'set' ? await keytar.setPassword(c.service, c.account, c.value)
      : await keytar.deletePassword(c.service, c.account);
    answer = { ok: true, result: result === undefined ? null : result };
  } catch (err) {
    answer = { ok: false, message: String((err && err.message) || err) };
  }
  process.stdout.write(JSON.stringify(answer), () => process.exit(0));
});`;

/** How a call reaches the keyring afresh: a short-lived Node process, or inside the desktop app a restart. */
export function freshProcessCaller(versions: NodeJS.ProcessVersions = process.versions): (c: KeyringCall) => Promise<unknown> {
  if (!versions.electron) return inFreshProcess;
  return () => Promise.reject(new Error('The system keyring restarted since Halo Forge started, and the app cannot reconnect to it: quit Halo Forge and open it again.'));
}

function inFreshProcess(c: KeyringCall): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const keytarPath = createRequire(import.meta.url).resolve('keytar');
    const child = spawn(process.execPath, ['-e', FRESH_PROCESS_SCRIPT, keytarPath], {
      env: process.env,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), FRESH_PROCESS_LIMIT_MS);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', (err) => {
      clearTimeout(limit);
      reject(new Error(`could not start a process to ask the keyring: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      let answer: Answer | null = null;
      try {
        answer = JSON.parse(out) as Answer;
      } catch {
        /* no answer: said below */
      }
      if (answer?.ok) resolve(answer.result);
      else reject(new Error(answer ? answer.message : `the process asking the keyring ended without an answer (${signal ?? `exit ${code}`})`));
    });
    child.stdin.end(JSON.stringify(c));
  });
}

/**
 * The workstation's keyring. `HALOFORGE_KEYRING=off` turns it off (headless
 * hosts, tests); `HALOFORGE_KEYRING_SERVICE` names another keyring service, so
 * a test or a second install never touches the real entry.
 */
export function openKeyring(env: NodeJS.ProcessEnv, options: GuardOptions & { load?: () => KeyringBackend } = {}): Keyring {
  if (env.HALOFORGE_KEYRING === 'off') return disabledKeyring('Turned off by HALOFORGE_KEYRING=off.');
  return guardedKeyring(options.load ?? (() => loadKeytar()), { service: env.HALOFORGE_KEYRING_SERVICE || undefined, ...options });
}
