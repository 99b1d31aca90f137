import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensurePrivateDir } from './private-file.js';
import { processAlive } from './process-alive.js';

/** Older than any real critical section (they take milliseconds). */
const STALE_AFTER_MS = 10_000;
/** A live owner on this host is trusted this long; after that its pid may have been reused. */
const LIVE_OWNER_MAX_MS = 60_000;

export class LockTimeoutError extends Error {
  constructor(readonly lockPath: string) {
    super(`Timed out waiting for the lock ${lockPath}; another halo-forge process holds it. Remove the file if no halo-forge process is running.`);
  }
}

interface Owner {
  pid?: number;
  host?: string;
  nonce?: string;
}

/**
 * Runs `fn` while holding `<path>.lock`, created with O_EXCL so only one
 * process (CLI or server) can read-modify-write the file at a time. A lock
 * left by a dead process, or far older than any real critical section, is
 * taken over — but only if it is still the very lock that was judged stale,
 * so two waiters can never both take over, and a process only ever removes
 * its own lock.
 */
export async function withFileLock<T>(path: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const lockPath = `${path}.lock`;
  ensurePrivateDir(dirname(lockPath));
  const nonce = randomBytes(12).toString('hex');
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      createLock(lockPath, JSON.stringify({ pid: process.pid, host: hostname(), nonce, at: Date.now() }));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const judged = readLock(lockPath);
      if (judged !== null && isStale(lockPath, judged)) {
        takeOver(lockPath, judged);
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
    // Only our own lock: if it was ever taken over, the new owner's stays.
    if (ownerOf(readLock(lockPath))?.nonce === nonce) rmSync(lockPath, { force: true });
  }
}

/**
 * Creates the lock with its owner in it. When the owner cannot be written (a
 * full disk), the empty file is removed again: left behind, it would hold up
 * every other writer until it counts as stale, and leak a descriptor.
 */
function createLock(lockPath: string, owner: string): void {
  const fd = openSync(lockPath, 'wx', 0o600);
  try {
    writeSync(fd, owner);
  } catch (err) {
    closeSync(fd);
    rmSync(lockPath, { force: true });
    throw err;
  }
  closeSync(fd);
}

function readLock(lockPath: string): string | null {
  try {
    return readFileSync(lockPath, 'utf8');
  } catch {
    return null;
  }
}

function ownerOf(text: string | null): Owner | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Owner;
  } catch {
    return null;
  }
}

function isStale(lockPath: string, text: string): boolean {
  let age: number;
  try {
    age = Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return false;
  }
  const owner = ownerOf(text);
  // Unreadable or half-written: stale only once it is old, so a lock being written right now is not stolen.
  if (!owner) return age > 1_000;
  if (owner.host === hostname() && typeof owner.pid === 'number') return !processAlive(owner.pid) || age > LIVE_OWNER_MAX_MS;
  return age > STALE_AFTER_MS;
}

/**
 * Moves the stale lock aside and checks that what moved is what was judged.
 * If another waiter got there first and already holds a fresh lock, that
 * lock is what moved: it is put back (link fails if someone re-created the
 * path meanwhile, in which case that newer lock stands).
 */
function takeOver(lockPath: string, judged: string): void {
  const aside = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // gone already: someone else took it over or released it
  }
  if (readLock(aside) !== judged) {
    try {
      linkSync(aside, lockPath);
    } catch {
      /* a newer lock exists; it stands */
    }
  }
  rmSync(aside, { force: true });
}
