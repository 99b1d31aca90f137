import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { describeExit } from '../../../shared/supervision.js';
import { FINISHED_RUN_STATES, type MetricPoint, type RunInfo, type RunStartRequest, type RunStreamEvent } from '../../../shared/runs.js';
import { httpError } from '../errors.js';
import { storageError } from '../fs/storage-error.js';
import { ensurePrivateDir, writePrivateFileAtomic } from '../fs/private-file.js';
import type { MainProcessBridge } from '../children/main-bridge.js';
import { nodeEntryBridge, spawnDetachedNodeEntry } from '../children/node-entry.js';
import { bundledEntry } from '../serving/bundled-entry.js';
import { resolveModelSnapshot } from './model-snapshot.js';
import { processStartTicks, sameProcessAlive, signalGroup, groupAlive } from './process-group.js';
import { checkCommandAndEnv, checkCwd, checkName, nameProblem, resolveProgram } from './run-input.js';
import { lastLines, readExit, readLogTail, readRecord, RUN_FILES, runsDir, scanArtifacts, writeRecord, type ExitRecord, type RunRecord } from './run-files.js';
import { RunFollower } from './run-follower.js';
import { recordEnding, writeLaunchContext } from './run-launch-context.js';
import { KEEPER_GROUP_ENV, readJobGroup } from './run-keeper-group.js';

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

interface Active {
  record: RunRecord;
  follower: RunFollower;
  /** Our own child (the keeper), when this backend started it. */
  exited: boolean;
  /** Its keeper is being started (through the main process, that takes a moment): not gone, just not there yet. */
  starting?: boolean;
  finished: Promise<void>;
  resolveFinished: () => void;
}

type Listener = (event: RunStreamEvent) => void;

const TAIL_BYTES = 8 * 1024;

export class RunManager {
  private readonly records = new Map<string, RunRecord>();
  private readonly active = new Map<string, Active>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly killTimers = new Set<NodeJS.Timeout>();
  private readonly poller: NodeJS.Timeout;
  private closed = false;
  private readonly dir: string;

  constructor(private readonly opts: RunManagerOptions) {
    this.dir = runsDir(opts.home);
    this.recover();
    this.poller = setInterval(() => this.pollAll(), opts.pollMs ?? 200);
    this.poller.unref();
    this.schedule();
  }

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

  /** Live events of one run; returns the unsubscribe. */
  subscribe(id: string, listener: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  /** The variables the caller gave (names and values), to save a run as a recipe. */
  requestedEnv(idOrName: string): Record<string, string> {
    return { ...this.find(idOrName).extraEnv };
  }

  isFinished(id: string): boolean {
    const record = this.records.get(id);
    return !record || FINISHED_RUN_STATES.includes(record.state);
  }

  /**
   * Checks everything that can be known before a process exists (name,
   * command, variables, folder, program, model), then queues the run and
   * starts it when a slot is free.
   */
  async start(request: RunStartRequest, origin: StartOrigin): Promise<RunInfo> {
    const extraEnv = request.env ?? {};
    checkCommandAndEnv(request.command, extraEnv);
    const name = request.name ?? defaultName(request.command[0]!);
    checkName(name);
    const cwd = checkCwd(request.cwd ?? this.opts.env.HOME ?? homedir());
    resolveProgram(request.command[0]!, cwd, extraEnv.PATH ?? this.opts.env.PATH);
    const model = request.model ? resolveModelSnapshot(this.opts.hubCache, request.model, request.revision) : null;

    const id = newRunId();
    const runDir = join(this.dir, id);
    const record: RunRecord = {
      id,
      name,
      state: 'queued',
      recipe: origin.recipe ?? null,
      command: [...request.command],
      cwd,
      env: Object.keys(extraEnv).sort(),
      model,
      gpu: request.gpu ?? false,
      runDir,
      createdAt: new Date().toISOString(),
      startedAt: null,
      endedAt: null,
      pid: null,
      exitCode: null,
      signal: null,
      reason: null,
      logTail: '',
      artifacts: [],
      lastMetric: null,
      startedBy: origin.startedBy,
      keeper: null,
      stopRequested: false,
      extraEnv,
    };
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

  /** SIGTERM to the whole group now, SIGKILL to whatever of it is left after the grace period. */
  private stopGroup(record: RunRecord): void {
    // The job's own group where the keeper could not lead one (the desktop app), read again at the SIGKILL in case
    // the keeper had not written it yet.
    const group = () => readJobGroup(record.runDir) ?? record.keeper!.pid;
    signalGroup(group(), 'SIGTERM');
    const timer = setTimeout(() => {
      this.killTimers.delete(timer);
      const pgid = group();
      if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    }, this.opts.stopGraceMs ?? 10_000);
    this.killTimers.add(timer);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poller);
    // Runs outlive the backend: their keepers go on, and the next backend re-attaches. A pending SIGKILL still goes
    // out: its timer is not unref'd, so the process waits for it (at most the grace period).
  }

  private find(idOrName: string): RunRecord {
    const byId = this.records.get(idOrName);
    if (byId) return byId;
    let newest: RunRecord | null = null;
    for (const r of this.records.values()) if (r.name === idOrName && (!newest || r.createdAt > newest.createdAt)) newest = r;
    if (!newest) throw httpError(404, 'run.not_found', `There is no run with the id or name "${idOrName.slice(0, 80)}".`);
    return newest;
  }

  private info(record: RunRecord): RunInfo {
    const { keeper: _keeper, stopRequested: _stop, extraEnv: _env, ...info } = record;
    const active = this.active.get(record.id);
    return { ...info, lastMetric: active ? (active.follower.points.at(-1) ?? null) : record.lastMetric };
  }

  private emit(id: string, event: RunStreamEvent): void {
    for (const l of [...(this.listeners.get(id) ?? [])]) l(event);
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
    const env: NodeJS.ProcessEnv = { ...base, ...record.extraEnv, HF_HUB_CACHE: this.opts.hubCache, HALOFORGE_RUN_DIR: record.runDir };
    delete env.HALOFORGE_MODEL_PATH;
    delete env.HALOFORGE_MODEL_ID;
    if (record.model) {
      env.HALOFORGE_MODEL_PATH = record.model.path;
      env.HALOFORGE_MODEL_ID = record.model.repo;
    }
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
    const { log, points } = active.follower.poll();
    if (log) this.emit(record.id, { event: 'log', data: { text: log } });
    for (const point of points) this.emit(record.id, { event: 'metric', data: point });
    const exit = readExit(record.runDir);
    if (active.starting && !active.exited) return;
    const keeperGone = active.exited || !record.keeper || !sameProcessAlive(record.keeper.pid, record.keeper.startTicks);
    if (!exit && !keeperGone) return;
    if (exit && !keeperGone) return; // the keeper is writing its last lines; it exits right after.
    // One last read, so the final lines and points are in before the end event.
    const last = active.follower.poll();
    if (last.log) this.emit(record.id, { event: 'log', data: { text: last.log } });
    for (const point of last.points) this.emit(record.id, { event: 'metric', data: point });
    if (exit) {
      record.exitCode = exit.code;
      record.signal = exit.signal;
      if (exit.error) this.end(record, { state: 'failed', reason: `The program could not be started: ${exit.error}` }, exit);
      else if (record.stopRequested) this.end(record, { state: 'stopped', reason: record.reason }, exit);
      else if (exit.code === 0) this.end(record, { state: 'succeeded', reason: null }, exit);
      else this.end(record, { state: 'failed', reason: `The job ended with ${describeExit(exit.code, exit.signal)}.` }, exit);
    } else if (record.stopRequested) {
      record.signal = 'SIGKILL';
      this.end(record, { state: 'stopped', reason: `${record.reason ?? 'Stopped.'} It did not end within the grace period and was killed.` });
    } else {
      // The keeper was killed (by someone else, or the OOM killer). A job left without it has nobody reading its output
      // or recording its end: it is stopped like any other, and the run is lost.
      if (record.keeper && groupAlive(readJobGroup(record.runDir) ?? record.keeper.pid)) this.stopGroup(record);
      this.end(record, { state: 'lost', reason: 'The run\'s keeper process was killed before the job ended, so how it would have ended is unknown; what was left of the job was stopped. The log and metrics are kept.' });
    }
  }

  private end(record: RunRecord, outcome: { state: RunRecord['state']; reason: string | null }, exit?: ExitRecord): void {
    const active = this.active.get(record.id);
    this.active.delete(record.id);
    record.state = outcome.state;
    record.reason = outcome.reason;
    record.endedAt = exit?.endedAt ?? new Date().toISOString();
    record.pid = null;
    record.logTail = outcome.state === 'failed' || outcome.state === 'lost' ? lastLines(readLogTail(record.runDir, TAIL_BYTES)) : '';
    record.artifacts = scanArtifacts(record.runDir);
    record.lastMetric = active?.follower.points.at(-1) ?? record.lastMetric;
    try {
      if (record.startedAt) recordEnding(record);
      writeRecord(record);
      writePrivateFileAtomic(join(record.runDir, RUN_FILES.artifacts), `${JSON.stringify({ artifacts: record.artifacts }, null, 2)}\n`);
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
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const record = readRecord(join(this.dir, name));
      if (!record || record.runDir !== join(this.dir, name)) continue;
      record.extraEnv ??= {};
      this.records.set(record.id, record);
      if (record.state !== 'running') continue;
      const alive = record.keeper !== null && sameProcessAlive(record.keeper.pid, record.keeper.startTicks);
      if (alive || readExit(record.runDir)) {
        let resolveFinished!: () => void;
        const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
        const active: Active = { record, follower: new RunFollower(record.runDir, true), exited: false, finished, resolveFinished };
        // Its points so far, so the chart is whole again.
        active.follower.poll();
        this.active.set(record.id, active);
        this.opts.log?.(`Run ${record.id} (${record.name}) is still going: re-attached.`);
      } else {
        this.end(record, { state: 'lost', reason: 'Halo Forge was not running when this job ended, so how it ended is unknown; its log and metrics are kept.' });
      }
    }
  }
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The program's base name, made a valid run name ("python3.11" stays, "/opt/x/my tool" becomes "my_tool"). */
export function defaultName(program: string): string {
  const base = basename(program).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return base && !nameProblem(base) ? base : 'run';
}
