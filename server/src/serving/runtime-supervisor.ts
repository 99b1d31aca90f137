import { randomBytes } from 'node:crypto';
import { CrashCounter, describeExit, type Backoff } from '../../../shared/supervision.js';
import type { MainProcessBridge } from '../children/main-bridge.js';
import { nodeEntryBridge } from '../children/node-entry.js';
import { buildChildEnv } from '../secrets/child-env.js';
import { registerSecret } from '../secrets/redact.js';
import { bundledEntry } from './bundled-entry.js';
import { EXIT_PORT_IN_USE, isRuntimeFatal } from './embedded/protocol.js';
import { launchContext, writeLaunchContext } from './launch-context.js';
import { freeLoopbackPort, loopbackPortTaken } from './ports.js';
import { ConnectionHandoff, type HandoffChannel } from './connection-handoff.js';
import { spawnRuntime, type RuntimeAdapter, type RuntimeCommand, type RuntimeLaunch, type RuntimeProcess, type ServedModel } from './runtime-adapter.js';
import { RuntimeLog } from './runtime-log.js';
import { runtimeLogPath, runtimeRunDir } from './runtime-paths.js';

/**
 * Runs one model in one runtime and keeps it running: picks a loopback
 * port, spawns through the adapter with a fresh key, decides readiness by
 * polling the runtime's health endpoint (never by reading its log), restarts
 * it with backoff after a crash (within a limit), tries another port when
 * its port is taken, and stops it with SIGTERM, then SIGKILL.
 */

export type RuntimeState =
  /** `port` null: still choosing one. */
  | { phase: 'starting'; attempt: number; port: number | null }
  | { phase: 'ready'; port: number; pid: number; url: string; since: number }
  /** `restartInMs` null: given up (a start that cannot succeed, or too many crashes in a row). */
  | { phase: 'crashed'; reason: string; hint: string | null; exitCode: number | null; signal: string | null; logTail: string; restartInMs: number | null; fatalCode?: string }
  | { phase: 'stopping' }
  | { phase: 'stopped' };

export interface RuntimeSupervisorOptions {
  adapter: RuntimeAdapter;
  model: ServedModel;
  /** HALOFORGE_HOME: logs go to logs/runtimes/, launch records to runs/. */
  home: string;
  /** The workstation's environment; its own secrets (API token, HF variables) are taken out before a runtime sees it. */
  env: NodeJS.ProcessEnv;
  /** The resolved Hugging Face token: it reaches the runtime as HF_TOKEN, in its environment and nowhere else. */
  hfToken?: string | null;
  contextSize?: number;
  hfHubCache?: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  healthIntervalMs?: number;
  maxRestarts?: number;
  backoff?: Partial<Backoff>;
  stableAfterMs?: number;
  /** After the stop signal: time before SIGKILL. */
  killAfterMs?: number;
  /** Ports taken between our check and the runtime's bind: how many other ports to try. */
  portAttempts?: number;
  /** Where a launch's port comes from (tests use it to hand out a taken one). */
  pickPort?: () => Promise<number>;
  logMaxBytes?: number;
  /** The guard that runs runtimes which cannot watch for the backend's death (default: the bundled one). */
  guardEntry?: string;
  /** Who forks Node entries inside the desktop app (default: the app's main process there, nobody under Node). */
  nodeBridge?: MainProcessBridge | null;
}

interface Launch {
  seq: number;
  launch: RuntimeLaunch;
  process: RuntimeProcess;
  exited: boolean;
  fatal: { message: string; hint: string; code?: string } | null;
  /** Why the supervisor killed it, if it did. */
  killedBecause: string | null;
  /** Hands clients' connections to it, where it takes them (connection-handoff.ts). */
  handoff: ConnectionHandoff | null;
}

export class RuntimeSupervisor {
  private current: RuntimeState = { phase: 'stopped' };
  private readonly listeners = new Set<(state: RuntimeState) => void>();
  private readonly crashes: CrashCounter;
  private readonly timers = new Set<NodeJS.Timeout>();
  private running: Launch | null = null;
  private seq = 0;
  private stopping: Promise<void> | null = null;
  private portCollisions = 0;
  readonly log: RuntimeLog;
  private lastContextPath: string | null = null;

  private readonly childEnv: NodeJS.ProcessEnv;

  constructor(private readonly opts: RuntimeSupervisorOptions) {
    // Also registers the token for redaction, so a runtime that prints it is masked in its log.
    this.childEnv = buildChildEnv(opts.env, opts.hfToken ?? null);
    this.crashes = new CrashCounter(opts.maxRestarts ?? 3, opts.backoff);
    this.log = new RuntimeLog(runtimeLogPath(opts.home, opts.adapter.name, opts.model.id), opts.logMaxBytes);
  }

  get state(): RuntimeState {
    return this.current;
  }

  /** The runtime process now running, if any. */
  get pid(): number | undefined {
    return this.running && !this.running.exited ? this.running.process.pid : undefined;
  }

  /** The key of the running launch, for whoever forwards requests to it. Never log it. */
  get key(): string | null {
    return this.running?.launch.key ?? null;
  }

  /** Where a streamed answer can be handed to the running launch, when it is ready and takes connections. */
  get handoff(): ConnectionHandoff | null {
    return this.current.phase === 'ready' && this.running && !this.running.exited ? this.running.handoff : null;
  }

  get launchContextPath(): string | null {
    return this.lastContextPath;
  }

  onState(listener: (state: RuntimeState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the runtime; resolves with `ready`, or `crashed` once it has given up. */
  start(): Promise<RuntimeState> {
    const phase = this.current.phase;
    if (phase === 'stopped' || (phase === 'crashed' && this.current.restartInMs === null)) {
      this.stopping = null;
      this.crashes.reset();
      this.portCollisions = 0;
      void this.launch();
    }
    return this.settled();
  }

  /** The next state that is ready, stopped, or crashed for good. */
  settled(): Promise<RuntimeState> {
    const done = (s: RuntimeState) => s.phase === 'ready' || s.phase === 'stopped' || (s.phase === 'crashed' && s.restartInMs === null);
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

  /** Stops the runtime (SIGTERM, then SIGKILL) and resolves once its process is gone. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    this.clearTimers();
    const running = this.running;
    if (running && !running.exited) {
      this.setState({ phase: 'stopping' });
      this.log.note(`stopping (${this.opts.adapter.stopSignal})`);
      running.process.kill(this.opts.adapter.stopSignal);
      const kill = setTimeout(() => {
        this.log.note(`did not stop within ${(this.opts.killAfterMs ?? 5_000) / 1000} s of ${this.opts.adapter.stopSignal}; sending SIGKILL`);
        running.process.kill('SIGKILL');
      }, this.opts.killAfterMs ?? 5_000);
      await running.process.exited;
      clearTimeout(kill);
    }
    this.setState({ phase: 'stopped' });
    this.log.close();
  }

  private async launch(): Promise<void> {
    const seq = ++this.seq;
    const attempt = this.crashes.nextAttempt;
    this.setState({ phase: 'starting', attempt, port: null });
    let port: number;
    try {
      port = await (this.opts.pickPort ?? freeLoopbackPort)();
    } catch (err) {
      this.setState({ phase: 'crashed', reason: `No loopback port could be had: ${(err as Error).message}`, hint: null, exitCode: null, signal: null, logTail: '', restartInMs: null });
      return;
    }
    if (this.stopping || seq !== this.seq) return;
    this.setState({ phase: 'starting', attempt, port });

    const key = randomBytes(32).toString('base64url');
    // Masked in every line the runtime prints, and in anything else that passes through redaction.
    registerSecret(key);
    const launch: RuntimeLaunch = {
      model: this.opts.model,
      port,
      key,
      launchId: `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`,
      contextSize: this.opts.contextSize,
      env: this.childEnv,
      hfHubCache: this.opts.hfHubCache,
      extraArgs: this.opts.extraArgs,
    };
    let running: Launch;
    try {
      const cmd = this.opts.adapter.command(launch);
      this.lastContextPath = writeLaunchContext(runtimeRunDir(this.opts.home, launch.launchId), launchContext(this.opts.adapter.name, launch, cmd, this.log.path));
      this.log.note(`starting ${this.opts.adapter.name} for ${this.opts.model.id} on 127.0.0.1:${port} (attempt ${attempt}, launch ${launch.launchId})`);
      const child = spawnRuntime(this.guarded(cmd), this.opts.nodeBridge === undefined ? nodeEntryBridge() : this.opts.nodeBridge);
      // A runtime that takes connections, spawned with a channel, can send them (spawnRuntime).
      const handoff = child.send ? new ConnectionHandoff(child as HandoffChannel) : null;
      running = { seq, launch, process: child, exited: false, fatal: null, killedBecause: null, handoff };
    } catch (err) {
      this.log.note(`could not be started: ${(err as Error).message}`);
      this.setState({ phase: 'crashed', reason: `The ${this.opts.adapter.name} runtime could not be started: ${(err as Error).message}`, hint: null, exitCode: null, signal: null, logTail: this.log.tail.lines(), restartInMs: null });
      return;
    }
    this.running = running;
    this.log.follow(running.process.stdout);
    this.log.follow(running.process.stderr);
    running.process.onMessage((message) => {
      if (isRuntimeFatal(message)) running.fatal = { message: message.message, hint: message.hint, ...(message.code ? { code: message.code } : {}) };
    });
    void running.process.exited.then(({ code, signal, error }) => this.onExit(running, code, signal, error));
    void this.awaitReady(running);
  }

  /** Polls health until ready; a runtime that is not ready in time is killed and counts as a crash. */
  private async awaitReady(running: Launch): Promise<void> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    const interval = this.opts.healthIntervalMs ?? 100;
    while (!running.exited && !this.stopping && this.running === running) {
      if (Date.now() > deadline) {
        running.killedBecause = `The ${this.opts.adapter.name} runtime did not become ready within ${timeoutMs / 1000} s.`;
        this.log.note(running.killedBecause);
        running.process.kill('SIGKILL');
        return;
      }
      const probe = new AbortController();
      const probeTimer = setTimeout(() => probe.abort(), Math.max(interval, 1_000));
      const health = await this.opts.adapter.health(running.launch, probe.signal);
      clearTimeout(probeTimer);
      if (health === 'ready' && !running.exited && !this.stopping && this.running === running) {
        const pid = running.process.pid!;
        this.log.note(`ready on 127.0.0.1:${running.launch.port} (pid ${pid})`);
        this.portCollisions = 0;
        this.setState({ phase: 'ready', port: running.launch.port, pid, url: `http://127.0.0.1:${running.launch.port}`, since: Date.now() });
        this.timer(this.opts.stableAfterMs ?? 30_000, () => this.crashes.stable());
        return;
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  }

  private async onExit(running: Launch, code: number | null, signal: string | null, error?: Error): Promise<void> {
    running.exited = true;
    this.log.note(`exited (${error ? error.message : describeExit(code, signal)})`);
    if (this.running !== running || this.stopping) return;
    const wasReady = this.current.phase === 'ready';
    this.clearTimers();
    if (!wasReady && !running.killedBecause && !running.fatal && (code === EXIT_PORT_IN_USE || (code !== 0 && (await loopbackPortTaken(running.launch.port))))) {
      // Someone took the port between our check and the runtime's bind: another port, and no crash counted.
      if (this.stopping || this.running !== running) return;
      if (++this.portCollisions <= (this.opts.portAttempts ?? 5)) {
        this.log.note(`port ${running.launch.port} is taken; trying another`);
        void this.launch();
        return;
      }
    }
    const logTail = this.log.tail.lines();
    if (running.fatal || error) {
      this.setState({ phase: 'crashed', reason: running.fatal?.message ?? `The runtime could not be started: ${error!.message}`, hint: running.fatal?.hint ?? null, exitCode: code, signal, logTail, restartInMs: null, ...(running.fatal?.code ? { fatalCode: running.fatal.code } : {}) });
      return;
    }
    const reason = running.killedBecause ?? `The ${this.opts.adapter.name} runtime stopped unexpectedly (${describeExit(code, signal)}).`;
    const decision = this.crashes.crashed();
    if (!decision.restart) {
      this.log.note(`gave up after ${decision.crashes} crashes in a row`);
      this.setState({ phase: 'crashed', reason: `${reason} It stopped ${decision.crashes} times in a row; Halo Forge gave up restarting it.`, hint: `Its output is in ${this.log.path}.`, exitCode: code, signal, logTail, restartInMs: null });
      return;
    }
    this.log.note(`restarting in ${decision.delayMs} ms (restart ${decision.attempt} of ${decision.maxAttempts})`);
    this.setState({ phase: 'crashed', reason, hint: null, exitCode: code, signal, logTail, restartInMs: decision.delayMs });
    this.timer(decision.delayMs, () => {
      if (!this.stopping) void this.launch();
    });
  }

  /** A runtime that cannot watch its parent runs under the guard, which can (see runtime-guard.ts). */
  private guarded(cmd: RuntimeCommand): RuntimeCommand {
    if (cmd.watchesParent) return cmd;
    const guard = this.opts.guardEntry ?? bundledEntry('runtime-guard');
    if (!guard) throw new Error('the runtime guard is not built: run "npm run build"');
    return { ...cmd, command: process.execPath, args: [guard, cmd.command, ...cmd.args], watchesParent: true, nodeEntry: true };
  }

  private setState(state: RuntimeState): void {
    this.current = state;
    for (const l of [...this.listeners]) l(state);
  }

  private timer(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
