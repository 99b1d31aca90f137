import { FINISHED_RUN_STATES, type MetricPoint, type RunInfo } from '../../../shared/runs.js';
import { httpError } from '../errors.js';
import { readLogTail, type RunRecord } from './run-files.js';
import { RunFollower } from './run-follower.js';

/** A run this backend follows: started by it, or re-attached after a restart. */
export interface Active {
  record: RunRecord;
  follower: RunFollower;
  /** Our own child (the keeper), when this backend started it. */
  exited: boolean;
  /** Its keeper is being started (through the main process, that takes a moment): not gone, just not there yet. */
  starting?: boolean;
  finished: Promise<void>;
  resolveFinished: () => void;
}

/**
 * The runs a backend knows, as the API reads them: the history and the ones
 * being followed, found by id or by name, with their log and metric points.
 * RunManager adds what changes them (start, stop, the queue, the keeper).
 */
export class RunBook {
  protected readonly records = new Map<string, RunRecord>();
  protected readonly active = new Map<string, Active>();

  list(): RunInfo[] {
    return [...this.records.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)).map((r) => this.info(r));
  }

  /** By id, or by name (the newest run with it). */
  get(idOrName: string): RunInfo {
    return this.info(this.find(idOrName));
  }

  metrics(idOrName: string): MetricPoint[] {
    const record = this.find(idOrName);
    const active = this.active.get(record.id);
    if (active) return active.follower.points;
    const follower = new RunFollower(record.runDir, true);
    follower.poll();
    return follower.points;
  }

  logTail(idOrName: string, bytes: number): string {
    return readLogTail(this.find(idOrName).runDir, bytes);
  }

  /** For a live stream: the log's end up to the text already sent to subscribers, so the two meet without a gap or a repeat. */
  logBacklog(id: string, bytes: number): string {
    const active = this.active.get(id);
    return active ? active.follower.backlog(bytes) : this.logTail(id, bytes);
  }

  /** The variables the caller gave (names and values), to save a run as a recipe. */
  requestedEnv(idOrName: string): Record<string, string> {
    return { ...this.find(idOrName).extraEnv };
  }

  isFinished(id: string): boolean {
    const record = this.records.get(id);
    return !record || FINISHED_RUN_STATES.includes(record.state);
  }

  protected find(idOrName: string): RunRecord {
    const byId = this.records.get(idOrName);
    if (byId) return byId;
    let newest: RunRecord | null = null;
    for (const r of this.records.values()) if (r.name === idOrName && (!newest || r.createdAt > newest.createdAt)) newest = r;
    if (!newest) throw httpError(404, 'run.not_found', `There is no run with the id or name "${idOrName.slice(0, 80)}".`);
    return newest;
  }

  protected info(record: RunRecord): RunInfo {
    const { keeper: _keeper, stopRequested: _stop, extraEnv: _env, ...info } = record;
    const active = this.active.get(record.id);
    return { ...info, lastMetric: active ? (active.follower.points.at(-1) ?? null) : record.lastMetric };
  }
}

/** A promise the run's end resolves (stop() waits on it). */
export function finishLine(): Pick<Active, 'finished' | 'resolveFinished'> {
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  return { finished, resolveFinished };
}
