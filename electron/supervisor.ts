import { createWriteStream, mkdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { BackendMessage, SupervisorMessage } from '../shared/ipc.js';
import { backoffDelay, CrashCounter, describeExit, OutputTail, type Backoff } from '../shared/supervision.js';

export { backoffDelay, type Backoff };

/**
 * Supervises the embedded backend: starts it, waits for its `ready` message
 * (never for log text), restarts it with backoff when it dies, shows its own
 * error when it cannot start, and stops it gracefully. The process itself
 * comes from a spawner, so the same logic runs over Electron's utilityProcess
 * in the app and over a Node child process in the tests.
 */

/** What a spawner hands back: just enough to talk to and stop one backend process. */
export interface BackendChild {
  /** Known once the OS has created the process. */
  readonly pid: number | undefined;
  send(message: SupervisorMessage): void;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface BackendEvents {
  message(message: unknown): void;
  output(text: string): void;
  /** Called exactly once, also when the process could not be created. */
  exit(code: number | null, signal: string | null): void;
}

export type BackendSpawner = (args: string[], events: BackendEvents) => BackendChild;

export type BackendState =
  | { phase: 'idle' }
  | { phase: 'starting'; attempt: number }
  | { phase: 'ready'; url: string; port: number; pid: number }
  | { phase: 'restarting'; attempt: number; maxAttempts: number; delayMs: number; reason: string; output: string }
  | { phase: 'failed'; message: string; hint: string; logPath: string | null; output: string }
  | { phase: 'stopping' }
  /** `final`: stopped for good (the app is quitting); start() and restart() no longer do anything. */
  | { phase: 'stopped'; final?: true };

export type RemoteAccessMessage = Extract<BackendMessage, { type: 'remote-access' }>;

export interface SupervisorOptions {
  spawn: BackendSpawner;
  /** The port to ask for first; the backend takes the next free one if it is taken. */
  port?: number;
  /** More `serve` arguments (e.g. `--log-level warn`). */
  extraArgs?: string[];
  /** How long a start may take before it counts as failed. */
  readyTimeoutMs?: number;
  backoff?: Partial<Backoff>;
  /** Unexpected exits in a row before the supervisor gives up and shows the error. */
  maxRestarts?: number;
  /** Once the backend has been ready this long, earlier crashes no longer count. */
  stableAfterMs?: number;
  /** After `{type:'shutdown'}`: time to finish in-flight requests before SIGTERM. */
  stopGraceMs?: number;
  /** After SIGTERM: time before SIGKILL. */
  killAfterMs?: number;
  /** The backend's stdout and stderr are appended here as JSON lines; the error page points to it. */
  logPath?: string;
}

export const DEFAULT_PORT = 8000;
const LOG_ROTATE_BYTES = 5 * 1024 * 1024;

/**
 * The `serve` command line: the preferred port, with fallback so a taken 8000 never blocks the app,
 * and JSON log lines, because its output goes to a file that programs read, not to a person.
 */
export function backendArgs(port: number, extraArgs: string[] = []): string[] {
  return ['serve', '--port', String(port), '--port-fallback', '--log-format', 'json', ...extraArgs];
}

/** One backend log record as a person reads it: `WARN: message`; anything that is not a record, as it is. */
export function readableLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const record = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    if (typeof record.msg !== 'string') return line;
    const level = typeof record.level === 'number' ? record.level : 30;
    const label = level >= 60 ? 'FATAL: ' : level >= 50 ? 'ERROR: ' : level >= 40 ? 'WARN: ' : '';
    const cause = typeof record.err?.message === 'string' && record.err.message !== record.msg ? ` (${record.err.message})` : '';
    return `${label}${record.msg}${cause}`;
  } catch {
    return line;
  }
}

/**
 * One line of the backend log file: the backend's own JSON lines as they are; anything else it
 * printed (a crash's stack trace, a Node warning) wrapped as an error record, so that every
 * line of the file is JSON.
 */
export function logFileLine(line: string, now = Date.now()): string {
  if (line.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return line;
    } catch {
      // Not JSON after all: wrapped below.
    }
  }
  return JSON.stringify({ level: 50, time: now, name: 'backend-output', msg: line });
}

export function isBackendMessage(value: unknown): value is BackendMessage {
  if (!value || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return typeof m.port === 'number' && typeof m.url === 'string' && typeof m.pid === 'number';
    case 'fatal':
      return typeof m.message === 'string' && typeof m.hint === 'string';
    case 'remote-access':
      return typeof m.enabled === 'boolean' && Array.isArray(m.urls) && m.urls.every((u) => typeof u === 'string');
    default:
      return false;
  }
}

export interface StopResult {
  code: number | null;
  signal: string | null;
  /** Stopped when asked (the shutdown message, or SIGTERM before it was ready), with no escalation. */
  graceful: boolean;
}

interface Running {
  child: BackendChild;
  exited: boolean;
  exit: Promise<{ code: number | null; signal: string | null }>;
  /** Why the supervisor killed it, if it did. */
  killedBecause: string | null;
  fatal: boolean;
}

export class BackendSupervisor {
  private current: BackendState = { phase: 'idle' };
  private running: Running | null = null;
  private readonly crashes: CrashCounter;
  private port: number;
  private timers = new Set<NodeJS.Timeout>();
  private stateListeners = new Set<(state: BackendState) => void>();
  private remoteListeners = new Set<(message: RemoteAccessMessage) => void>();
  private readonly outputTail = new OutputTail();
  private log: WriteStream | null = null;
  /** The backend's output after its last newline, held until the line is complete. */
  private partialLine = '';
  private stopping: Promise<StopResult | null> | null = null;
  private final = false;

  constructor(private readonly opts: SupervisorOptions) {
    this.port = opts.port ?? DEFAULT_PORT;
    this.crashes = new CrashCounter(opts.maxRestarts ?? 5, opts.backoff);
  }

  get state(): BackendState {
    return this.current;
  }

  /** The pid of the backend process now running, if any. */
  get pid(): number | undefined {
    return this.running && !this.running.exited ? this.running.child.pid : undefined;
  }

  get logPath(): string | null {
    return this.opts.logPath ?? null;
  }

  /** Returns a function that cancels the subscription. */
  onState(listener: (state: BackendState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onRemoteAccess(listener: (message: RemoteAccessMessage) => void): () => void {
    this.remoteListeners.add(listener);
    return () => this.remoteListeners.delete(listener);
  }

  /** Starts the backend; resolves once it is ready or has failed for good. */
  start(): Promise<BackendState> {
    if (this.final) return this.refuse('start');
    const phase = this.current.phase;
    if (phase === 'idle' || phase === 'stopped' || phase === 'failed') {
      this.stopping = null;
      this.crashes.reset();
      this.openLog();
      this.launch();
    }
    return this.settled();
  }

  /** Resolves with the next state that is ready, failed or stopped. */
  settled(): Promise<BackendState> {
    const done = (s: BackendState) => s.phase === 'ready' || s.phase === 'failed' || s.phase === 'stopped' || s.phase === 'idle';
    if (done(this.current)) return Promise.resolve(this.current);
    return new Promise((resolve) => {
      const off = this.onState((s) => {
        if (done(s)) {
          off();
          resolve(s);
        }
      });
    });
  }

  /**
   * Asks the backend to stop (it finishes in-flight requests and flushes
   * pending writes), escalates to SIGTERM and then SIGKILL if it does not,
   * and resolves once the process is gone. A `final` stop is the one at quit:
   * nothing may start a backend after it, not even a restart already waiting
   * on this same stop (the app would quit with a fresh backend still running).
   */
  stop(opts: { final?: boolean } = {}): Promise<StopResult | null> {
    if (opts.final && !this.final) {
      this.final = true;
      // Already stopped by an earlier stop: the state still has to say it is for good.
      if (this.current.phase === 'stopped') this.setState(this.stoppedState());
    }
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  /** Stops the backend if it runs, then starts it afresh (the menu's "Restart backend"). */
  async restart(): Promise<BackendState> {
    if (this.final) return this.refuse('restart');
    await this.stop();
    return this.start();
  }

  private refuse(what: 'start' | 'restart'): Promise<BackendState> {
    this.note(`${what} ignored: the backend was stopped for good because the app is quitting`);
    return this.settled();
  }

  private async stopNow(): Promise<StopResult | null> {
    this.clearTimers();
    const running = this.running;
    if (!running || running.exited) {
      this.setState(this.stoppedState());
      this.closeLog();
      return null;
    }
    const wasReady = this.current.phase === 'ready';
    this.setState({ phase: 'stopping' });
    let escalated = false;
    const killLater = () =>
      this.timer(this.opts.killAfterMs ?? 3_000, () => {
        escalated = true;
        this.note('did not stop after SIGTERM; sending SIGKILL');
        running.child.kill('SIGKILL');
      });
    if (wasReady) {
      running.child.send({ type: 'shutdown' });
      this.timer(this.opts.stopGraceMs ?? 5_000, () => {
        escalated = true;
        this.note('did not stop after the shutdown message; sending SIGTERM');
        running.child.kill('SIGTERM');
        killLater();
      });
    } else {
      // Still starting: nothing is in flight, and the backend listens for the shutdown message only once it serves.
      running.child.kill('SIGTERM');
      killLater();
    }
    const { code, signal } = await running.exit;
    this.clearTimers();
    this.setState(this.stoppedState());
    this.closeLog();
    return { code, signal, graceful: !escalated };
  }

  private stoppedState(): BackendState {
    return this.final ? { phase: 'stopped', final: true } : { phase: 'stopped' };
  }

  private launch(): void {
    const attempt = this.crashes.nextAttempt;
    this.setState({ phase: 'starting', attempt });
    this.note(`starting (attempt ${attempt}): serve --port ${this.port} --port-fallback`);

    let resolveExit!: (v: { code: number | null; signal: string | null }) => void;
    const running: Running = {
      child: undefined as unknown as BackendChild,
      exited: false,
      exit: new Promise((r) => (resolveExit = r)),
      killedBecause: null,
      fatal: false,
    };
    this.running = running;

    const readyTimer = this.timer(this.opts.readyTimeoutMs ?? 30_000, () => {
      if (running.exited || this.current.phase !== 'starting') return;
      running.killedBecause = `The backend did not report ready within ${(this.opts.readyTimeoutMs ?? 30_000) / 1000} s.`;
      this.note(running.killedBecause);
      running.child.kill('SIGKILL');
    });
    let stableTimer: NodeJS.Timeout | null = null;

    const events: BackendEvents = {
      message: (message) => {
        if (this.running !== running || !isBackendMessage(message)) return;
        if (message.type === 'ready') {
          clearTimeout(readyTimer);
          if (this.stopping) return;
          this.port = message.port;
          this.setState({ phase: 'ready', url: message.url, port: message.port, pid: message.pid });
          stableTimer = this.timer(this.opts.stableAfterMs ?? 30_000, () => this.crashes.stable());
        } else if (message.type === 'fatal') {
          clearTimeout(readyTimer);
          running.fatal = true;
          if (this.stopping) return;
          // A start that fails with a reason (port, corrupt store, ...) fails the same way next time: show it, do not loop.
          this.setState({ phase: 'failed', message: message.message, hint: message.hint, logPath: this.logPath, output: this.tail() });
        } else if (message.type === 'remote-access') {
          for (const l of this.remoteListeners) l(message);
        }
      },
      output: (text) => {
        this.outputTail.push(text);
        this.logOutput(text);
      },
      exit: (code, signal) => {
        if (running.exited) return;
        running.exited = true;
        this.logOutput('\n');
        clearTimeout(readyTimer);
        if (stableTimer) clearTimeout(stableTimer);
        this.note(`exited (${describeExit(code, signal)})`);
        resolveExit({ code, signal });
        if (this.running !== running || this.stopping || running.fatal) return;
        this.onUnexpectedExit(running.killedBecause ?? `The backend stopped unexpectedly (${describeExit(code, signal)}).`);
      },
    };
    try {
      running.child = this.opts.spawn(backendArgs(this.port, this.opts.extraArgs), events);
    } catch (err) {
      clearTimeout(readyTimer);
      running.exited = true;
      resolveExit({ code: null, signal: null });
      this.note(`could not be started: ${(err as Error).message}`);
      this.setState({ phase: 'failed', message: `The backend could not be started: ${(err as Error).message}`, hint: 'The app may be damaged; reinstalling Halo Forge should fix it.', logPath: this.logPath, output: '' });
    }
  }

  private onUnexpectedExit(reason: string): void {
    const decision = this.crashes.crashed();
    if (!decision.restart) {
      this.setState({
        phase: 'failed',
        message: `${reason} It stopped ${decision.crashes} times in a row, so Halo Forge gave up restarting it.`,
        hint: this.logPath ? `The backend's output is in ${this.logPath}.` : 'Run "halo-forge serve" in a terminal to see its output.',
        logPath: this.logPath,
        output: this.tail(),
      });
      return;
    }
    const { attempt, maxAttempts, delayMs } = decision;
    this.setState({ phase: 'restarting', attempt, maxAttempts, delayMs, reason, output: this.tail() });
    this.timer(delayMs, () => {
      if (!this.stopping) this.launch();
    });
  }

  /** The end of the backend's output for a person (the error page): JSON records as plain lines. */
  private tail(lines = 30): string {
    return this.outputTail.lines(lines).split('\n').map(readableLine).join('\n').trim();
  }

  private setState(state: BackendState): void {
    this.current = state;
    for (const l of [...this.stateListeners]) l(state);
  }

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** A supervisor line in the backend log, so the log tells the whole story of a crash loop. */
  private note(line: string): void {
    this.log?.write(`${JSON.stringify({ level: 30, time: Date.now(), name: 'supervisor', msg: line })}\n`);
  }

  private logOutput(text: string): void {
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop()!;
    for (const line of lines) if (line.trim()) this.log?.write(`${logFileLine(line)}\n`);
  }

  private openLog(): void {
    const path = this.opts.logPath;
    if (!path || this.log) return;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      if ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) > LOG_ROTATE_BYTES) renameSync(path, `${path}.1`);
      this.log = createWriteStream(path, { flags: 'a', mode: 0o600 });
      // A log that cannot be written must not take the backend down with it.
      this.log.on('error', () => (this.log = null));
    } catch {
      this.log = null;
    }
  }

  private closeLog(): void {
    this.log?.end();
    this.log = null;
  }
}

