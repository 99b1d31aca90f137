// Everything that can be known before a byte of a pull moves: the cache is
// writable, this workstation may read the model, the revision's commit, the
// chosen files (none too large for plain HTTP), and room on the disk for
// what is still missing. A pull never fails half-way for one of these.
import { existsSync } from 'node:fs';
import type { PullInfo } from '../../../shared/models.js';
import { httpError } from '../errors.js';
import { HubClient } from '../secrets/hub-client.js';
import { partialSize, RepoCache } from './cache-layout.js';
import { checkSpace, ensureWritableCache } from './disk-space.js';
import { selectFiles } from './file-select.js';
import { refuseWithoutAccess } from './hub-access.js';
import { MAX_HTTP_DOWNLOAD_SIZE, type HubApi, type HubFile } from './hub-api.js';
import { expectedOf, type PullPlan } from './pull-runner.js';

export interface PlanDeps {
  hub: HubApi;
  hubUrl: string;
  fetch: typeof fetch;
  cacheDir: string;
}

export async function planPull(deps: PlanDeps, info: PullInfo, token: string | null): Promise<PullPlan> {
  ensureWritableCache(deps.cacheDir);
  const check = await new HubClient(deps.hubUrl, { fetch: deps.fetch }).checkModel(info.repo, token);
  refuseWithoutAccess(check, token);
  const { commit } = await deps.hub.info(info.repo, info.revision, token);
  const files = selectFiles(await deps.hub.files(info.repo, commit, token), info.include, info.exclude) as HubFile[];
  const tooLarge = files.find((f) => f.xet && f.size > MAX_HTTP_DOWNLOAD_SIZE);
  if (tooLarge) {
    throw httpError(
      422,
      'model.too_large',
      `${tooLarge.path} is ${tooLarge.size.toLocaleString('en-US')} bytes, stored with Xet: over 50 GB the Hub's CDN does not serve a file over plain HTTP (huggingface_hub refuses it too). Exclude it, or fetch it with the hf CLI and hf_xet; Halo Forge will list it once it is in the cache.`,
    );
  }
  const cache = new RepoCache(deps.cacheDir, info.repo);
  const remaining = files.filter((f) => !existsSync(cache.blobPath(expectedOf(f).etag))).reduce((n, f) => n + f.size - partialSize(cache.incompletePath(expectedOf(f).etag)), 0);
  checkSpace(deps.cacheDir, remaining);
  return { commit, files };
}
