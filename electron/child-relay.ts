import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChildEvent, ChildRequest, ChildSignal } from '../shared/ipc.js';
import { TestForkRelay, testForkModule } from './test-fork-relay.js';

/**
 * The main process's half of the backend's child bridge (see ChildRequest in
 * shared/ipc.ts): forks the bundled entries the backend asks for, relays
 * their output, messages, pid and exit back to it, passes on its kill
 * requests, and stops every child a backend started once that backend is
 * gone, however it went (a kill -9 of the backend leaves no runtime behind).
 * The fork itself is injected: Electron's utilityProcess in the app
 * (utility-backend.ts), child_process.fork in the tests. For the runtime and
 * the GPU probe it also forks node-llama-cpp's binary test, and nothing else
 * (test-fork-relay.ts).
 *
 * The backend is not fully trusted here: it may fork only the bundle's own
 * child entries, by their real path, and the environment it passes (which
 * holds HF_TOKEN and the runtime key) is handed to the fork and nowhere
 * else: no message, log line or error text of this module includes it.
 */

/** The bundled entries a backend may start (rolldown.config.mjs): nothing else in dist/backend, nothing outside it. */
export const CHILD_ENTRIES = ['serving-runtime.mjs', 'runtime-guard.mjs', 'run-keeper.mjs', 'llama-probe.mjs'] as const;

/** The entries that load node-llama-cpp, whose binary test the relay forks for them (test-fork-relay.ts). */
const TEST_FORK_ENTRIES: readonly string[] = ['serving-runtime.mjs', 'llama-probe.mjs'];

/** One forked child, as the relay needs it. */
export interface ForkedChild {
  /** Known once the OS has created the process. */
  readonly pid: number | undefined;
  onSpawn(listener: (pid: number) => void): void;
  onOutput(listener: (stream: 'stdout' | 'stderr', text: string) => void): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once, after the child's output has ended. */
  onExit(listener: (code: number | null, signal: string | null, error?: string) => void): void;
  kill(signal: ChildSignal): void;
  /** A message to the child (its parentPort in the app); dropped once it has exited. */
  send(message: unknown): void;
}

export type ForkEntry = (entry: string, args: string[], opts: { env: Record<string, string>; serviceName: string }) => ForkedChild;

export interface ChildRelayOptions {
  fork: ForkEntry;
  /** The bundle's folder (the unpacked copy in a packaged app): the only place entries come from. */
  backendDir: string;
  /** To the backend that owns these children. */
  send(event: ChildEvent): void;
  /** After SIGTERM, when the backend is gone: time before SIGKILL (the guard needs a few seconds to stop its runtime). */
  killAfterMs?: number;
  /** At most this many children at once per backend. */
  maxChildren?: number;
  /** Where node-llama-cpp's binary test comes from: by default the node_modules two folders above backendDir. */
  nodeModulesDir?: string;
}

interface Relayed {
  child: ForkedChild | null;
  exited: Promise<void>;
  markExited(): void;
}

export class ChildRelay {
  private readonly children = new Map<number, Relayed>();
  private readonly allowed: Set<string>;
  private readonly testModule: string | null;
  private gone = false;

  constructor(private readonly opts: ChildRelayOptions) {
    this.allowed = new Set(CHILD_ENTRIES.map((name) => join(realDir(opts.backendDir), name)));
    this.testModule = testForkModule(opts.nodeModulesDir ?? appNodeModules(opts.backendDir));
  }

  /** How many children are still running. */
  get size(): number {
    return this.children.size;
  }

  /** Takes a message from the backend; false when it is not a child request (it is the supervisor's). */
  handle(message: unknown): boolean {
    const request = asChildRequest(message);
    if (!request) {
      if (!isChildType(message)) return false;
      // Malformed: a spawn still gets its answer, so the backend is not left waiting for one.
      const { type, id } = message as { type: string; id?: unknown };
      if (type === 'child-spawn' && typeof id === 'number') this.send({ type: 'child-exit', id, code: null, signal: null, error: 'refused: a malformed request' });
      return true;
    }
    if (request.type === 'child-spawn') this.spawn(request);
    else this.children.get(request.id)?.child?.kill(request.signal);
    return true;
  }

  /**
   * The backend has exited: its children go too, gracefully first (SIGTERM lets the guard stop its
   * runtime), then SIGKILL. Resolves once every one of them has exited.
   */
  async backendGone(): Promise<void> {
    this.gone = true;
    const running = [...this.children.values()];
    if (running.length === 0) return;
    for (const r of running) r.child?.kill('SIGTERM');
    const kill = setTimeout(() => {
      for (const r of running) r.child?.kill('SIGKILL');
    }, this.opts.killAfterMs ?? 5_000);
    await Promise.all(running.map((r) => r.exited));
    clearTimeout(kill);
  }

  private spawn(request: Extract<ChildRequest, { type: 'child-spawn' }>): void {
    const { id } = request;
    const refuse = (why: string) => this.send({ type: 'child-exit', id, code: null, signal: null, error: why });
    if (this.gone) return refuse('the backend that asked for it has stopped');
    if (this.children.has(id)) return refuse(`child ${id} is already running`);
    if (this.children.size >= (this.opts.maxChildren ?? 32)) return refuse(`too many child processes (${this.children.size})`);
    const entry = this.allowedEntry(request.entry);
    if (!entry) return refuse(`refused to start ${JSON.stringify(request.entry)}: only ${CHILD_ENTRIES.join(', ')} in ${this.opts.backendDir} may be started`);

    let markExited!: () => void;
    const relayed: Relayed = { child: null, exited: new Promise((r) => (markExited = r)), markExited: () => markExited() };
    this.children.set(id, relayed);
    let child: ForkedChild;
    try {
      child = this.opts.fork(entry, request.args, { env: request.env, serviceName: request.serviceName });
    } catch (err) {
      this.children.delete(id);
      relayed.markExited();
      // The fork's own error names the entry at most; the environment is never part of it.
      return refuse(`could not start ${basename(entry)}: ${(err as Error).message}`);
    }
    relayed.child = child;
    const tests = new TestForkRelay({
      fork: this.opts.fork,
      allowedModule: TEST_FORK_ENTRIES.includes(basename(entry)) ? this.testModule : null,
      send: (event) => child.send(event),
    });
    child.onSpawn((pid) => this.send({ type: 'child-spawned', id, pid }));
    child.onOutput((stream, text) => this.send({ type: 'child-output', id, stream, text }));
    child.onMessage((message) => {
      if (!tests.handle(message)) this.send({ type: 'child-message', id, message });
    });
    child.onExit((code, signal, error) => {
      tests.childGone();
      this.children.delete(id);
      relayed.markExited();
      this.send({ type: 'child-exit', id, code, signal, ...(error ? { error } : {}) });
    });
  }

  /** The entry's real path when it is one of the bundle's child entries; symlinks and `..` do not get around it. */
  private allowedEntry(entry: string): string | null {
    try {
      const real = realpathSync(entry);
      return this.allowed.has(real) ? real : null;
    } catch {
      return null;
    }
  }

  private send(event: ChildEvent): void {
    // Once the backend is gone there is nobody to tell; its children are being stopped.
    if (!this.gone) this.opts.send(event);
  }
}

/** The app's node_modules, seen from its bundle's folder: app.asar.unpacked/node_modules in a packaged app, the checkout's in a dev one. */
export function appNodeModules(backendDir: string): string {
  return join(backendDir, '..', '..', 'node_modules');
}

function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    // Not built: nothing in it can be allowed, and no real path collides with this one.
    return join(dirname(dir), '\0missing');
  }
}

function isChildType(message: unknown): boolean {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('child-');
}

/** A well-formed request, or null: the backend's messages are checked, never trusted. */
export function asChildRequest(message: unknown): ChildRequest | null {
  if (!message || typeof message !== 'object') return null;
  const m = message as Record<string, unknown>;
  if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) return null;
  if (m.type === 'child-kill') {
    return m.signal === 'SIGTERM' || m.signal === 'SIGINT' || m.signal === 'SIGKILL' ? { type: 'child-kill', id: m.id, signal: m.signal } : null;
  }
  if (m.type !== 'child-spawn') return null;
  if (typeof m.entry !== 'string' || typeof m.serviceName !== 'string' || m.serviceName.length > 100) return null;
  if (!Array.isArray(m.args) || !m.args.every((a) => typeof a === 'string')) return null;
  if (!m.env || typeof m.env !== 'object' || Array.isArray(m.env)) return null;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.env)) {
    if (typeof value !== 'string') return null;
    env[name] = value;
  }
  return { type: 'child-spawn', id: m.id, entry: m.entry, args: m.args as string[], env, serviceName: m.serviceName };
}

/**
 * Calls `done` once both output streams have ended (the exit event can come before the last output),
 * or a second after `exited`, should a grandchild hold a pipe open.
 */
export function afterOutput(streams: (NodeJS.ReadableStream | null | undefined)[], exited: Promise<void>, done: () => void): void {
  const ended = streams
    .filter((s): s is NodeJS.ReadableStream => !!s)
    .map((s) => ((s as Partial<Readable>).readableEnded ? Promise.resolve() : new Promise<void>((r) => s.once('end', r).once('close', r))));
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    done();
  };
  void Promise.all(ended).then(() => exited).then(once);
  void exited.then(() => setTimeout(once, 1_000).unref());
}
