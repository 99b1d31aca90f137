// What is refused before a byte moves: bad input (the table), and
// gated, private and missing models, each with its code and action.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_MODELS, FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { actionFor } from '../src/models/pull-actions.js';
import { cacheListing, modelsRig, type ModelsRig } from './support/models.js';

const REPO = 'halo-test/access';
let hub: FakeHub;
let rig: ModelsRig;

beforeAll(async () => {
  hub = await startFakeHub();
  const files = [{ path: 'config.json', content: '{}' }, { path: 'm.Q4_K_M.gguf', size: 4096, seed: 3 }, { path: 'm.Q8_0.gguf', size: 8192, seed: 4 }];
  hub.addRepo({ id: REPO, files });
  hub.addRepo({ id: 'halo-test/gated-files', gated: 'manual', files });
  hub.addRepo({ id: 'halo-test/private-files', private: true, files });
  hub.addRepo({ id: 'halo-test/evil-dotdot', files: [{ path: '../../outside.txt', content: 'x' }] });
  hub.addRepo({ id: 'halo-test/evil-absolute', files: [{ path: '/etc/cron.d/x', content: 'x' }] });
  hub.addRepo({ id: 'halo-test/evil-backslash', files: [{ path: '..\\..\\x', content: 'x' }] });
  hub.addRepo({ id: 'halo-test/huge-xet', files: [{ path: 'big.gguf', size: 1024, xet: true }] });
  rig = await modelsRig({}, hub);
});
afterAll(async () => {
  await rig.close();
  await hub.close();
});
afterEach(() => {
  hub.reset();
  rig.token.value = FAKE_HUB_TOKENS.read;
});

const resolves = (since: number) => hub.requests.slice(since).filter((r) => r.path.includes('/resolve/') && r.method === 'GET');

describe('bad input', () => {
  it.each(['not a model', 'org/name/extra', '../../etc', 'https://example.com/org/name'])('%j is refused without a Hub call', async (repo) => {
    const mark = hub.requests.length;
    await expect(rig.service.startPull({ repo })).rejects.toMatchObject({ code: 'model.invalid_id' });
    await expect(rig.service.details(repo)).rejects.toMatchObject({ code: 'model.invalid_id' });
    expect(hub.requests.length).toBe(mark);
  });

  it('a huggingface.co URL is accepted and parsed', async () => {
    const details = await rig.service.details(`https://huggingface.co/${REPO}/tree/main`);
    expect(details.id).toBe(REPO);
    expect(details.revision).toBe('main');
  });

  it('something that looks like a token is refused and never sent', async () => {
    const secret = 'hf_LooksLikeATokenNeverSendMe0123456789';
    const mark = hub.requests.length;
    for (const call of [() => rig.service.startPull({ repo: secret }), () => rig.service.details(secret), () => rig.service.search(`https://huggingface.co/${secret}/x`), () => rig.service.search(secret), () => rig.service.search(`llama ${secret}`), () => rig.service.startPull({ repo: REPO, revision: secret })]) {
      const err = await call().then(() => null, (e: Error) => e);
      expect(err).toMatchObject({ code: expect.stringMatching(/^model\.(looks_like_token|revision_not_found)$/) });
      expect(err!.message).not.toContain('NeverSendMe');
    }
    expect(hub.requests.length).toBe(mark);
    expect(JSON.stringify(hub.requests)).not.toContain('NeverSendMe');
  });

  it('include patterns that match nothing say so, and nothing is fetched', async () => {
    const mark = hub.requests.length;
    await expect(rig.service.startPull({ repo: REPO, include: ['*.safetensors'] })).rejects.toMatchObject({
      code: 'model.no_match',
      message: 'The include pattern "*.safetensors" matches none of the 3 files in this repo; nothing was pulled.',
    });
    expect(resolves(mark)).toEqual([]);
  });

  it('an unknown revision is named as unknown', async () => {
    await expect(rig.service.startPull({ repo: REPO, revision: 'no-such-branch' })).rejects.toMatchObject({
      code: 'model.revision_not_found',
      message: `${REPO} has no revision "no-such-branch" on the Hub: check the branch, tag or commit name.`,
    });
  });

  it('a cache folder that is not writable says so', async () => {
    const blocker = join(rig.root, 'a-file');
    writeFileSync(blocker, '');
    const svc = rig.make({ env: { ...rig.env, HF_HUB_CACHE: join(blocker, 'hub') } });
    const err = await svc.startPull({ repo: REPO }).then(() => null, (e: Error & { code: string }) => e);
    expect(err).toMatchObject({ code: 'model.cache_unwritable' });
    expect(err!.message).toContain(`${join(blocker, 'hub')} is not writable (ENOTDIR)`);
  });

  it.each([
    ['halo-test/evil-dotdot', 'contains "." or ".."'],
    ['halo-test/evil-absolute', 'is an absolute path'],
    ['halo-test/evil-backslash', 'contains a backslash'],
  ])('a tree path like %s is refused: file names are not trusted', async (repo, why) => {
    const mark = hub.requests.length;
    const err = await rig.service.startPull({ repo }).then(() => null, (e: Error) => e);
    expect(err).toMatchObject({ code: 'model.unsafe_path' });
    expect(err!.message).toContain(why);
    expect(resolves(mark)).toEqual([]);
    expect(cacheListing(rig.root).filter((l) => l.includes('outside') || l.includes('cron'))).toEqual([]);
  });

  it('a Xet file over 50 GB is refused up front with the reason', async () => {
    const file = [...hub.files.repos.get('halo-test/huge-xet')!.revisions.values()][0]!.files.get('big.gguf')!;
    (file as { size: number }).size = 60 * 1000 ** 3;
    await expect(rig.service.startPull({ repo: 'halo-test/huge-xet' })).rejects.toMatchObject({ code: 'model.too_large', message: expect.stringContaining('over 50 GB') });
  });
});

describe('gated, private and missing models: access is checked before any bytes move', () => {
  it.each([
    ['gated, license not accepted', 'halo-test/gated-files', FAKE_HUB_TOKENS.read, 'model.gated', 'accept-license'],
    ['gated, no token', 'halo-test/gated-files', null, 'model.no_token', 'connect-hf'],
    ['gated, request pending', FAKE_HUB_MODELS.gatedPending, FAKE_HUB_TOKENS.read, 'model.pending', 'accept-license'],
    ['private, not ours', 'halo-test/private-files', FAKE_HUB_TOKENS.read, 'model.not_found', 'check-name'],
    ['missing', FAKE_HUB_MODELS.missing, FAKE_HUB_TOKENS.read, 'model.not_found', 'check-name'],
  ])('%s → %s', async (_case, repo, token, code, action) => {
    rig.token.value = token;
    const mark = hub.requests.length;
    const err = await rig.service.startPull({ repo }).then(() => null, (e: Error & { code: string }) => e);
    expect(err).toMatchObject({ code });
    expect(actionFor(code, `${hub.url}/${repo}`)).toMatchObject({ kind: action });
    expect(resolves(mark)).toEqual([]);
  });

  it('the license action carries the model page', () => {
    expect(actionFor('model.gated', 'https://huggingface.co/meta-llama/Llama-3.1-8B')).toEqual({ kind: 'accept-license', label: 'Accept the license on the model page', url: 'https://huggingface.co/meta-llama/Llama-3.1-8B' });
  });

  it('once granted, the gated model pulls; private with the owner token pulls', async () => {
    hub.grant('halo-test/gated-files');
    const info = await rig.service.startPull({ repo: 'halo-test/gated-files', include: ['config.json'] });
    expect(info.state).toBe('downloading');
    rig.token.value = FAKE_HUB_TOKENS.owner;
    const own = await rig.service.startPull({ repo: 'halo-test/private-files', include: ['config.json'] });
    expect(own.state).toBe('downloading');
  });

  it('details show the groups, the access and the link, for a gated model too', async () => {
    const d = await rig.service.details('halo-test/gated-files');
    expect(d).toMatchObject({ id: 'halo-test/gated-files', gated: 'manual', private: false, url: `${hub.url}/halo-test/gated-files`, access: { state: 'gated' } });
    expect(d.groups.map((g) => [g.kind, g.label, g.size])).toEqual([
      ['gguf', 'Q4_K_M', 4096],
      ['gguf', 'Q8_0', 8192],
      ['other', 'Other files', 2],
    ]);
    expect(d.files.find((f) => f.path === 'm.Q4_K_M.gguf')).toMatchObject({ size: 4096, sha256: hub.files.file('halo-test/gated-files', 'm.Q4_K_M.gguf').sha256 });
  });
});

describe('search', () => {
  it('follows Link pages up to the limit', async () => {
    hub.files.pageSize = 2;
    try {
      const mark = hub.requests.length;
      const result = await rig.service.search('halo-test', { limit: 5 });
      expect(result.models).toHaveLength(5);
      expect(hub.requests.slice(mark).filter((r) => r.path === '/api/models').length).toBe(3);
    } finally {
      hub.files.pageSize = 50;
    }
  });

  it('a pasted URL finds that model first', async () => {
    const result = await rig.service.search(`https://huggingface.co/${REPO}`);
    expect(result.models[0]).toMatchObject({ id: REPO, gated: false, private: false });
  });

  it('a rate-limited Hub is named with the wait', async () => {
    hub.rateLimit(7);
    await expect(rig.service.search('gpt')).rejects.toMatchObject({ code: 'model.hub_unreachable', message: expect.stringContaining('try again in 7 s') });
  });
});
