import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// The two halves of the bridge meet here, as they do over the backend's parentPort in the app.
import { MainProcessBridge } from '../../server/src/children/main-bridge.js';
import type { ChildEvent, TestForkEvent } from '../../shared/ipc.js';
import { type ForkEntry } from '../child-relay.js';
import { nodeFork } from '../node-backend.js';
import { wireRelay } from './relay-wire.js';
import { asTestForkRequest, TestForkRelay } from '../test-fork-relay.js';
import { isAlive, waitFor } from './support.js';

// The main process forking node-llama-cpp's binary test for a runtime: a fake runtime asks for it the way
// llama-test-fork.ts does, a fake testBindingBinary.js in a fake app's node_modules answers, and
// child_process.fork stands in for utilityProcess.fork.

const SECRET = 'hf_CanaryTestForkEnvSecret0123456789abcd';

/**
 * A runtime stand-in: asks for the test fork named in FAKE_TEST_MODULE, tells the backend (as child messages)
 * every test-fork event it hears, pings the test process once it is ready, and, in mode 'kill', stops it after the echo.
 */
const FAKE_RUNTIME = `
const mode = process.env.FAKE_MODE;
process.on('message', (event) => {
  process.send({ type: 'saw', event });
  if (event.type !== 'test-fork-message') return;
  if (event.message.type === 'ready') process.send({ type: 'test-fork-send', id: 1, message: { type: 'ping', n: 1 } });
  if (event.message.type === 'echo' && mode === 'kill') process.send({ type: 'test-fork-kill', id: 1 });
});
process.send({ type: 'test-fork', id: 1, module: process.env.FAKE_TEST_MODULE, env: { TEST_BINDING_CP: 'true', HF_TOKEN: process.env.HF_TOKEN } });
`;

/** A testBindingBinary.js stand-in: speaks parentPort as a utility process, or Node IPC as here; echoes and waits. */
const FAKE_TEST = `
const port = process.parentPort;
const send = port ? (m) => port.postMessage(m) : (m) => process.send(m);
const listen = port ? (l) => port.on('message', (e) => l(e.data)) : (l) => process.on('message', l);
listen((m) => {
  if (m.type === 'ping') send({ type: 'echo', got: m });
  if (m.type === 'exit') process.exit(0);
});
send({ type: 'ready', pid: process.pid, secretArrived: process.env.HF_TOKEN === ${JSON.stringify(SECRET)}, testCp: process.env.TEST_BINDING_CP });
`;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface FakeApp {
  backendDir: string;
  /** The one module the relay may fork. */
  testModule: string;
  utilsDir: string;
  /** Outside the app. */
  elsewhere: string;
}

/** dist/backend and node_modules laid out as in app.asar.unpacked, with fake entries and a fake test file. */
function fakeApp(): FakeApp {
  const root = mkdtempSync(join(tmpdir(), 'halo-test-fork-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const backendDir = join(root, 'app', 'dist', 'backend');
  const utilsDir = join(root, 'app', 'node_modules', 'node-llama-cpp', 'dist', 'bindings', 'utils');
  const elsewhere = join(root, 'elsewhere');
  for (const dir of [backendDir, utilsDir, elsewhere]) mkdirSync(dir, { recursive: true });
  for (const name of ['serving-runtime.mjs', 'llama-probe.mjs', 'runtime-guard.mjs']) writeFileSync(join(backendDir, name), FAKE_RUNTIME);
  writeFileSync(join(utilsDir, 'testBindingBinary.js'), FAKE_TEST);
  writeFileSync(join(utilsDir, 'getPlatform.js'), FAKE_TEST);
  writeFileSync(join(elsewhere, 'testBindingBinary.js'), FAKE_TEST);
  symlinkSync(join(elsewhere, 'testBindingBinary.js'), join(utilsDir, 'testBindingBinary-link.js'));
  return { backendDir, testModule: realpathSync(join(utilsDir, 'testBindingBinary.js')), utilsDir, elsewhere };
}

/** A relay and a bridge joined in memory; every message is copied, as postMessage would. */
function wire(backendDir: string) {
  const forks: string[] = [];
  const fork: ForkEntry = (entry, args, opts) => {
    forks.push(entry);
    return nodeFork(entry, args, opts);
  };
  const { relay, bridge, sent } = wireRelay({ fork, backendDir });
  cleanups.push(() => relay.backendGone());
  return { relay, bridge, sent, forks };
}

/** Starts the fake runtime under `name`, asking for `module`; returns the test-fork events it hears. */
function startRuntime(app: FakeApp, bridge: MainProcessBridge, module: string, opts: { name?: string; mode?: string } = {}) {
  const seen: TestForkEvent[] = [];
  const child = bridge.spawn(join(app.backendDir, opts.name ?? 'serving-runtime.mjs'), [], { PATH: process.env.PATH, HF_TOKEN: SECRET, FAKE_TEST_MODULE: module, FAKE_MODE: opts.mode ?? '' }, 'fake runtime');
  child.onMessage((m) => {
    const { type, event } = m as { type: string; event: TestForkEvent };
    if (type === 'saw') seen.push(event);
  });
  child.stdout.resume();
  child.stderr.resume();
  return { child, seen };
}

const messages = (seen: TestForkEvent[]) => seen.flatMap((e) => (e.type === 'test-fork-message' ? [e.message] : []));

describe('node-llama-cpp\'s binary test, forked by the main process for a runtime', () => {
  it('forks the app\'s testBindingBinary.js with the env given, and relays messages both ways without the backend seeing them', async () => {
    const app = fakeApp();
    const { bridge, sent, forks } = wire(app.backendDir);
    const { child, seen } = startRuntime(app, bridge, join(app.utilsDir, 'testBindingBinary.js'));
    await waitFor(() => messages(seen).some((m) => (m as { type: string }).type === 'echo'), 'the echo of the runtime\'s ping', 20_000);
    const spawned = seen.find((e) => e.type === 'test-fork-spawned');
    const ready = messages(seen)[0] as { type: string; pid: number; secretArrived: boolean; testCp: string };
    expect(ready).toMatchObject({ type: 'ready', secretArrived: true, testCp: 'true' });
    expect(spawned).toEqual({ type: 'test-fork-spawned', id: 1, pid: ready.pid });
    expect(messages(seen)[1]).toEqual({ type: 'echo', got: { type: 'ping', n: 1 } });
    expect(forks).toEqual([join(realpathSync(app.backendDir), 'serving-runtime.mjs'), app.testModule]);
    // The test's traffic is the runtime's business: none of it went to the backend as the runtime's messages.
    const relayed = sent.map((s) => JSON.parse(s) as ChildEvent);
    expect(relayed.filter((e) => e.type === 'child-message').map((e) => (e as { message: { type: string } }).message.type)).toEqual(['saw', 'saw', 'saw']);
    expect(sent.join('\n')).not.toContain(SECRET);
    child.kill('SIGKILL');
    await child.exited;
  });

  it('kills the test process when the runtime asks, and reports its exit', async () => {
    const app = fakeApp();
    const { bridge } = wire(app.backendDir);
    const { seen } = startRuntime(app, bridge, app.testModule, { mode: 'kill' });
    await waitFor(() => seen.some((e) => e.type === 'test-fork-exit'), 'the test process to exit', 20_000);
    const pid = (messages(seen)[0] as { pid: number }).pid;
    expect(seen.at(-1)).toEqual({ type: 'test-fork-exit', id: 1, code: null, signal: 'SIGKILL' });
    expect(isAlive(pid)).toBe(false);
  });

  it('kills the test process when the runtime goes', async () => {
    const app = fakeApp();
    const { bridge } = wire(app.backendDir);
    const { child, seen } = startRuntime(app, bridge, app.testModule);
    await waitFor(() => messages(seen).length > 0, 'the test process to be ready', 20_000);
    const pid = (messages(seen)[0] as { pid: number }).pid;
    expect(isAlive(pid)).toBe(true);
    child.kill('SIGKILL');
    await child.exited;
    await waitFor(() => !isAlive(pid), `test process ${pid} to be killed`, 10_000);
  });

  it('refuses any other module, a path out of the app\'s node_modules, and a child that is not a runtime, and forks none of them', async () => {
    const app = fakeApp();
    const { bridge, sent, forks } = wire(app.backendDir);
    const refused: [string, string, string?][] = [
      ['another module of node-llama-cpp', join(app.utilsDir, 'getPlatform.js')],
      ['the right name in the wrong place', join(app.elsewhere, 'testBindingBinary.js')],
      ['a symlink out of node_modules', join(app.utilsDir, 'testBindingBinary-link.js')],
      ['.. out of node_modules', join(app.utilsDir, '..', '..', '..', '..', '..', '..', 'elsewhere', 'testBindingBinary.js')],
      ['a relative path', 'testBindingBinary.js'],
      ['a file that is not there', join(app.utilsDir, 'missing.js')],
      ['the right file, for the runtime guard', app.testModule, 'runtime-guard.mjs'],
    ];
    for (const [what, module, name] of refused) {
      const { child, seen } = startRuntime(app, bridge, module, { name });
      await waitFor(() => seen.length > 0, `an answer (${what})`, 20_000);
      expect(seen, what).toEqual([{ type: 'test-fork-exit', id: 1, code: null, signal: null, error: expect.stringMatching(/^refused/) }]);
      child.kill('SIGKILL');
      await child.exited;
    }
    expect(forks.filter((f) => !f.endsWith('.mjs'))).toEqual([]);
    expect(sent.join('\n')).not.toContain(SECRET);
  });

  it('answers malformed requests with a refusal, and leaves the runtime\'s other messages alone', () => {
    const events: TestForkEvent[] = [];
    const tests = new TestForkRelay({ fork: () => expect.fail('nothing may be forked'), allowedModule: '/app/node_modules/x.js', send: (e) => events.push(e) });
    expect(tests.handle({ type: 'runtime-fatal', message: 'm', hint: 'h' })).toBe(false);
    expect(tests.handle({ type: 'test-fork', id: 2, module: '/app/node_modules/x.js', env: { HF_TOKEN: SECRET, N: 1 } })).toBe(true);
    expect(tests.handle({ type: 'test-fork-send', id: 3 })).toBe(true);
    expect(events).toEqual([
      { type: 'test-fork-exit', id: 2, code: null, signal: null, error: 'refused: a malformed request' },
      { type: 'test-fork-exit', id: 3, code: null, signal: null, error: 'refused: a malformed request' },
    ]);
    // Once the runtime is gone nothing more is forked for it, and nothing more is sent to it.
    tests.childGone();
    expect(tests.handle({ type: 'test-fork', id: 4, module: '/app/node_modules/x.js', env: {} })).toBe(true);
    expect(events).toHaveLength(2);
  });
});

describe('asTestForkRequest', () => {
  const fork = { type: 'test-fork', id: 1, module: '/m.js', env: { A: 'b' } };
  it.each([
    ['a fork request', fork, fork],
    ['a message for the test process', { type: 'test-fork-send', id: 1, message: { type: 'start' } }, { type: 'test-fork-send', id: 1, message: { type: 'start' } }],
    ['a kill', { type: 'test-fork-kill', id: 1, signal: 'SIGTERM' }, { type: 'test-fork-kill', id: 1 }],
    ['args or options riding along', { ...fork, args: ['--x'], execArgv: ['--inspect'], cwd: '/' }, fork],
    ['a fractional id', { ...fork, id: 1.5 }, null],
    ['env values that are not strings', { ...fork, env: { A: 1 } }, null],
    ['env as an array', { ...fork, env: ['A=b'] }, null],
    ['no module', { ...fork, module: undefined }, null],
    ['null', null, null],
  ])('%s', (_what, message, expected) => {
    expect(asTestForkRequest(message)).toEqual(expected);
  });
});
