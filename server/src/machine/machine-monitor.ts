// The live picture of the workstation. It samples only while someone listens
// (an open Overview): the first listener starts a 2 s timer, the last one to
// leave stops it, so with no dashboard open it costs nothing at all.
import { MACHINE_SAMPLE_MS, type ConnectionFacts, type MachineSnapshot, type ModelsFacts, type PullSummary, type RuntimesFacts } from '../../../shared/machine.js';
import type { PullInfo } from '../../../shared/models.js';
import type { ModelService } from '../models/service.js';
import { GpuDetector } from './gpus.js';
import { HostSampler } from './host.js';

/**
 * The seam for the serving layer: what runs now, with its memory and speed.
 * Until a running-models API exists on this server, `available` is false and
 * the Overview says so instead of showing an empty list as if nothing ran.
 */
export interface RuntimesSource {
  list(): RuntimesFacts;
}

export const NO_RUNTIMES: RuntimesSource = { list: () => ({ available: false, running: [] }) };

export interface MachineSources {
  connection: () => ConnectionFacts;
  /** Where the Hugging Face cache is (its disk's free space is shown before the Models service answers). */
  cacheDir: () => string;
  models?: ModelService;
  runtimes?: RuntimesSource;
  gpus?: GpuDetector;
  sampleMs?: number;
  /** Errors of a sample that does not stop the stream. */
  log?: (message: string) => void;
}

export type MachineEvent = { type: 'machine'; snapshot: MachineSnapshot } | { type: 'pulls'; pulls: PullSummary[] };

const UNFINISHED = new Set(['queued', 'checking', 'downloading', 'paused', 'verifying']);
/** A pull reports a few times a second; the Overview needs no more than this. */
const PULL_EVENT_MS = 250;

export function activePulls(pulls: PullInfo[]): PullSummary[] {
  return pulls
    .filter((pull) => UNFINISHED.has(pull.state))
    .map(({ id, repo, state, bytesDone, bytesTotal, rate, etaSeconds }) => ({ id, repo, state, bytesDone, bytesTotal, rate, etaSeconds }));
}

export class MachineMonitor {
  private readonly listeners = new Set<(event: MachineEvent) => void>();
  private readonly host = new HostSampler();
  private readonly gpus: GpuDetector;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<MachineSnapshot> | null = null;
  private last: MachineSnapshot | null = null;
  private local: Omit<ModelsFacts, 'pulls'> | null = null;
  private localStale = true;
  private stopWatching: (() => void)[] = [];
  private pullTimer: NodeJS.Timeout | null = null;
  /** Counts samples taken, for the test that proves no sampling happens with no listener. */
  samples = 0;

  constructor(private readonly sources: MachineSources) {
    this.gpus = sources.gpus ?? new GpuDetector();
  }

  get listening(): number {
    return this.listeners.size;
  }

  /** Adds a listener; the first one starts sampling. Returns the function that removes it. */
  subscribe(listener: (event: MachineEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    else if (this.last) listener({ type: 'machine', snapshot: this.last });
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.stop();
    };
  }

  /** One picture: the latest sample while the stream runs, a fresh one otherwise. */
  async snapshot(): Promise<MachineSnapshot> {
    if (this.timer && this.last && Date.now() - Date.parse(this.last.sampledAt) < (this.sources.sampleMs ?? MACHINE_SAMPLE_MS) * 1.5) return this.last;
    return this.sample();
  }

  close(): void {
    this.listeners.clear();
    this.stop();
    this.gpus.close();
  }

  private start(): void {
    const models = this.sources.models;
    if (models) {
      this.stopWatching.push(
        models.onPull(() => this.schedulePulls()),
        models.onLocalChange(() => {
          this.localStale = true;
        }),
      );
    }
    this.localStale = true;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.sources.sampleMs ?? MACHINE_SAMPLE_MS);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.pullTimer) clearTimeout(this.pullTimer);
    this.timer = null;
    this.pullTimer = null;
    for (const unwatch of this.stopWatching.splice(0)) unwatch();
  }

  private async tick(): Promise<void> {
    // A slow tool (a busy driver) skips a beat instead of piling samples up.
    if (this.inFlight) return;
    try {
      const snapshot = await this.sample();
      if (this.timer) this.emit({ type: 'machine', snapshot });
    } catch (err) {
      this.sources.log?.(`Machine sample failed: ${(err as Error).message}`);
    }
  }

  private sample(): Promise<MachineSnapshot> {
    this.inFlight ??= this.takeSample().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async takeSample(): Promise<MachineSnapshot> {
    this.samples++;
    const models = await this.modelsFacts();
    const [host, gpus] = await Promise.all([this.host.sample(models.cacheDir ?? this.sources.cacheDir()), this.gpus.sample()]);
    const snapshot: MachineSnapshot = {
      sampledAt: new Date().toISOString(),
      host,
      gpus,
      models,
      runtimes: (this.sources.runtimes ?? NO_RUNTIMES).list(),
      connection: this.sources.connection(),
    };
    this.last = snapshot;
    return snapshot;
  }

  private async modelsFacts(): Promise<ModelsFacts> {
    const service = this.sources.models;
    if (!service) return { available: false, count: 0, sizeBytes: 0, cacheDir: null, pulls: [] };
    // The cache is listed when the stream starts and when it changes, not every 2 s: a big cache takes a walk to list.
    if (this.localStale || !this.timer) {
      try {
        const list = await service.listLocal();
        const models = list.models.filter((model) => model.kind === 'model' && !model.incomplete);
        this.local = { available: true, count: models.length, sizeBytes: models.reduce((sum, model) => sum + model.size, 0), cacheDir: list.cacheDir };
        this.localStale = false;
      } catch (err) {
        this.sources.log?.(`Could not list the model cache: ${(err as Error).message}`);
      }
    }
    const local = this.local ?? { available: false, count: 0, sizeBytes: 0, cacheDir: null };
    return { ...local, pulls: activePulls(service.listPulls()) };
  }

  private schedulePulls(): void {
    if (this.pullTimer || !this.timer) return;
    this.pullTimer = setTimeout(() => {
      this.pullTimer = null;
      const service = this.sources.models;
      if (service && this.timer) this.emit({ type: 'pulls', pulls: activePulls(service.listPulls()) });
    }, PULL_EVENT_MS);
    this.pullTimer.unref();
  }

  private emit(event: MachineEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
