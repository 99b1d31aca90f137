import { PassThrough } from 'node:stream';
import type { ChildEvent, ChildRequest, ChildSignal } from '../../../shared/ipc.js';

/**
 * The backend's half of the child bridge (ChildRequest in shared/ipc.ts):
 * inside the desktop app the backend's executable is Electron's, which runs
 * no scripts (the RunAsNode fuse is off), and only the main process can fork
 * a utility process. So the backend asks the main process to start its
 * bundled child entries, and gets their pid, output, messages and exit back
 * as a process-like handle. The main process stops them when the backend
 * goes, however it goes.
 */

/** The line to the main process: the backend's parentPort in the app, an in-memory pair in the tests. */
export interface BridgePort {
  post(request: ChildRequest): void;
  onEvent(listener: (event: ChildEvent) => void): void;
}

export interface BridgedChild {
  /** Known once the main process reports the child started. */
  readonly pid: number | undefined;
  /** Resolves with the pid once started, or undefined when it could not be. */
  readonly spawned: Promise<number | undefined>;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly exited: Promise<{ code: number | null; signal: string | null; error?: Error }>;
  kill(signal: NodeJS.Signals): void;
  onMessage(listener: (message: unknown) => void): void;
}

interface Pending {
  child: BridgedChild;
  setPid(pid: number | undefined): void;
  message(message: unknown): void;
  exit(code: number | null, signal: string | null, error?: string): void;
}

export class MainProcessBridge {
  private nextId = 1;
  private readonly children = new Map<number, Pending>();

  constructor(private readonly port: BridgePort) {
    port.onEvent((event) => this.onEvent(event));
  }

  /** Starts `entry` (a file of the bundle) with `args`; `env` is the child's whole environment. */
  spawn(entry: string, args: string[], env: NodeJS.ProcessEnv, serviceName: string): BridgedChild {
    const id = this.nextId++;
    const stdout = new PassThrough({ encoding: 'utf8' });
    const stderr = new PassThrough({ encoding: 'utf8' });
    const listeners: ((message: unknown) => void)[] = [];
    let pid: number | undefined;
    let done = false;
    let resolveSpawned!: (pid: number | undefined) => void;
    let resolveExited!: (exit: { code: number | null; signal: string | null; error?: Error }) => void;
    const child: BridgedChild = {
      get pid() {
        return pid;
      },
      spawned: new Promise((r) => (resolveSpawned = r)),
      stdout,
      stderr,
      exited: new Promise((r) => (resolveExited = r)),
      kill: (signal) => {
        if (!done) this.port.post({ type: 'child-kill', id, signal: childSignal(signal) });
      },
      onMessage: (listener) => listeners.push(listener),
    };
    this.children.set(id, {
      child,
      setPid: (p) => {
        pid = p;
        resolveSpawned(p);
      },
      message: (message) => {
        for (const l of listeners) l(message);
      },
      exit: (code, signal, error) => {
        done = true;
        this.children.delete(id);
        resolveSpawned(pid);
        stdout.end();
        stderr.end();
        resolveExited({ code, signal, ...(error ? { error: new Error(error) } : {}) });
      },
    });
    this.port.post({ type: 'child-spawn', id, entry, args, env: definedOnly(env), serviceName });
    return child;
  }

  private onEvent(event: ChildEvent): void {
    const pending = this.children.get(event.id);
    if (!pending) return;
    switch (event.type) {
      case 'child-spawned':
        pending.setPid(event.pid);
        break;
      case 'child-output':
        (event.stream === 'stdout' ? pending.child.stdout : pending.child.stderr).write(event.text);
        break;
      case 'child-message':
        pending.message(event.message);
        break;
      case 'child-exit':
        pending.exit(event.code, event.signal, event.error);
        break;
    }
  }
}

/** The signals a utility process can be sent; any other stop request is the hardest of them. */
function childSignal(signal: NodeJS.Signals): ChildSignal {
  return signal === 'SIGTERM' || signal === 'SIGINT' ? signal : 'SIGKILL';
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}

export function isChildEvent(message: unknown): message is ChildEvent {
  const m = message as { type?: unknown; id?: unknown } | null;
  return !!m && typeof m.id === 'number' && (m.type === 'child-spawned' || m.type === 'child-output' || m.type === 'child-message' || m.type === 'child-exit');
}
