import type { ErrorCode } from '../../../shared/api.js';
import { httpError, isHaloError } from '../errors.js';

export interface StorageProblem {
  statusCode: number;
  code: ErrorCode;
  /** What is wrong, for a person: "the disk is full". */
  problem: string;
  /** What to do about it. */
  remedy: string;
}

/**
 * What a failed write means for a person, or null when `err` is not a file
 * system refusal. The disk, not the request, is at fault: a client should not
 * retry until someone frees space or remounts, hence 507 and 503 rather than 500.
 */
export function storageProblem(err: unknown, dir: string): StorageProblem | null {
  switch ((err as NodeJS.ErrnoException | null)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return { statusCode: 507, code: 'storage.full', problem: 'the disk is full', remedy: `free some space on the disk that holds ${dir}, then try again` };
    case 'EROFS':
      return {
        statusCode: 503,
        code: 'storage.read_only',
        problem: `${dir} is on a read-only file system`,
        remedy: 'remount it read-write (or start Halo Forge with HALOFORGE_HOME on a writable disk), then try again',
      };
    case 'EACCES':
    case 'EPERM':
      return { statusCode: 503, code: 'storage.denied', problem: `this user may not write to ${dir}`, remedy: 'give it write access to that folder, then try again' };
    case 'ELOOP':
      // A symbolic link where Halo Forge keeps a file or folder of its own (private-file.ts refuses to follow it).
      return {
        statusCode: 503,
        code: 'storage.denied',
        problem: `${(err as NodeJS.ErrnoException).path ?? dir} is a symbolic link, which Halo Forge does not follow in its own folder`,
        remedy: 'replace the link with the real file or folder (or remove it)',
      };
    case 'EIO':
      return { statusCode: 503, code: 'storage.failed', problem: 'the disk reported an input/output error', remedy: 'check the disk, then try again' };
    default:
      return null;
  }
}

/**
 * Turns a file system refusal while saving `what` into a clear API error
 * (the previous file is intact: writes go to a temp file first); any other
 * error is returned unchanged.
 */
export function storageError(err: unknown, what: string, dir: string): unknown {
  if (isHaloError(err)) return err;
  const p = storageProblem(err, dir);
  return p ? httpError(p.statusCode, p.code, `Could not save ${what}: ${p.problem}. Nothing was changed; ${p.remedy}.`) : err;
}
