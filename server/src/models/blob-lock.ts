// The per-blob lock, the same one huggingface_hub takes: Python's `filelock`
// opens `.locks/{repo folder}/{etag}.lock` and holds fcntl.flock(LOCK_EX) on
// it while it writes the blob. Taking the same flock means Halo Forge (server
// or CLI) and a Python tool never write one blob at once, and a killed holder
// releases it (the kernel drops a dead process's flock). flock comes from the
// optional native module fs-ext; where it could not be built we fall back to
// an O_EXCL marker file that excludes other Halo Forge processes only.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from '../fs/process-alive.js';

type FlockSync = (fd: number, flags: 'exnb' | 'un') => void;

let flockSync: FlockSync | null | undefined;
function loadFlock(): FlockSync | null {
  if (flockSync !== undefined) return flockSync;
  try {
    flockSync = (createRequire(import.meta.url)('fs-ext') as { flockSync: FlockSync }).flockSync;
  } catch {
    flockSync = null;
  }
  return flockSync;
}

/** Why locking is weaker than Python's, or null when it is the same flock. */
export function lockLimitation(): string | null {
  return loadFlock() ? null : 'the native module fs-ext could not be loaded, so Halo Forge locks blobs with marker files that Python tools do not see; do not pull the same model with Python at the same time';
}

export interface BlobLock {
  release(): void;
}

/** Waits (polling, so a cancelled pull stops waiting) until this process holds the blob's lock. Its folder must exist. */
export async function lockBlob(path: string, signal: AbortSignal, onWait?: () => void): Promise<BlobLock> {
  const flock = loadFlock();
  let delay = 20;
  let waited = false;
  for (;;) {
    signal.throwIfAborted();
    const held = flock ? tryFlock(path, flock) : tryMarker(`${path}.haloforge`);
    if (held) return held;
    if (!waited) onWait?.();
    waited = true;
    await sleep(delay, undefined, { signal });
    delay = Math.min(delay * 2, 500);
  }
}

function tryFlock(path: string, flock: FlockSync): BlobLock | null {
  // O_CREAT without O_TRUNC, and never unlinked: removing a lock file another process has open would let a third lock a different inode.
  const fd = openSync(path, 'a', 0o644);
  try {
    flock(fd, 'exnb');
  } catch (err) {
    closeSync(fd);
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN' || (err as NodeJS.ErrnoException).code === 'EWOULDBLOCK') return null;
    throw err;
  }
  return {
    release: () => {
      try {
        flock(fd, 'un');
      } finally {
        closeSync(fd);
      }
    },
  };
}

function tryMarker(path: string): BlobLock | null {
  try {
    const fd = openSync(path, 'wx', 0o644);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return { release: () => rmSync(path, { force: true }) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // A marker left by a killed process: its holder is gone, so it holds nothing.
  const pid = Number(readTextOr(path));
  if (pid > 0 && !processAlive(pid)) rmSync(path, { force: true });
  return null;
}

function readTextOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
