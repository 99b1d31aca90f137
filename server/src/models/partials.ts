// Removing a cancelled pull's partial files, from whichever process cancels
// it. A partial another live process is writing now (it holds the blob lock:
// a second pull of the same blob, here, in a CLI or in a Python tool) is
// kept and named, never pulled out from under its writer.
import { existsSync, rmSync } from 'node:fs';
import { lockBlob } from './blob-lock.js';
import type { RepoCache } from './cache-layout.js';
import type { PullRecord } from './pull-records.js';

/** How long to wait for a blob lock before calling the partial held by someone else. */
const LOCK_WAIT_MS = 200;

export async function discardPartials(cache: RepoCache, etags: string[]): Promise<{ removed: string[]; held: string[] }> {
  const removed: string[] = [];
  const held: string[] = [];
  for (const etag of new Set(etags)) {
    const partial = cache.incompletePath(etag);
    if (!existsSync(partial)) continue;
    const lock = await lockBlob(cache.lockPath(etag), AbortSignal.timeout(LOCK_WAIT_MS)).catch((err: NodeJS.ErrnoException) => (err?.code === 'ENOENT' ? 'no-lock-folder' : null));
    if (lock === null) {
      held.push(etag);
      continue;
    }
    try {
      rmSync(partial, { force: true });
      removed.push(etag);
    } finally {
      if (lock !== 'no-lock-folder') lock.release();
    }
  }
  return { removed, held };
}

/** Marks a pull whose process is gone as cancelled and removes its partials; a kept one is named in its error. */
export async function cancelLeftPull(cache: RepoCache, record: PullRecord): Promise<void> {
  const { held } = await discardPartials(cache, record.blobs ?? []);
  record.state = 'cancelled';
  record.finishedAt = new Date().toISOString();
  record.rate = 0;
  record.etaSeconds = null;
  record.error = held.length
    ? { code: 'pull.busy', message: `Cancelled, but ${held.length} partial file${held.length === 1 ? ' was' : 's were'} kept: another process is writing ${held.length === 1 ? 'it' : 'them'} now (${held.map((e) => e.slice(0, 12)).join(', ')}).`, action: null }
    : null;
}
