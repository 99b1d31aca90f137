import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_TOKEN_STORAGE_KEY, type AuditEntry } from '../../shared/api';
import { createApiClient } from '../src/api/client';
import { ApiFailure, explainFailure, type FailureCode } from '../src/api/failure';
import { apiError, eventStream, fakeBackend, json, unreachableBackend } from './support/fake-backend';
import { CONNECTION, HEALTH, TOKEN } from './support/fixtures';

const STORED = `hfk_${'s'.repeat(43)}`;
const PASTED = `hfk_${'p'.repeat(43)}`;

beforeEach(() => localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe('the bearer token', () => {
  it('is read from localStorage["halo-forge:api-token"] and sent as Authorization: Bearer', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, STORED);
    const { calls } = fakeBackend({ 'GET /connection': json(200, CONNECTION) });
    await createApiClient().connection();
    expect(calls).toEqual([{ method: 'GET', path: '/connection', authorization: `Bearer ${STORED}`, body: undefined }]);
  });

  it('is left out entirely when none is stored, so a local user needs nothing', async () => {
    const { calls } = fakeBackend({ 'GET /connection': json(200, CONNECTION) });
    await createApiClient().connection();
    expect(calls[0]!.authorization).toBeNull();
  });

  it('under test is the pasted one, trimmed, and it is not stored', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, STORED);
    const { calls } = fakeBackend({ 'GET /health': json(200, HEALTH), 'GET /auth/session': json(200, { local: false, authRequired: true, token: { name: 'phone', scope: 'read' } }) });
    const result = await createApiClient().testToken(`  ${PASTED}\n`);
    expect(result.session.token).toEqual({ name: 'phone', scope: 'read' });
    expect(calls.map((c) => `${c.path} ${c.authorization}`)).toEqual([`/health Bearer ${PASTED}`, `/auth/session Bearer ${PASTED}`]);
    expect(localStorage.getItem(API_TOKEN_STORAGE_KEY)).toBe(STORED);
  });

  it('refuses a Hugging Face token before anything is sent', async () => {
    const { fetch } = fakeBackend({});
    await expect(createApiClient().testToken('hf_abcdefghijklmnopqrstuvwxyz0123')).rejects.toMatchObject({ code: 'not_a_token', message: expect.stringContaining('Hugging Face token') });
    expect(fetch).not.toHaveBeenCalled();
  });

  it('never travels in a URL', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, STORED);
    const { fetch } = fakeBackend({ 'GET /tokens': json(200, { tokens: [] }), 'GET /audit?limit=5': json(200, { entries: [] }) });
    const client = createApiClient();
    await client.listTokens();
    await client.recentActivity(5);
    for (const [url] of fetch.mock.calls) expect(String(url)).not.toContain(STORED);
  });
});

describe('a refused token', () => {
  it('is reported with what the user was doing, so Connection can say it and bring them back', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, STORED);
    fakeBackend({ 'GET /tokens': apiError(401, 'auth.invalid', 'The token is not valid: it is unknown or has been revoked.') });
    const client = createApiClient();
    const refused = vi.fn();
    client.onTokenRefused(refused);
    await expect(client.listTokens()).rejects.toBeInstanceOf(ApiFailure);
    expect(refused).toHaveBeenCalledOnce();
    const [failure, doing] = refused.mock.calls[0]!;
    expect(doing).toBe('loading the API tokens');
    expect(explainFailure(failure)).toEqual({ title: 'Invalid or revoked token', detail: 'The token is not valid: it is unknown or has been revoked.' });
  });

  it('during a token test is the answer to the test, not a redirect', async () => {
    fakeBackend({ 'GET /health': apiError(401, 'auth.expired', 'The token "old" has expired; create a new one.') });
    const client = createApiClient();
    const refused = vi.fn();
    client.onTokenRefused(refused);
    await expect(client.testToken(PASTED)).rejects.toMatchObject({ code: 'auth.expired', status: 401 });
    expect(refused).not.toHaveBeenCalled();
  });

  it.each([
    [403, 'auth.forbidden'],
    [409, 'hf.env_token'],
    [401, 'hf.rejected'],
  ])('is not what a %i %s means', async (status, code) => {
    fakeBackend({ 'DELETE /huggingface/token': apiError(status, code, 'no') });
    const client = createApiClient();
    const refused = vi.fn();
    client.onTokenRefused(refused);
    await expect(client.hfClear()).rejects.toMatchObject({ code, status });
    expect(refused).not.toHaveBeenCalled();
  });
});

describe('errors in plain words', () => {
  it.each<[FailureCode, string]>([
    ['auth.required', 'Token needed'],
    ['auth.invalid', 'Invalid or revoked token'],
    ['auth.expired', 'Token expired'],
    ['auth.forbidden', 'Forbidden for this token’s scope'],
    ['auth.throttled', 'Too many failed attempts'],
    ['token.duplicate', 'Name already taken'],
    ['exposure.failed', 'Could not open remote access'],
    ['hf.rejected', 'The Hub refused the token'],
    ['hf.unreachable', 'Hugging Face is unreachable'],
    ['hf.env_token', 'Held by the environment'],
  ])('%s reads "%s", with the server’s sentence as the detail', (code, title) => {
    expect(explainFailure(new ApiFailure(code, 'The server says why.', 400))).toEqual({ title, detail: 'The server says why.' });
  });

  it('a server that does not answer is "Server unreachable", naming the address', async () => {
    unreachableBackend();
    const failure = await createApiClient({ origin: 'http://10.0.0.5:8000' }).connection().catch((e: unknown) => e);
    expect(explainFailure(failure)).toEqual({ title: 'Server unreachable', detail: expect.stringContaining('Nothing answered at http://10.0.0.5:8000') });
  });

  it('an answer that is not the API’s JSON still says the status', async () => {
    fakeBackend({ 'GET /connection': new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }) });
    await expect(createApiClient().connection()).rejects.toMatchObject({ code: 'http', message: 'The workstation answered 502 Bad Gateway.' });
  });

  it('keeps Retry-After from a throttled answer', async () => {
    fakeBackend({ 'GET /health': apiError(429, 'auth.throttled', 'Too many failed attempts from 127.0.0.1; try again in 30 s.', { 'retry-after': '30' }) });
    await expect(createApiClient().testToken(PASTED)).rejects.toMatchObject({ code: 'auth.throttled', retryAfter: 30 });
  });
});

describe('the live activity stream', () => {
  const created: AuditEntry = { time: '2026-05-07T12:00:01Z', event: 'token.created', token: 'laptop', detail: 'scope admin' };
  const failed: AuditEntry = { time: '2026-05-07T12:00:02Z', event: 'auth.failed', address: '192.168.1.9', reason: 'unknown or revoked token' };

  it('is read with fetch and the Authorization header, across chunk boundaries and keepalives', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, STORED);
    const first = `event: audit\ndata: ${JSON.stringify(created)}\n\n`;
    const second = `event: audit\r\ndata: ${JSON.stringify(failed)}\r\n\r\n`;
    const { calls } = fakeBackend({
      'GET /audit/stream': () =>
        new Response(eventStream([': halo-forge audit stream\n\n', first.slice(0, 17), first.slice(17), ': keepalive\n\n', second.slice(0, 30), second.slice(30)]), {
          status: 200,
          headers: { 'content-type': 'text/event-stream' },
        }),
    });
    const entries: AuditEntry[] = [];
    const opened = vi.fn();
    await createApiClient().followActivity((e) => entries.push(e), { signal: new AbortController().signal, onOpen: opened });
    expect(entries).toEqual([created, failed]);
    expect(opened).toHaveBeenCalledOnce();
    expect(calls[0]!.authorization).toBe(`Bearer ${STORED}`);
  });

  it('ends quietly when the screen stops following it', async () => {
    fakeBackend({ 'GET /audit/stream': () => new Response(eventStream([`event: audit\ndata: ${JSON.stringify(created)}\n\n`], { keepOpen: true }), { status: 200 }) });
    const controller = new AbortController();
    const entries: AuditEntry[] = [];
    const following = createApiClient().followActivity(
      (e) => {
        entries.push(e);
        controller.abort();
      },
      { signal: controller.signal },
    );
    await expect(following).resolves.toBeUndefined();
    expect(entries).toEqual([created]);
  });

  it('refused by the server reports the token like any other call', async () => {
    fakeBackend({ 'GET /audit/stream': apiError(401, 'auth.required', 'This workstation needs an API token.') });
    const client = createApiClient();
    const refused = vi.fn();
    client.onTokenRefused(refused);
    await expect(client.followActivity(() => undefined, { signal: new AbortController().signal })).rejects.toMatchObject({ code: 'auth.required' });
    expect(refused).toHaveBeenCalledWith(expect.any(ApiFailure), 'following recent activity');
  });
});

it('revoking names the token in the path, escaped', async () => {
  const { calls } = fakeBackend({ 'DELETE /tokens/ci%2Frunner': json(200, { ...TOKEN, name: 'ci/runner' }) });
  await createApiClient().revokeToken('ci/runner');
  expect(calls[0]!.path).toBe('/tokens/ci%2Frunner');
});
