import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { TestForkEvent, TestForkRequest } from '../shared/ipc.js';
import type { ForkedChild, ForkEntry } from './child-relay.js';

/**
 * The main process's half of node-llama-cpp's binary test for one of the
 * backend's children (TestForkRequest in shared/ipc.ts): forks the app's own
 * copy of node-llama-cpp's `testBindingBinary.js` as a utility process when
 * the runtime asks, passes the test's messages both ways, reports its exit,
 * and kills it when the runtime goes. Nothing else is forked: not another
 * module, not a copy reached through a symlink or `..`, not for a child that
 * never loads node-llama-cpp. The env (the runtime's own, which may hold
 * HF_TOKEN) goes to the fork and into no message, log line or error text.
 */

/** node-llama-cpp's test file, under the app's unpacked node_modules (electron-builder.yml's asarUnpack). */
export const TEST_FORK_MODULE = ['node-llama-cpp', 'dist', 'bindings', 'utils', 'testBindingBinary.js'] as const;

/** node-llama-cpp tests its binaries one after the other; a few at once is already more than it needs. */
const MAX_TEST_FORKS = 4;

export interface TestForkRelayOptions {
  fork: ForkEntry;
  /** The real path of the one module that may be forked, or null when this child may fork nothing. */
  allowedModule: string | null;
  /** To the child (the runtime) that asked. */
  send(event: TestForkEvent): void;
}

export class TestForkRelay {
  private readonly forks = new Map<number, ForkedChild>();
  private closed = false;

  constructor(private readonly opts: TestForkRelayOptions) {}

  /** Takes one of the child's messages; false when it is not about a test fork (it is the backend's). */
  handle(message: unknown): boolean {
    if (!isTestForkType(message)) return false;
    const request = asTestForkRequest(message);
    if (!request) {
      const id = (message as { id?: unknown }).id;
      if (typeof id === 'number') this.exit(id, null, null, 'refused: a malformed request');
      return true;
    }
    if (request.type === 'test-fork') this.start(request);
    else if (request.type === 'test-fork-send') this.forks.get(request.id)?.send(request.message);
    else this.forks.get(request.id)?.kill('SIGKILL');
    return true;
  }

  /** The child that asked has exited: its tests go with it, and nothing more is sent to it. */
  childGone(): void {
    this.closed = true;
    for (const fork of this.forks.values()) fork.kill('SIGKILL');
  }

  private start({ id, module, env }: Extract<TestForkRequest, { type: 'test-fork' }>): void {
    const refuse = (why: string) => this.exit(id, null, null, why);
    if (this.closed) return refuse('the process that asked has stopped');
    if (!this.opts.allowedModule) return refuse('refused: only the embedded runtime and the GPU probe may fork node-llama-cpp\'s binary test');
    if (this.forks.has(id)) return refuse(`test process ${id} is already running`);
    if (this.forks.size >= MAX_TEST_FORKS) return refuse(`too many binary test processes (${this.forks.size})`);
    if (realPath(module) !== this.opts.allowedModule) {
      return refuse(`refused to fork ${JSON.stringify(module)}: only node-llama-cpp's ${TEST_FORK_MODULE.at(-1)} in the app's node_modules may be forked`);
    }
    let fork: ForkedChild;
    try {
      fork = this.opts.fork(this.opts.allowedModule, [], { env, serviceName: 'node-llama-cpp binary test' });
    } catch (err) {
      return refuse(`could not start the binary test: ${(err as Error).message}`);
    }
    this.forks.set(id, fork);
    fork.onSpawn((pid) => this.send({ type: 'test-fork-spawned', id, pid }));
    // Read and dropped, so a full pipe never stalls the test: node-llama-cpp ignores this output too, unless asked to pipe it.
    fork.onOutput(() => {});
    fork.onMessage((message) => this.send({ type: 'test-fork-message', id, message }));
    fork.onExit((code, signal, error) => {
      this.forks.delete(id);
      this.exit(id, code, signal, error);
    });
  }

  private exit(id: number, code: number | null, signal: string | null, error?: string): void {
    this.send({ type: 'test-fork-exit', id, code, signal, ...(error ? { error } : {}) });
  }

  private send(event: TestForkEvent): void {
    if (!this.closed) this.opts.send(event);
  }
}

/** The real path of node-llama-cpp's test file under `nodeModulesDir`, or null when it is not there. */
export function testForkModule(nodeModulesDir: string): string | null {
  return realPath(join(nodeModulesDir, ...TEST_FORK_MODULE));
}

function realPath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function isTestForkType(message: unknown): boolean {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('test-fork');
}

/** A well-formed request, or null: the child's messages are checked, never trusted. */
export function asTestForkRequest(message: unknown): TestForkRequest | null {
  if (!message || typeof message !== 'object') return null;
  const m = message as Record<string, unknown>;
  if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) return null;
  if (m.type === 'test-fork-send') return 'message' in m ? { type: 'test-fork-send', id: m.id, message: m.message } : null;
  if (m.type === 'test-fork-kill') return { type: 'test-fork-kill', id: m.id };
  if (m.type !== 'test-fork' || typeof m.module !== 'string') return null;
  if (!m.env || typeof m.env !== 'object' || Array.isArray(m.env)) return null;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.env)) {
    if (typeof value !== 'string') return null;
    env[name] = value;
  }
  return { type: 'test-fork', id: m.id, module: m.module, env };
}
