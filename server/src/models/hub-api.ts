// Search, model info and file listings through @huggingface/hub, pointed at
// HF_ENDPOINT. Its HubApiError drops X-Error-Code, so every call goes through
// a fetch that keeps the last response's headers (as HubClient.whoami does)
// and the refusal is named from them. Redirects are followed by fetch, which
// drops Authorization when one leaves the Hub's origin.
import type { HubModelSummary, RepoFile } from '../../../shared/models.js';
import { httpError, isHaloError, type HaloError } from '../errors.js';
import { redactSecrets } from '../secrets/redact.js';
import { repoPathProblem } from './repo-path.js';

/** @huggingface/hub, loaded on first use (it is large, and a server that never searches should not start slower for it). */
export function loadHubLibrary(): Promise<typeof import('@huggingface/hub')> {
  return import('@huggingface/hub');
}

export interface HubFile extends RepoFile {
  /** Stored with Xet: comes over plain HTTP through the /resolve redirect. */
  xet: boolean;
}

/** The largest file huggingface_hub fetches over plain HTTP (constants.MAX_HTTP_DOWNLOAD_SIZE, 50 GB): the CDN does not serve more in one piece. */
export const MAX_HTTP_DOWNLOAD_SIZE = 50 * 1000 * 1000 * 1000;

export class HubApi {
  constructor(
    readonly url: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  async search(query: string, limit: number, token: string | null): Promise<HubModelSummary[]> {
    const { listModels } = await loadHubLibrary();
    return this.call(`searching for "${query}"`, token, null, async (fetch) => {
      const out: HubModelSummary[] = [];
      for await (const m of listModels({ search: { query }, limit, hubUrl: this.url, fetch, accessToken: token ?? undefined, additionalFields: ['library_name'] })) {
        out.push({
          id: m.name,
          downloads: m.downloads ?? null,
          likes: m.likes ?? null,
          gated: m.gated === 'auto' || m.gated === 'manual' ? m.gated : false,
          private: m.private === true,
          updatedAt: Number.isFinite(m.updatedAt?.getTime()) ? m.updatedAt.toISOString() : null,
          pipelineTag: m.task ?? null,
          library: (m as { library_name?: string }).library_name ?? null,
        });
      }
      return out;
    });
  }

  /** The commit a revision points at now, and whether the repo is gated or private. */
  async info(repo: string, revision: string, token: string | null): Promise<{ commit: string; gated: false | 'auto' | 'manual'; private: boolean }> {
    const { modelInfo } = await loadHubLibrary();
    return this.call(repo, token, revision, async (fetch) => {
      const m = await modelInfo({ name: repo, revision, hubUrl: this.url, fetch, accessToken: token ?? undefined, additionalFields: ['sha'] });
      if (typeof m.sha !== 'string' || !/^[0-9a-f]{40}$/.test(m.sha)) throw httpError(502, 'model.hub_unreachable', `The Hub at ${this.url} answered without the commit of ${repo}@${revision}; try again later.`);
      return { commit: m.sha, gated: m.gated === 'auto' || m.gated === 'manual' ? m.gated : false, private: m.private === true };
    });
  }

  /** Every file at `commit`, with its hashes; a path that could escape the snapshot folder is refused (`model.unsafe_path`). */
  async files(repo: string, commit: string, token: string | null): Promise<HubFile[]> {
    const { listFiles } = await loadHubLibrary();
    return this.call(repo, token, commit, async (fetch) => {
      const out: HubFile[] = [];
      for await (const entry of listFiles({ repo: { type: 'model', name: repo }, revision: commit, recursive: true, expand: true, hubUrl: this.url, fetch, accessToken: token ?? undefined })) {
        if (entry.type !== 'file') continue;
        const problem = repoPathProblem(entry.path);
        if (problem) {
          throw httpError(502, 'model.unsafe_path', `The Hub lists a file in ${repo} whose name is not safe to write (${problem}); nothing was downloaded. Report it to the repo's authors.`);
        }
        const sha256 = entry.lfs?.oid ?? null;
        if (!entry.oid || !/^[0-9a-f]{40}$/.test(entry.oid) || (sha256 !== null && !/^[0-9a-f]{64}$/.test(sha256))) {
          throw httpError(502, 'model.hub_unreachable', `The Hub listed ${entry.path} in ${repo} without a usable hash; try again later.`);
        }
        out.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, gitOid: entry.oid, sha256, xet: Boolean(entry.xetHash) });
      }
      return out;
    });
  }

  private async call<T>(what: string, token: string | null, revision: string | null, fn: (fetch: typeof globalThis.fetch) => Promise<T>): Promise<T> {
    const { HubApiError } = await loadHubLibrary();
    let last: Response | null = null;
    const keep: typeof fetch = async (input, init) => (last = await this.fetchImpl(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(30_000) }));
    try {
      return await fn(keep);
    } catch (err) {
      if (isHaloError(err)) throw err;
      if (err instanceof HubApiError) throw hubRefusal(this.url, what, err.statusCode, (last as Response | null)?.headers ?? null, token, revision);
      throw httpError(502, 'model.hub_unreachable', `The Hugging Face Hub at ${this.url} could not be reached (${redactSecrets(networkReason(err))}); check the network and try again.`);
    }
  }
}

function hubRefusal(url: string, what: string, status: number, headers: Headers | null, token: string | null, revision: string | null): HaloError {
  const code = headers?.get('x-error-code') ?? null;
  if (status === 429) {
    const after = Number(headers?.get('retry-after'));
    const when = Number.isFinite(after) && after > 0 ? `in ${Math.ceil(after)} s` : 'later';
    return httpError(429, 'model.hub_unreachable', `The Hugging Face Hub at ${url} is rate-limiting this workstation; try again ${when}.`, Number.isFinite(after) && after > 0 ? { 'Retry-After': String(Math.ceil(after)) } : {});
  }
  if (code === 'RevisionNotFound') return httpError(404, 'model.revision_not_found', `${what} has no revision "${revision}" on the Hub: check the branch, tag or commit name.`);
  if (code === 'EntryNotFound') return httpError(404, 'model.entry_not_found', `${what} has no such file at "${revision}".`);
  if (code === 'GatedRepo') {
    return token
      ? httpError(403, 'model.gated', `${what} is gated and this token has not been granted access: accept the license at ${url}/${what}.`)
      : httpError(401, 'model.no_token', `${what} is gated: connect Hugging Face (save a read token), then accept its license at ${url}/${what}.`);
  }
  if (code === 'RepoNotFound' || status === 404 || status === 401) {
    return token
      ? httpError(404, 'model.not_found', `The Hub has no model ${what}, or it is private and this workstation's token cannot see it: check the name.`)
      : httpError(404, 'model.not_found', `The Hub has no public model ${what}: check the name; if it is private, connect Hugging Face with a token that can read it.`);
  }
  if (status === 403) return httpError(403, 'model.unauthorized', `The Hub refused this workstation's Hugging Face token for ${what}; connect a token that can read it.`);
  return httpError(502, 'model.hub_unreachable', `The Hugging Face Hub at ${url} answered ${status} for ${what}; try again later.`);
}

function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer in time';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
