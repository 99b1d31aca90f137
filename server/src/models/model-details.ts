import type { LocalModel, ModelDetails } from '../../../shared/models.js';
import { HubClient } from '../secrets/hub-client.js';
import { groupFiles } from './file-groups.js';
import { accessState } from './hub-access.js';
import type { HubApi } from './hub-api.js';

/**
 * A model's page: the commit its revision resolves to, its files grouped the
 * way a person picks them (one quantization, the safetensors shards), whether
 * this workstation may download it, and what of it is already in the cache.
 */
export async function readModelDetails(
  hub: { api: HubApi; url: string; fetch: typeof fetch },
  repo: string,
  revision: string,
  token: string | null,
  local: () => Promise<LocalModel | null>,
): Promise<ModelDetails> {
  const info = await hub.api.info(repo, revision, token);
  const files = await hub.api.files(repo, info.commit, token);
  const check = await new HubClient(hub.url, { fetch: hub.fetch }).checkModel(repo, token);
  return {
    id: repo,
    commit: info.commit,
    revision,
    gated: info.gated,
    private: info.private,
    url: `${hub.url}/${repo}`,
    files: files.map(({ xet: _xet, ...f }) => f),
    groups: groupFiles(files),
    access: { state: accessState(check), message: check.message },
    local: await local(),
  };
}
