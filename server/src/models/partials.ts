// Removing a cancelled pull's partial files, from whichever process cancels
// it. A partial another live process is writing now (it holds the blob lock:
// a second pull of the same blob, here, in a CLI or in a Python tool) is
// kept and named, never pulled out from under its writer.
import { existsSync, rmSync } from 'node:fs';
import { lockBlob } from './blob-lock.js';
import type { RepoCache } from './cache-layout.js';

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
