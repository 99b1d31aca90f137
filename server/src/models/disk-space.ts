// Never fail half-way for a reason that could be known up front: the free
// space on the cache's disk must cover what is left to fetch, plus a margin.
import { accessSync, constants, existsSync, mkdirSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { httpError } from '../errors.js';

/** Room kept free beyond the download: 1% of it, at least 64 MiB (a full disk breaks more than this pull). */
export function marginFor(bytes: number): number {
  return Math.max(64 * 1024 * 1024, Math.ceil(bytes * 0.01));
}

export function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Creates the cache folder if needed and proves it writable; throws `model.cache_unwritable` naming it. */
export function ensureWritableCache(cacheDir: string): void {
  try {
    mkdirSync(cacheDir, { recursive: true });
    accessSync(cacheDir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = realCause(cacheDir, (err as NodeJS.ErrnoException).code ?? 'error');
    throw httpError(
      507,
      'model.cache_unwritable',
      `The Hugging Face cache folder ${cacheDir} is not writable (${code}). Fix its permissions, or point HF_HUB_CACHE (or HF_HOME) at a folder this user can write.`,
    );
  }
}

/** Node's recursive mkdir reports ENOENT for a read-only or forbidden parent: ask the nearest existing folder why. */
function realCause(dir: string, code: string): string {
  if (code !== 'ENOENT') return code;
  for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
    if (!existsSync(d)) continue;
    try {
      accessSync(d, constants.W_OK | constants.X_OK);
      return code;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? code;
    }
  }
  return code;
}

/** Throws `model.disk_full` with the numbers when `remaining` bytes (plus the margin) do not fit. */
export function checkSpace(cacheDir: string, remaining: number): void {
  if (remaining <= 0) return;
  const free = freeBytes(cacheDir);
  if (free === null) return;
  const needed = remaining + marginFor(remaining);
  if (free < needed) {
    throw httpError(
      507,
      'model.disk_full',
      `Not enough disk space in ${cacheDir}: this pull needs ${formatBytes(remaining)} more plus ${formatBytes(needed - remaining)} to spare, and ${formatBytes(free)} is free. Free ${formatBytes(needed - free)}, or point HF_HUB_CACHE at a larger disk. Nothing was downloaded for it.`,
    );
  }
}
