// A pull survives its process: kill -9 mid-file, then the same pull resumes
// from the partial on disk. Two pulls of one blob (two processes, or Halo
// Forge and a Python process holding huggingface_hub's flock) never write it
// at once. The test Hub counts every byte it served.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { RepoCache } from '../src/models/cache-layout.js';
import { blobCheck, modelsRig, waitForPull, type ModelsRig } from './support/models.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/models-pull.ts', import.meta.url));
const REPO = 'halo-test/kill-me';
const BIG = 'big.Q4_K_M.gguf';
const BIG_SIZE = 12 * 1024 * 1024 + 5;

let hub: FakeHub;
let rig: ModelsRig;
const children: ChildProcess[] = [];

beforeAll(async () => {
  hub = await startFakeHub();
  hub.addRepo({ id: REPO, files: [{ path: 'config.json', content: '{"k":1}' }, { path: BIG, size: BIG_SIZE, seed: 9 }] });
});
afterAll(() => hub.close());
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  hub.files.clearFaults();
  hub.files.resetCounters();
  await rig?.close();
});

interface Line {
  state?: string;
  bytesDone?: number;
  files?: [string, number, string][];
  log?: string;
  error?: string;
}

function startPuller(args: string[]): { child: ChildProcess; lines: Line[]; until: (pred: (l: Line) => boolean, ms?: number) => Promise<Line>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'jiti/register', FIXTURE, REPO, ...args], {
    env: { ...process.env, ...rig.env, PULL_TOKEN: FAKE_HUB_TOKENS.read },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: Line[] = [];
  const waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of [...waiters]) if (w.pred(line)) waiters.splice(waiters.indexOf(w), 1), w.resolve(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = (pred: (l: Line) => boolean, ms = 30_000) =>
    new Promise<Line>((resolve, reject) => {
      const hit = lines.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error(`no such line within ${ms} ms; saw ${JSON.stringify(lines.slice(-5))}`)), ms);
      waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((code) => reject(new Error(`puller exited (${code}) first; saw ${JSON.stringify(lines.slice(-5))}`)));
    });
  return { child, lines, until, exited };
}

const bigReceived = (l: Line) => l.files?.find((f) => f[0] === BIG)?.[1] ?? 0;

describe('kill -9 mid-file, then resume', () => {
  it('resumes from the partial on disk: the finished file is not fetched again, the big one only from where it stopped', async () => {
    rig = await modelsRig({}, hub);
    hub.files.fault(REPO, BIG, { kind: 'slow', bytesPerSecond: 4 * 1024 * 1024 });
    const puller = startPuller([]);
    await puller.until((l) => l.files?.find((f) => f[0] === 'config.json')?.[2] === 'done' && bigReceived(l) > 4 * 1024 * 1024);
    puller.child.kill('SIGKILL');
    await puller.exited;

    const cache = new RepoCache(rig.cacheDir, REPO);
    const big = hub.files.file(REPO, BIG);
    const partial = statSync(cache.incompletePath(big.sha256)).size;
    expect(partial).toBeGreaterThan(2 * 1024 * 1024);
    expect(partial).toBeLessThan(BIG_SIZE);
    const servedBefore = hub.files.bytesServed(REPO, BIG);
    const configServed = hub.files.bytesServed(REPO, 'config.json');
    expect(configServed).toBe(7);

    // Whoever looks next sees the pull as interrupted, not as running.
    const interrupted = rig.service.listPulls();
    expect(interrupted.map((p) => [p.repo, p.state, p.owner])).toEqual([[REPO, 'interrupted', 'cli']]);
    expect((await rig.service.listLocal()).models[0]!.incomplete).toBe(true);

    const resumed = await rig.service.startPull({ repo: REPO });
    expect(resumed.id).toBe(interrupted[0]!.id);
    const done = await waitForPull(rig.service, resumed.id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');

    expect(hub.files.bytesServed(REPO, 'config.json')).toBe(7);
    expect(hub.files.bytesServed(REPO, BIG) - servedBefore).toBe(BIG_SIZE - partial);
    expect(hub.files.cdnRequests.at(-1)!.range).toBe(`bytes=${partial}-`);
    expect(blobCheck(rig.cacheDir).every((b) => b.ok)).toBe(true);
    expect((await rig.service.listLocal()).models[0]!.incomplete).toBe(false);
  });
});

describe('one blob, two writers', () => {
  it('two processes pulling the same blob at once: one writes, the other waits and fetches nothing', async () => {
    rig = await modelsRig({}, hub);
    hub.files.fault(REPO, BIG, { kind: 'slow', bytesPerSecond: 4 * 1024 * 1024, times: 2 });
    // One writer is a child process, the other this test's own process.
    const a = startPuller([BIG]);
    await a.until((l) => bigReceived(l) > 0);
    const b = await rig.service.startPull({ repo: REPO });
    await expect.poll(() => rig.logs.some((l) => l.includes(`${BIG}: waiting for another process`)), { timeout: 10_000 }).toBe(true);
    expect(await a.exited).toBe(0);
    const done = await waitForPull(rig.service, b.id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
    expect(hub.files.bytesServed(REPO, BIG)).toBe(BIG_SIZE);
    expect(blobCheck(rig.cacheDir).every((x) => x.ok)).toBe(true);
  });

  it('a Python process holding flock on the blob lock (as huggingface_hub does) makes the pull wait', async () => {
    rig = await modelsRig({}, hub);
    const cache = new RepoCache(rig.cacheDir, REPO);
    const big = hub.files.file(REPO, BIG);
    const lockPath = cache.lockPath(big.sha256);
    mkdirSync(join(lockPath, '..'), { recursive: true });
    const python = spawn('python3', ['-c', 'import fcntl,sys; f=open(sys.argv[1],"a"); fcntl.flock(f, fcntl.LOCK_EX); print("locked", flush=True); sys.stdin.read()', lockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(python);
    await new Promise<void>((resolve) => python.stdout!.once('data', () => resolve()));

    const started = await rig.service.startPull({ repo: REPO });
    await expect.poll(() => rig.logs.some((l) => l.includes(`${BIG}: waiting for another process`)), { timeout: 10_000 }).toBe(true);
    await waitForPull(rig.service, started.id, ['downloading']);
    expect(existsSync(cache.incompletePath(big.sha256))).toBe(false);
    expect(hub.files.bytesServed(REPO, BIG)).toBe(0);

    python.stdin!.end();
    const done = await waitForPull(rig.service, started.id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
    expect(hub.files.bytesServed(REPO, BIG)).toBe(BIG_SIZE);
  });
});

describe('pause, resume and cancel', () => {
  it('pause keeps the partial; resume continues it; cancel removes it', async () => {
    rig = await modelsRig({ progressIntervalMs: 20 }, hub);
    hub.files.fault(REPO, BIG, { kind: 'slow', bytesPerSecond: 4 * 1024 * 1024, times: 3 });
    const cache = new RepoCache(rig.cacheDir, REPO);
    const big = hub.files.file(REPO, BIG);
    const started = await rig.service.startPull({ repo: REPO, include: [BIG] });
    await expect.poll(() => rig.service.listPulls()[0]!.bytesDone, { timeout: 10_000 }).toBeGreaterThan(1024 * 1024);
    const paused = await rig.service.pause(started.id);
    expect(paused.state).toBe('paused');
    const kept = statSync(cache.incompletePath(big.sha256)).size;
    expect(kept).toBeGreaterThan(1024 * 1024);

    await rig.service.resume(started.id);
    await expect.poll(() => rig.service.listPulls()[0]!.bytesDone, { timeout: 10_000 }).toBeGreaterThan(kept + 1024);
    expect(hub.files.cdnRequests.at(-1)!.range).toBe(`bytes=${kept}-`);
    const cancelled = await rig.service.cancel(started.id);
    expect(cancelled.state).toBe('cancelled');
    expect(existsSync(cache.incompletePath(big.sha256))).toBe(false);
    expect(existsSync(cache.blobPath(big.sha256))).toBe(false);
  });
});
