// What other processes and tools leave behind, seen by this one: unfinished
// pulls in the local list, another tool's repo folder appearing, an
// interrupted pull's partials removed by a cancel from here, old records pruned.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import type { PullInfo } from '../../shared/models.js';
import { lockBlob } from '../src/models/blob-lock.js';
import { KEEP_SETTLED_COUNT, prunable, PullRecords, pullsDir, type PullRecord } from '../src/models/pull-records.js';
import { waitFor } from './support/backend-process.js';
import { modelsRig, waitForPull, type ModelsRig } from './support/models.js';

const REPO = 'halo-test/follow';
const BIG = 'big.Q4_K_M.gguf';
let hub: FakeHub;
let rig: ModelsRig;

beforeAll(async () => {
  hub = await startFakeHub();
  hub.addRepo({ id: REPO, files: [{ path: 'config.json', content: '{}' }, { path: BIG, size: 4 * 1024 * 1024, seed: 21 }] });
});
afterAll(() => hub.close());
afterEach(async () => {
  hub.files.clearFaults();
  hub.files.resetCounters();
  hub.reset();
  await rig?.close();
});

/** The pid of a process that has exited: a record of it reads as interrupted. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** A pull paused with part of the big file on disk. */
async function pausedPartial(): Promise<PullInfo> {
  hub.files.fault(REPO, BIG, { kind: 'slow', bytesPerSecond: 1024 * 1024, times: 1 });
  const started = await rig.service.startPull({ repo: REPO, include: [BIG] });
  await waitFor(() => (rig.service.listPulls().find((p) => p.id === started.id)?.bytesDone ?? 0) > 256 * 1024, 10_000, 'some bytes on disk');
  return rig.service.pause(started.id);
}

function writeRecord(home: string, record: Partial<PullRecord> & Pick<PullRecord, 'id' | 'state'>): void {
  mkdirSync(pullsDir({ HALOFORGE_HOME: home }), { recursive: true });
  const full: PullRecord = {
    repo: REPO,
    revision: 'main',
    commit: null,
    include: [],
    exclude: [],
    owner: 'cli',
    bytesTotal: 0,
    bytesDone: 0,
    rate: 0,
    etaSeconds: null,
    files: [],
    startedAt: new Date().toISOString(),
    finishedAt: null,
    error: null,
    pid: process.pid,
    ...record,
  };
  writeFileSync(join(pullsDir({ HALOFORGE_HOME: home }), `${record.id}.json`), JSON.stringify(full));
}

describe('unfinished pulls in the local list', () => {
  it('a paused partial is listed as incomplete with its bytes so far, and the list is sent again when it pauses', async () => {
    rig = await modelsRig({}, hub);
    let changes = 0;
    rig.service.onLocalChange(() => changes++);
    const paused = await pausedPartial();
    expect(paused.state).toBe('paused');
    await waitFor(() => changes > 0, 5_000, 'a local change for the pause');
    const model = (await rig.service.listLocal()).models.find((m) => m.id === REPO);
    expect(model).toMatchObject({ id: REPO, incomplete: true, revisions: [] });
    expect(model!.size).toBeGreaterThan(256 * 1024);
  });

  it("another process's unfinished pull is listed before its folder exists, and a failed one stays incomplete", async () => {
    rig = await modelsRig({}, hub);
    writeRecord(rig.home, { id: 'a'.repeat(16), repo: 'halo-test/elsewhere', state: 'downloading', pid: deadPid() });
    writeRecord(rig.home, { id: 'b'.repeat(16), repo: 'halo-test/failed-one', state: 'failed' });
    writeRecord(rig.home, { id: 'c'.repeat(16), repo: 'halo-test/gone', state: 'cancelled', finishedAt: new Date().toISOString() });
    const models = (await rig.service.listLocal()).models;
    expect(models.map((m) => [m.id, m.incomplete, m.size, m.revisions.length])).toEqual([
      ['halo-test/elsewhere', true, 0, 0],
      ['halo-test/failed-one', true, 0, 0],
    ]);
  });
});

describe('the cache written by other tools', () => {
  it('a repo folder made the way huggingface_hub makes it shows up by itself, and its removal too', async () => {
    rig = await modelsRig({ watch: { debounceMs: 50, pollMs: 60_000 } }, hub);
    mkdirSync(rig.cacheDir, { recursive: true });
    let changes = 0;
    rig.service.onLocalChange(() => changes++);
    const dir = join(rig.cacheDir, 'models--py-tool--tiny');
    const commit = 'f'.repeat(40);
    mkdirSync(join(dir, 'blobs'), { recursive: true });
    mkdirSync(join(dir, 'snapshots', commit), { recursive: true });
    writeFileSync(join(dir, 'blobs', 'e'.repeat(40)), '{"a":1}');
    symlinkSync(`../../blobs/${'e'.repeat(40)}`, join(dir, 'snapshots', commit, 'config.json'));
    mkdirSync(join(dir, 'refs'));
    writeFileSync(join(dir, 'refs', 'main'), commit);
    // The poll is a minute away: only the watch can see this in time.
    await waitFor(() => changes > 0, 5_000, 'a local change for the new repo');
    expect((await rig.service.listLocal()).models.find((m) => m.id === 'py-tool/tiny')).toMatchObject({ incomplete: false, revisions: [{ commit, refs: ['main'] }] });

    const seen = changes;
    writeFileSync(join(dir, 'refs', 'v1'), commit);
    await waitFor(() => changes > seen, 5_000, 'a local change for a new ref');
    const again = changes;
    rmSync(dir, { recursive: true });
    await waitFor(() => changes > again, 5_000, 'a local change for the removal');
  });

  it('a cache folder that does not exist yet is found by the poll once another tool makes it', async () => {
    rig = await modelsRig({ watch: { debounceMs: 20, pollMs: 100 } }, hub);
    let changes = 0;
    rig.service.onLocalChange(() => changes++);
    mkdirSync(join(rig.cacheDir, 'models--py-tool--late', 'refs'), { recursive: true });
    await waitFor(() => changes > 0, 5_000, 'a local change for the late cache');
  });
});

describe('cancelling a pull another process left', () => {
  async function interruptedPartial(): Promise<{ id: string; partial: string; etag: string }> {
    const paused = await pausedPartial();
    const recordPath = join(pullsDir(rig.env), `${paused.id}.json`);
    const record = JSON.parse(readFileSync(recordPath, 'utf8')) as PullRecord;
    expect(record.blobs).toHaveLength(1);
    // As a killed CLI leaves it: still "downloading", by a process that is gone.
    writeFileSync(recordPath, JSON.stringify({ ...record, state: 'downloading', pid: deadPid() }));
    const etag = record.blobs![0]!;
    const partial = join(rig.cacheDir, 'models--halo-test--follow', 'blobs', `${etag}.incomplete`);
    expect(existsSync(partial)).toBe(true);
    return { id: paused.id, partial, etag };
  }

  it('removes its partial files', async () => {
    rig = await modelsRig({}, hub);
    const { id, partial } = await interruptedPartial();
    const other = rig.make();
    expect(other.listPulls().find((p) => p.id === id)?.state).toBe('interrupted');
    const cancelled = await other.cancel(id);
    expect(cancelled).toMatchObject({ state: 'cancelled', error: null });
    expect(existsSync(partial)).toBe(false);
    expect((await other.listLocal()).models.find((m) => m.id === REPO)?.incomplete ?? false).toBe(false);
  });

  it('a failed pull is cancelled too, its partial removed and the model no longer unfinished', async () => {
    rig = await modelsRig({ transfer: { backoffMs: 5, retries: 1, stallMs: 2_000 } }, hub);
    hub.files.fault(REPO, BIG, { kind: 'cut', afterBytes: 512 * 1024 });
    hub.files.fault(REPO, BIG, { kind: 'cut', afterBytes: 0, times: 3 });
    const failed = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: [BIG] })).id);
    expect(failed.state).toBe('failed');
    expect((await rig.service.listLocal()).models.find((m) => m.id === REPO)?.incomplete).toBe(true);
    expect((await rig.service.cancel(failed.id)).state).toBe('cancelled');
    expect(readdirSync(join(rig.cacheDir, 'models--halo-test--follow', 'blobs')).filter((n) => n.endsWith('.incomplete'))).toEqual([]);
    expect((await rig.service.listLocal()).models.find((m) => m.id === REPO)?.incomplete ?? false).toBe(false);
  });

  it('keeps a partial that another live process is writing, and says so', async () => {
    rig = await modelsRig({}, hub);
    const { id, partial, etag } = await interruptedPartial();
    const lock = await lockBlob(join(rig.cacheDir, '.locks', 'models--halo-test--follow', `${etag}.lock`), AbortSignal.timeout(2_000));
    try {
      const cancelled = await rig.make().cancel(id);
      expect(cancelled.state).toBe('cancelled');
      expect(cancelled.error).toMatchObject({ code: 'pull.busy', message: expect.stringContaining('another process is writing it now') });
      expect(existsSync(partial)).toBe(true);
    } finally {
      lock.release();
    }
  });
});

describe('pruning pull records', () => {
  const day = 24 * 3600 * 1000;
  const now = Date.parse('2026-12-01T12:00:00Z');
  const at = (msAgo: number) => new Date(now - msAgo).toISOString();

  it.each([
    ['a ready pull of yesterday stays', { state: 'ready', finishedAt: at(day) }, false],
    ['a ready pull of 31 days ago goes', { state: 'ready', finishedAt: at(31 * day) }, true],
    ['a cancelled pull of 31 days ago goes', { state: 'cancelled', finishedAt: at(31 * day) }, true],
    ['a failed pull of 90 days ago stays until resumed or cancelled', { state: 'failed', finishedAt: at(90 * day) }, false],
    ['an interrupted pull of 90 days ago stays', { state: 'interrupted', finishedAt: null, startedAt: at(90 * day) }, false],
  ] as const)('%s', (_case, record, gone) => {
    expect(prunable([{ id: 'x', startedAt: at(100 * day), ...record }], now)).toEqual(gone ? ['x'] : []);
  });

  it('keeps the newest 200 settled records, and every failed one', () => {
    const records = Array.from({ length: KEEP_SETTLED_COUNT + 5 }, (_, i) => ({ id: `r${i}`, state: 'ready' as const, startedAt: at(day), finishedAt: at(i * 1000) }));
    const failed = { id: 'f', state: 'failed' as const, startedAt: at(day), finishedAt: at(day) };
    expect(prunable([failed, ...records], now).sort()).toEqual(['r200', 'r201', 'r202', 'r203', 'r204']);
  });

  it('a starting service removes the records past keeping', async () => {
    rig = await modelsRig({}, hub);
    writeRecord(rig.home, { id: '1'.repeat(16), state: 'ready', finishedAt: new Date(Date.now() - 40 * day).toISOString() });
    writeRecord(rig.home, { id: '2'.repeat(16), state: 'ready', finishedAt: new Date().toISOString() });
    writeRecord(rig.home, { id: '3'.repeat(16), state: 'failed', finishedAt: new Date(Date.now() - 40 * day).toISOString() });
    rig.make();
    expect(readdirSync(pullsDir(rig.env)).sort()).toEqual([`${'2'.repeat(16)}.json`, `${'3'.repeat(16)}.json`]);
    expect(new PullRecords(pullsDir(rig.env)).all().map((r) => r.id).sort()).toEqual(['2'.repeat(16), '3'.repeat(16)]);
  });
});
