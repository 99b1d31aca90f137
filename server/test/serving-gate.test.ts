import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { buildTestApp, LAN, type TestApp } from './support/app.js';
import type { AppOptions } from '../src/app.js';
import type { Scope, TokenCreated } from '../../shared/api.js';

// /v1 sits behind the gate exactly as /api/public does: the same tokens,
// throttling and request-target rules, with OpenAI's error shape; and the
// inference scope reaches /v1 and nothing else.

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function start(options: AppOptions = {}) {
  t = await buildTestApp(options);
  return t.app;
}

const LOCAL = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8000' } } as const;

async function tokenOf(app: TestApp['app'], name: string, scope: Scope): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name, scope }, ...LOCAL });
  expect(res.statusCode).toBe(201);
  return (res.json() as TokenCreated).token;
}

describe('the gate in front of /v1', () => {
  it('asks a LAN client without a token for one, in OpenAI\'s error shape', async () => {
    const app = await start();
    const res = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'x/y', messages: [] }, ...LAN });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="halo-forge"');
    expect(res.json()).toEqual({ error: { message: expect.stringContaining('halo-forge token create'), type: 'authentication_error', param: null, code: 'auth.required' } });
  });

  it('lets a local user in with no token (auth auto), and answers unknown /v1 paths in OpenAI\'s shape', async () => {
    const app = await start();
    const models = await app.inject({ url: '/v1/models', ...LOCAL });
    expect(models.statusCode).toBe(200);
    expect(models.json()).toEqual({ object: 'list', data: [] });
    const missing = await app.inject({ url: '/v1/embeddings', method: 'POST', payload: {}, ...LOCAL });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { type: 'not_found_error', code: 'not_found' } });
  });

  // Each scope against each kind of route: 403 is the gate's refusal; anything else got past it.
  it.each<[Scope, string, string, boolean]>([
    ['inference', 'GET', '/v1/models', true],
    ['inference', 'POST', '/v1/chat/completions', true],
    ['inference', 'POST', '/v1/completions', true],
    ['inference', 'GET', '/api/public/tokens', false],
    ['inference', 'GET', '/api/public/serving', false],
    ['inference', 'POST', '/api/public/serving/stop', false],
    ['inference', 'GET', '/api/public/health', false],
    ['inference', 'GET', '/api/public/auth/session', true],
    ['read', 'GET', '/v1/models', true],
    ['read', 'POST', '/v1/chat/completions', false],
    ['read', 'GET', '/api/public/serving', true],
    ['read', 'POST', '/api/public/serving/run', false],
    ['operate', 'POST', '/v1/chat/completions', true],
    ['operate', 'POST', '/api/public/serving/stop', true],
    ['operate', 'GET', '/api/public/tokens', false],
    ['admin', 'POST', '/v1/chat/completions', true],
  ])('a %s token on %s %s passes the gate: %s', async (scope, method, url, passes) => {
    const app = await start();
    const token = await tokenOf(app, 'device', scope);
    const payload = method === 'POST' ? (url.startsWith('/v1') ? { model: 'halo-test/not-here', messages: [{ role: 'user', content: 'hi' }], prompt: 'hi' } : { model: 'halo-test/not-here' }) : undefined;
    const res = await app.inject({ method: method as 'GET' | 'POST', url, payload, headers: { authorization: `Bearer ${token}` }, ...LAN });
    if (passes) expect(res.statusCode, res.body).not.toBe(403);
    else {
      expect(res.statusCode).toBe(403);
      const body = res.json();
      if (url.startsWith('/v1')) expect(body).toMatchObject({ error: { type: 'permission_error', code: 'auth.forbidden' } });
      else expect(body).toMatchObject({ error: 'auth.forbidden', message: expect.stringContaining(`the ${scope} scope`) });
    }
  });

  it('a model nobody pulled: 404 in OpenAI\'s shape with the three actions, on /v1 and (our shape) on /api/public', async () => {
    const app = await start();
    const token = await tokenOf(app, 'device', 'operate');
    const headers = { authorization: `Bearer ${token}` };
    const v1 = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'halo-test/not-here', messages: [{ role: 'user', content: 'hi' }] }, headers, ...LAN });
    expect(v1.statusCode).toBe(404);
    const access = {
      repo: 'halo-test/not-here',
      reason: 'not_pulled',
      url: 'http://127.0.0.1:9/halo-test/not-here',
      actions: [
        { kind: 'connect-hf', label: 'Connect Hugging Face' },
        { kind: 'choose-open-model', label: 'Choose an open model' },
        { kind: 'open-model-page', label: 'Open the model page', url: 'http://127.0.0.1:9/halo-test/not-here' },
      ],
    };
    expect(v1.json()).toEqual({ error: { message: expect.stringContaining('is not downloaded'), type: 'invalid_request_error', param: 'model', code: 'serving.not_downloaded', access } });
    const api = await app.inject({ method: 'POST', url: '/api/public/serving/run', payload: { model: 'halo-test/not-here' }, headers, ...LAN });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ error: 'serving.not_downloaded', message: expect.stringContaining('halo-forge models pull halo-test/not-here'), access });
  });
});

/** One raw HTTP/1.1 exchange, so the request target goes out exactly as written. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(answer || (err.code ?? 'error')));
    socket.write(text, 'latin1');
  });
}

describe('/v1 cannot be walked around with request-target tricks', () => {
  it.each([
    'http://127.0.0.1/v1/models',
    '/%761/models',
    '/v%31/models',
    '/V1/models',
    '/v1//models',
    '//v1/models',
    '/v1%2fmodels',
    '/x/../v1/models',
    '/v1/./models',
    '/v1/models;x',
    '/v1/models%00',
  ])('GET %s with --auth on and no token never reaches /v1', async (target) => {
    const app = await start({ auth: 'on' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const answer = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const status = Number(/^HTTP\/1.1 (\d+)/.exec(answer)?.[1]);
    const body = answer.split('\r\n\r\n')[1] ?? '';
    if (status === 200) expect(body.toLowerCase()).toMatch(/^<!doctype html>|^<p>the dashboard/);
    else expect([400, 401, 404]).toContain(status);
    expect(body).not.toContain('"object":"list"');
  });
});

describe('the serving streams', () => {
  it('end within a second of their token being revoked', async () => {
    const app = await start({ auth: 'on' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const { token } = await app.halo.store.create({ name: 'watcher', scope: 'read' });
    const res = await fetch(`http://127.0.0.1:${port}/api/public/serving/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: status')) text += new TextDecoder().decode((await reader.read()).value);
    await app.halo.store.revoke('watcher');
    const started = Date.now();
    for (;;) {
      const { done } = await Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the stream outlived its token')), 2_000))]);
      if (done) break;
    }
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
