import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// The two halves of the bridge meet here, as they do over the backend's parentPort in the app: this test is
// the one place that holds both rooms' code, so that neither room imports the other.
import { MainProcessBridge, type BridgedChild } from '../../server/src/children/main-bridge.js';
import type { ChildEvent } from '../../shared/ipc.js';
import { asChildRequest, ChildRelay, type ForkEntry } from '../child-relay.js';
import { nodeFork } from '../node-backend.js';
import { wireRelay } from './relay-wire.js';
import { isAlive, waitFor } from './support.js';

// The main process's relay and the backend's bridge, connected in memory with the same copying a real
// channel does, and child_process.fork standing in for utilityProcess.fork.

const SECRET = 'hf_CanaryRelayEnvSecret0123456789abcdef';

/** A stand-in for a bundled entry: reports its argv, whether the secret reached it, and behaves as told. */
const FAKE_ENTRY = `
const [mode, code] = process.argv.slice(2);
process.stdout.write('out:' + process.argv.slice(2).join(',') + '\\n');
process.stderr.write('err:line\\n');
const report = { type: 'hello', secretArrived: process.env.HALO_TEST_SECRET === ${JSON.stringify(SECRET)} };
process.send(report, () => {
  if (mode === 'exit') process.exit(Number(code));
  if (mode === 'stubborn') process.on('SIGTERM', () => process.stdout.write('ignoring SIGTERM\\n'));
  setInterval(() => {}, 1000);
});
`;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A folder shaped like dist/backend, with the fake entry under the guard's name and one file that may not run. */
function fakeBackendDir(): string {
  const dir = tempDir('halo-relay-backend-');
  writeFileSync(join(dir, 'runtime-guard.mjs'), FAKE_ENTRY);
  writeFileSync(join(dir, 'halo-forge.mjs'), FAKE_ENTRY);
  return dir;
}

interface Wired {
  relay: ChildRelay;
  bridge: MainProcessBridge;
  /** Everything the relay sent the backend, as text. */
  sent: string[];
  forks: string[];
}

/** A relay and a bridge joined in memory; every message is copied, as postMessage would. */
function wire(backendDir: string, opts: { killAfterMs?: number } = {}): Wired {
  const forks: string[] = [];
  const fork: ForkEntry = (entry, args, forkOpts) => {
    forks.push(entry);
    return nodeFork(entry, args, forkOpts);
  };
  const { relay, bridge, sent } = wireRelay({ fork, backendDir, killAfterMs: opts.killAfterMs });
  cleanups.push(() => relay.backendGone());
  return { relay, bridge, sent, forks };
}

function collect(child: BridgedChild): { stdout: () => string; stderr: () => string; messages: unknown[] } {
  let stdout = '';
  let stderr = '';
  const messages: unknown[] = [];
  child.stdout.on('data', (t: string) => (stdout += t));
  child.stderr.on('data', (t: string) => (stderr += t));
  child.onMessage((m) => messages.push(m));
  return { stdout: () => stdout, stderr: () => stderr, messages };
}

const env = () => ({ PATH: process.env.PATH ?? '', HALO_TEST_SECRET: SECRET });

describe('the child bridge between the backend and the main process', () => {
  it('starts an allowed entry and relays its pid, output, messages and exit code, with the secret only in its environment', async () => {
    const dir = fakeBackendDir();
    const { bridge, sent } = wire(dir);
    const child = bridge.spawn(join(dir, 'runtime-guard.mjs'), ['exit', '7'], env(), 'test child');
    const out = collect(child);
    const pid = await child.spawned;
    expect(pid).toBeGreaterThan(0);
    expect(child.pid).toBe(pid);
    const exit = await child.exited;
    expect(exit).toEqual({ code: 7, signal: null });
    expect(out.stdout()).toBe('out:exit,7\n');
    expect(out.stderr()).toBe('err:line\n');
    expect(out.messages).toEqual([{ type: 'hello', secretArrived: true }]);
    // The streams end with the exit, as a child process's do.
    expect(child.stdout.readableEnded || child.stdout.writableEnded).toBe(true);
    expect(sent.join('\n')).not.toContain(SECRET);
  });

  it('keeps the environment out of argv: ps shows the entry and its arguments, never the secret', async () => {
    const dir = fakeBackendDir();
    const { bridge } = wire(dir);
    const child = bridge.spawn(join(dir, 'runtime-guard.mjs'), ['wait'], env(), 'test child');
    const pid = (await child.spawned)!;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    expect(argv).toContain('runtime-guard.mjs');
    expect(argv).not.toContain(SECRET);
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).toContain(`HALO_TEST_SECRET=${SECRET}`);
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('passes kill requests on: SIGINT, and SIGKILL for a child that ignores SIGTERM', async () => {
    const dir = fakeBackendDir();
    const { bridge } = wire(dir);
    const polite = bridge.spawn(join(dir, 'runtime-guard.mjs'), ['wait'], env(), 'test child');
    await polite.spawned;
    polite.kill('SIGINT');
    expect((await polite.exited).signal).toBe('SIGINT');

    const stubborn = bridge.spawn(join(dir, 'runtime-guard.mjs'), ['stubborn'], env(), 'test child');
    const out = collect(stubborn);
    await new Promise<void>((r) => stubborn.onMessage(() => r()));
    stubborn.kill('SIGTERM');
    await waitFor(() => out.stdout().includes('ignoring SIGTERM'), 'the child to ignore SIGTERM');
    stubborn.kill('SIGKILL');
    expect((await stubborn.exited).signal).toBe('SIGKILL');
  });

  it('stops every child of a backend once that backend is gone, a stubborn one with SIGKILL', async () => {
    const dir = fakeBackendDir();
    const { bridge, relay, forks } = wire(dir, { killAfterMs: 500 });
    const children = [bridge.spawn(join(dir, 'runtime-guard.mjs'), ['wait'], env(), 'a'), bridge.spawn(join(dir, 'runtime-guard.mjs'), ['stubborn'], env(), 'b')];
    const pids = (await Promise.all(children.map((c) => c.spawned))) as number[];
    await Promise.all(children.map((c) => new Promise<void>((r) => c.onMessage(() => r()))));
    expect(pids.every(isAlive)).toBe(true);
    expect(relay.size).toBe(2);

    await relay.backendGone();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(relay.size).toBe(0);
    // And a backend that is gone starts nothing more (a request still in flight when it died).
    expect(relay.handle({ type: 'child-spawn', id: 99, entry: join(dir, 'runtime-guard.mjs'), args: ['wait'], env: env(), serviceName: 'late' })).toBe(true);
    expect(relay.size).toBe(0);
    expect(forks).toHaveLength(2);
  });

  it('refuses entries outside the bundle\'s child entries, whatever the path says, and never forks them', async () => {
    const dir = fakeBackendDir();
    const elsewhere = tempDir('halo-relay-elsewhere-');
    writeFileSync(join(elsewhere, 'serving-runtime.mjs'), FAKE_ENTRY);
    symlinkSync(join(elsewhere, 'serving-runtime.mjs'), join(dir, 'serving-runtime.mjs'));
    mkdirSync(join(dir, 'chunks'));
    const { bridge, sent, forks } = wire(dir);
    const refused = [
      join(elsewhere, 'serving-runtime.mjs'), // the right name in the wrong place
      join(dir, 'serving-runtime.mjs'), // a symlink out of the bundle
      join(dir, 'chunks', '..', '..', elsewhere.split('/').pop()!, 'serving-runtime.mjs'), // .. out of it
      join(dir, 'halo-forge.mjs'), // in the bundle, but not a child entry
      join(dir, 'run-keeper.mjs'), // a child entry that is not there
      '/bin/sh',
      'runtime-guard.mjs', // relative: resolved against the main process's folder, not the bundle
    ];
    for (const entry of refused) {
      const child = bridge.spawn(entry, [], env(), 'refused');
      const exit = await child.exited;
      expect(exit.code).toBeNull();
      expect(exit.error?.message, entry).toMatch(/^refused to start|could not start/);
      expect(await child.spawned).toBeUndefined();
    }
    expect(forks).toEqual([]);
    expect(sent.join('\n')).not.toContain(SECRET);
  });

  it('answers a malformed request with a refusal, and ignores what is not a child request', () => {
    const sent: ChildEvent[] = [];
    const relay = new ChildRelay({ fork: () => expect.fail('nothing may be forked'), backendDir: tmpdir(), send: (e) => sent.push(e) });
    expect(relay.handle({ type: 'ready', port: 1, url: 'http://127.0.0.1:1/', pid: 1 })).toBe(false);
    expect(relay.handle({ type: 'child-spawn', id: 4, entry: '/x', args: [1], env: {}, serviceName: 's' })).toBe(true);
    expect(relay.handle({ type: 'child-spawn', id: 5, entry: '/x', args: [], env: { HF_TOKEN: SECRET, N: 1 }, serviceName: 's' })).toBe(true);
    expect(sent).toEqual([
      { type: 'child-exit', id: 4, code: null, signal: null, error: 'refused: a malformed request' },
      { type: 'child-exit', id: 5, code: null, signal: null, error: 'refused: a malformed request' },
    ]);
  });
});

describe('asChildRequest', () => {
  const spawn = { type: 'child-spawn', id: 1, entry: '/e.mjs', args: ['a'], env: { A: 'b' }, serviceName: 's' };
  it.each([
    ['a spawn request', spawn, spawn],
    ['a kill request', { type: 'child-kill', id: 1, signal: 'SIGTERM' }, { type: 'child-kill', id: 1, signal: 'SIGTERM' }],
    ['a kill with a signal a utility process cannot take', { type: 'child-kill', id: 1, signal: 'SIGSTOP' }, null],
    ['a fractional id', { ...spawn, id: 1.5 }, null],
    ['args that are not strings', { ...spawn, args: [{}] }, null],
    ['env values that are not strings', { ...spawn, env: { A: 1 } }, null],
    ['env as an array', { ...spawn, env: ['A=b'] }, null],
    ['a long service name', { ...spawn, serviceName: 'x'.repeat(101) }, null],
    ['a backend message', { type: 'ready', port: 1 }, null],
    ['null', null, null],
  ])('%s', (_what, message, expected) => {
    expect(asChildRequest(message)).toEqual(expected);
  });

  it('keeps only what it checked (no extra fields ride along)', () => {
    expect(asChildRequest({ ...spawn, cwd: '/', execArgv: ['--inspect'] })).toEqual(spawn);
  });
});
