import { afterEach, describe, expect, it } from 'vitest';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { TokenCreated } from '../../shared/api.js';
import { buildTestApp, LAN, type TestApp } from './support/app.js';
import { waitFor } from './support/backend-process.js';
import { LOCAL_FIXTURE, modelServiceDouble, pullFixture, type ModelServiceDouble } from './support/model-service-double.js';

const LOCAL = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8000' } } as const;
let t: TestApp | null = null;
let models: ModelServiceDouble;
let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
  await t?.close();
  t = null;
});

async function start() {
  models = modelServiceDouble();
  t = await buildTestApp({ models });
  return t.app;
}

async function tokenFor(app: TestApp['app'], scope: 'read' | 'operate') {
  const res = await app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name: scope, scope }, ...LOCAL });
  return { authorization: `Bearer ${(res.json() as TokenCreated).token}` };
}

describe('models routes', () => {
  it('searches, lists the cache and shows a model, each through its schema', async () => {
    const app = await start();
    const search = await app.inject({ url: '/api/public/models/search?q=%20tiny%20&limit=5', ...LOCAL });
    expect(search.statusCode).toBe(200);
    expect(search.json()).toEqual({ query: 'tiny', models: [expect.objectContaining({ id: 'halo-test/tiny', gated: false })] });
    expect(models.calls[0]).toEqual({ method: 'search', args: ['tiny', { limit: 5 }] });

    const local = await app.inject({ url: '/api/public/models/local', ...LOCAL });
    expect(local.json()).toEqual(LOCAL_FIXTURE);

    const details = await app.inject({ url: '/api/public/models/hub/halo-test/tiny?revision=v1.0', ...LOCAL });
    expect(details.statusCode).toBe(200);
    expect(details.json()).toMatchObject({ id: 'halo-test/tiny', revision: 'v1.0', groups: [{ kind: 'gguf', label: 'Q4_K_M' }] });
    expect(models.calls.at(-1)).toEqual({ method: 'details', args: ['halo-test/tiny', 'v1.0'] });
  });

  it('drops any field the engine carries by mistake: a canary token never reaches a client', async () => {
    const app = await start();
    const canary = 'hf_CanaryTokenThatMustNeverLeave0000001';
    models.leak = { token: canary, signedUrl: `https://cdn.example/x?sig=${canary}`, headers: { authorization: `Bearer ${canary}` } };
    const answers = [
      await app.inject({ url: '/api/public/models/search?q=tiny', ...LOCAL }),
      await app.inject({ url: '/api/public/models/hub/halo-test/tiny', ...LOCAL }),
      await app.inject({ method: 'POST', url: '/api/public/models/pulls', payload: { repo: 'halo-test/tiny' }, ...LOCAL }),
      await app.inject({ url: '/api/public/models/pulls', ...LOCAL }),
    ];
    for (const answer of answers) {
      expect(answer.statusCode).toBeLessThan(300);
      expect(answer.body).not.toContain(canary);
    }
  });

  it('starts a pull with 202 and steers it: pause, resume, cancel', async () => {
    const app = await start();
    const started = await app.inject({ method: 'POST', url: '/api/public/models/pulls', payload: { repo: 'halo-test/tiny', include: ['*.gguf'], revision: 'main' }, ...LOCAL });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ id: 'p1', repo: 'halo-test/tiny', include: ['*.gguf'], state: 'queued' });
    expect(models.calls.at(-1)).toEqual({ method: 'startPull', args: [{ repo: 'halo-test/tiny', include: ['*.gguf'], revision: 'main' }] });
    for (const [action, state] of [['pause', 'paused'], ['resume', 'downloading'], ['cancel', 'cancelled']] as const) {
      const res = await app.inject({ method: 'POST', url: `/api/public/models/pulls/p1/${action}`, ...LOCAL });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: 'p1', state });
    }
    const list = await app.inject({ url: '/api/public/models/pulls', ...LOCAL });
    expect(list.json()).toEqual({ pulls: [expect.objectContaining({ id: 'p1', state: 'cancelled' })] });
  });

  it('refuses a field the pull body does not know, naming it, and the engine never sees it', async () => {
    const app = await start();
    const before = models.calls.length;
    const res = await app.inject({ method: 'POST', url: '/api/public/models/pulls', payload: { repo: 'halo-test/tiny', token: 'hf_NeverForwarded000000000000000000000' }, ...LOCAL });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'request.invalid', message: 'unknown field "token"' });
    expect(res.body).not.toContain('hf_NeverForwarded');
    expect(models.calls.length).toBe(before);
  });

  it('deletes one revision or the whole model', async () => {
    const app = await start();
    const one = await app.inject({ method: 'DELETE', url: `/api/public/models/local/halo-test/tiny?revision=${'a'.repeat(40)}`, ...LOCAL });
    expect(one.json()).toEqual({ repo: 'halo-test/tiny', removedRevisions: ['a'.repeat(40)], freedBytes: 1000 });
    const all = await app.inject({ method: 'DELETE', url: '/api/public/models/local/halo-test/tiny', ...LOCAL });
    expect(all.statusCode).toBe(200);
    expect(models.calls.filter((c) => c.method === 'remove').map((c) => c.args[0])).toEqual([
      { repo: 'halo-test/tiny', revision: 'a'.repeat(40) },
      { repo: 'halo-test/tiny', revision: undefined },
    ]);
  });

  it.each([
    ['the engine refuses a gated model', 'GET', '/api/public/models/hub/halo-test/gated', undefined, 403, { error: 'model.gated', message: 'Accept the license on the model page: https://huggingface.co/halo-test/gated' }],
    ['an unknown revision', 'GET', '/api/public/models/hub/halo-test/tiny?revision=nope', undefined, 404, { error: 'model.revision_not_found', message: 'halo-test/tiny has no revision "nope".' }],
    ['an unknown pull', 'POST', '/api/public/models/pulls/zzz/pause', undefined, 404, { error: 'pull.not_found', message: 'No pull zzz.' }],
    ['a model not in the cache', 'DELETE', '/api/public/models/local/halo-test/other', undefined, 404, { error: 'model.not_local', message: 'halo-test/other is not in the cache.' }],
    ['a pull without a repo', 'POST', '/api/public/models/pulls', {}, 400, { error: 'request.invalid', message: 'missing field "repo"' }],
    ['a dotted path segment', 'GET', '/api/public/models/hub/..%2F..%2Fetc/passwd', undefined, 400, { error: 'request.invalid', message: '"org" must be in the documented form' }],
    ['an empty search', 'GET', '/api/public/models/search?q=', undefined, 400, { error: 'request.invalid', message: '"q" must not be empty' }],
  ])('%s → %s with a model error body', async (_what, method, url, payload, status, body) => {
    const app = await start();
    const res = await app.inject({ method: method as 'GET', url, payload, ...LOCAL });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual(body);
  });

  it.each([
    ['read', 'GET', '/api/public/models/local', 200],
    ['read', 'GET', '/api/public/models/search?q=x', 200],
    ['read', 'GET', '/api/public/models/pulls', 200],
    ['read', 'POST', '/api/public/models/pulls', 403],
    ['read', 'POST', '/api/public/models/pulls/p1/cancel', 403],
    ['read', 'DELETE', '/api/public/models/local/halo-test/tiny', 403],
    ['operate', 'POST', '/api/public/models/pulls', 202],
    ['operate', 'DELETE', '/api/public/models/local/halo-test/tiny', 200],
  ])('a %s token: %s %s → %i', async (scope, method, url, status) => {
    const app = await start();
    const headers = await tokenFor(app, scope as 'read');
    const res = await app.inject({ method: method as 'GET', url, headers, ...(method === 'POST' ? { payload: { repo: 'halo-test/tiny' } } : {}), ...LAN });
    expect(res.statusCode).toBe(status);
    if (status === 403) expect(res.json()).toEqual({ error: 'auth.forbidden', message: 'The token "read" has the read scope; this needs operate.' });
    // Nothing was started or removed for a refused caller.
    if (status === 403) expect(models.calls.filter((c) => c.method !== 'listLocal')).toEqual([]);
  });

  it('closes the engine with the server', async () => {
    await start();
    // Through the test app, which removes its home once the server is closed.
    await t!.close();
    expect(models.closed).toBe(true);
    t = null;
  });
});

/** An open SSE connection; `events` fills as they arrive. */
function openStream(port: number, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; events: { event: string; data: unknown }[]; ended: () => boolean; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/public/models/events', headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const events: { event: string; data: unknown }[] = [];
      let buffer = '';
      let ended = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      });
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
      resolve({ res, events, ended: () => ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the models event stream (real HTTP)', () => {
  it('sends the pulls as they stand, then each change, then the local list after a cache change', async () => {
    const app = await start();
    models.pulls.set('p1', pullFixture());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const stream = await openStream(port);
    cleanups.push(() => stream.close());
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toBe('text/event-stream');
    expect(stream.res.headers['x-accel-buffering']).toBe('no');
    await waitFor(() => stream.events.length === 1, 5_000, 'the snapshot of the running pull');
    expect(stream.events[0]).toEqual({ event: 'pull', data: pullFixture() });

    models.emitPull(pullFixture({ bytesDone: 1000, state: 'ready', etaSeconds: null, finishedAt: '2026-12-01T12:01:00.000Z' }));
    await waitFor(() => stream.events.length === 2, 5_000, 'the ready event');
    expect(stream.events[1]).toMatchObject({ event: 'pull', data: { id: 'p1', state: 'ready', bytesDone: 1000 } });

    // A burst of cache changes is one listing.
    models.emitLocalChange();
    models.emitLocalChange();
    models.emitLocalChange();
    await waitFor(() => stream.events.some((e) => e.event === 'local'), 5_000, 'the local list');
    expect(stream.events.filter((e) => e.event === 'local')).toEqual([{ event: 'local', data: LOCAL_FIXTURE }]);
  });

  it('ends when the server closes, and a read token may follow it while a revoked one is cut off', async () => {
    const app = await start();
    const headers = await tokenFor(app, 'read');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const stream = await openStream(port, { ...headers, host: `127.0.0.1:${port}` });
    cleanups.push(() => stream.close());
    expect(stream.res.statusCode).toBe(200);
    const revoke = await app.inject({ method: 'DELETE', url: '/api/public/tokens/read', ...LOCAL });
    expect(revoke.statusCode).toBe(200);
    await waitFor(() => stream.ended(), 5_000, 'the revoked token’s stream to end');
  });
});

