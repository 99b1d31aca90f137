// Pulls against the fake Hub over real HTTP, into a temp cache: the layout
// every Hugging Face tool reads, every blob verified, the token only where
// it belongs, and each network fault survived or named.
import { readFileSync, readlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { blobCheck, cacheListing, filesContaining, modelsRig, waitForPull, type ModelsRig } from './support/models.js';

const REPO = 'halo-test/tiny-gguf';
const CONFIG = JSON.stringify({ model_type: 'llama', hidden_size: 64 });

let hub: FakeHub;
let rig: ModelsRig;

beforeAll(async () => {
  hub = await startFakeHub();
  hub.addRepo({
    id: REPO,
    files: [
      { path: 'config.json', content: CONFIG },
      { path: 'README.md', content: '# tiny\n' },
      { path: 'tiny.Q4_K_M.gguf', size: 3 * 1024 * 1024 + 123, seed: 1 },
      { path: 'tiny.Q8_0.gguf', size: 5 * 1024 * 1024 + 7, seed: 2 },
      { path: 'sub/dir/tokenizer.json', content: '{"version":"1.0"}' },
    ],
  });
});
afterAll(() => hub.close());
afterEach(async () => {
  hub.files.clearFaults();
  hub.files.resetCounters();
  hub.reset();
  await rig?.close();
});

describe('a pull into the shared cache', () => {
  it('lays out blobs, relative snapshot symlinks and refs/main, and every blob verifies', async () => {
    rig = await modelsRig({}, hub);
    const started = await rig.service.startPull({ repo: REPO });
    const done = await waitForPull(rig.service, started.id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
    expect(done.bytesDone).toBe(done.bytesTotal);
    const commit = hub.files.repos.get(REPO)!.refs.get('main')!;
    expect(done.commit).toBe(commit);

    const repoDir = join(rig.cacheDir, 'models--halo-test--tiny-gguf');
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit);
    const gguf = hub.files.file(REPO, 'tiny.Q4_K_M.gguf');
    const config = hub.files.file(REPO, 'config.json');
    expect(readlinkSync(join(repoDir, 'snapshots', commit, 'tiny.Q4_K_M.gguf'))).toBe(`../../blobs/${gguf.sha256}`);
    expect(readlinkSync(join(repoDir, 'snapshots', commit, 'config.json'))).toBe(`../../blobs/${config.gitOid}`);
    expect(readlinkSync(join(repoDir, 'snapshots', commit, 'sub', 'dir', 'tokenizer.json'))).toMatch(/^\.\.\/\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);
    expect(readFileSync(join(repoDir, 'snapshots', commit, 'config.json'), 'utf8')).toBe(CONFIG);

    const blobs = blobCheck(rig.cacheDir);
    expect(blobs).toHaveLength(5);
    expect(blobs.filter((b) => !b.ok)).toEqual([]);
    expect(cacheListing(rig.cacheDir).filter((l) => l.includes('.incomplete'))).toEqual([]);
    expect(existsSync(join(rig.cacheDir, '.locks', 'models--halo-test--tiny-gguf', `${gguf.sha256}.lock`))).toBe(true);

    const local = await rig.service.listLocal();
    const model = local.models.find((m) => m.id === REPO)!;
    expect(model).toMatchObject({ kind: 'model', incomplete: false, revisions: [{ commit, refs: ['main'] }] });
    expect(model.lastPulled).not.toBeNull();
    expect(model.size).toBe(done.bytesTotal);
  });

  it('sends the token to the Hub on every request and never to the CDN, and writes it nowhere', async () => {
    const canary = 'hf_CanaryTokenModelsEngine0000000000001';
    hub.addToken(canary);
    rig = await modelsRig({}, hub);
    rig.token.value = canary;
    const mark = hub.requests.length;
    // A cut mid-file forces a resumed request: it must carry the token again.
    hub.files.fault(REPO, 'README.md', { kind: 'cut', afterBytes: 3 });
    hub.files.fault(REPO, 'tiny.Q8_0.gguf', { kind: 'cut', afterBytes: 1024 * 1024 });
    const started = await rig.service.startPull({ repo: REPO });
    const done = await waitForPull(rig.service, started.id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');

    expect(hub.files.cdnRequests.length).toBeGreaterThanOrEqual(3);
    expect(hub.files.cdnRequests.filter((r) => r.authorization !== null)).toEqual([]);
    expect(hub.files.cdnRequests.filter((r) => r.range !== null).length).toBeGreaterThanOrEqual(1);
    const resolves = hub.requests.slice(mark).filter((r) => r.path.includes('/resolve/'));
    expect(resolves.length).toBeGreaterThanOrEqual(6);
    expect(resolves.filter((r) => r.token !== canary)).toEqual([]);

    expect(filesContaining(rig.root, canary)).toEqual([]);
    expect(rig.logs.join('\n')).not.toContain(canary);
    expect(rig.logs.join('\n')).not.toContain('X-Amz-Signature');
    expect(JSON.stringify(rig.service.listPulls())).not.toContain(canary);
  });
});

describe('faults on the wire', () => {
  it('a connection cut mid-body resumes with Range and fetches only what is missing', async () => {
    rig = await modelsRig({}, hub);
    hub.files.fault(REPO, 'tiny.Q8_0.gguf', { kind: 'cut', afterBytes: 2 * 1024 * 1024, times: 2 });
    const size = hub.files.file(REPO, 'tiny.Q8_0.gguf').size;
    const done = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['*Q8_0*'] })).id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
    expect(hub.files.bytesServed(REPO, 'tiny.Q8_0.gguf')).toBe(size);
    expect(hub.files.cdnRequests.map((r) => r.range)).toEqual([null, 'bytes=2097152-', 'bytes=4194304-']);
    expect(blobCheck(rig.cacheDir).every((b) => b.ok)).toBe(true);
  });

  it('a server that ignores Range (200) makes the file start over, and it still verifies', async () => {
    rig = await modelsRig({}, hub);
    hub.files.fault(REPO, 'tiny.Q4_K_M.gguf', { kind: 'cut', afterBytes: 1024 * 1024 });
    hub.files.fault(REPO, 'tiny.Q4_K_M.gguf', { kind: 'ignore-range' });
    const size = hub.files.file(REPO, 'tiny.Q4_K_M.gguf').size;
    const done = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['tiny.Q4_K_M.gguf'] })).id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
    expect(hub.files.bytesServed(REPO, 'tiny.Q4_K_M.gguf')).toBe(1024 * 1024 + size);
    expect(rig.logs.some((l) => l.includes('ignored the Range request'))).toBe(true);
    expect(blobCheck(rig.cacheDir).every((b) => b.ok)).toBe(true);
  });

  it('a stall reconnects once no bytes came for the stall time', async () => {
    rig = await modelsRig({ transfer: { stallMs: 300, backoffMs: 10, retries: 3 } }, hub);
    hub.files.fault(REPO, 'tiny.Q4_K_M.gguf', { kind: 'stall', afterBytes: 512 * 1024 });
    const done = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['tiny.Q4_K_M.gguf'] })).id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
    expect(rig.logs.some((l) => /no bytes for/.test(l))).toBe(true);
    expect(hub.files.cdnRequests.map((r) => r.range)).toEqual([null, 'bytes=524288-']);
  });

  it('429 waits for Retry-After before asking again', async () => {
    rig = await modelsRig({}, hub);
    hub.files.fault(REPO, 'README.md', { kind: '429', retryAfter: 1 });
    const t0 = Date.now();
    const done = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['README.md'] })).id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_000);
    expect(rig.logs.some((l) => /429, Retry-After 1 s/.test(l))).toBe(true);
  });

  it('a blob whose content does not match its hash is deleted and the pull fails saying so', async () => {
    rig = await modelsRig({}, hub);
    hub.files.fault(REPO, 'tiny.Q4_K_M.gguf', { kind: 'corrupt' });
    const done = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['tiny.Q4_K_M.gguf'] })).id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatchObject({ code: 'model.verify_failed', action: { kind: 'retry' } });
    expect(done.error!.message).toContain('tiny.Q4_K_M.gguf did not verify');
    expect(done.error!.message).toContain('deleted');
    expect(cacheListing(rig.cacheDir).filter((l) => l.includes('/blobs/') && !l.endsWith('/'))).toEqual([]);
    // Pulled again, the good copy verifies.
    const again = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['tiny.Q4_K_M.gguf'] })).id);
    expect(again.state).toBe('ready');
  });

  it('network errors past the retries fail clearly, keep the partial, and a later pull continues it', async () => {
    rig = await modelsRig({ transfer: { backoffMs: 5, retries: 2, stallMs: 2_000 } }, hub);
    hub.files.fault(REPO, 'tiny.Q8_0.gguf', { kind: 'cut', afterBytes: 1024 * 1024 });
    hub.files.fault(REPO, 'tiny.Q8_0.gguf', { kind: 'cut', afterBytes: 0, times: 3 });
    const first = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['tiny.Q8_0.gguf'] })).id);
    expect(first.state).toBe('failed');
    expect(first.error).toMatchObject({ code: 'model.network', action: { kind: 'retry' } });
    expect(first.error!.message).toMatch(/1,048,576 of 5,242,887 bytes are kept/);
    expect((await rig.service.listLocal()).models[0]!.incomplete).toBe(true);
    const second = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['tiny.Q8_0.gguf'] })).id);
    expect(second.state).toBe('ready');
    expect(hub.files.bytesServed(REPO, 'tiny.Q8_0.gguf')).toBe(hub.files.file(REPO, 'tiny.Q8_0.gguf').size);
  });
});

describe('what a pull reports', () => {
  it('progress arrives a few times a second, with rate and time left, and ends exact', async () => {
    rig = await modelsRig({}, hub);
    hub.files.fault(REPO, 'tiny.Q8_0.gguf', { kind: 'slow', bytesPerSecond: 4 * 1024 * 1024 });
    const events: { at: number; state: string; rate: number; eta: number | null; done: number }[] = [];
    const off = rig.service.onPull((p) => events.push({ at: Date.now(), state: p.state, rate: p.rate, eta: p.etaSeconds, done: p.bytesDone }));
    const started = await rig.service.startPull({ repo: REPO, include: ['tiny.Q8_0.gguf'] });
    const done = await waitForPull(rig.service, started.id);
    off();
    expect(done.state).toBe('ready');
    const downloading = events.filter((e) => e.state === 'downloading');
    const seconds = (downloading.at(-1)!.at - downloading[0]!.at) / 1000;
    expect(seconds).toBeGreaterThan(0.5);
    // The default throttle is 250 ms: about 4 a second, plus the state changes.
    expect(downloading.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 3);
    expect(downloading.some((e) => e.rate > 0 && e.eta !== null && e.eta > 0)).toBe(true);
    expect(events.at(-1)).toMatchObject({ state: 'ready', done: hub.files.file(REPO, 'tiny.Q8_0.gguf').size, rate: 0, eta: null });
  });

  it('a Xet-backed file comes over plain HTTP through the /resolve redirect, filed under its SHA-256', async () => {
    hub.addRepo({ id: 'halo-test/xet', files: [{ path: 'w.safetensors', size: 300_000, seed: 11, xet: true }] });
    rig = await modelsRig({}, hub);
    const done = await waitForPull(rig.service, (await rig.service.startPull({ repo: 'halo-test/xet' })).id);
    expect(done.state, JSON.stringify(done.error)).toBe('ready');
    const sha = hub.files.file('halo-test/xet', 'w.safetensors').sha256;
    expect(existsSync(join(rig.cacheDir, 'models--halo-test--xet', 'blobs', sha))).toBe(true);
    expect(hub.files.cdnRequests.some((r) => r.path.endsWith(sha) && r.authorization === null)).toBe(true);
  });
});

describe('pulling again', () => {
  it('fetches nothing that is already in the cache', async () => {
    rig = await modelsRig({}, hub);
    await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO })).id);
    hub.files.resetCounters();
    const again = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['*.gguf', 'config.json'] })).id);
    expect(again.state).toBe('ready');
    expect(hub.files.cdnRequests).toEqual([]);
    expect(hub.files.bytesServed(REPO, 'config.json')).toBe(0);
  });

  it('uses the token from HfAccess-shaped resolvers only (no token: a public model still pulls)', async () => {
    rig = await modelsRig({}, hub);
    rig.token.value = null;
    const mark = hub.requests.length;
    const done = await waitForPull(rig.service, (await rig.service.startPull({ repo: REPO, include: ['README.md'] })).id);
    expect(done.state).toBe('ready');
    expect(hub.requests.slice(mark).filter((r) => r.token !== null)).toEqual([]);
    expect(hub.requests.slice(mark).filter((r) => r.path.includes('/resolve/')).length).toBe(1);
  });
});
