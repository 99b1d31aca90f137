import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LocalModelList, ModelDetails, PullInfo } from '../../shared/models';
import { actionForFailure, formatBytes, formatEta, isResumable, modelIdFromInput, patternList, percentDone } from '../src/lib/models';
import { canOperate, latestPullOf, looksLikeSecret, useModels } from '../src/stores/models';
import { ApiFailure, pullActionOf } from '../src/api/failure';
import { apiError, eventStream, fakeBackend, json } from './support/fake-backend';

const initial = useModels.getState();
beforeEach(() => useModels.setState(initial, true));
afterEach(() => vi.unstubAllGlobals());

const pull = (overrides: Partial<PullInfo> = {}): PullInfo => ({
  id: 'p1',
  repo: 'halo-test/tiny',
  revision: 'main',
  commit: null,
  include: [],
  exclude: [],
  state: 'downloading',
  owner: 'server',
  bytesTotal: 2000,
  bytesDone: 500,
  rate: 250,
  etaSeconds: 6,
  files: [{ path: 'a.gguf', size: 2000, received: 500, state: 'downloading' }],
  startedAt: '2026-12-01T12:00:00.000Z',
  finishedAt: null,
  error: null,
  ...overrides,
});

const LOCAL: LocalModelList = { cacheDir: '/c/hub', freeBytes: 1, models: [] };

describe('Models words and numbers', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 KB'],
    [6_291_463, '6.29 MB'],
    [4_368_439_584, '4.37 GB'],
    [140_000_000_000, '140 GB'],
  ])('%i bytes read as %s', (n, words) => expect(formatBytes(n)).toBe(words));

  it.each([
    [null, ''],
    [0.4, '0 s left'],
    [42, '42 s left'],
    [75, '1 min 15 s left'],
    [7260, '2 h 1 min left'],
    [Infinity, ''],
  ])('%s seconds to go read as %j', (s, words) => expect(formatEta(s)).toBe(words));

  it.each([
    ['Qwen/Qwen2.5-7B-Instruct', 'Qwen/Qwen2.5-7B-Instruct'],
    ['https://huggingface.co/meta-llama/Llama-3.1-8B', 'meta-llama/Llama-3.1-8B'],
    ['https://huggingface.co/models/org/name/tree/main', 'org/name'],
    ['https://hf.co/org/name?x=1', 'org/name'],
    ['llama gguf', null],
    ['https://example.com/org/name', null],
    ['../etc/passwd', null],
  ])('%j names the model %j', (input, id) => expect(modelIdFromInput(input)).toBe(id));

  it('takes the fix the backend named, and offers trying again only when nothing answered', () => {
    const license = { kind: 'accept-license', label: 'Accept the license on the model page', url: 'https://hub/org/name' } as const;
    expect(actionForFailure(new ApiFailure('model.gated', 'Gated.', 403, null, null, license))).toEqual(license);
    // No action in the answer: none is made up from the code.
    expect(actionForFailure(new ApiFailure('model.gated', 'Gated.', 403))).toBeNull();
    expect(actionForFailure(new ApiFailure('network', 'Nothing answered.'))?.kind).toBe('retry');
    expect(actionForFailure(new Error('boom'))).toBeNull();
  });

  it.each([
    [{ kind: 'accept-license', label: 'Accept', url: 'https://huggingface.co/org/name' }, { kind: 'accept-license', label: 'Accept', url: 'https://huggingface.co/org/name' }],
    [{ kind: 'accept-license', label: 'Accept', url: 'http://127.0.0.1:5000/org/name' }, { kind: 'accept-license', label: 'Accept', url: 'http://127.0.0.1:5000/org/name' }],
    // A page that is not a web page never becomes a link.
    [{ kind: 'accept-license', label: 'Accept', url: 'javascript:alert(1)' }, { kind: 'accept-license', label: 'Accept' }],
    [{ kind: 'connect-hf', label: 'Connect Hugging Face' }, { kind: 'connect-hf', label: 'Connect Hugging Face' }],
    [{ kind: 'format-disk', label: 'Format the disk' }, null],
    [{ kind: 'retry' }, null],
    ['retry', null],
    [null, null],
  ])('an error body\'s action %j is shown as %j', (sent, shown) => expect(pullActionOf(sent)).toEqual(shown));

  it.each([
    ['*.safetensors, config.json', ['*.safetensors', 'config.json']],
    ['  *Q4_K_M.gguf  ', ['*Q4_K_M.gguf']],
    ['a.json b.json,,c.json', ['a.json', 'b.json', 'c.json']],
    [' , ', []],
  ])('patterns %j read as %j', (text, list) => expect(patternList(text)).toEqual(list));

  it('counts progress in whole percent, and says which pulls resume', () => {
    expect(percentDone({ bytesDone: 1, bytesTotal: 3 })).toBe(33);
    expect(percentDone({ bytesDone: 0, bytesTotal: 0 })).toBe(0);
    expect([pull({ state: 'paused' }), pull({ state: 'interrupted' }), pull({ state: 'ready' }), pull({ state: 'cancelled' }), pull({ state: 'failed' })].map(isResumable)).toEqual([true, true, false, false, false]);
  });

  it.each([
    ['hf_AbCdEf0123', true],
    ['  hfk_abc', true],
    ['https://x/?token=hf_Abc', true],
    ['api_org_Zz', true],
    ['hf-internal-testing/tiny', false],
    ['llama hf', false],
  ])('%j looks like a secret: %s', (text, secret) => expect(looksLikeSecret(text)).toBe(secret));

  it.each([
    [null, false],
    [{ authRequired: false, token: null }, true],
    [{ authRequired: true, token: null }, false],
    [{ authRequired: true, token: { scope: 'read' } }, false],
    [{ authRequired: true, token: { scope: 'operate' } }, true],
    [{ authRequired: true, token: { scope: 'admin' } }, true],
    // An OpenAI client's token: /v1 only, never the Models controls.
    [{ authRequired: true, token: { scope: 'inference' } }, false],
  ])('session %j may pull and delete: %s', (session, allowed) => expect(canOperate({ session, refused: null })).toBe(allowed));

  it('shows the newest pull of a model', () => {
    const older = pull({ id: 'a', startedAt: '2026-01-01T00:00:00Z' });
    const newer = pull({ id: 'b', startedAt: '2026-02-01T00:00:00Z', repo: 'Halo-Test/Tiny' });
    expect(latestPullOf({ a: older, b: newer, c: pull({ id: 'c', repo: 'other/x' }) }, 'halo-test/tiny')?.id).toBe('b');
  });
});

describe('the Models store', () => {
  it('never sends a search shaped like a token', async () => {
    const { calls } = fakeBackend({});
    await useModels.getState().find('hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123');
    expect(calls).toEqual([]);
    expect(useModels.getState().search).toMatchObject({ phase: 'failed', error: { title: 'That looks like a token' } });
  });

  it('opens the model a pasted link names, after searching for it', async () => {
    const details = { id: 'org/name', url: 'https://huggingface.co/org/name', revision: 'main' } as ModelDetails;
    const { calls } = fakeBackend({
      'GET /models/search?q=https%3A%2F%2Fhuggingface.co%2Forg%2Fname': json(200, { query: 'org/name', models: [{ id: 'org/name' }] }),
      'GET /models/hub/org/name': json(200, details),
    });
    await useModels.getState().find('https://huggingface.co/org/name');
    await vi.waitFor(() => expect(useModels.getState().selected).toMatchObject({ repo: 'org/name', phase: 'done', details }));
    expect(calls.map((c) => c.path)).toEqual(['/models/search?q=https%3A%2F%2Fhuggingface.co%2Forg%2Fname', '/models/hub/org/name']);
  });

  it('shows a refused pull with the action the backend sent: its words, the model page it names', async () => {
    const action = { kind: 'accept-license', label: 'Your access request awaits the authors; check the model page', url: 'https://hub.example/org/gated' };
    fakeBackend({ 'POST /models/pulls': json(403, { error: 'model.pending', message: 'The request is pending.', action }) });
    expect(await useModels.getState().startPull({ repo: 'org/gated', include: ['*.gguf'] })).toBe(false);
    expect(useModels.getState().startError).toEqual({ title: expect.any(String), detail: 'The request is pending.', action });
    expect(useModels.getState().starting).toBeNull();
  });

  it('follows pulls and the cache live from the event stream', async () => {
    const ready = pull({ state: 'ready', bytesDone: 2000, etaSeconds: null });
    const listed = { ...LOCAL, models: [{ id: 'halo-test/tiny' }] } as LocalModelList;
    fakeBackend({
      'GET /models/local': json(200, LOCAL),
      'GET /models/events': () =>
        new Response(eventStream([`event: pull\ndata: ${JSON.stringify(pull())}\n\n`, `: keepalive\n\nevent: pull\ndata: ${JSON.stringify(ready)}\n\n`, `event: local\ndata: ${JSON.stringify(listed)}\n\n`], { keepOpen: true }), { status: 200 }),
    });
    const stop = useModels.getState().follow();
    await vi.waitFor(() => expect(useModels.getState().live).toBe('live'));
    await vi.waitFor(() => expect(useModels.getState().pulls.p1?.state).toBe('ready'));
    await vi.waitFor(() => expect(useModels.getState().local).toEqual(listed));
    stop();
    expect(useModels.getState().live).toBe('off');
  });

  it('stops following for a token that may not read, instead of retrying forever', async () => {
    const { calls } = fakeBackend({ 'GET /models/events': apiError(403, 'auth.forbidden', 'no') });
    useModels.getState().follow();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await vi.waitFor(() => expect(useModels.getState().live).toBe('off'));
  });

  it('deletes, then lists the cache again; a failure comes back in words', async () => {
    const { calls } = fakeBackend({
      'DELETE /models/local/org/name?revision=abc': json(200, { repo: 'org/name', removedRevisions: ['abc'], freedBytes: 10 }),
      'GET /models/local': json(200, LOCAL),
      'DELETE /models/local/org/other': apiError(404, 'model.not_local', 'org/other is not in the cache.'),
    });
    expect(await useModels.getState().remove('org/name', 'abc')).toBeNull();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['DELETE /models/local/org/name?revision=abc', 'GET /models/local']);
    expect(await useModels.getState().remove('org/other')).toEqual({ title: 'Not in the cache', detail: 'org/other is not in the cache.' });
    expect(useModels.getState().deleting).toBe(false);
  });
});

describe('a pull that ends before its start is answered', () => {
  it('keeps the stream’s "failed" over the POST’s older "downloading"', async () => {
    let answerPost: (r: Response) => void = () => undefined;
    const failed = pull({ state: 'failed', error: { code: 'model.verify_failed', message: 'a.gguf did not verify', action: null } });
    fakeBackend({
      'GET /models/local': json(200, LOCAL),
      'GET /models/events': () => new Response(eventStream([`event: pull\ndata: ${JSON.stringify(failed)}\n\n`], { keepOpen: true }), { status: 200 }),
      'POST /models/pulls': () => new Promise<Response>((resolve) => (answerPost = resolve)),
    });
    const starting = useModels.getState().startPull({ repo: 'halo-test/tiny' });
    const stop = useModels.getState().follow();
    await vi.waitFor(() => expect(useModels.getState().pulls.p1?.state).toBe('failed'));
    answerPost(json(202, pull({ state: 'downloading' })));
    expect(await starting).toBe(true);
    expect(useModels.getState().pulls.p1?.state).toBe('failed');
    stop();
  });
});
