import { test as base, expect, type Page } from '@playwright/test';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendMessage } from '../../shared/ipc';

const CLI = fileURLToPath(new URL('../../server/bin/halo-forge.js', import.meta.url));
export const SCREENSHOT_DIR = fileURLToPath(new URL('../artifacts/screenshots', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Backend {
  url: string;
  port: number;
  home: string;
  env: NodeJS.ProcessEnv;
  output(): string;
  /** Runs the real CLI against this backend's home. */
  cli(args: string[]): Promise<CliResult>;
  /** `token create NAME --json` through the CLI; returns the secret. */
  createToken(name: string, options?: { scope?: 'admin' | 'operate' | 'read' }): Promise<string>;
  /** `token revoke NAME`; pass the secret to wait until the running server refuses it. */
  revokeToken(name: string, token?: string): Promise<void>;
  /** Stops the server process and keeps its home: an outage the dashboard must notice. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same home, after kill(). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface BackendOptions {
  /** Extra `serve` arguments, e.g. ['--auth', 'on']. */
  args?: string[];
  /** Extra environment, e.g. HF_ENDPOINT of the fake Hub or HF_TOKEN. */
  env?: NodeJS.ProcessEnv;
  /** Prepares the temporary home before the backend starts (e.g. a token the Hugging Face tools saved). */
  setup?: (home: string, env: NodeJS.ProcessEnv) => void;
}

/** A home of its own, no inherited secrets, no real keyring, and a Hub that is never the real one. */
function backendEnv(home: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HALOFORGE_HOME: home,
    HOME: home,
    HF_HOME: join(home, 'hf-home'),
    HALOFORGE_KEYRING: 'off',
    // Port 9 (discard) refuses: without a fake Hub, the Hub is simply unreachable.
    HF_ENDPOINT: 'http://127.0.0.1:9',
    ...extra,
  };
  for (const k of ['HALOFORGE_API_TOKEN', 'HALOFORGE_TOKEN_STORE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH']) if (!(k in extra)) delete env[k];
  return env;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = fork(CLI, args, { env, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.end();
    child.on('close', (code) => resolve({ code, stdout, stderr })); // close: output fully read
  });
}

/** Asks /health with a token until the server answers `status`: tests wait for conditions, never sleep. */
async function waitForStatus(baseUrl: string, token: string, status: number, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(new URL('/api/public/health', baseUrl), { headers: { authorization: `Bearer ${token}` } });
    await response.body?.cancel();
    if (response.status === status) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last answer ${response.status})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Launched {
  child: ChildProcess;
  ready: Extract<BackendMessage, { type: 'ready' }>;
}

/** Forks `halo-forge serve` and waits for its IPC `ready` message; kills it if it never comes. */
async function launchBackend(env: NodeJS.ProcessEnv, args: string[], timeoutMs: number, onOutput: (chunk: string) => void): Promise<Launched> {
  const child: ChildProcess = fork(CLI, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString();
    onOutput(d.toString());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const ready = await new Promise<Extract<BackendMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend did not become ready within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    child.on('message', (m: BackendMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      } else if (m.type === 'fatal') {
        clearTimeout(timer);
        reject(new Error(`backend failed: ${m.message}\n${m.hint}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`backend exited with ${code} before it was ready:\n${out}`));
    });
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return { child, ready };
}

/** Starts the real, built backend on a free port and waits for its IPC `ready` message. Builds nothing. */
export async function startBackend(options: BackendOptions = {}, timeoutMs = 20_000): Promise<Backend> {
  const home = mkdtempSync(join(tmpdir(), 'halo-forge-e2e-'));
  const env = backendEnv(home, options.env ?? {});
  options.setup?.(home, env);
  let out = '';
  const launch = (port: number) => launchBackend(env, ['serve', '--port', String(port), '--log-level', 'warn', ...(options.args ?? [])], timeoutMs, (chunk) => (out += chunk));
  let running: Launched;
  try {
    running = await launch(0);
  } catch (err) {
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  const ready = running.ready;
  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });

  const backend: Backend = {
    url: ready.url,
    port: ready.port,
    home,
    env,
    output: () => out,
    cli: (args) => runCli(args, env),
    async createToken(name, opts = {}) {
      const result = await runCli(['token', 'create', name, '--scope', opts.scope ?? 'admin', '--json'], env);
      if (result.code !== 0) throw new Error(`token create ${name} failed (${result.code}): ${result.stderr}`);
      const token = (JSON.parse(result.stdout) as { token: string }).token;
      // The running server picks up the CLI's change from the token file; wait until it has.
      await waitForStatus(ready.url, token, 200, `the server to accept the new token "${name}"`);
      return token;
    },
    async revokeToken(name, token) {
      const result = await runCli(['token', 'revoke', name], env);
      if (result.code !== 0) throw new Error(`token revoke ${name} failed (${result.code}): ${result.stderr}`);
      if (token) await waitForStatus(ready.url, token, 401, `the server to refuse the revoked token "${name}"`);
    },
    kill: () => exited(running.child),
    async restart() {
      await exited(running.child);
      running = await launch(ready.port);
    },
    async stop() {
      await exited(running.child);
      rmSync(home, { recursive: true, force: true });
    },
  };
  return backend;
}

/**
 * `backend`: a fresh real backend per test. Configure it with
 * `test.use({ backendOptions: { args: ['--auth', 'on'] } })`, or override
 * `backendOptions` with a fixture that depends on another (the fake Hub).
 */
export const test = base.extend<{ backendOptions: BackendOptions; backend: Backend }>({
  backendOptions: [{}, { option: true }],
  backend: async ({ backendOptions }, use, testInfo) => {
    const backend = await startBackend(backendOptions);
    await use(backend);
    if (testInfo.status !== testInfo.expectedStatus) await testInfo.attach('backend output', { body: backend.output(), contentType: 'text/plain' });
    await backend.stop();
  },
});

export { expect };

/** Saves the page as a person would see it, in light and in dark, under e2e/artifacts/screenshots. */
export async function screenshotBothSchemes(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-${colorScheme}.png`), fullPage: true, animations: 'disabled', caret: 'hide' });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Opens a screen through the sidebar, the way a person would. */
export async function openScreen(page: Page, name: 'Overview' | 'Connection' | 'Hugging Face' | 'API tokens'): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name === 'Hugging Face' ? 'Hugging Face access' : name);
}
