// Helpers for the fault tests: a seeded random source, child processes that
// can be killed mid-write, a scan of the home's file modes, and HTTP probes
// from chosen loopback addresses.
import { fork, type ChildProcess } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { CLI } from './backend-process.js';

/** mulberry32: a small PRNG, so a failing round can be replayed from its seed. */
export function seededRandom(seed: number): { next(): number; between(min: number, max: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    between: (min, max) => Math.floor(min + next() * (max - min)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

export interface CliRun {
  child: ChildProcess;
  /** Resolves once the process has ended and its output is drained. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** The CLI as a child the test may SIGKILL at any moment. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, input = ''): CliRun {
  const child = fork(CLI, args, { env, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.on('error', () => {}); // killed before it read its input
  child.stdin!.end(input);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

/** SIGKILL, then wait until the process is really gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}

export interface ModeProblem {
  path: string;
  mode: string;
}

/** Every file and folder under `root` that another user could read, write or enter (anything beyond 0600 / 0700). */
export function looseModes(root: string): ModeProblem[] {
  const problems: ModeProblem[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const mode = st.mode & 0o777;
      if (mode & 0o077) problems.push({ path, mode: mode.toString(8) });
      if (st.isDirectory()) walk(path);
    }
  };
  const top = lstatSync(root).mode & 0o777;
  if (top & 0o077) problems.push({ path: root, mode: top.toString(8) });
  walk(root);
  return problems;
}

/** Every path under `root`, relative to it. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      out.push(prefix + e.name);
      if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
    }
  };
  walk(root, '');
  return out.sort();
}

export interface HttpAnswer {
  status: number;
  body: any;
}

/**
 * One request on a fresh connection from a chosen loopback source address
 * (127.0.0.0/8 is all loopback): the server throttles failed attempts per
 * address, so probes that are meant to fail each come from an address of their own.
 * Rejects when the server cannot be reached (killed).
 */
export function call(port: number, method: string, path: string, opts: { token?: string; body?: unknown; from?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: `/api/public${path}`,
        localAddress: opts.from ?? '127.0.0.1',
        agent: false,
        headers: {
          host: `127.0.0.1:${port}`,
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON: kept as text */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A new loopback source address each call: 127.<block>.x.y. */
export function addressPool(block: number): () => string {
  let n = 0;
  return () => {
    n++;
    return `127.${block}.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`;
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
