import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntry, TokenCreated } from '../../shared/api';
import { useApiTokens } from '../src/stores/api-tokens';
import { mergeEntries, useActivity } from '../src/stores/activity';
import { useConnection } from '../src/stores/connection';
import { useHuggingFace } from '../src/stores/huggingface';
import { hfAccessSummary } from '../src/lib/huggingface';
import { apiError, eventStream, fakeBackend, json } from './support/fake-backend';
import { CONNECTION, HF_CONNECTED, HF_NONE, TOKEN } from './support/fixtures';

const initial = { tokens: useApiTokens.getState(), activity: useActivity.getState(), connection: useConnection.getState(), hf: useHuggingFace.getState() };

beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  useApiTokens.setState(initial.tokens, true);
  useActivity.setState(initial.activity, true);
  useConnection.setState(initial.connection, true);
  useHuggingFace.setState(initial.hf, true);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('API tokens', () => {
  const created: TokenCreated = { ...TOKEN, name: 'ci', token: `hfk_${'c'.repeat(43)}` };

  it('keep a new secret only until its dialog is dismissed, and never in the list', async () => {
    const { calls } = fakeBackend({ 'POST /tokens': json(201, created) });
    expect(await useApiTokens.getState().create({ name: 'ci', scope: 'admin', expires: '30d' })).toBe(true);
    expect(calls[0]!.body).toEqual({ name: 'ci', scope: 'admin', expires: '30d' });
    expect(useApiTokens.getState().created?.token).toBe(created.token);
    expect(JSON.stringify(useApiTokens.getState().tokens)).not.toContain(created.token);
    useApiTokens.getState().dismissCreated();
    expect(JSON.stringify(useApiTokens.getState())).not.toContain(created.token);
  });

  it('say a duplicate name in words', async () => {
    fakeBackend({ 'POST /tokens': apiError(409, 'token.duplicate', 'A token named "laptop" already exists.') });
    expect(await useApiTokens.getState().create({ name: 'laptop' })).toBe(false);
    expect(useApiTokens.getState().createError).toEqual({ title: 'Name already taken', detail: 'A token named "laptop" already exists.' });
  });

  it('leave the list once revoked', async () => {
    fakeBackend({ 'GET /tokens': json(200, { tokens: [TOKEN, { ...TOKEN, name: 'ci' }] }), 'DELETE /tokens/laptop': json(200, TOKEN) });
    await useApiTokens.getState().load();
    expect(await useApiTokens.getState().revoke('laptop')).toBe(true);
    expect(useApiTokens.getState().tokens.map((t) => t.name)).toEqual(['ci']);
  });
});

describe('remote access', () => {
  it('switched on shows the new URLs', async () => {
    const remote = { ...CONNECTION.remote, enabled: true, urls: ['http://192.168.1.20:8000/'], needsToken: true };
    const { calls } = fakeBackend({ 'GET /connection': [json(200, CONNECTION), json(200, { ...CONNECTION, remote })], 'PUT /connection/remote': json(200, remote) });
    await useConnection.getState().load();
    expect(await useConnection.getState().setRemoteAccess(true)).toBe(true);
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ enabled: true });
    expect(useConnection.getState().info?.remote.urls).toEqual(['http://192.168.1.20:8000/']);
  });

  it('that cannot be opened says why and stays off', async () => {
    fakeBackend({ 'GET /connection': json(200, CONNECTION), 'PUT /connection/remote': apiError(409, 'exposure.failed', 'Could not open remote access on 192.168.1.20: port 8000 is already in use there.') });
    await useConnection.getState().load();
    expect(await useConnection.getState().setRemoteAccess(true)).toBe(false);
    expect(useConnection.getState().remoteError?.detail).toContain('already in use');
    expect(useConnection.getState().info?.remote.enabled).toBe(false);
  });
});

describe('recent activity', () => {
  const at = (second: number, event: AuditEntry['event'] = 'auth.failed'): AuditEntry => ({ time: `2026-05-07T12:00:${String(second).padStart(2, '0')}Z`, event, address: '10.0.0.9' });

  it('merges list and stream newest first, each entry once', () => {
    expect(mergeEntries([at(3), at(1)], [at(2), at(3)])).toEqual([at(3), at(2), at(1)]);
    expect(mergeEntries([], Array.from({ length: 80 }, (_, i) => at(i % 60, i < 60 ? 'auth.failed' : 'token.created')), 50)).toHaveLength(50);
  });

  it('follows the stream live and stops when the screen closes', async () => {
    const streamed = at(5, 'token.revoked');
    fakeBackend({
      'GET /audit?limit=25': json(200, { entries: [at(1)] }),
      'GET /audit/stream': () => new Response(eventStream([`event: audit\ndata: ${JSON.stringify(streamed)}\n\n`], { keepOpen: true }), { status: 200 }),
    });
    const stop = useActivity.getState().follow();
    await vi.waitFor(() => expect(useActivity.getState().live).toBe('live'));
    await vi.waitFor(() => expect(useActivity.getState().entries).toEqual([streamed, at(1)]));
    stop();
    expect(useActivity.getState().live).toBe('off');
  });

  it('stays Live on keepalives alone, and reconnects a stream that goes silent, not saying Live meanwhile', async () => {
    vi.useFakeTimers();
    const streams: Array<ReadableStreamDefaultController<Uint8Array>> = [];
    const { fetch } = fakeBackend({
      'GET /audit?limit=25': json(200, { entries: [] }),
      'GET /audit/stream': () => new Response(new ReadableStream<Uint8Array>({ start: (c) => void streams.push(c) }), { status: 200 }),
    });
    const stop = useActivity.getState().follow();
    await vi.advanceTimersByTimeAsync(0);
    expect(useActivity.getState().live).toBe('live');

    // The server's keepalive every 15 s is all that arrives for a minute: the stream is alive.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(15_000);
      streams[0]!.enqueue(new TextEncoder().encode(': keepalive\n\n'));
    }
    expect(useActivity.getState().live).toBe('live');
    expect(fetch.mock.calls.filter(([url]) => String(url).endsWith('/audit/stream'))).toHaveLength(1);

    // Then nothing at all, as after a laptop sleep: the read would wait forever.
    await vi.advanceTimersByTimeAsync(45_000);
    expect(useActivity.getState().live).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetch.mock.calls.filter(([url]) => String(url).endsWith('/audit/stream'))).toHaveLength(2);
    expect(useActivity.getState().live).toBe('live');
    stop();
  });

  it('gives up on a refused token instead of retrying', async () => {
    const { fetch } = fakeBackend({ 'GET /audit/stream': apiError(403, 'auth.forbidden', 'The token "phone" has the read scope; this needs admin.') });
    useActivity.getState().follow();
    await vi.waitFor(() => expect(useActivity.getState().error?.title).toBe('Forbidden for this token’s scope'));
    expect(useActivity.getState().live).toBe('off');
    expect(fetch).toHaveBeenCalledOnce();
  });
});

describe('Hugging Face access', () => {
  const TOKEN_VALUE = 'hf_CanaryTokenThatMustNotBeKept000000001';

  it('says "verifying" while the Hub is asked, then "Connected as NAME (read token)", keeping the token nowhere', async () => {
    let answer!: (r: Response) => void;
    const { calls } = fakeBackend({ 'POST /huggingface/token': () => new Promise<Response>((resolve) => (answer = resolve)) });
    const saving = useHuggingFace.getState().save(` ${TOKEN_VALUE} `);
    expect(useHuggingFace.getState().busy).toBe('verifying');
    await vi.waitFor(() => expect(answer).toBeTypeOf('function'));
    answer(json(200, HF_CONNECTED));
    expect(await saving).toBe('saved');
    expect(calls[0]!.body).toEqual({ token: TOKEN_VALUE, verify: true });
    expect(useHuggingFace.getState().outcome).toMatchObject({ tone: 'ok', title: 'Connected as halo-tester (read token)' });
    expect(JSON.stringify(useHuggingFace.getState())).not.toContain(TOKEN_VALUE);
    expect(JSON.stringify({ ...localStorage })).not.toContain(TOKEN_VALUE);
    expect(JSON.stringify({ ...sessionStorage })).not.toContain(TOKEN_VALUE);
  });

  it('offers to save without verifying only when the Hub is unreachable', async () => {
    const { calls } = fakeBackend({
      'POST /huggingface/token': [apiError(503, 'hf.unreachable', 'The Hugging Face Hub could not be reached. Nothing was saved.'), json(200, { ...HF_CONNECTED, verified: false, username: null, role: null })],
    });
    expect(await useHuggingFace.getState().save(TOKEN_VALUE)).toBe('unreachable');
    expect(useHuggingFace.getState()).toMatchObject({ offerUnverified: true, outcome: { tone: 'warn', title: 'Hugging Face is unreachable' } });
    expect(await useHuggingFace.getState().save(TOKEN_VALUE, false)).toBe('saved');
    expect(calls[1]!.body).toEqual({ token: TOKEN_VALUE, verify: false });
    expect(useHuggingFace.getState()).toMatchObject({ offerUnverified: false, outcome: { title: 'Saved without verifying' } });
  });

  it('passes on the Hub’s reason for a refused token, with no unverified offer', async () => {
    fakeBackend({ 'POST /huggingface/token': apiError(422, 'hf.rejected', 'The Hugging Face Hub refused this token: Invalid credentials in Authorization header. Nothing was saved.') });
    expect(await useHuggingFace.getState().save(TOKEN_VALUE)).toBe('failed');
    expect(useHuggingFace.getState()).toMatchObject({ offerUnverified: false, outcome: { tone: 'danger', title: 'The Hub refused the token', detail: expect.stringContaining('Invalid credentials') } });
  });

  it('explains that an environment token cannot be cleared', async () => {
    fakeBackend({ 'DELETE /huggingface/token': apiError(409, 'hf.env_token', 'The Hugging Face token in use comes from HF_TOKEN in the backend’s environment, which Halo Forge cannot clear.') });
    expect(await useHuggingFace.getState().clear()).toBe(false);
    expect(useHuggingFace.getState().outcome).toMatchObject({ title: 'Held by the environment', detail: expect.stringContaining('cannot clear') });
  });

  it('adopts the Hugging Face tools’ token without the browser ever holding it', async () => {
    const { calls } = fakeBackend({ 'POST /huggingface/token': json(200, HF_CONNECTED) });
    await useHuggingFace.getState().adoptHfTools();
    expect(calls[0]!.body).toEqual({ adoptHfCache: true, verify: true });
  });

  it('keeps the model check’s answer', async () => {
    const check = { model: 'meta-llama/Llama-3.1-8B', access: 'gated', gated: 'manual', url: 'https://huggingface.co/meta-llama/Llama-3.1-8B', message: 'Accept the license.' };
    const { calls } = fakeBackend({ 'POST /huggingface/check-model': json(200, check) });
    await useHuggingFace.getState().checkModel(' meta-llama/Llama-3.1-8B ');
    expect(calls[0]!.body).toEqual({ model: 'meta-llama/Llama-3.1-8B' });
    expect(useHuggingFace.getState().check).toEqual({ phase: 'done', result: check, error: null });
  });

  it.each([
    [HF_NONE, 'Not connected'],
    [HF_CONNECTED, 'Connected as halo-tester (read token)'],
    [{ ...HF_CONNECTED, source: 'env' as const }, 'Using HF_TOKEN from the environment'],
    [{ ...HF_CONNECTED, verified: false }, 'Needs attention'],
    [null, 'Checking…'],
  ])('summarises %# as "%s"', (status, label) => {
    expect(hfAccessSummary(status).label).toBe(label);
  });
});
