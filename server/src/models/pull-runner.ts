// One pull: the files chosen, fetched three at a time into the shared cache,
// each under its blob lock, each verified before it counts. The pull is
// `ready` only when every chosen file verified and the snapshot and ref are
// in place; anything else ends `failed` (with the action), `paused` or
// `cancelled`, and its partials stay resumable except after a cancel.
import { existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PullFileProgress, PullInfo } from '../../../shared/models.js';
import { httpError, isHaloError } from '../errors.js';
import { redactSecrets } from '../secrets/redact.js';
import { lockBlob } from './blob-lock.js';
import type { RepoCache } from './cache-layout.js';
import { checkSpace } from './disk-space.js';
import type { HubFile } from './hub-api.js';
import { actionFor } from './pull-actions.js';
import { transferBlob } from './transfer.js';
import type { Expected } from './verify.js';

/** Files up to this size are fetched by the small-file workers. */
const SMALL_FILE = 1 << 20;
const SMALL_FILE_WORKERS = 8;
/** Progress totals are recomputed at most this often (events are throttled again by the service). */
const PROGRESS_TICK_MS = 50;

export interface PullPlan {
  commit: string;
  files: HubFile[];
}

export interface RunnerDeps {
  cache: RepoCache;
  hubUrl: string;
  token: string | null;
  concurrency: number;
  log: (line: string) => void;
  /** Throttled progress, and every state change at once. */
  emit: (info: PullInfo, stateChanged: boolean) => void;
  transfer?: { stallMs?: number; retries?: number; backoffMs?: number };
}

export function expectedOf(file: HubFile): Expected {
  return file.sha256 ? { etag: file.sha256, algorithm: 'sha256', size: file.size } : { etag: file.gitOid, algorithm: 'git-sha1', size: file.size };
}

export class PullRunner {
  private readonly abort = new AbortController();
  private readonly received = new Map<string, number>();
  private samples: [number, number][] = [];
  private stopReason: 'paused' | 'cancelled' | null = null;
  private plan: PullPlan | null = null;
  private firstError: unknown = null;
  private lastTick = 0;
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly info: PullInfo,
    private readonly deps: RunnerDeps,
  ) {}

  start(plan: PullPlan): void {
    this.plan = plan;
    this.info.commit = plan.commit;
    this.info.files = plan.files.map((f) => ({ path: f.path, size: f.size, received: 0, state: 'pending' }));
    this.info.bytesTotal = plan.files.reduce((n, f) => n + f.size, 0);
    this.set('downloading');
    this.done = this.run(plan).catch(() => undefined);
  }

  /** Removes this pull's partial files (after a cancel), skipping any another process is writing now. */
  async discardPartials(): Promise<void> {
    for (const file of this.plan?.files ?? []) {
      const etag = expectedOf(file).etag;
      const held = await lockBlob(this.deps.cache.lockPath(etag), AbortSignal.timeout(200)).catch(() => null);
      if (!held) continue;
      try {
        rmSync(this.deps.cache.incompletePath(etag), { force: true });
      } finally {
        held.release();
      }
    }
  }

  stop(reason: 'paused' | 'cancelled'): Promise<void> {
    this.stopReason = reason;
    this.abort.abort();
    return this.done;
  }

  private async run(plan: PullPlan): Promise<void> {
    // `concurrency` large files at once (bandwidth-bound); small ones, latency-bound,
    // go beside them up to huggingface_hub's own default of 8 workers.
    const large = plan.files.filter((f) => f.size > SMALL_FILE);
    const small = plan.files.filter((f) => f.size <= SMALL_FILE);
    const pool = (queue: HubFile[], width: number) =>
      Array.from({ length: Math.min(width, queue.length) }, async () => {
        for (let file = queue.shift(); file && !this.abort.signal.aborted; file = queue.shift()) await this.pullFile(plan.commit, file);
      });
    const workers = [...pool(large, this.deps.concurrency), ...pool(small, SMALL_FILE_WORKERS)];
    const results = await Promise.allSettled(workers);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.stopReason) {
      this.set(this.stopReason);
      return;
    }
    // The first file's failure is the cause; the others were stopped because of it.
    if (this.firstError !== null || failure) return this.fail(this.firstError ?? failure!.reason);
    try {
      if (this.info.revision !== plan.commit) this.deps.cache.writeRef(this.info.revision, plan.commit);
    } catch (err) {
      return this.fail(err);
    }
    this.info.finishedAt = new Date().toISOString();
    this.set('ready');
  }

  private async pullFile(commit: string, file: HubFile): Promise<void> {
    const cache = this.deps.cache;
    const progress = this.info.files.find((f) => f.path === file.path)!;
    const expected = expectedOf(file);
    const blob = cache.blobPath(expected.etag);
    if (cache.hasSnapshotFile(commit, file.path, file.size) || existsSync(blob)) {
      // Already here (from us or another tool): the blob's name is its hash, and nothing finished is fetched again.
      if (!cache.hasSnapshotFile(commit, file.path, file.size)) await cache.linkSnapshot(commit, file.path, expected.etag);
      return this.fileProgress(progress, file.size, 'done');
    }
    const remaining = this.info.bytesTotal - this.info.bytesDone;
    checkSpace(cache.cacheDir, remaining);
    await cache.madeDir(dirname(cache.lockPath(expected.etag)));
    await cache.madeDir(dirname(blob));
    const lock = await lockBlob(cache.lockPath(expected.etag), this.abort.signal, () => this.deps.log(`${file.path}: waiting for another process that is writing the same blob`));
    try {
      // Whoever held the lock may have finished this blob meanwhile.
      if (!existsSync(blob)) {
        this.fileProgress(progress, progress.received, 'downloading');
        const path = file.path.split('/').map(encodeURIComponent).join('/');
        await transferBlob({
          url: `${this.deps.hubUrl}/${this.info.repo}/resolve/${commit}/${path}`,
          hubOrigin: this.deps.hubUrl,
          token: this.deps.token,
          blob,
          incomplete: cache.incompletePath(expected.etag),
          expected,
          label: file.path,
          signal: this.abort.signal,
          onProgress: (n) => this.fileProgress(progress, n, 'downloading'),
          log: this.deps.log,
          ...this.deps.transfer,
        });
      }
      await cache.linkSnapshot(commit, file.path, expected.etag);
      this.fileProgress(progress, file.size, 'done');
    } catch (err) {
      if (this.stopReason === 'cancelled') rmSync(cache.incompletePath(expected.etag), { force: true });
      if (!this.stopReason) this.fileProgress(progress, progress.received, 'failed');
      if (!this.stopReason && this.firstError === null) this.firstError = err;
      // One file failing stops the others: the pull is not going to be ready, and its partials stay for a resume.
      if (!this.stopReason) this.abort.abort();
      throw err;
    } finally {
      lock.release();
    }
  }

  private fileProgress(progress: PullFileProgress, received: number, state: PullFileProgress['state']): void {
    const changed = progress.state !== state;
    progress.received = received;
    progress.state = state;
    // Called for every network chunk: the totals, rate and event wait for a tick (or a file's state change).
    const now = Date.now();
    if (!changed && now - this.lastTick < PROGRESS_TICK_MS) return;
    this.lastTick = now;
    this.info.bytesDone = this.info.files.reduce((n, f) => n + f.received, 0);
    this.samples.push([now, this.info.bytesDone]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5_000) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    this.info.rate = now > t0 ? Math.max(0, Math.round(((this.info.bytesDone - b0) * 1000) / (now - t0))) : 0;
    this.info.etaSeconds = this.info.rate > 0 ? Math.ceil((this.info.bytesTotal - this.info.bytesDone) / this.info.rate) : null;
    this.deps.emit(this.info, false);
  }

  private fail(err: unknown): void {
    const halo = isHaloError(err) ? err : fsFailure(err, this.deps.cache.cacheDir);
    this.info.error = { code: halo.code, message: redactSecrets(halo.message), action: actionFor(halo.code, `${this.deps.hubUrl}/${this.info.repo}`) };
    this.info.finishedAt = new Date().toISOString();
    this.set('failed');
  }

  private set(state: PullInfo['state']): void {
    this.info.state = state;
    this.info.bytesDone = this.info.files.reduce((n, f) => n + f.received, 0);
    if (state !== 'downloading') {
      this.info.rate = 0;
      this.info.etaSeconds = null;
    }
    this.deps.emit(this.info, true);
  }
}

/** A filesystem refusal while writing, named with the folder and what fixes it. */
export function fsFailure(err: unknown, cacheDir: string) {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return httpError(507, 'model.disk_full', `The disk holding ${cacheDir} filled up during the pull; free space and pull again: finished files are kept.`);
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return httpError(507, 'model.cache_unwritable', `Writing into ${cacheDir} was refused (${code}); make it writable, or point HF_HUB_CACHE at a folder this user can write.`);
  }
  return httpError(500, 'model.network', `The pull stopped: ${redactSecrets((err as Error)?.message ?? String(err))}. Pull again to continue.`);
}
