import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { processAlive } from './process-alive.js';

const isWindows = process.platform === 'win32';
// Windows has no O_NOFOLLOW (and Node leaves it undefined there): links are checked with lstat instead.
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * A state file or folder under the Halo Forge home that is a symbolic link.
 * Following it would read, send or chmod a file somewhere else: a secret
 * file linked to another file would send that file's content to the Hub as
 * a bearer token, and tightening its mode would chmod a file outside the home.
 * The code is ELOOP, what open(2) with O_NOFOLLOW says.
 */
export class SymlinkRefusedError extends Error {
  readonly code = 'ELOOP';
  constructor(readonly path: string, kind: 'file' | 'folder') {
    super(
      kind === 'folder'
        ? `${path} is a symbolic link; Halo Forge does not follow links for its own folders. Replace the link with a real folder (or set HALOFORGE_HOME to the folder it points to), then try again.`
        : `${path} is a symbolic link; Halo Forge does not follow links for its own files, so that nothing outside its folder is read or changed. Remove the link (or replace it with the file itself), then try again.`,
    );
    this.name = 'SymlinkRefusedError';
  }
}

function refuseLink(err: unknown, path: string, kind: 'file' | 'folder'): never {
  throw (err as NodeJS.ErrnoException).code === 'ELOOP' ? new SymlinkRefusedError(path, kind) : err;
}

/** Throws SymlinkRefusedError when `dir` is a link, and an error when it is not a folder; false when it does not exist. */
function checkFolder(dir: string): boolean {
  let s;
  try {
    s = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (s.isSymbolicLink()) throw new SymlinkRefusedError(dir, 'folder');
  if (!s.isDirectory()) throw Object.assign(new Error(`${dir} is not a folder; move it away, then try again.`), { code: 'ENOTDIR' });
  return true;
}

/**
 * Creates `dir` (and parents) as 0700, and tightens it if it already exists
 * with looser bits. Refuses a folder that is a symbolic link. Returns a
 * warning when it had to tighten.
 */
export function ensurePrivateDir(dir: string): string | null {
  if (!checkFolder(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Lost a race to someone who put a link there: still refused.
    checkFolder(dir);
  }
  if (isWindows) return null;
  const fd = openSync(dir, constants.O_RDONLY | NOFOLLOW | (constants.O_DIRECTORY ?? 0));
  try {
    return tightenOpen(fd, dir, 0o700, 'accessible to other users');
  } finally {
    closeSync(fd);
  }
}

/** chmod through the open descriptor: it changes the very file that was opened without following links, never what a link points to. */
function tightenOpen(fd: number, path: string, mode: number, what: string): string | null {
  if (isWindows) return null;
  const current = fstatSync(fd).mode & 0o777;
  if ((current & 0o077) === 0) return null;
  fchmodSync(fd, mode);
  return `${path} was ${what} (mode ${current.toString(8)}); tightened to 0${mode.toString(8)}`;
}

/** Opens a state file without following a link; refuses a link and anything but a regular file. */
function openStateFile(path: string, flags: number, mode?: number): number {
  if (isWindows && lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) throw new SymlinkRefusedError(path, 'file');
  let fd: number;
  try {
    fd = openSync(path, flags | NOFOLLOW | (constants.O_NONBLOCK ?? 0), mode);
  } catch (err) {
    refuseLink(err, path, 'file');
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw Object.assign(new Error(`${path} is not a regular file; move it away, then try again.`), { code: 'EINVAL' });
  }
  return fd;
}

/** Tightens an existing file to 0600; returns a warning when it had to. Refuses a link: its target is outside our control. */
export function tightenFileMode(path: string): string | null {
  if (isWindows) return null;
  const fd = openStateFile(path, constants.O_RDONLY);
  try {
    return tightenOpen(fd, path, 0o600, 'readable by other users');
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a state file for appending (creating it 0600), never through a link,
 * tightening the file and its folder if they are looser. `onTightened` hears
 * what had to be tightened.
 */
export function openPrivateAppend(path: string, onTightened?: (warning: string) => void): number {
  const dirWarning = ensurePrivateDir(dirname(path));
  const fd = openStateFile(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    const fileWarning = tightenOpen(fd, path, 0o600, 'readable by other users');
    for (const w of [dirWarning, fileWarning]) if (w) onTightened?.(w);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
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

/**
 * The text of a state file, or null when it does not exist. Never follows a
 * link: a link in place of the file or of its folder is refused
 * (SymlinkRefusedError). Read-only: the modes are left as they are.
 */
export function readTextIfExists(path: string): string | null {
  return readState(path, false)?.text ?? null;
}

/**
 * Like readTextIfExists, and tightens the file and its folder to 0600/0700
 * when they are looser: every state file is made private when it is opened,
 * not only when it is next written. `warnings` says what had to be tightened.
 */
export function readPrivateText(path: string): { text: string; warnings: string[] } | null {
  return readState(path, true);
}

function readState(path: string, tighten: boolean): { text: string; warnings: string[] } | null {
  const warnings: string[] = [];
  if (!checkFolder(dirname(path))) return null;
  if (tighten) {
    const w = ensurePrivateDir(dirname(path));
    if (w) warnings.push(w);
  }
  let fd: number;
  try {
    fd = openStateFile(path, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    if (tighten) {
      const w = tightenOpen(fd, path, 0o600, 'readable by other users');
      if (w) warnings.push(w);
    }
    return { text: readFileSync(fd, 'utf8'), warnings };
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes a state file; true when there was one. A link in its place is
 * removed itself (never what it points to); a link in place of its folder is
 * refused, as removing through it would delete a file elsewhere.
 */
export function removeStateFile(path: string): boolean {
  if (!checkFolder(dirname(path))) return false;
  if (!lstatSync(path, { throwIfNoEntry: false })) return false;
  rmSync(path, { force: true });
  return true;
}
