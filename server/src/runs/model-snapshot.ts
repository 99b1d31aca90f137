import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunModel } from '../../../shared/runs.js';
import { httpError } from '../errors.js';

const REPO = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
const COMMIT = /^[0-9a-f]{40}$/;
const REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/**
 * A model pulled into the cache, as a job sees it: the snapshot folder of the
 * asked revision (a commit, or a ref such as "main"), or of "main", or the
 * newest snapshot there is.
 */
export function resolveModelSnapshot(cacheDir: string, repo: string, revision?: string | null): RunModel {
  if (!REPO.test(repo) || repo.includes('..')) throw httpError(400, 'run.model_not_found', `"${repo.slice(0, 100)}" is not a model id: use "org/name".`);
  if (revision && (!REF.test(revision) || revision.includes('..'))) throw httpError(400, 'run.model_not_found', 'The revision must be a commit or a branch name.');
  const repoDir = join(cacheDir, `models--${repo.replace('/', '--')}`);
  const snapshots = join(repoDir, 'snapshots');
  const refCommit = (ref: string) => {
    try {
      const commit = readFileSync(join(repoDir, 'refs', ref), 'utf8').trim();
      return COMMIT.test(commit) ? commit : null;
    } catch {
      return null;
    }
  };
  const exists = (commit: string) => statSync(join(snapshots, commit), { throwIfNoEntry: false })?.isDirectory() === true;
  let commit: string | null;
  if (revision) commit = COMMIT.test(revision) ? revision : refCommit(revision);
  else {
    commit = refCommit('main');
    if (!commit || !exists(commit)) {
      let names: string[] = [];
      try {
        names = readdirSync(snapshots).filter((n) => COMMIT.test(n));
      } catch {
        // No snapshots: not pulled.
      }
      names.sort((a, b) => statSync(join(snapshots, b)).mtimeMs - statSync(join(snapshots, a)).mtimeMs);
      commit = names[0] ?? null;
    }
  }
  if (!commit || !exists(commit)) {
    throw httpError(400, 'run.model_not_found', `${repo}${revision ? ` at ${revision}` : ''} is not in the local cache (${cacheDir}); pull it in Models first.`);
  }
  return { repo, commit, path: join(snapshots, commit) };
}
