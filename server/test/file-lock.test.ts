import { afterEach, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LockTimeoutError, withFileLock } from '../src/fs/file-lock.js';
import { tempHome } from './support/backend-process.js';

let cleanup: () => void = () => {};
afterEach(() => cleanup());

function setup() {
  const t = tempHome();
  cleanup = t.cleanup;
  return { dir: t.home, target: join(t.home, 'tokens.json') };
}

const deadPid = 2 ** 22 + 12345; // above Linux's pid_max default: never a live process

describe('the cross-process file lock', () => {
  it('takes over a lock left by a process that died', async () => {
    const { target } = setup();
    writeFileSync(`${target}.lock`, JSON.stringify({ pid: deadPid, host: hostname(), nonce: 'x', at: Date.now() }));
    expect(await withFileLock(target, () => 'ran')).toBe('ran');
    expect(existsSync(`${target}.lock`)).toBe(false);
  });

  it('waits for a live holder, then names the lock when it gives up', async () => {
    const { target } = setup();
    writeFileSync(`${target}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'held', at: Date.now() }));
    const err = await withFileLock(target, () => 'ran', 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as Error).message).toContain(`${target}.lock`);
    expect(JSON.parse(readFileSync(`${target}.lock`, 'utf8')).nonce).toBe('held');
  });

  it('never lets two processes in at once, even racing to take over a stale lock', async () => {
    const { dir, target } = setup();
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    writeFileSync(`${target}.lock`, JSON.stringify({ pid: deadPid, host: hostname(), nonce: 'stale', at: Date.now() }));
    const lockModule = pathToFileURL(fileURLToPath(new URL('../../dist/server/src/fs/file-lock.js', import.meta.url))).href;
    const worker = join(dir, 'worker.mjs');
    // Each increment is a read, a yield and a write: without mutual exclusion, increments are lost.
    writeFileSync(
      worker,
      `import { readFileSync, writeFileSync } from 'node:fs';
const { withFileLock } = await import(${JSON.stringify(lockModule)});
for (let i = 0; i < 40; i++) {
  await withFileLock(${JSON.stringify(target)}, async () => {
    const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8'));
    await new Promise((r) => setImmediate(r));
    writeFileSync(${JSON.stringify(counter)}, String(n + 1));
  }, 30_000);
}`,
    );
    const codes = await Promise.all(Array.from({ length: 6 }, () => new Promise<number | null>((resolve) => fork(worker).on('exit', resolve))));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    expect(readFileSync(counter, 'utf8')).toBe('240');
    expect(existsSync(`${target}.lock`)).toBe(false);
  });
});
