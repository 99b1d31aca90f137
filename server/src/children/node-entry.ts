import { spawn } from 'node:child_process';
import { isChildEvent, MainProcessBridge } from './main-bridge.js';

/**
 * Who starts the backend's Node children (the embedded runtime, the runtime
 * guard, run keepers). Under Node, the backend itself:
 * `spawn(process.execPath, [entry, ...args])`. Inside the desktop app,
 * `process.execPath` is Electron's binary, which (RunAsNode fused off) would
 * start a second app, not a script: there the main process forks them, asked
 * over the backend's parentPort. null means "spawn it yourself".
 */

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

let appBridge: MainProcessBridge | null | undefined;

export function nodeEntryBridge(): MainProcessBridge | null {
  if (appBridge === undefined) {
    const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
    appBridge =
      process.versions.electron && parentPort
        ? new MainProcessBridge({
            post: (request) => parentPort.postMessage(request),
            onEvent: (listener) => parentPort.on('message', (e) => isChildEvent(e.data) && listener(e.data)),
          })
        : null;
  }
  return appBridge;
}

/** A started Node entry, whoever started it. */
export interface NodeEntryChild {
  /** The pid once started, or undefined when it could not be started. */
  readonly spawned: Promise<number | undefined>;
  /** Resolves once it has exited; `error` when it could not be started. */
  readonly exited: Promise<{ error?: Error }>;
}

export interface NodeEntryOptions {
  env: NodeJS.ProcessEnv;
  /** Under Node: the child's working folder. (A utility process keeps the app's; an entry that cares takes it as an argument.) */
  cwd?: string;
  serviceName: string;
  bridge?: MainProcessBridge | null;
}

/**
 * Starts a bundled entry with no pipes to this process: under Node as the leader of a process group of its
 * own, detached (a run's keeper, which outlives the backend); inside the desktop app, through the main process.
 */
export function spawnDetachedNodeEntry(entry: string, args: string[], opts: NodeEntryOptions): NodeEntryChild {
  const bridge = opts.bridge === undefined ? nodeEntryBridge() : opts.bridge;
  if (bridge) {
    const child = bridge.spawn(entry, args, opts.env, opts.serviceName);
    // Nobody reads a keeper's own output (the job's goes to its log): drained, so the relay never backs up.
    child.stdout.resume();
    child.stderr.resume();
    return { spawned: child.spawned, exited: child.exited.then(({ error }) => (error ? { error } : {})) };
  }
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    // Nothing of the backend's: the job's output goes through the keeper's redaction into the log, and the job
    // does not die of a broken pipe when the backend does.
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  let spawnError: Error | undefined;
  const exited = new Promise<{ error?: Error }>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      if (child.pid === undefined) resolve({ error });
    });
    child.once('exit', () => resolve(spawnError ? { error: spawnError } : {}));
  });
  return { spawned: Promise.resolve(child.pid), exited };
}
