import childProcess, { type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestFork, installLlamaTestFork, type TestForkPort } from '../../server/src/children/llama-test-fork.js';
import type { TestForkEvent, TestForkRequest } from '../../shared/ipc.js';
import { ROOT } from './support/serving.js';

// The runtime's side of node-llama-cpp's binary test inside the desktop app: child_process.fork, replaced
// by a request to the main process. Here the "main process" is this test, over an in-memory port.

const NLC = join(ROOT, 'node_modules', 'node-llama-cpp', 'dist', 'bindings', 'utils', 'testBindingBinary.js');
const CPU_ADDON = join(ROOT, 'node_modules', '@node-llama-cpp', `${process.platform}-${process.arch}`, 'bins', `${process.platform}-${process.arch}`, 'llama-addon.node');
const SECRET = 'hf_CanaryTestForkRuntimeSide0123456789ab';
const originalFork = childProcess.fork;

afterEach(() => {
  childProcess.fork = originalFork;
  syncBuiltinESMExports();
  vi.restoreAllMocks();
});

/** An in-memory line to a main process that only records what it is asked; `deliver` answers as it would. */
function recordingPort() {
  const posted: TestForkRequest[] = [];
  let listener: ((event: TestForkEvent) => void) | null = null;
  let stopped = 0;
  const port: TestForkPort = {
    post: (request) => posted.push(structuredClone(request)),
    listen: (l) => {
      listener = l;
      return () => {
        listener = null;
        stopped++;
      };
    },
  };
  return { port, posted, deliver: (event: TestForkEvent) => listener?.(structuredClone(event)), listening: () => listener !== null, stopped: () => stopped };
}

describe('the fork that asks the main process', () => {
  it('asks for the module with its environment and returns what node-llama-cpp\'s Node branch uses', () => {
    const main = recordingPort();
    const fork = createTestFork(main.port);
    const child = fork(NLC, [], { detached: false, silent: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: { TEST_BINDING_CP: 'true', HF_TOKEN: SECRET, GONE: undefined } });
    expect(main.posted).toEqual([{ type: 'test-fork', id: 1, module: NLC, env: { TEST_BINDING_CP: 'true', HF_TOKEN: SECRET } }]);
    // What testBindingBinary.js reads right after the fork: a child that has neither exited nor been killed, with no pipes.
    expect({ killed: child.killed, exitCode: child.exitCode, stdout: child.stdout, stderr: child.stderr }).toEqual({ killed: false, exitCode: null, stdout: null, stderr: null });

    const heard: unknown[] = [];
    const exits: unknown[][] = [];
    child.on('message', (m) => heard.push(m));
    child.on('exit', (...args) => exits.push(args));
    main.deliver({ type: 'test-fork-spawned', id: 1, pid: 4242 });
    main.deliver({ type: 'test-fork-message', id: 1, message: { type: 'ready' } });
    expect(child.send({ type: 'start', bindingBinaryPath: '/b.node', gpu: false })).toBe(true);
    main.deliver({ type: 'test-fork-exit', id: 1, code: 0, signal: null });

    expect(child.pid).toBe(4242);
    expect(heard).toEqual([{ type: 'ready' }]);
    expect(main.posted[1]).toEqual({ type: 'test-fork-send', id: 1, message: { type: 'start', bindingBinaryPath: '/b.node', gpu: false } });
    expect(exits).toEqual([[0, null]]);
    expect(child.exitCode).toBe(0);
    // Gone: nothing more is sent for it, and with no test running the port is let go (so the GPU probe can exit).
    expect(child.send({ type: 'exit' })).toBe(false);
    expect(child.kill('SIGKILL')).toBe(false);
    expect(main.posted).toHaveLength(2);
    expect(main.listening()).toBe(false);
    expect(main.stopped()).toBe(1);
  });

  it('asks the main process to kill it, and marks it killed', () => {
    const main = recordingPort();
    const child = createTestFork(main.port)(NLC, [], {});
    expect(child.kill('SIGKILL')).toBe(true);
    expect(child.killed).toBe(true);
    expect(main.posted.at(-1)).toEqual({ type: 'test-fork-kill', id: 1 });
  });

  it('ends a refused fork with an exit, not a throw (node-llama-cpp listens for no error), and says why in the runtime\'s log', () => {
    const main = recordingPort();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const child = createTestFork(main.port)(join(ROOT, 'package.json'), [], {});
    const exits: unknown[][] = [];
    child.on('exit', (...args) => exits.push(args));
    main.deliver({ type: 'test-fork-exit', id: 1, code: null, signal: null, error: 'refused to fork "/x": only node-llama-cpp\'s testBindingBinary.js may be forked' });
    expect(exits).toEqual([[null, null]]);
    expect(child.exitCode).toBeNull();
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining('binary test could not run: refused to fork'));
  });

  it('keeps several tests apart by id', () => {
    const main = recordingPort();
    const fork = createTestFork(main.port);
    const [a, b] = [fork(NLC, [], {}), fork(NLC, [], {})];
    const heard: string[] = [];
    a.on('message', () => heard.push('a'));
    b.on('message', () => heard.push('b'));
    main.deliver({ type: 'test-fork-message', id: 2, message: {} });
    main.deliver({ type: 'test-fork-exit', id: 1, code: 0, signal: null });
    expect(main.listening()).toBe(true);
    main.deliver({ type: 'test-fork-message', id: 2, message: {} });
    expect(heard).toEqual(['b', 'b']);
  });
});

/** A stand-in main process: forks what it is asked with the real child_process.fork and relays both ways. */
function forkingPort(forked: string[]): TestForkPort {
  let listener: (event: TestForkEvent) => void = () => {};
  const children = new Map<number, ChildProcess>();
  return {
    listen: (l) => {
      listener = l;
      return () => (listener = () => {});
    },
    post: (request) => {
      if (request.type === 'test-fork-send') children.get(request.id)?.send(request.message as object);
      else if (request.type === 'test-fork-kill') children.get(request.id)?.kill('SIGKILL');
      else {
        const { id } = request;
        forked.push(request.module);
        const child = originalFork(request.module, [], { env: request.env, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
        children.set(id, child);
        child.on('spawn', () => listener({ type: 'test-fork-spawned', id, pid: child.pid! }));
        child.on('message', (message) => listener({ type: 'test-fork-message', id, message }));
        child.on('exit', (code, signal) => listener({ type: 'test-fork-exit', id, code, signal }));
      }
    },
  };
}

describe('node-llama-cpp\'s own binary test through the fork that asks', () => {
  it.skipIf(!existsSync(CPU_ADDON))('passes for the CPU binary, and fails for a file that is not one', async () => {
    const forked: string[] = [];
    childProcess.fork = createTestFork(forkingPort(forked));
    syncBuiltinESMExports();
    // node-llama-cpp's parent side, unchanged, in this process: it imports fork from node:child_process.
    const { testBindingBinary } = (await import(NLC)) as { testBindingBinary: (binary: string, ext: string | undefined, gpu: false) => Promise<boolean> };
    expect(await testBindingBinary(CPU_ADDON, undefined, false)).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'halo-test-fork-'));
    try {
      writeFileSync(join(dir, 'llama-addon.node'), 'not a binary');
      expect(await testBindingBinary(join(dir, 'llama-addon.node'), undefined, false)).toBe(false);
      // Both tests went through the stand-in main process, not a fork of this process's own.
      expect(forked).toEqual([NLC, NLC]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('installLlamaTestFork', () => {
  it('changes nothing under plain Node', async () => {
    expect(installLlamaTestFork()).toBe(false);
    expect((await import('node:child_process')).fork).toBe(originalFork);
  });

  it('in a utility process, replaces fork for require and for an ESM import of node:child_process', async () => {
    // What a utility process has and this one lacks, for the length of this test only.
    Object.defineProperty(process.versions, 'electron', { value: '0.0.0-test', configurable: true, enumerable: true });
    const posted: unknown[] = [];
    const parentPort = { postMessage: (m: unknown) => posted.push(m), on: () => {}, off: () => {} };
    (process as unknown as { parentPort?: unknown }).parentPort = parentPort;
    try {
      expect(installLlamaTestFork()).toBe(true);
      const esmFork = (await import('node:child_process')).fork;
      expect(esmFork).not.toBe(originalFork);
      expect(createRequire(import.meta.url)('node:child_process').fork).toBe(esmFork);
      esmFork(NLC, [], { env: { TEST_BINDING_CP: 'true' } });
      expect(posted).toEqual([{ type: 'test-fork', id: 1, module: NLC, env: { TEST_BINDING_CP: 'true' } }]);
    } finally {
      delete (process.versions as { electron?: string }).electron;
      delete (process as unknown as { parentPort?: unknown }).parentPort;
    }
  });
});
