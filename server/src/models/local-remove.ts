import { existsSync, statSync } from 'node:fs';
import type { ModelDeleteResult } from '../../../shared/models.js';
import { httpError } from '../errors.js';
import { RepoCache, removeRevisions, scanRepo } from './cache-layout.js';

/**
 * Deletes a model from the shared cache: one revision, or all of them when
 * `revision` is null. A revision that is not there is named with the ones
 * that are, so the caller can pick.
 */
export function removeLocal(cacheDir: string, repo: string, revision: string | null): ModelDeleteResult {
  const cache = new RepoCache(cacheDir, repo);
  if (!existsSync(cache.dir) || !statSync(cache.dir).isDirectory()) {
    throw httpError(404, 'model.not_local', `${repo} is not in the Hugging Face cache at ${cacheDir}.`);
  }
  const { removed, freed } = removeRevisions(cache.dir, revision);
  if (removed.length === 0) {
    const known = scanRepo(cache.dir, 'model', repo).revisions.map((r) => [r.commit.slice(0, 12), ...r.refs].join(' ')).join('; ');
    throw httpError(404, 'model.not_local', `${repo} has no revision "${revision}" in the cache; it has: ${known || 'none'}.`);
  }
  return { repo, removedRevisions: removed, freedBytes: freed };
}
