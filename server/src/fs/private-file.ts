import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, chmodSync, writeSync, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { processAlive } from './process-alive.js';

const isWindows = process.platform === 'win32';

/**
 * Creates `dir` (and parents) as 0700, and tightens it if it already exists
 * with looser bits. Returns a warning when it had to tighten.
 */
export function ensurePrivateDir(dir: string): string | null {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (isWindows) return null;
  const mode = statSync(dir).mode & 0o777;
  if (mode & 0o077) {
    chmodSync(dir, 0o700);
    return `${dir} was accessible to other users (mode ${mode.toString(8)}); tightened to 0700`;
  }
  return null;
}

/** Tightens an existing file to 0600; returns a warning when it had to. */
export function tightenFileMode(path: string): string | null {
  if (isWindows) return null;
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    chmodSync(path, 0o600);
    return `${path} was readable by other users (mode ${mode.toString(8)}); tightened to 0600`;
  }
  return null;
}

/**
 * Writes `data` so that readers see either the old or the new content, never
 * a half-written file, and so the file is 0600 from the moment it exists: the
 * temp file is created with that mode (never written first and chmod-ed after,
 * the peers' mistake), fsync-ed, then renamed over the target.
 */
export function writePrivateFileAtomic(path: string, data: string): void {
  const dir = dirname(path);
  ensurePrivateDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeAll(fd, Buffer.from(data, 'utf8'));
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
  removeLeftoverTemps(path);
}

/**
 * write(2) may take only part of the data (a disk filling up takes what fits
 * and refuses the rest on the next call); one writeSync would then leave a
 * truncated file to be renamed over a good one.
 */
function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
}

/**
 * Removes the temp files of `path` that a process killed mid-write left
 * behind (their writer is gone). They are 0600, but one may hold a secret
 * that was since replaced or cleared.
 */
export function removeLeftoverTemps(path: string): void {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length))?.[1];
    if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) continue;
    try {
      rmSync(join(dir, name), { force: true });
    } catch {
      // Tidying only: the write that called this has succeeded.
    }
  }
}

function fsyncDir(dir: string): void {
  if (isWindows) return;
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

/** The file's text, or null when it does not exist. */
export function readTextIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
