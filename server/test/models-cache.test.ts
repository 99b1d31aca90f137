// The cache we write is the cache every Hugging Face tool reads: checked with
// @huggingface/hub's own scanCacheDir and a golden listing of the tree; and
// what other tools wrote shows up in our listing. Delete keeps shared blobs.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { blobCheck, cacheListing, modelsRig, waitForPull, type ModelsRig } from './support/models.js';

const REPO = 'halo-test/two-revs';
let hub: FakeHub;
let rig: ModelsRig;
let first: string;
let second: string;

beforeAll(async () => {
  hub = await startFakeHub();
  hub.addRepo({ id: REPO, files: [{ path: 'config.json', content: '{"a":1}' }, { path: 'model.Q4_0.gguf', size: 200_000, seed: 7 }] });
  first = hub.files.repos.get(REPO)!.refs.get('main')!;
  rig = await modelsRig({}, hub);
  const pull = async (revision?: string) => {
    const done = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, revision })).id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
  };
  await pull();
  // A new commit on main shares config.json with the first; a tag keeps the first.
  second = hub.files.addRevision(REPO, [{ path: 'config.json', content: '{"a":1}' }, { path: 'model.Q4_0.gguf', size: 210_000, seed: 8 }, { path: 'nested/tokenizer.json', content: '{}' }]);
  hub.files.repos.get(REPO)!.refs.set('v1', first);
  await pull();
  await pull('v1');
});
afterAll(async () => {
  await rig.close();
  await hub.close();
});

describe('the cache as other tools read it', () => {
  it('scanCacheDir from @huggingface/hub reports the same repos, revisions, refs and sizes', async () => {
    const theirs = await scanCacheDir(rig.cacheDir);
    expect(theirs.warnings).toEqual([]);
    const ours = await rig.service.listLocal();
    expect(theirs.repos.map((r) => `${r.id.type}:${r.id.name}`)).toEqual(ours.models.map((m) => `${m.kind}:${m.id}`));
    const repo = theirs.repos[0]!;
    const model = ours.models[0]!;
    expect(repo.revisions.map((r) => [r.commitOid, [...r.refs].sort()]).sort()).toEqual(model.revisions.map((r) => [r.commit, r.refs]).sort());
    // scanCacheDir does not descend into folders of a snapshot: compare the top-level files' blobs.
    const topLevel = (files: { path: string; size: number }[]) => files.filter((f) => !f.path.includes('/')).reduce((n, f) => n + f.size, 0);
    for (const rev of model.revisions) {
      expect(repo.revisions.find((r) => r.commitOid === rev.commit)!.size).toBe(topLevel(rev.files));
    }
    // Each blob once: the shared config.json is not counted twice, by them or by us.
    const blobs = blobCheck(rig.cacheDir);
    expect(blobs.every((b) => b.ok)).toBe(true);
    expect(blobs).toHaveLength(4);
    expect(model.size).toBe(7 + 200_000 + 210_000 + 2);
    expect(repo.size).toBe(7 + 200_000 + 210_000);
  });

  it('matches the golden listing of the tree', () => {
    const sha = (path: string, rev: string) => {
      const f = hub.files.file(REPO, path, rev);
      return f.lfs ? f.sha256 : f.gitOid;
    };
    const c1 = sha('config.json', first);
    const g1 = sha('model.Q4_0.gguf', first);
    const g2 = sha('model.Q4_0.gguf', second);
    const t2 = sha('nested/tokenizer.json', second);
    const d = 'models--halo-test--two-revs';
    const expected = [
      '.locks/',
      `.locks/${d}/`,
      ...[c1, g1, g2, t2].sort().map((e) => `.locks/${d}/${e}.lock (0 bytes)`),
      `${d}/`,
      `${d}/blobs/`,
      ...[
        [c1, 7],
        [g1, 200_000],
        [g2, 210_000],
        [t2, 2],
      ]
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])))
        .map(([e, n]) => `${d}/blobs/${e} (${n} bytes)`),
      `${d}/refs/`,
      `${d}/refs/main (40 bytes)`,
      `${d}/refs/v1 (40 bytes)`,
      `${d}/snapshots/`,
      ...[
        [
          `${d}/snapshots/${first}/`,
          `${d}/snapshots/${first}/config.json -> ../../blobs/${c1}`,
          `${d}/snapshots/${first}/model.Q4_0.gguf -> ../../blobs/${g1}`,
        ],
        [
          `${d}/snapshots/${second}/`,
          `${d}/snapshots/${second}/config.json -> ../../blobs/${c1}`,
          `${d}/snapshots/${second}/model.Q4_0.gguf -> ../../blobs/${g2}`,
          `${d}/snapshots/${second}/nested/`,
          `${d}/snapshots/${second}/nested/tokenizer.json -> ../../../blobs/${t2}`,
        ],
      ]
        .sort((a, b) => a[0]!.localeCompare(b[0]!))
        .flat(),
    ];
    expect(cacheListing(rig.cacheDir)).toEqual(expected);
    expect(readFileSync(join(rig.cacheDir, d, 'refs', 'main'), 'utf8')).toBe(second);
    expect(readFileSync(join(rig.cacheDir, d, 'refs', 'v1'), 'utf8')).toBe(first);
  });

  it('lists what other tools put in the cache: datasets, copies instead of symlinks, partials', async () => {
    const commit = 'c'.repeat(40);
    const data = join(rig.cacheDir, 'datasets--org--data');
    mkdirSync(join(data, 'blobs'), { recursive: true });
    mkdirSync(join(data, 'snapshots', commit), { recursive: true });
    mkdirSync(join(data, 'refs'), { recursive: true });
    writeFileSync(join(data, 'blobs', 'b'.repeat(40)), 'rows');
    symlinkSync(`../../blobs/${'b'.repeat(40)}`, join(data, 'snapshots', commit, 'train.csv'));
    writeFileSync(join(data, 'refs', 'main'), commit);
    const copy = join(rig.cacheDir, 'models--org--copied');
    mkdirSync(join(copy, 'snapshots', commit), { recursive: true });
    mkdirSync(join(copy, 'blobs'), { recursive: true });
    // Python writes no refs/ when a commit is pulled by hash; @huggingface/hub's scanCacheDir then warns (it stats refs/), ours does not.
    mkdirSync(join(copy, 'refs'), { recursive: true });
    writeFileSync(join(copy, 'snapshots', commit, 'weights.bin'), Buffer.alloc(1000));
    writeFileSync(join(copy, 'blobs', `${'e'.repeat(64)}.incomplete`), Buffer.alloc(10));

    const list = await rig.service.listLocal();
    expect(list.cacheDir).toBe(rig.cacheDir);
    expect(list.freeBytes).toBeGreaterThan(0);
    const dataset = list.models.find((m) => m.id === 'org/data')!;
    expect(dataset).toMatchObject({ kind: 'dataset', size: 4, lastPulled: null, incomplete: false, revisions: [{ commit, refs: ['main'], files: [{ path: 'train.csv', size: 4 }] }] });
    const copied = list.models.find((m) => m.id === 'org/copied')!;
    expect(copied).toMatchObject({ kind: 'model', size: 1000, lastPulled: null, incomplete: true, revisions: [{ commit, refs: [], files: [{ path: 'weights.bin', size: 1000 }] }] });
    const ours = list.models.find((m) => m.id === REPO)!;
    expect(ours.lastPulled).not.toBeNull();
    expect(ours.revisions.find((r) => r.commit === second)!.files.map((f) => f.path)).toEqual(['config.json', 'model.Q4_0.gguf', 'nested/tokenizer.json']);
  });
});

describe('delete', () => {
  it('one revision: its own blobs go, a blob another revision uses stays, refs to it go', async () => {
    const d = join(rig.cacheDir, 'models--halo-test--two-revs');
    const c1 = hub.files.file(REPO, 'config.json', first).gitOid;
    const g1 = hub.files.file(REPO, 'model.Q4_0.gguf', first).sha256;
    const result = await rig.service.remove({ repo: REPO, revision: 'v1' });
    expect(result).toEqual({ repo: REPO, removedRevisions: [first], freedBytes: 200_000 });
    expect(existsSync(join(d, 'blobs', c1))).toBe(true);
    expect(existsSync(join(d, 'blobs', g1))).toBe(false);
    expect(existsSync(join(d, 'refs', 'v1'))).toBe(false);
    expect(readFileSync(join(d, 'snapshots', second, 'config.json'), 'utf8')).toBe('{"a":1}');
    expect((await scanCacheDir(rig.cacheDir)).warnings).toEqual([]);
  });

  it('an unknown revision or model is named, and nothing is removed', async () => {
    await expect(rig.service.remove({ repo: REPO, revision: 'nope' })).rejects.toMatchObject({ code: 'model.not_local', message: expect.stringContaining('has no revision "nope"') });
    await expect(rig.service.remove({ repo: 'org/never-pulled' })).rejects.toMatchObject({ code: 'model.not_local' });
    expect((await rig.service.listLocal()).models.find((m) => m.id === REPO)!.revisions).toHaveLength(1);
  });

  it('the whole model: its folder goes', async () => {
    const result = await rig.service.remove({ repo: REPO });
    expect(result.removedRevisions).toEqual([second]);
    expect(result.freedBytes).toBe(7 + 210_000 + 2);
    expect(existsSync(join(rig.cacheDir, 'models--halo-test--two-revs'))).toBe(false);
    expect((await rig.service.listLocal()).models.map((m) => m.id)).toEqual(['org/data', 'org/copied']);
  });
});
