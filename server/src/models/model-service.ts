// The Models engine behind the routes and the CLI: search and details from
// the Hub, the shared cache as it is on disk, and pulls that resume, verify
// and share blobs safely with every other tool on the machine.
import type { LocalModelList, ModelDeleteRequest, ModelDeleteResult, ModelDetails, ModelSearchResult, PullInfo, PullRequest } from '../../../shared/models.js';
import { existsSync } from 'node:fs';
import { httpError } from '../errors.js';
import { hubUrl as resolveHubUrl } from '../secrets/hub-client.js';
import { registerSecret } from '../secrets/redact.js';
import { RepoCache } from './cache-layout.js';
import { resolveHubCache } from './cache-dir.js';
import type { ChangeWatch } from './change-watch.js';
import { freeBytes } from './disk-space.js';
import { followOthers } from './follow-others.js';
import { HubApi } from './hub-api.js';
import { searchHub } from './hub-search.js';
import { localModels } from './local-list.js';
import { readModelDetails } from './model-details.js';
import { removeLocal } from './local-remove.js';
import { cancelLeftPull } from './partials.js';
import { withAction } from './pull-actions.js';
import { PullEmitter } from './pull-emitter.js';
import { planPull } from './pull-plan.js';
import { FINISHED, pullId, SETTLED, PullRecords, pullsDir, type PullRecord } from './pull-records.js';
import { PullRunner, type PullPlan } from './pull-runner.js';
import { COMMIT_HASH, parseRepoRef, revisionProblem } from './repo-id.js';
import type { ModelService } from './service.js';

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
  /**
   * Follow other processes (a CLI's pull records, other tools writing the
   * cache) while anyone listens; default: on for the server. `pollMs` is the
   * fallback where fs.watch says nothing.
   */
  watch?: boolean | { debounceMs?: number; pollMs?: number };
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
  private readonly emitter: PullEmitter;
  private watches: ChangeWatch[] | null = null;

  constructor(private readonly o: ModelServiceOptions) {
    this.hubUrl = resolveHubUrl(o.env);
    this.fetch = o.fetch ?? globalThis.fetch;
    this.hub = new HubApi(this.hubUrl, this.fetch);
    this.cacheDir = resolveHubCache(o.env);
    this.records = new PullRecords(o.pullsDir ?? pullsDir(o.env));
    this.emitter = new PullEmitter({
      intervalMs: o.progressIntervalMs ?? 250,
      write: (info) => this.records.write(info, this.runners.get(info.id)?.blobs()),
      send: (pull, stateChanged) => {
        for (const listener of this.pullListeners) listener(pull);
        // Every state change can change the local list: a pull that starts, pauses or fails is listed as incomplete.
        if (stateChanged) this.localChanged();
      },
      log: o.log,
    });
    try {
      this.records.prune();
    } catch (err) {
      this.o.log?.(`could not prune old pull records: ${(err as Error).message}`);
    }
  }

  async search(query: string, options: { limit?: number } = {}): Promise<ModelSearchResult> {
    return searchHub(this.hub, this.hubUrl, query, options.limit, () => this.token());
  }

  async details(repoInput: string, revisionInput?: string): Promise<ModelDetails> {
    const ref = parseRepoRef(repoInput, this.hubUrl);
    const revision = this.revision(revisionInput ?? ref.revision ?? 'main');
    return this.readDetails(ref.repo, revision).catch((err: unknown) => Promise.reject(withAction(err, `${this.hubUrl}/${ref.repo}`)));
  }

  private async readDetails(repo: string, revision: string): Promise<ModelDetails> {
    const local = async () => (await this.listLocal()).models.find((m) => m.id === repo && m.kind === 'model') ?? null;
    return readModelDetails({ api: this.hub, url: this.hubUrl, fetch: this.fetch }, repo, revision, await this.token(), local);
  }

  async listLocal(): Promise<LocalModelList> {
    const models = localModels(this.cacheDir, this.allPulls());
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
    const token = await this.token();
    const plan = await planPull({ hub: this.hub, hubUrl: this.hubUrl, fetch: this.fetch, cacheDir: this.cacheDir }, info, token).catch((err: unknown) => Promise.reject(withAction(err, `${this.hubUrl}/${ref.repo}`)));
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
      // A failed pull is not settled: it waits to be resumed or cancelled, and a cancel removes its partials.
      if (!SETTLED.has(runner.info.state)) {
        if (runner.info.state === 'paused' || runner.info.state === 'failed') {
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
    if (!SETTLED.has(record.state)) {
      // Its process is gone: this one removes the partials, except any that another live process is writing now.
      await cancelLeftPull(new RepoCache(this.cacheDir, record.repo), record);
      this.emit(publicInfo(record), true);
    }
    return publicInfo(record);
  }

  async remove(request: ModelDeleteRequest): Promise<ModelDeleteResult> {
    const ref = parseRepoRef(request.repo, this.hubUrl);
    if (request.revision !== undefined) this.revision(request.revision);
    const busy = [...this.runners.values()].find((r) => r.info.repo === ref.repo && (r.info.state === 'downloading' || r.info.state === 'checking'));
    if (busy) throw httpError(409, 'pull.busy', `${ref.repo} is being pulled (pull ${busy.info.id}); pause or cancel it before deleting.`);
    const result = removeLocal(this.cacheDir, ref.repo, request.revision ?? null);
    this.localChanged();
    return result;
  }

  onPull(listener: (pull: PullInfo) => void): () => void {
    this.pullListeners.add(listener);
    this.startWatching();
    return () => this.pullListeners.delete(listener);
  }

  onLocalChange(listener: () => void): () => void {
    this.localListeners.add(listener);
    this.startWatching();
    return () => this.localListeners.delete(listener);
  }

  async close(): Promise<void> {
    for (const watch of this.watches ?? []) watch.close();
    this.watches = [];
    // A closing process leaves its pulls resumable: paused here, `interrupted` to whoever looks next.
    await Promise.all([...this.runners.values()].filter((r) => r.info.state === 'downloading').map((r) => r.stop('paused')));
    this.emitter.close();
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
    this.emitter.emit(info, stateChanged);
  }

  private localChanged(): void {
    for (const listener of this.localListeners) listener();
  }

  /** Other processes followed only while someone listens, and only where asked (the server). */
  private startWatching(): void {
    const option = this.o.watch ?? this.o.owner === 'server';
    if (this.watches || option === false) return;
    this.watches = followOthers({
      ...(typeof option === 'object' ? option : {}),
      records: this.records,
      cacheDir: this.cacheDir,
      onPull: (pull, stateChanged) => {
        for (const listener of this.pullListeners) listener(pull);
        if (stateChanged) this.localChanged();
      },
      onLocalChange: () => this.localChanged(),
      log: (line) => this.o.log?.(line),
    });
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

function cleanPatterns(patterns: string[] | undefined): string[] {
  return [...new Set((patterns ?? []).map((p) => p.trim()).filter(Boolean))];
}

function publicInfo(record: PullRecord | PullInfo): PullInfo {
  const { pid: _pid, blobs: _blobs, ...info } = record as PullRecord;
  return info;
}

export { COMMIT_HASH };
