import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensurePrivateDir } from './private-file.js';
import { dirname } from 'node:path';

const STALE_AFTER_MS = 10_000;

export class LockTimeoutError extends Error {
  constructor(readonly lockPath: string) {
    super(`Timed out waiting for the lock ${lockPath}; another halo-forge process holds it. Remove the file if no halo-forge process is running.`);
  }
}

/**
 * Runs `fn` while holding `<path>.lock`, created with O_EXCL so only one
 * process (CLI or server) can read-modify-write the file at a time. A lock
 * left by a dead process, or older than any real critical section, is taken
 * over.
 */
export async function withFileLock<T>(path: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const lockPath = `${path}.lock`;
  ensurePrivateDir(dirname(lockPath));
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (isStale(lockPath)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new LockTimeoutError(lockPath);
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

function isStale(lockPath: string): boolean {
  try {
    const age = Date.now() - statSync(lockPath).mtimeMs;
    const owner = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid?: number; host?: string };
    if (owner.host === hostname() && typeof owner.pid === 'number' && !processAlive(owner.pid)) return true;
    return age > STALE_AFTER_MS;
  } catch {
    // Unreadable or half-written: stale only once it is old, so a lock being
    // written right now is not stolen.
    try {
      return Date.now() - statSync(lockPath).mtimeMs > 1_000;
    } catch {
      return false;
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
