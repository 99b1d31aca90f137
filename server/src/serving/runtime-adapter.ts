import { spawn, type ChildProcess, type SendHandle } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { MainProcessBridge } from '../children/main-bridge.js';
import { nodeEntryBridge } from '../children/node-entry.js';

/**
 * What every model runtime implements (embedded llama.cpp, llama-server,
 * vLLM): how to start it, how to ask whether it is ready, how to stop it,
 * and where its logs come out. The supervisor does the rest (ports,
 * readiness polling, crashes, restarts, redaction) once, for all of them.
 */

export type RuntimeName = 'embedded' | 'llama-server' | 'vllm';

export type RuntimeAvailability =
  | { installed: true; detail: string }
  /** `install`: what a person does to get it. */
  | { installed: false; message: string; install: string };

/** The model a launch serves. */
export interface ServedModel {
  /** The id clients send as `model` (e.g. "org/name" or "org/name:file.gguf"). */
  id: string;
  /** The Hub repository, when it came from one. */
  repo?: string;
  /** The pinned commit of the pulled revision. */
  commit?: string;
  /** The file (GGUF) or folder (safetensors) on disk. */
  path: string;
}

export interface RuntimeLaunch {
  model: ServedModel;
  /** 127.0.0.1:port, chosen by the supervisor. */
  port: number;
  /** The per-launch key every /v1 request must carry. Travels in the environment only. */
  key: string;
  /** A non-secret id the runtime may echo on /health, so a stranger on the port is not taken for it. */
  launchId: string;
  contextSize?: number;
  /**
   * The environment to start from: the workstation's, with its own secrets
   * removed and HF_TOKEN added (see buildChildEnv).
   */
  env: NodeJS.ProcessEnv;
  /** The shared Hugging Face cache, for runtimes that download or resolve by repo. */
  hfHubCache?: string;
  /** Adapter-specific settings (threads, GPU layers...). Never secrets: they end up in argv. */
  extraArgs?: string[];
}

/** How to run it: what the supervisor spawns. Secrets go in `env`, never in `args`. */
export interface RuntimeCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The variables this runtime adds for itself (their names are recorded; a secret's value never is). */
  addedEnv: string[];
  /**
   * The runtime can watch an IPC channel to its parent and exit when the parent dies. One that cannot (an
   * external executable) is started under a guard process that does it for it.
   */
  watchesParent: boolean;
  /**
   * `command` is this process's Node and `args[0]` one of the bundle's entries (the embedded runtime, the
   * guard): inside the desktop app, where that executable is Electron's, the main process forks it instead.
   */
  nodeEntry?: boolean;
  /** It can answer a client's connection the backend hands over its IPC channel (the embedded runtime). */
  takesConnections?: boolean;
}

export type RuntimeHealth = 'ready' | 'loading' | 'down';

export interface RuntimeAdapter {
  readonly name: RuntimeName;
  /** Whether this runtime can run here; when not, a message and how to install it. */
  availability(): Promise<RuntimeAvailability>;
  /** Start: the command line and environment of one launch. */
  command(launch: RuntimeLaunch): RuntimeCommand;
  /** Health: one probe of a launch; `down` when nothing (or a stranger) answers. */
  health(launch: RuntimeLaunch, signal: AbortSignal): Promise<RuntimeHealth>;
  /** Stop: the signal that asks it to stop gracefully (SIGKILL follows if it does not). */
  readonly stopSignal: 'SIGTERM' | 'SIGINT';
}

/** A launched runtime process: its logs (stdout, stderr), its exit, and how to signal it. */
export interface RuntimeProcess {
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves once, also when the process could not be created (code null, `error` set). */
  readonly exited: Promise<{ code: number | null; signal: string | null; error?: Error }>;
  kill(signal: NodeJS.Signals): void;
  /** Messages over the IPC channel (runtimes that have one). */
  onMessage(listener: (message: unknown) => void): void;
  /**
   * Sends a message over the IPC channel, with an OS handle (a client's socket) when given; the handle stays
   * open here too. Present for a runtime that takes connections and was spawned under Node with a channel.
   */
  send?(message: object, handle: unknown, done: (error: Error | null) => void): void;
}

/**
 * Spawns a runtime command. Nothing inherits the backend's stdio: output is
 * piped so that it passes through redaction before anyone sees it. An IPC
 * channel is opened for runtimes that watch it: it closes when the backend
 * dies, however it dies, which is what lets a runtime exit after a kill -9.
 */
export function spawnRuntime(cmd: RuntimeCommand, bridge: MainProcessBridge | null = nodeEntryBridge()): RuntimeProcess {
  // A utility process of the main process: it dies with the app, and the main process stops it when this backend goes.
  if (cmd.nodeEntry && bridge) return bridge.spawn(cmd.args[0]!, cmd.args.slice(1), cmd.env, 'Halo Forge runtime');
  const child: ChildProcess = spawn(cmd.command, cmd.args, {
    env: cmd.env,
    stdio: ['ignore', 'pipe', 'pipe', ...(cmd.watchesParent ? (['ipc'] as const) : [])],
    // Its own process group, so a kill reaches whatever it started too (a guard's runtime, vLLM's workers).
    detached: process.platform !== 'win32',
    windowsHide: true,
  });
  const exited = new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
      // A process that was never created emits no 'exit'.
      if (child.pid === undefined) resolve({ code: null, signal: null, error });
    });
    // Settled at 'close', once its output is drained and its IPC channel read: the crash report's log tail and a
    // last message (the embedded runtime's fatal report) are in by then. A grandchild holding the pipes open
    // must not stall that for long, though.
    child.once('exit', (code, signal) => {
      const done = () => resolve({ code, signal, ...(spawnError ? { error: spawnError } : {}) });
      const late = setTimeout(done, 1_000);
      child.once('close', () => {
        clearTimeout(late);
        done();
      });
    });
  });
  return {
    get pid() {
      return child.pid;
    },
    stdout: child.stdout!,
    stderr: child.stderr!,
    exited,
    kill: (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        child.kill(signal);
      }
    },
    onMessage: (listener) => child.on('message', listener),
    ...(cmd.takesConnections && cmd.watchesParent
      ? {
          send: (message: object, handle: unknown, done: (error: Error | null) => void) => {
            if (!child.connected) return done(new Error('the runtime\'s channel is closed'));
            // A raw TCP handle (not its net.Socket: that would enlist the backend's server in child_process's
            // worker bookkeeping); keepOpen, so the backend can still end the answer if the runtime dies.
            child.send(message, handle as SendHandle, { keepOpen: true }, (error) => done(error ?? null));
          },
        }
      : {}),
  };
}
