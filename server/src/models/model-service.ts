// The Models engine behind the routes and the CLI: search and details from
// the Hub, the shared cache as it is on disk, and pulls that resume, verify
// and share blobs safely with every other tool on the machine.
import type { LocalModelList, ModelDeleteRequest, ModelDeleteResult, ModelDetails, ModelSearchResult, PullInfo, PullRequest } from '../../../shared/models.js';
import type { ModelCheck } from '../../../shared/api.js';
import { httpError } from '../errors.js';
import { HubClient, hubUrl as resolveHubUrl } from '../secrets/hub-client.js';
import { registerSecret } from '../secrets/redact.js';
import { hasPartialBlobs, RepoCache, removeRevisions, scanCache, scanRepo } from './cache-layout.js';
import { resolveHubCache } from './cache-dir.js';
import { checkSpace, ensureWritableCache, freeBytes } from './disk-space.js';
import { groupFiles } from './file-groups.js';
import { selectFiles } from './file-select.js';
import { HubApi, MAX_HTTP_DOWNLOAD_SIZE, type HubFile } from './hub-api.js';
import { FINISHED, pullId, PullRecords, pullsDir, type PullRecord } from './pull-records.js';
import { expectedOf, PullRunner, type PullPlan } from './pull-runner.js';
import { COMMIT_HASH, looksLikeSecret, parseRepoRef, revisionProblem } from './repo-id.js';
import type { ModelService } from './service.js';
import { existsSync, statSync } from 'node:fs';

export interface ModelServiceOptions {
  env: NodeJS.ProcessEnv;
  /** Resolves the workstation's Hugging Face token (HfAccess.token). */
  hf: { token(): Promise<string | null> };
  owner: 'server' | 'cli';
  /** For the Hub's API calls (search, info, listings); file transfers use node:http (wire.ts). */
  fetch?: typeof fetch;
  /** Files fetched at once per pull (3). */
  concurrency?: number;
  /** Where pull records live; default $HALOFORGE_HOME/pulls. */
  pullsDir?: string;
  /** Log lines (no token, no signed URL query). */
  log?: (line: string) => void;
  /** Progress events per pull at most this often (ms). */
  progressIntervalMs?: number;
  transfer?: { stallMs?: number; retries?: number; backoffMs?: number };
}

export function createModelService(options: ModelServiceOptions): ModelService {
  return new Models(options);
}

class Models implements ModelService {
  private readonly hub: HubApi;
  private readonly hubUrl: string;
  private readonly cacheDir: string;
  private readonly records: PullRecords;
  private readonly fetch: typeof fetch;
  private readonly runners = new Map<string, PullRunner>();
  private readonly pullListeners = new Set<(pull: PullInfo) => void>();
  private readonly localListeners = new Set<() => void>();
  private readonly lastEmit = new Map<string, { at: number; timer: NodeJS.Timeout | null; wroteAt: number }>();

  constructor(private readonly o: ModelServiceOptions) {
    this.hubUrl = resolveHubUrl(o.env);
    this.fetch = o.fetch ?? globalThis.fetch;
    this.hub = new HubApi(this.hubUrl, this.fetch);
    this.cacheDir = resolveHubCache(o.env);
    this.records = new PullRecords(o.pullsDir ?? pullsDir(o.env));
  }

  async search(query: string, options: { limit?: number } = {}): Promise<ModelSearchResult> {
    const text = query.trim();
    // People paste tokens into search boxes: never send one to the Hub as words.
    if (looksLikeSecret(text)) throw httpError(400, 'model.looks_like_token', 'That looks like a Hugging Face token, not a search; it was not sent anywhere.');
    const limit = Math.min(Math.max(options.limit ?? 20, 1), 100);
    const token = await this.token();
    // A pasted id or URL names one model: find it first, then what else the words match.
    const named = text.includes('/') ? parseRepoRef(text, this.hubUrl).repo : null;
    const models = await this.hub.search(named ?? text, limit, token);
    if (named && !models.some((m) => m.id === named)) {
      try {
        const info = await this.hub.info(named, 'main', token);
        models.unshift({ id: named, downloads: null, likes: null, gated: info.gated, private: info.private, updatedAt: null, pipelineTag: null, library: null });
      } catch {
        // Not on the Hub, or not visible: the search answers what it found.
      }
    } else if (named) {
      models.sort((a, b) => Number(b.id === named) - Number(a.id === named));
    }
    return { query: text, models };
  }

  async details(repoInput: string, revisionInput?: string): Promise<ModelDetails> {
    const ref = parseRepoRef(repoInput, this.hubUrl);
    const revision = this.revision(revisionInput ?? ref.revision ?? 'main');
    const token = await this.token();
    const info = await this.hub.info(ref.repo, revision, token);
    const files = await this.hub.files(ref.repo, info.commit, token);
    const check = await new HubClient(this.hubUrl, { fetch: this.fetch }).checkModel(ref.repo, token);
    const local = (await this.listLocal()).models.find((m) => m.id === ref.repo && m.kind === 'model') ?? null;
    return {
      id: ref.repo,
      commit: info.commit,
      revision,
      gated: info.gated,
      private: info.private,
      url: `${this.hubUrl}/${ref.repo}`,
      files: files.map(({ xet: _xet, ...f }) => f),
      groups: groupFiles(files),
      access: { state: accessState(check), message: check.message },
      local,
    };
  }

  async listLocal(): Promise<LocalModelList> {
    const records = this.allPulls();
    const models = scanCache(this.cacheDir).map((m) => {
      const mine = records.filter((r) => r.repo === m.id && m.kind === 'model');
      const finished = mine.filter((r) => r.state === 'ready' && r.finishedAt).map((r) => r.finishedAt!);
      return {
        ...m,
        lastPulled: finished.sort().pop() ?? null,
        incomplete: mine.some((r) => !FINISHED.has(r.state)) || hasPartialBlobs(m.path),
      };
    });
    return { cacheDir: this.cacheDir, freeBytes: existsSync(this.cacheDir) ? freeBytes(this.cacheDir) : null, models };
  }

  async startPull(request: PullRequest): Promise<PullInfo> {
    const ref = parseRepoRef(request.repo, this.hubUrl);
    const revision = this.revision(request.revision ?? ref.revision ?? 'main');
    const include = cleanPatterns(request.include);
    const exclude = cleanPatterns(request.exclude);
    const id = pullId(ref.repo, revision, include, exclude);
    const running = this.runners.get(id);
    if (running && !FINISHED.has(running.info.state) && running.info.state !== 'paused') return { ...running.info };
    const record = this.records.read(id);
    if (record && record.pid !== process.pid && !FINISHED.has(record.state) && this.records.all().find((r) => r.id === id)?.state !== 'interrupted' && record.state !== 'paused') {
      throw httpError(409, 'pull.busy', `Another Halo Forge process (pid ${record.pid}, ${record.owner}) is pulling ${ref.repo}@${revision} right now; wait for it, or stop it first.`);
    }
    const info: PullInfo = {
      id,
      repo: ref.repo,
      revision,
      commit: null,
      include,
      exclude,
      state: 'checking',
      owner: this.o.owner,
      bytesTotal: 0,
      bytesDone: 0,
      rate: 0,
      etaSeconds: null,
      files: [],
      startedAt: record?.startedAt ?? new Date().toISOString(),
      finishedAt: null,
      error: null,
    };
    const { plan, token } = await this.prepare(info);
    this.launch(info, plan, token);
    return { ...info };
  }

  listPulls(): PullInfo[] {
    return this.allPulls().map(publicInfo);
  }

  async pause(id: string): Promise<PullInfo> {
    const runner = this.runner(id);
    if (runner.info.state === 'downloading') await runner.stop('paused');
    return { ...runner.info };
  }

  async resume(id: string): Promise<PullInfo> {
    const known = this.runners.get(id)?.info ?? this.records.read(id);
    if (!known) throw httpError(404, 'pull.not_found', `There is no pull ${id}; start one with the model's name.`);
    return this.startPull({ repo: known.repo, revision: known.revision, include: known.include, exclude: known.exclude });
  }

  async cancel(id: string): Promise<PullInfo> {
    const runner = this.runners.get(id);
    if (runner) {
      if (!FINISHED.has(runner.info.state)) {
        if (runner.info.state === 'paused') {
          runner.info.state = 'cancelled';
          runner.info.finishedAt = new Date().toISOString();
          this.emit(runner.info, true);
          await runner.discardPartials();
        } else await runner.stop('cancelled');
      }
      return { ...runner.info };
    }
    const record = this.records.all().find((r) => r.id === id);
    if (!record) throw httpError(404, 'pull.not_found', `There is no pull ${id}.`);
    if (record.state !== 'interrupted' && !FINISHED.has(record.state) && record.pid !== process.pid) {
      throw httpError(409, 'pull.busy', `Pull ${id} is run by another Halo Forge process (pid ${record.pid}); stop it there.`);
    }
    if (!FINISHED.has(record.state)) {
      record.state = 'cancelled';
      record.finishedAt = new Date().toISOString();
      this.records.write(publicInfo(record));
    }
    return publicInfo(record);
  }

  async remove(request: ModelDeleteRequest): Promise<ModelDeleteResult> {
    const ref = parseRepoRef(request.repo, this.hubUrl);
    if (request.revision !== undefined) this.revision(request.revision);
    const busy = [...this.runners.values()].find((r) => r.info.repo === ref.repo && (r.info.state === 'downloading' || r.info.state === 'checking'));
    if (busy) throw httpError(409, 'pull.busy', `${ref.repo} is being pulled (pull ${busy.info.id}); pause or cancel it before deleting.`);
    const cache = new RepoCache(this.cacheDir, ref.repo);
    if (!existsSync(cache.dir) || !statSync(cache.dir).isDirectory()) {
      throw httpError(404, 'model.not_local', `${ref.repo} is not in the Hugging Face cache at ${this.cacheDir}.`);
    }
    const { removed, freed } = removeRevisions(cache.dir, request.revision ?? null);
    if (removed.length === 0) {
      const known = scanRepo(cache.dir, 'model', ref.repo).revisions.map((r) => [r.commit.slice(0, 12), ...r.refs].join(' ')).join('; ');
      throw httpError(404, 'model.not_local', `${ref.repo} has no revision "${request.revision}" in the cache; it has: ${known || 'none'}.`);
    }
    for (const listener of this.localListeners) listener();
    return { repo: ref.repo, removedRevisions: removed, freedBytes: freed };
  }

  onPull(listener: (pull: PullInfo) => void): () => void {
    this.pullListeners.add(listener);
    return () => this.pullListeners.delete(listener);
  }

  onLocalChange(listener: () => void): () => void {
    this.localListeners.add(listener);
    return () => this.localListeners.delete(listener);
  }

  async close(): Promise<void> {
    // A closing process leaves its pulls resumable: paused here, `interrupted` to whoever looks next.
    await Promise.all([...this.runners.values()].filter((r) => r.info.state === 'downloading').map((r) => r.stop('paused')));
    for (const entry of this.lastEmit.values()) if (entry.timer) clearTimeout(entry.timer);
  }

  /** Everything that can be known before a byte moves: access, the commit, the files, the disk. */
  private async prepare(info: PullInfo): Promise<{ plan: PullPlan; token: string | null }> {
    ensureWritableCache(this.cacheDir);
    const token = await this.token();
    const check = await new HubClient(this.hubUrl, { fetch: this.fetch }).checkModel(info.repo, token);
    refuseWithoutAccess(check, token);
    const { commit } = await this.hub.info(info.repo, info.revision, token);
    const files = selectFiles(await this.hub.files(info.repo, commit, token), info.include, info.exclude) as HubFile[];
    const tooLarge = files.find((f) => f.xet && f.size > MAX_HTTP_DOWNLOAD_SIZE);
    if (tooLarge) {
      throw httpError(
        422,
        'model.too_large',
        `${tooLarge.path} is ${tooLarge.size.toLocaleString('en-US')} bytes, stored with Xet: over 50 GB the Hub's CDN does not serve a file over plain HTTP (huggingface_hub refuses it too). Exclude it, or fetch it with the hf CLI and hf_xet; Halo Forge will list it once it is in the cache.`,
      );
    }
    const cache = new RepoCache(this.cacheDir, info.repo);
    const remaining = files.filter((f) => !existsSync(cache.blobPath(expectedOf(f).etag))).reduce((n, f) => n + f.size - partialSize(cache.incompletePath(expectedOf(f).etag)), 0);
    checkSpace(this.cacheDir, remaining);
    return { plan: { commit, files }, token };
  }

  private launch(info: PullInfo, plan: PullPlan, token: string | null): void {
    const runner = new PullRunner(info, {
      cache: new RepoCache(this.cacheDir, info.repo),
      hubUrl: this.hubUrl,
      token,
      concurrency: this.o.concurrency ?? 3,
      log: (line) => this.o.log?.(`${info.repo}: ${line}`),
      emit: (pull, changed) => this.emit(pull, changed),
      transfer: this.o.transfer,
    });
    this.runners.set(info.id, runner);
    runner.start(plan);
  }

  private emit(info: PullInfo, stateChanged: boolean): void {
    const interval = this.o.progressIntervalMs ?? 250;
    const entry = this.lastEmit.get(info.id) ?? { at: 0, timer: null, wroteAt: 0 };
    this.lastEmit.set(info.id, entry);
    const now = Date.now();
    const send = () => {
      entry.at = Date.now();
      entry.timer = null;
      if (stateChanged || entry.at - entry.wroteAt >= 1_000) {
        entry.wroteAt = entry.at;
        try {
          this.records.write(info);
        } catch (err) {
          this.o.log?.(`could not write the record of pull ${info.id}: ${(err as Error).message}`);
        }
      }
      const copy = { ...info, files: info.files.map((f) => ({ ...f })) };
      for (const listener of this.pullListeners) listener(copy);
      if (info.state === 'ready') for (const listener of this.localListeners) listener();
    };
    if (stateChanged || now - entry.at >= interval) {
      if (entry.timer) clearTimeout(entry.timer);
      return send();
    }
    entry.timer ??= setTimeout(send, interval - (now - entry.at));
  }

  private allPulls(): PullRecord[] {
    const mine = new Map([...this.runners].map(([id, r]) => [id, { ...r.info, pid: process.pid } as PullRecord]));
    const others = this.records
      .all()
      .filter((r) => !mine.has(r.id))
      .map((r) => (r.pid === process.pid && !FINISHED.has(r.state) ? { ...r, state: 'interrupted' as const } : r));
    return [...others, ...mine.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  private runner(id: string): PullRunner {
    const runner = this.runners.get(id);
    if (runner) return runner;
    const record = this.records.read(id);
    if (record) throw httpError(409, 'pull.busy', `Pull ${id} is not run by this process (it is ${record.state}); resume it here, or control it where it runs.`);
    throw httpError(404, 'pull.not_found', `There is no pull ${id}.`);
  }

  private revision(revision: string): string {
    const problem = revisionProblem(revision);
    if (problem) throw httpError(400, 'model.revision_not_found', problem);
    return revision;
  }

  private async token(): Promise<string | null> {
    const token = await this.o.hf.token();
    registerSecret(token);
    return token;
  }
}

function refuseWithoutAccess(check: ModelCheck, token: string | null): void {
  switch (check.access) {
    case 'granted':
      return;
    case 'gated':
      throw httpError(403, /awaiting a review/i.test(check.message) ? 'model.pending' : 'model.gated', check.message);
    case 'unauthorized':
      throw token ? httpError(403, 'model.unauthorized', check.message) : httpError(401, 'model.no_token', `${check.message} (Connect Hugging Face on the Connection screen, or run halo-forge hf login.)`);
    case 'not_found':
      throw httpError(404, 'model.not_found', check.message);
    default:
      throw httpError(502, 'model.hub_unreachable', check.message);
  }
}

function accessState(check: ModelCheck): ModelDetails['access']['state'] {
  if (check.access === 'gated' && /awaiting a review/i.test(check.message)) return 'pending';
  return check.access;
}

function cleanPatterns(patterns: string[] | undefined): string[] {
  return [...new Set((patterns ?? []).map((p) => p.trim()).filter(Boolean))];
}

function partialSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function publicInfo(record: PullRecord | PullInfo): PullInfo {
  const { pid: _pid, ...info } = record as PullRecord;
  return info;
}

export { COMMIT_HASH };
