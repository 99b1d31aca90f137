import type { LocalModelList } from '../../../shared/models.js';
import { RUNTIME_NAMES, type RunningModel, type RunRequest, type RuntimeInfo, type RuntimeName, type ServingStatus } from '../../../shared/serving.js';
import { accessMissing, servingError, ServingError } from './serving-error.js';
import type { ConnectionHandoff } from './connection-handoff.js';
import { readGgufShape } from './gguf-shape.js';
import { availableMemory, NO_GPUS, processGroupMemory, processGroupRss, type MachineMemory } from './memory.js';
import { estimateLoad, planMemory, type MemoryPlan } from './memory-plan.js';
import { defaultRuntime, resolveModel, servableModels, type CatalogEntry } from './model-catalog.js';
import { RuntimeSupervisor, type RuntimeState, type RuntimeSupervisorOptions } from './runtime-supervisor.js';
import { isRuntimeName, runtimeAdapter, type RuntimeSettings } from './runtimes.js';
import type { RuntimeLog } from './runtime-log.js';

/**
 * The models this backend runs: which are loaded, loading one on request
 * (the Run button, the CLI, `serve --model`) or just in time (a /v1 request
 * that names a downloaded model), the cap on how many, the idle TTL, and
 * stopping them all when the backend stops. One RuntimeSupervisor per model
 * does the process work.
 */

export interface ServingManagerOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  /** The cache listing (the Models service's listLocal). */
  localModels: () => Promise<LocalModelList>;
  /** The resolved Hugging Face token, for the runtime's HF_TOKEN. */
  hfToken: () => Promise<string | null>;
  /** What the Hub says about a repo this workstation lacks (gated, private), for the access-missing actions. */
  hubAccess?: (repo: string) => Promise<'granted' | 'gated' | 'private' | 'unknown'>;
  /** At most this many models loaded at once (default 2). */
  maxLoaded?: number;
  /** Idle models are unloaded after this long; null: never (default 60 min). */
  ttlMs?: number | null;
  runtimes?: RuntimeSettings;
  /** RAM and GPU readings at load time (default: MemAvailable and no GPU; the app passes the machine module's). */
  memory?: () => Promise<MachineMemory>;
  /** Passed to each supervisor (tests: timeouts, backoff). */
  supervisor?: Partial<RuntimeSupervisorOptions>;
  log?: (line: string) => void;
}

/** Where a /v1 request goes: the runtime's address and key, and what to call when the answer is done. */
export interface Lease {
  model: string;
  url: string;
  /** The runtime's port on 127.0.0.1 (the url's), so the proxy need not parse the url per request. */
  port: number;
  /** The per-launch key; the proxy adds it, a client never sees it. */
  key: string;
  release(stats?: { tokens: number; seconds: number }): void;
  /** Where a streamed answer can be handed over to the runtime, when it takes connections. */
  handoff?: ConnectionHandoff;
}

interface Entry {
  id: string;
  entry: CatalogEntry;
  runtime: RuntimeName;
  ctx: number | null;
  /** Where its memory was planned to go: held back for other loads until the readings show it. */
  plan: MemoryPlan;
  supervisor: RuntimeSupervisor;
  startedAt: number;
  lastUsedAt: number | null;
  inflight: number;
  requests: number;
  tokensPerSecond: number | null;
  loadedBy: RunningModel['loadedBy'];
  unloadAt: number | null;
  ttlTimer: NodeJS.Timeout | null;
}

export const DEFAULT_TTL_MS = 60 * 60_000;
export const DEFAULT_MAX_LOADED = 2;

/**
 * A request answered is news for the dashboard (requests, last used, tokens/s),
 * but not once per request: each notice makes every open Models screen's stream
 * recompute the whole status (the cache listing, every process's memory from
 * /proc). That cost up to a millisecond of CPU a request and cut an OpenAI
 * client's throughput through /v1 to between a third and a half while the
 * screen was open (bench/profile figures, 2-core VM). Usage is told
 * at most this often; a change of state (loading, ready, crashed, stopped) at once.
 */
export const USAGE_NOTICE_MS = 1000;

export class ServingManager {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();
  private admitting: Promise<unknown> = Promise.resolve();
  private lastNoticeAt = 0;
  private usageNotice: NodeJS.Timeout | null = null;
  private closed = false;
  readonly maxLoaded: number;
  readonly ttlMs: number | null;

  constructor(private readonly opts: ServingManagerOptions) {
    this.maxLoaded = opts.maxLoaded ?? DEFAULT_MAX_LOADED;
    this.ttlMs = opts.ttlMs === undefined ? DEFAULT_TTL_MS : opts.ttlMs;
  }

  /** Called on every change of what runs (state, load, unload). Returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  running(): RunningModel[] {
    return [...this.entries.values()].map((e) => this.describe(e));
  }

  async status(): Promise<ServingStatus> {
    const list = await this.opts.localModels();
    const available = servableModels(list).map(({ path: _path, ...m }) => ({ ...m, running: this.entries.has(m.model) }));
    return { models: this.running(), available, runtimes: await this.runtimes(), maxLoaded: this.maxLoaded, ttlSeconds: this.ttlMs === null ? null : Math.round(this.ttlMs / 1000) };
  }

  async runtimes(): Promise<RuntimeInfo[]> {
    return Promise.all(
      RUNTIME_NAMES.map(async (name) => {
        const a = await runtimeAdapter(name, this.opts.runtimes).availability();
        return a.installed ? { name, installed: true, detail: a.detail, install: null } : { name, installed: false, detail: a.message, install: a.install };
      }),
    );
  }

  /** Loads a model and resolves once it answers; throws a ServingError that says why not. */
  async run(request: RunRequest, loadedBy: RunningModel['loadedBy'] = 'user'): Promise<RunningModel> {
    const entry = await this.load(request, loadedBy);
    await this.ready(entry);
    return this.describe(entry);
  }

  /** Stops a model (by id, or by repo when one model of that repo runs) and resolves once its runtime is gone. */
  async stop(name: string): Promise<RunningModel> {
    const entry = this.find(name);
    if (!entry) throw servingError(404, 'serving.not_running', `"${name}" is not running. halo-forge ps lists what is.`);
    await this.unload(entry, 'stopped');
    return { ...this.describe(entry), state: 'stopped', memoryBytes: null, unloadAt: null };
  }

  /** The runtime log of a running model, for the live stream. */
  logOf(name: string): RuntimeLog | null {
    return this.find(name)?.supervisor.log ?? null;
  }

  /**
   * Where a /v1 request for `model` goes, loading the model first if it is
   * downloaded but not loaded (just in time). The lease keeps it from being
   * unloaded for idleness until released.
   */
  async acquire(model: string): Promise<Lease> {
    const entry = this.find(model) ?? (await this.load({ model }, 'jit'));
    entry.inflight++;
    this.clearTtl(entry);
    let released = false;
    const release = (stats?: { tokens: number; seconds: number }) => {
      if (released) return;
      released = true;
      entry.inflight--;
      entry.lastUsedAt = Date.now();
      if (stats && stats.tokens > 1 && stats.seconds > 0) entry.tokensPerSecond = stats.tokens / stats.seconds;
      this.armTtl(entry);
      this.usageChanged();
    };
    try {
      const state = await this.ready(entry);
      entry.requests++;
      const handoff = entry.supervisor.handoff;
      return { model: entry.id, url: state.url, port: state.port, key: entry.supervisor.key!, release, ...(handoff ? { handoff } : {}) };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Stops every runtime (the backend is closing). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.usageNotice) clearTimeout(this.usageNotice);
    this.usageNotice = null;
    await Promise.all([...this.entries.values()].map((e) => this.unload(e, 'closing')));
  }

  private find(name: string): Entry | undefined {
    const exact = this.entries.get(name);
    if (exact) return exact;
    const lower = name.toLowerCase();
    const byRepo = [...this.entries.values()].filter((e) => e.entry.repo.toLowerCase() === lower || e.id.toLowerCase() === lower);
    return byRepo.length === 1 ? byRepo[0] : undefined;
  }

  private async load(request: RunRequest, loadedBy: RunningModel['loadedBy']): Promise<Entry> {
    if (this.closed) throw servingError(503, 'serving.failed', 'The backend is stopping.');
    if (request.runtime !== undefined && !isRuntimeName(request.runtime)) {
      throw servingError(400, 'serving.unknown_runtime', `There is no runtime called "${request.runtime}". The runtimes are: ${RUNTIME_NAMES.join(', ')}.`, undefined, 'runtime');
    }
    const catalogEntry = await this.resolve(request.model);
    // One admission at a time: its checks (loaded already? the cap, the memory) and the entry they admit must
    // not interleave with another's, or two requests for one model start two runtimes and one is never stopped.
    const admitted = this.admitting.then(() => this.admit(catalogEntry, request, loadedBy));
    this.admitting = admitted.catch(() => undefined);
    return admitted;
  }

  private async admit(catalogEntry: CatalogEntry, request: RunRequest, loadedBy: RunningModel['loadedBy']): Promise<Entry> {
    if (this.closed) throw servingError(503, 'serving.failed', 'The backend is stopping.');
    const existing = this.entries.get(catalogEntry.model);
    if (existing) {
      const phase = existing.supervisor.state.phase;
      const sameAsked = (request.runtime ?? existing.runtime) === existing.runtime && (request.ctx ?? existing.ctx) === existing.ctx;
      if (phase !== 'crashed' && phase !== 'stopped' && (sameAsked || loadedBy === 'jit')) return existing;
      if (phase !== 'crashed' && phase !== 'stopped') {
        throw servingError(409, 'serving.too_many', `${existing.id} is already running in ${existing.runtime}${existing.ctx ? ` with a context of ${existing.ctx}` : ''}. Stop it first to run it differently.`);
      }
      await this.unload(existing, 'replaced');
    }

    const runtime = request.runtime ?? defaultRuntime(catalogEntry);
    const adapter = runtimeAdapter(runtime, this.opts.runtimes);
    const availability = await adapter.availability();
    if (!availability.installed) throw servingError(503, 'serving.not_installed', `${availability.message} ${availability.install}`, undefined, 'runtime');
    if (runtime === 'vllm') throw servingError(400, 'serving.unsupported', `${catalogEntry.file} is a GGUF file; vLLM serves safetensors models. Use the embedded or llama-server runtime.`, undefined, 'runtime');

    const loaded = [...this.entries.values()].filter((e) => e.supervisor.state.phase !== 'crashed');
    if (loaded.length >= this.maxLoaded) {
      throw servingError(
        409,
        'serving.too_many',
        `${loaded.length} model${loaded.length === 1 ? ' is' : 's are'} loaded (${loaded.map((e) => e.id).join(', ')}), the most this workstation runs at once (${this.maxLoaded}). Stop one first: halo-forge models stop REPO.`,
      );
    }
    const plan = await this.planMemory(catalogEntry, runtime, request.ctx);
    if (!plan.fits) {
      const smallerContext = plan.estimate.kvCache > plan.estimate.total / 4 ? ', load it with a smaller context (--ctx)' : '';
      throw servingError(503, 'serving.memory', `${catalogEntry.model} cannot be loaded. ${plan.sentence} Stop a running model (halo-forge ps lists them)${smallerContext} or close other programs, then try again.`);
    }
    this.opts.log?.(`${catalogEntry.model}: ${plan.sentence}`);

    const supervisor = new RuntimeSupervisor({
      ...this.opts.supervisor,
      adapter,
      model: { id: catalogEntry.model, repo: catalogEntry.repo, commit: catalogEntry.commit, path: catalogEntry.path },
      home: this.opts.home,
      env: this.opts.env,
      hfToken: await this.opts.hfToken(),
      contextSize: request.ctx,
    });
    const entry: Entry = {
      id: catalogEntry.model,
      entry: catalogEntry,
      runtime,
      ctx: request.ctx ?? null,
      plan,
      supervisor,
      startedAt: Date.now(),
      lastUsedAt: null,
      inflight: 0,
      requests: 0,
      tokensPerSecond: null,
      loadedBy,
      unloadAt: null,
      ttlTimer: null,
    };
    this.entries.set(entry.id, entry);
    supervisor.onState(() => this.changed());
    this.opts.log?.(`Loading ${entry.id} in the ${runtime} runtime (${loadedBy === 'jit' ? 'just in time, for a /v1 request' : loadedBy === 'startup' ? 'serve --model' : 'run'}).`);
    void supervisor.start();
    this.armTtl(entry);
    this.changed();
    return entry;
  }

  /**
   * Where a load's memory goes, from the readings now. Runtimes already
   * loaded are in the readings; their mapped weights are not (page cache
   * counts as available RAM), nor are loads still starting: both are taken
   * off here.
   */
  private async planMemory(entry: CatalogEntry, runtime: RuntimeName, ctx: number | undefined): Promise<MemoryPlan> {
    const [readings, shape] = await Promise.all([this.opts.memory?.() ?? { ramAvailable: availableMemory(), gpus: NO_GPUS }, readGgufShape(entry.path)]);
    const gpus = runtime === 'embedded' && this.opts.runtimes?.embedded?.gpu === false ? NO_GPUS : readings.gpus;
    let ramHeld = 0;
    const reserved = { vram: 0, ram: 0 };
    for (const e of this.entries.values()) {
      const phase = e.supervisor.state.phase;
      if (phase === 'starting') {
        reserved.vram += e.plan.vram;
        reserved.ram += e.plan.ram;
      } else if (phase === 'ready') {
        ramHeld += processGroupMemory(e.supervisor.pid)?.fileBacked ?? 0;
      }
    }
    return planMemory(estimateLoad(entry.size, shape, ctx), { ramAvailable: readings.ramAvailable, gpus, ramHeld, reserved }, runtime);
  }

  /** The downloaded file `name` means, or the ServingError that says what is missing. */
  private async resolve(name: string): Promise<CatalogEntry> {
    const list = await this.opts.localModels();
    const r = resolveModel(name, list);
    switch (r.kind) {
      case 'found':
        return r.entry;
      case 'incomplete':
        return Promise.reject(servingError(409, 'serving.incomplete', `${r.repo} is still being pulled (or its pull was interrupted): finish the pull first (halo-forge models pull ${r.repo}).`));
      case 'ambiguous':
        return Promise.reject(servingError(400, 'serving.ambiguous', `${r.repo} holds ${r.choices.length} GGUF files; name one as REPO:FILE: ${r.choices.join(', ')}.`));
      case 'no_gguf':
        return Promise.reject(servingError(400, 'serving.unsupported', `${r.repo} has no GGUF file in the cache, and the embedded runtime runs GGUF files. Pull a GGUF quantization of it (halo-forge models pull ${r.repo} --include "*.gguf").`));
      case 'not_downloaded': {
        const hub = (await this.opts.hubAccess?.(r.repo).catch(() => 'unknown' as const)) ?? 'unknown';
        const reason = hub === 'gated' ? 'gated' : hub === 'private' ? 'private' : 'not_pulled';
        const what = r.file ? `${r.file} of ${r.repo}` : r.repo;
        const why =
          reason === 'gated'
            ? ' It is gated on the Hub: accept its license on the model page and connect Hugging Face, then pull it.'
            : reason === 'private'
              ? ' The Hub does not show it to this workstation (private, or no such model): connect Hugging Face with a token that can see it, or choose an open model.'
              : ` Pull it first: halo-forge models pull ${r.repo}.`;
        return Promise.reject(servingError(404, 'serving.not_downloaded', `${what} is not downloaded on this workstation.${why}`, accessMissing(r.repo, reason, this.opts.env)));
      }
    }
  }

  /** Waits until the model answers; a runtime that cannot start is unloaded and its reason thrown. */
  private async ready(entry: Entry): Promise<Extract<RuntimeState, { phase: 'ready' }>> {
    const state = await entry.supervisor.settled();
    if (state.phase === 'ready') return state;
    if (state.phase === 'crashed') {
      if (state.fatalCode === 'context_too_large') {
        await this.unload(entry, 'refused');
        throw servingError(400, 'serving.context_too_large', `${state.reason} ${state.hint ?? ''}`.trim(), undefined, 'ctx');
      }
      // A start that cannot succeed leaves nothing running; one that crashed for good stays listed (ps shows why) until stopped.
      if (state.fatalCode || state.exitCode === null) await this.unload(entry, 'refused');
      throw servingError(502, 'serving.failed', `${entry.id} could not be served: ${state.reason}${state.hint ? ` ${state.hint}` : ''}`);
    }
    throw servingError(503, 'serving.runtime_gone', `${entry.id} was stopped before it was ready.`);
  }

  private async unload(entry: Entry, why: string): Promise<void> {
    this.clearTtl(entry);
    if (this.entries.get(entry.id) === entry) this.entries.delete(entry.id);
    this.changed();
    await entry.supervisor.stop();
    if (why === 'idle') this.opts.log?.(`Unloaded ${entry.id}: idle for ${Math.round((this.ttlMs ?? 0) / 1000)} s.`);
    this.changed();
  }

  private armTtl(entry: Entry): void {
    this.clearTtl(entry);
    if (this.ttlMs === null || entry.inflight > 0 || this.closed) return;
    entry.unloadAt = Date.now() + this.ttlMs;
    entry.ttlTimer = setTimeout(() => {
      if (entry.inflight === 0 && this.entries.get(entry.id) === entry) void this.unload(entry, 'idle');
    }, this.ttlMs);
    entry.ttlTimer.unref();
  }

  private clearTtl(entry: Entry): void {
    if (entry.ttlTimer) clearTimeout(entry.ttlTimer);
    entry.ttlTimer = null;
    entry.unloadAt = null;
  }

  private describe(e: Entry): RunningModel {
    const s = e.supervisor.state;
    const state: RunningModel['state'] = s.phase === 'crashed' ? (s.restartInMs === null ? 'crashed' : 'starting') : s.phase;
    return {
      model: e.id,
      repo: e.entry.repo,
      file: e.entry.file,
      commit: e.entry.commit,
      runtime: e.runtime,
      state,
      contextSize: e.ctx,
      memoryBytes: processGroupRss(e.supervisor.pid),
      startedAt: new Date(e.startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - e.startedAt) / 1000),
      lastUsedAt: e.lastUsedAt === null ? null : new Date(e.lastUsedAt).toISOString(),
      unloadAt: e.unloadAt === null ? null : new Date(e.unloadAt).toISOString(),
      tokensPerSecond: e.tokensPerSecond === null ? null : Math.round(e.tokensPerSecond * 10) / 10,
      requests: e.requests,
      loadedBy: e.loadedBy,
      crash: s.phase === 'crashed' ? { reason: s.reason, hint: s.hint, exitCode: s.exitCode, signal: s.signal, logTail: s.logTail, restartInMs: s.restartInMs } : null,
    };
  }

  private changed(): void {
    // This notice carries the usage too.
    if (this.usageNotice) clearTimeout(this.usageNotice);
    this.usageNotice = null;
    this.lastNoticeAt = performance.now();
    for (const l of [...this.listeners]) l();
  }

  /** At once when the last notice is older than USAGE_NOTICE_MS, else once when it is. */
  private usageChanged(): void {
    if (this.usageNotice || this.listeners.size === 0) return;
    const wait = this.lastNoticeAt + USAGE_NOTICE_MS - performance.now();
    if (wait <= 0) return this.changed();
    this.usageNotice = setTimeout(() => this.changed(), wait);
    this.usageNotice.unref();
  }
}

export { ServingError };
