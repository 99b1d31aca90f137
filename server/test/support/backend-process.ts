import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { BackendMessage } from '../../../shared/ipc.js';

export const CLI = fileURLToPath(new URL('../../bin/halo-forge.js', import.meta.url));

/** Where each temp home's creator is noted, so the suite's leftover check can name the test that left one. */
export const HOME_RECORD = '.halo-forge-homes';

export function tempHome(prefix = 'halo-forge-test-'): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const state = expect.getState();
  const creator = `${state.testPath ? relative(process.cwd(), state.testPath) : '?'} > ${state.currentTestName ?? '(outside a test)'}`;
  appendFileSync(join(tmpdir(), HOME_RECORD), `${basename(home)}\t${creator}\n`);
  // Retried: a process that is still stopping may write one more file while the folder is being removed.
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }) };
}

/** The environment a test process gets: its own home, no inherited secrets, no real keyring unless asked. */
export function testEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HALOFORGE_HOME: home, HOME: home, HF_HOME: join(home, 'hf-home'), ...extra };
  for (const k of ['HALOFORGE_API_TOKEN', 'HALOFORGE_TOKEN_STORE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH']) if (!(k in extra)) delete env[k];
  return env;
}

export interface BackendProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output(): string;
  stop(): Promise<number | null>;
}

/** Resolves with the backend's `ready` message; rejects on `fatal`, an early exit or the timeout, with `output()` in the message. */
export function waitForReady(child: ChildProcess, output: () => string, timeoutMs: number): Promise<Extract<BackendMessage, { type: 'ready' }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend did not become ready:\n${output()}`)), timeoutMs);
    child.on('message', (m: BackendMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      }
      if (m.type === 'fatal') {
        clearTimeout(timer);
        reject(new Error(`backend failed: ${m.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`backend exited with ${code}:\n${output()}`));
    });
  });
}

/**
 * Starts the real backend (the built CLI) as a child process and waits for
 * its `ready` message over IPC. Needs `npm run build:node` first.
 */
export async function startBackend(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<BackendProcess> {
  const child = fork(CLI, ['serve', '--port', '0', '--log-level', 'info', ...args], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const ready = await waitForReady(child, () => out, timeoutMs);
  return {
    child,
    port: ready.port,
    url: ready.url,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        // A backend a test killed itself has a signal and no exit code: it is already gone.
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = fork(CLI, args, { env, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.end(input ?? '');
    // 'close', not 'exit': a process can exit before its output pipes are drained.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `check` until it returns true or the deadline passes; tests wait for conditions, never sleep. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Temp homes and backends that a test file releases after each test:
 * `const w = workstations(); afterEach(w.release);`
 */
export function workstations() {
  let cleanups: (() => unknown)[] = [];
  return {
    /** A fresh HALOFORGE_HOME (also HOME) and an environment pointing at it, with the keyring off. */
    home(): { home: string; env: NodeJS.ProcessEnv } {
      const h = tempHome();
      cleanups.push(h.cleanup);
      return { home: h.home, env: testEnv(h.home, { HALOFORGE_KEYRING: 'off' }) };
    },
    /** The real backend, stopped after the test. */
    async backend(args: string[], env: NodeJS.ProcessEnv): Promise<BackendProcess> {
      const b = await startBackend(args, env);
      cleanups.push(() => b.stop());
      return b;
    },
    async release(): Promise<void> {
      const pending = cleanups.reverse();
      cleanups = [];
      for (const c of pending) await c();
    },
  };
}
