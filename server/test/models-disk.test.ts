// A cache on a small tmpfs: a pull that cannot fit is refused up front with
// the numbers and nothing written; a read-only cache says so; a disk that
// fills during a pull (someone else took the space) fails clearly and the
// pull continues once there is room. Needs root to mount; skipped otherwise.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { blobCheck, modelsRig, waitForPull, type ModelsRig } from './support/models.js';
import { mountUnavailable, SmallDisk } from './support/small-disk.js';

const unavailable = mountUnavailable();
const REPO = 'halo-test/disk';
const MiB = 1024 * 1024;

let hub: FakeHub;
let rig: ModelsRig;
let disk: SmallDisk | null = null;

beforeAll(async () => {
  hub = await startFakeHub();
  hub.addRepo({ id: REPO, files: [{ path: 'config.json', content: '{}' }, { path: 'w.Q4_0.gguf', size: 40 * MiB, seed: 5 }, { path: 'small.Q2_K.gguf', size: 8 * MiB, seed: 6 }] });
});
afterAll(() => hub.close());
afterEach(async () => {
  hub.files.clearFaults();
  await rig?.close();
  disk?.unmount();
  disk = null;
});

describe.skipIf(unavailable !== null)(`a cache on a small disk${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('a pull that cannot fit is refused before a byte moves, with the numbers and the folder', async () => {
    disk = new SmallDisk(96 * MiB);
    const cacheDir = join(disk.dir, 'hub');
    rig = await modelsRig({}, hub);
    const svc = rig.make({ env: { ...rig.env, HF_HUB_CACHE: cacheDir } });
    const mark = hub.files.cdnRequests.length;
    const err = await svc.startPull({ repo: REPO }).then(() => null, (e: Error & { code: string }) => e);
    expect(err).toMatchObject({ code: 'model.disk_full' });
    expect(err!.message).toMatch(new RegExp(`^Not enough disk space in ${cacheDir}: this pull needs 48\\.0 MiB more plus 64\\.0 MiB to spare, and \\d+\\.\\d MiB is free\\.`));
    expect(hub.files.cdnRequests.length).toBe(mark);
    expect(existsSync(join(cacheDir, 'models--halo-test--disk'))).toBe(false);
  });

  it('a read-only cache folder says so', async () => {
    disk = new SmallDisk(8 * MiB);
    disk.readOnly(true);
    rig = await modelsRig({}, hub);
    const svc = rig.make({ env: { ...rig.env, HF_HUB_CACHE: join(disk.dir, 'hub') } });
    const err = await svc.startPull({ repo: REPO }).then(() => null, (e: Error & { code: string }) => e);
    expect(err?.code).toBe('model.cache_unwritable');
    expect(err?.message).toContain(`${join(disk.dir, 'hub')} is not writable (EROFS)`);
  });

  it('a disk that fills during the pull fails it with the action, keeps the partial, and the pull continues once there is room', async () => {
    disk = new SmallDisk(80 * MiB);
    rig = await modelsRig({}, hub);
    const svc = rig.make({ env: { ...rig.env, HF_HUB_CACHE: join(disk.dir, 'hub') } });
    hub.files.fault(REPO, 'small.Q2_K.gguf', { kind: 'slow', bytesPerSecond: 8 * MiB });
    const started = await svc.startPull({ repo: REPO, include: ['small.Q2_K.gguf'] });
    await expect.poll(() => svc.listPulls()[0]!.bytesDone, { timeout: 10_000 }).toBeGreaterThan(MiB);
    disk.fill();
    const failed = await waitForPull(svc, started.id);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'model.disk_full', action: { kind: 'free-space' } });
    const blobs = join(disk.dir, 'hub', 'models--halo-test--disk', 'blobs');
    expect(readdirSync(blobs).filter((n) => n.endsWith('.incomplete'))).toHaveLength(1);

    disk.empty();
    const again = await waitForPull(svc, (await svc.startPull({ repo: REPO, include: ['small.Q2_K.gguf'] })).id);
    expect(again.state, JSON.stringify(again.error)).toBe('ready');
    expect(blobCheck(join(disk.dir, 'hub')).every((b) => b.ok)).toBe(true);
  });
});
