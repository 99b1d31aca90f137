import childProcess, { type ChildProcess, type ForkOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TestForkEvent, TestForkRequest } from '../../../shared/ipc.js';

/**
 * node-llama-cpp (3.x) tests each prebuilt llama.cpp binary before loading
 * it, in a process forked from its own `testBindingBinary.js`. Under
 * Electron it first tries `utilityProcess.fork`, which exists only in the
 * main process, and so, inside a utility process such as the embedded
 * runtime, falls back to `child_process.fork`: `process.execPath`, which is
 * Electron's binary, and with the RunAsNode fuse off that starts a second
 * app, not the test. Every binary would then be refused and no model could
 * load. So, in a utility process only, `child_process.fork` becomes a
 * request to the main process, which forks that one file as a utility
 * process and relays the test's messages (electron/test-fork-relay.ts).
 *
 * What comes back is the part of a ChildProcess node-llama-cpp's Node branch
 * uses: `on('message' | 'exit')`, `send`, `kill`, `killed`, `exitCode`, and
 * no `stdout`/`stderr` (the test's output is not relayed; node-llama-cpp
 * ignores it unless asked to pipe it).
 */

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  off(event: 'message', listener: (e: { data: unknown }) => void): void;
}

/** The line to the main process: the runtime's parentPort in the app, an in-memory pair in the tests. */
export interface TestForkPort {
  post(request: TestForkRequest): void;
  /** Starts listening; returns the function that stops, so a process with no test running can exit. */
  listen(listener: (event: TestForkEvent) => void): () => void;
}

/**
 * Replaces `child_process.fork` (for CommonJS and, through syncBuiltinESMExports, for the ESM
 * `import { fork } from 'node:child_process'` node-llama-cpp uses) when this process is an Electron
 * utility process; anywhere else it changes nothing. Call it before node-llama-cpp runs its test.
 */
export function installLlamaTestFork(): boolean {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (!process.versions.electron || !parentPort) return false;
  childProcess.fork = createTestFork({
    post: (request) => parentPort.postMessage(request),
    listen: (listener) => {
      const onMessage = (e: { data: unknown }) => {
        if (isTestForkEvent(e.data)) listener(e.data);
      };
      parentPort.on('message', onMessage);
      return () => parentPort.off('message', onMessage);
    },
  });
  syncBuiltinESMExports();
  return true;
}

/**
 * A `fork` that asks over `port`; every call becomes a request the main process may refuse. Only the module
 * and the env travel: node-llama-cpp passes no arguments, and its stdio and detached options mean nothing to a
 * utility process.
 */
export function createTestFork(port: TestForkPort): typeof childProcess.fork {
  const running = new Map<number, TestForkChild>();
  let nextId = 1;
  let stopListening: (() => void) | null = null;
  const onEvent = (event: TestForkEvent) => {
    const child = running.get(event.id);
    if (!child) return;
    if (event.type === 'test-fork-spawned') child.spawned(event.pid);
    else if (event.type === 'test-fork-message') child.emit('message', event.message);
    else {
      running.delete(event.id);
      if (running.size === 0) {
        stopListening?.();
        stopListening = null;
      }
      child.exited(event.code, event.signal, event.error);
    }
  };
  const fork = (modulePath: string | URL, ...rest: unknown[]): ChildProcess => {
    const options = (Array.isArray(rest[0]) ? rest[1] : rest[0]) as ForkOptions | undefined;
    const id = nextId++;
    const child = new TestForkChild(id, port);
    running.set(id, child);
    stopListening ??= port.listen(onEvent);
    port.post({ type: 'test-fork', id, module: modulePath instanceof URL ? fileURLToPath(modulePath) : String(modulePath), env: definedOnly(options?.env ?? process.env) });
    return child as unknown as ChildProcess;
  };
  return fork as typeof childProcess.fork;
}

class TestForkChild extends EventEmitter {
  pid: number | undefined = undefined;
  exitCode: number | null = null;
  signalCode: string | null = null;
  killed = false;
  connected = true;
  readonly stdin = null;
  readonly stdout = null;
  readonly stderr = null;
  private done = false;

  constructor(
    private readonly id: number,
    private readonly port: TestForkPort,
  ) {
    super();
  }

  send(message: unknown, ...rest: unknown[]): boolean {
    const callback = rest.find((r): r is (error: Error | null) => void => typeof r === 'function');
    if (!this.connected) {
      callback?.(new Error('the binary test process has exited'));
      return false;
    }
    this.port.post({ type: 'test-fork-send', id: this.id, message });
    if (callback) queueMicrotask(() => callback(null));
    return true;
  }

  kill(): boolean {
    if (this.done) return false;
    // The main process stops it the hardest way: a binary test has nothing to clean up.
    this.killed = true;
    this.port.post({ type: 'test-fork-kill', id: this.id });
    return true;
  }

  disconnect(): void {
    this.kill();
  }

  ref(): void {}
  unref(): void {}

  spawned(pid: number): void {
    this.pid = pid;
    this.emit('spawn');
  }

  exited(code: number | null, signal: string | null, error?: string): void {
    if (this.done) return;
    this.done = true;
    this.connected = false;
    this.exitCode = code;
    this.signalCode = signal;
    if (error) {
      // In the runtime's log: why a binary was refused. The relay's reason names a path at most, never the env.
      process.stderr.write(`node-llama-cpp's binary test could not run: ${error}\n`);
      // Like a ChildProcess that could not start, but node-llama-cpp listens for no 'error': emitting one then would throw.
      if (this.listenerCount('error') > 0) this.emit('error', new Error(error));
    }
    this.emit('exit', code, signal);
    this.emit('close', code, signal);
  }
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}

function isTestForkEvent(message: unknown): message is TestForkEvent {
  const m = message as { type?: unknown; id?: unknown } | null;
  return !!m && typeof m.id === 'number' && (m.type === 'test-fork-spawned' || m.type === 'test-fork-message' || m.type === 'test-fork-exit');
}
