import { join } from 'node:path';
import { FINISHED_RUN_STATES, type MetricPoint, type RunInfo, type RunStartRequest, type RunStreamEvent } from '../../../shared/runs.js';
import { storageError } from '../fs/storage-error.js';
import { ensurePrivateDir } from '../fs/private-file.js';
import type { MainProcessBridge } from '../children/main-bridge.js';
import { nodeEntryBridge, spawnDetachedNodeEntry } from '../children/node-entry.js';
import { bundledEntry } from '../serving/bundled-entry.js';
import { resolveModelSnapshot } from './model-snapshot.js';
import { GroupStopper, groupAlive, processStartTicks, sameProcessAlive } from './process-group.js';
import { checkCwd, checkRequest, resolveProgram } from './run-input.js';
import { readExit, readHistory, runsDir, writeRecord, type ExitRecord, type RunRecord } from './run-files.js';
import { applyEnding, ENDED_UNWATCHED, endingOf, writeEnding, type Ending } from './run-ending.js';
import { RunEvents } from './run-events.js';
import { RunFollower } from './run-follower.js';
import { jobEnvironment, writeLaunchContext } from './run-launch-context.js';
import { KEEPER_GROUP_ENV, readJobGroup } from './run-keeper-group.js';
import { finishLine, RunBook, type Active } from './run-book.js';
import { newRunId, queuedRecord } from './run-record.js';

export { defaultName } from './run-input.js';
export { newRunId } from './run-record.js';

/**
 * The backend's runs: starts each job under a keeper (run-keeper.ts) as the
 * leader of its own process group, follows the files the keeper writes (log,
 * metric points, exit), keeps run.json current, queues GPU jobs beyond the
 * limit, stops a run's whole group (SIGTERM, then SIGKILL after the grace
 * period), and on start-up re-attaches to jobs that outlived a previous
 * backend, or marks them lost.
 */

export interface RunManagerOptions {
  home: string;
  /** The workstation's environment (HOME, PATH...). */
  env: NodeJS.ProcessEnv;
  /** The job's base environment: the workstation's, its own secrets out, HF_TOKEN in (HfAccess.childEnv). */
  childEnv: () => Promise<NodeJS.ProcessEnv>;
  /** The shared Hugging Face cache (HF_HUB_CACHE for the job, and where models are found). */
  hubCache: string;
  /** GPU jobs at once; 0: no limit. Default 1. */
  gpuSlots?: number;
  /** After SIGTERM: time before SIGKILL to the group. Default 10 s. */
  stopGraceMs?: number;
  logMaxBytes?: number;
  pollMs?: number;
  keeperEntry?: string;
  /** Who starts the keeper inside the desktop app (default: the app's main process there, nobody under Node). */
  nodeBridge?: MainProcessBridge | null;
  log?: (message: string) => void;
}

export interface StartOrigin {
  /** A token's name, "local", or "cli". */
  startedBy: string;
  recipe?: string | null;
}

export class RunManager extends RunBook {
  private readonly events = new RunEvents();
  private readonly stopper: GroupStopper;
  private readonly poller: NodeJS.Timeout;
  private closed = false;
  private readonly dir: string;

  constructor(private readonly opts: RunManagerOptions) {
    super();
    this.dir = runsDir(opts.home);
    this.stopper = new GroupStopper(opts.stopGraceMs ?? 10_000);
    this.recover();
    this.poller = setInterval(() => this.pollAll(), opts.pollMs ?? 200);
    this.poller.unref();
    this.schedule();
  }

  /** Live events of one run; returns the unsubscribe. */
  subscribe(id: string, listener: (event: RunStreamEvent) => void): () => void {
    return this.events.subscribe(id, listener);
  }

  /**
   * Checks everything that can be known before a process exists (name,
   * command, variables, folder, program, model), then queues the run and
   * starts it when a slot is free.
   */
  async start(request: RunStartRequest, origin: StartOrigin): Promise<RunInfo> {
    const { name, cwd, extraEnv } = checkRequest(request, this.opts.env);
    const model = request.model ? resolveModelSnapshot(this.opts.hubCache, request.model, request.revision) : null;

    const id = newRunId();
    const runDir = join(this.dir, id);
    const record = queuedRecord({ id, name, runDir, cwd, model, request, extraEnv, startedBy: origin.startedBy, recipe: origin.recipe ?? null });
    try {
      ensurePrivateDir(runDir);
      writeRecord(record);
    } catch (err) {
      // A full or read-only disk: said as such (507/503), and no run exists that could not be recorded.
      throw storageError(err, `the run folder ${runDir}`, this.dir);
    }
    this.records.set(id, record);
    await this.schedule();
    return this.info(record);
  }

  /** Stops a run: a queued one leaves the queue; a running one's group gets SIGTERM, then SIGKILL. Resolves once it has ended. */
  async stop(idOrName: string, by: string): Promise<RunInfo> {
    const record = this.find(idOrName);
    if (FINISHED_RUN_STATES.includes(record.state)) return this.info(record);
    record.stopRequested = true;
    if (record.state === 'queued') {
      this.end(record, { state: 'stopped', reason: `Stopped by ${by} before it started.` });
      return this.info(record);
    }
    const active = this.active.get(record.id);
    record.reason = `Stopped by ${by}.`;
    writeRecord(record);
    if (record.keeper) this.stopGroup(record);
    if (active) await active.finished;
    return this.info(record);
  }

  /**
   * The job's own group where the keeper could not lead one (the desktop app), read again at the SIGKILL in case
   * the keeper had not written it yet; else the keeper's.
   */
  private stopGroup(record: RunRecord): void {
    const keeper = record.keeper!.pid;
    this.stopper.stop(() => readJobGroup(record.runDir) ?? keeper);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poller);
    // Runs outlive the backend: their keepers go on, and the next backend re-attaches. A pending SIGKILL still goes
    // out: its timer is not unref'd, so the process waits for it (at most the grace period).
  }

  private emit(id: string, event: RunStreamEvent): void {
    this.events.emit(id, event);
  }

  /** What the follower read since its last poll, to the run's subscribers. */
  private relay(id: string, { log, points }: { log: string; points: MetricPoint[] }): void {
    if (log) this.emit(id, { event: 'log', data: { text: log } });
    for (const point of points) this.emit(id, { event: 'metric', data: point });
  }

  private changed(record: RunRecord): void {
    writeRecord(record);
    this.emit(record.id, { event: 'run', data: this.info(record) });
  }

  /** Starts queued runs while GPU slots allow, oldest first. */
  private async schedule(): Promise<void> {
    if (this.closed) return;
    const slots = this.opts.gpuSlots ?? 1;
    const queued = [...this.records.values()].filter((r) => r.state === 'queued').sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const record of queued) {
      if (record.gpu && slots > 0) {
        const busy = [...this.records.values()].filter((r) => r.gpu && r.state === 'running').length;
        if (busy >= slots) continue;
      }
      await this.launch(record);
    }
  }

  private async launch(record: RunRecord): Promise<void> {
    // Running from here on, so a second schedule() does not launch it twice while the environment resolves.
    record.state = 'running';
    let base: NodeJS.ProcessEnv;
    try {
      base = await this.opts.childEnv();
    } catch (err) {
      this.end(record, { state: 'failed', reason: `The job's environment could not be prepared: ${(err as Error).message}` });
      return;
    }
    if (record.stopRequested) {
      // Stopped while its environment was being resolved: nothing was spawned.
      this.end(record, { state: 'stopped', reason: record.reason ?? 'Stopped before it started.' });
      return;
    }
    const env = jobEnvironment(base, record, this.opts.hubCache);
    const bridge = this.opts.nodeBridge === undefined ? nodeEntryBridge() : this.opts.nodeBridge;
    // Inside the desktop app the keeper is the main process's child, in the app's process group: the job leads a
    // group of its own there, which is what a stop signals (see run-keeper-group.ts).
    if (bridge) env[KEEPER_GROUP_ENV] = 'job';
    const keeper = this.opts.keeperEntry ?? bundledEntry('run-keeper');
    let program: string;
    try {
      if (!keeper) throw new Error('the run keeper is not built: run "npm run build"');
      program = resolveProgram(record.command[0]!, record.cwd, env.PATH);
      checkCwd(record.cwd);
    } catch (err) {
      this.end(record, { state: 'failed', reason: `The run could not be started: ${(err as Error).message}` });
      return;
    }
    const added = ['HF_HUB_CACHE', 'HALOFORGE_RUN_DIR', ...(env.HF_TOKEN ? ['HF_TOKEN'] : []), ...(record.model ? ['HALOFORGE_MODEL_PATH', 'HALOFORGE_MODEL_ID'] : [])];
    const child = spawnDetachedNodeEntry(keeper!, [record.runDir, String(this.opts.logMaxBytes ?? 50 * 1024 * 1024), record.cwd, '--', program, ...record.command.slice(1)], {
      cwd: record.cwd,
      env,
      serviceName: 'Halo Forge run keeper',
      bridge,
    });
    let resolveFinished!: () => void;
    const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
    const active: Active = { record, follower: new RunFollower(record.runDir, false), exited: false, starting: true, finished, resolveFinished };
    this.active.set(record.id, active);
    void child.exited.then(({ error }) => {
      active.exited = true;
      if (error && record.keeper === null) this.end(record, { state: 'failed', reason: `The run could not be started: ${error.message}` });
      else this.pollRun(active);
    });
    const pid = await child.spawned;
    active.starting = false;
    if (pid === undefined) return;
    record.keeper = { pid, startTicks: processStartTicks(pid) };
    record.pid = pid;
    // Stopped while its keeper was being started: nothing was signalled then.
    if (record.stopRequested) this.stopGroup(record);
    record.startedAt = new Date().toISOString();
    const environment = Object.keys(env).filter((k) => env[k] !== undefined && k !== KEEPER_GROUP_ENV);
    try {
      writeLaunchContext(record, environment, added);
      this.changed(record);
    } catch (err) {
      // The job runs: a record that could not be written (a full disk) is reported, and written again at its end.
      this.opts.log?.(`Could not write the records of run ${record.id}: ${(err as Error).message}`);
      this.emit(record.id, { event: 'run', data: this.info(record) });
    }
  }

  private pollAll(): void {
    for (const active of [...this.active.values()]) this.pollRun(active);
  }

  private pollRun(active: Active): void {
    const { record } = active;
    if (!this.active.has(record.id)) return;
    this.relay(record.id, active.follower.poll());
    const exit = readExit(record.runDir);
    if (active.starting && !active.exited) return;
    const keeperGone = active.exited || !record.keeper || !sameProcessAlive(record.keeper.pid, record.keeper.startTicks);
    if (!exit && !keeperGone) return;
    if (exit && !keeperGone) return; // the keeper is writing its last lines; it exits right after.
    // One last read, so the final lines and points are in before the end event.
    this.relay(record.id, active.follower.poll());
    const ending = endingOf(exit, { requested: record.stopRequested, reason: record.reason });
    if (exit) {
      record.exitCode = exit.code;
      record.signal = exit.signal;
    } else if (ending.state === 'stopped') {
      record.signal = 'SIGKILL';
    } else {
      // Lost: what is left of the job, without its keeper, is stopped like any other.
      if (record.keeper && groupAlive(readJobGroup(record.runDir) ?? record.keeper.pid)) this.stopGroup(record);
    }
    this.end(record, ending, exit ?? undefined);
  }

  private end(record: RunRecord, outcome: Ending, exit?: ExitRecord): void {
    const active = this.active.get(record.id);
    this.active.delete(record.id);
    applyEnding(record, outcome, exit, active?.follower.points.at(-1) ?? null);
    try {
      writeEnding(record);
    } catch (err) {
      this.opts.log?.(`Could not write the record of run ${record.id}: ${(err as Error).message}`);
    }
    const info = this.info(record);
    this.emit(record.id, { event: 'run', data: info });
    this.emit(record.id, { event: 'end', data: info });
    active?.resolveFinished();
    void this.schedule();
  }

  /** Loads the history; jobs a previous backend started are re-attached while alive, or marked lost. */
  private recover(): void {
    for (const record of readHistory(this.dir)) {
      this.records.set(record.id, record);
      if (record.state !== 'running') continue;
      const alive = record.keeper !== null && sameProcessAlive(record.keeper.pid, record.keeper.startTicks);
      if (alive || readExit(record.runDir)) {
        const follower = new RunFollower(record.runDir, true);
        // Its points so far, so the chart is whole again.
        follower.poll();
        this.active.set(record.id, { record, follower, exited: false, ...finishLine() });
        this.opts.log?.(`Run ${record.id} (${record.name}) is still going: re-attached.`);
      } else {
        this.end(record, { state: 'lost', reason: ENDED_UNWATCHED });
      }
    }
  }
}
