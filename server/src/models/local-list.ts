// The local list: every repo in the shared cache, whoever put it there, with
// what Halo Forge knows about it from its pull records. A repo with an
// unfinished pull (running, paused, interrupted, failed: here or in another
// process) is listed as incomplete, with what is on disk so far, even before
// its folder exists: it is never offered for serving until its pull is ready.
import type { LocalModel } from '../../../shared/models.js';
import { partialBlobs, repoFolderName, scanCache } from './cache-layout.js';
import { SETTLED, type PullRecord } from './pull-records.js';
import { join } from 'node:path';

export function localModels(cacheDir: string, records: PullRecord[]): LocalModel[] {
  const unfinished = new Set(records.filter((r) => !SETTLED.has(r.state)).map((r) => r.repo));
  const lastPulled = (repo: string) =>
    records
      .filter((r) => r.repo === repo && r.state === 'ready' && r.finishedAt)
      .map((r) => r.finishedAt!)
      .sort()
      .pop() ?? null;
  const models: LocalModel[] = scanCache(cacheDir).map((m) => {
    const partial = partialBlobs(m.path);
    const pulling = m.kind === 'model' && unfinished.has(m.id);
    return { ...m, size: m.size + partial.bytes, lastPulled: m.kind === 'model' ? lastPulled(m.id) : null, incomplete: pulling || partial.count > 0 };
  });
  // A pull that has not written a byte yet (checking, or refused before its folder was made) is still the user's to resume or cancel.
  for (const repo of unfinished) {
    if (models.some((m) => m.kind === 'model' && m.id === repo)) continue;
    models.push({ id: repo, kind: 'model', path: join(cacheDir, repoFolderName(repo)), size: 0, revisions: [], lastPulled: lastPulled(repo), incomplete: true });
  }
  return models.sort((a, b) => repoFolderName(a.id, a.kind).localeCompare(repoFolderName(b.id, b.kind)));
}
