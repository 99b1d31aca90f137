import { afterEach, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { buildTestApp, type TestApp } from './support/app.js';
import { openBodyProblem } from '../src/request-validation.js';

// Fastify's default Ajv dropped unknown fields and coerced wrong types without
// a word: `{"name":"ci","scop":"read"}` made an admin token. Every body is now
// taken as sent or refused with 400 request.invalid, naming the field.

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const LOCAL = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8000' } } as const;

async function start() {
  t = await buildTestApp();
  return t.app;
}

describe('request bodies', () => {
  it.each([
    ['POST', '/api/public/tokens', { name: 'ci', scop: 'read' }, 'unknown field "scop"'],
    ['POST', '/api/public/tokens', { name: 'ci', scope: 'root' }, '"scope" must be one of admin, operate, read, inference'],
    ['POST', '/api/public/tokens', { name: 'ci', scope: 'READ' }, '"scope" must be one of admin, operate, read, inference'],
    ['POST', '/api/public/tokens', { name: 42 }, '"name" must be a string'],
    ['POST', '/api/public/tokens', { scope: 'read' }, 'missing field "name"'],
    ['POST', '/api/public/tokens', { name: 'ci', expires: 30 }, '"expires" must be a string or null'],
    ['POST', '/api/public/tokens', { name: 'ci', expires: '1'.repeat(21) }, '"expires" must be at most 20 characters'],
    ['POST', '/api/public/tokens', { name: 'ci', note: ['a'] }, '"note" must be a string'],
    ['POST', '/api/public/tokens', ['ci'], 'The request body must be a JSON object'],
    ['PUT', '/api/public/connection/remote', { enabled: 'true' }, '"enabled" must be a boolean'],
    ['PUT', '/api/public/connection/remote', { enabled: 1 }, '"enabled" must be a boolean'],
    ['PUT', '/api/public/connection/remote', { enabled: null }, '"enabled" must be a boolean'],
    ['PUT', '/api/public/connection/remote', { enabled: false, port: '8000' }, '"port" must be an integer'],
    ['PUT', '/api/public/connection/remote', { enabled: false, port: 0 }, '"port" must be at least 1'],
    ['PUT', '/api/public/connection/remote', { enabled: false, interface: '' }, '"interface" must not be empty'],
    ['PUT', '/api/public/connection/remote', { enabled: false, foo: 1 }, 'unknown field "foo"'],
    ['POST', '/api/public/huggingface/token', { verify: 'false' }, '"verify" must be a boolean'],
    ['POST', '/api/public/huggingface/token', { adoptHfCache: true, adopt: true }, 'unknown field "adopt"'],
    ['POST', '/api/public/huggingface/check-model', { model: 'a/b', revision: 'main' }, 'unknown field "revision"'],
    ['POST', '/api/public/huggingface/check-model', { model: '' }, '"model" must not be empty'],
  ])('%s %s %j → 400: %s', async (method, url, payload, message) => {
    const app = await start();
    const res = await app.inject({ method: method as 'POST' | 'PUT', url, payload, ...LOCAL });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'request.invalid', message });
  });

  it('creates nothing when a field is refused', async () => {
    const app = await start();
    await app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name: 'ci', scop: 'read' }, ...LOCAL });
    expect((await app.inject({ url: '/api/public/tokens', ...LOCAL })).json()).toEqual({ tokens: [] });
  });

  it('never echoes the value it refused (a body may carry a token)', async () => {
    const app = await start();
    const canary = 'hf_CanaryValue0123456789abcdefghijklmn';
    for (const payload of [{ token: 123, verify: canary }, { token: canary, [canary]: 1 }, { token: 'x'.repeat(600) + canary }]) {
      const res = await app.inject({ method: 'POST', url: '/api/public/huggingface/token', payload, ...LOCAL });
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain('CanaryValue');
    }
  });

  it('still takes a well-formed body as sent', async () => {
    const app = await start();
    const res = await app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name: 'ci', scope: 'read', expires: null, note: 'build box' }, ...LOCAL });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'ci', scope: 'read', expires: null, note: 'build box' });
  });
});

describe('query strings', () => {
  it.each([
    ['5', 200],
    ['1000', 200],
    ['0', 400],
    ['1001', 400],
    ['abc', 400],
    ['5.5', 400],
  ])('GET /audit?limit=%s → %s', async (limit, status) => {
    const app = await start();
    const res = await app.inject({ url: `/api/public/audit?limit=${limit}`, ...LOCAL });
    expect(res.statusCode).toBe(status);
    if (status === 400) expect(res.json()).toEqual({ error: 'request.invalid', message: '"limit" must be a whole number from 1 to 1000' });
  });

  it('reads the limit as a number', async () => {
    const app = await start();
    for (const name of ['a', 'b', 'c']) await app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name }, ...LOCAL });
    const res = await app.inject({ url: '/api/public/audit?limit=2', ...LOCAL });
    expect(res.json().entries.map((e: { token: string }) => e.token)).toEqual(['c', 'b']);
  });
});

describe('body schemas, checked when a route is declared', () => {
  it.each([
    ['a closed object', Type.Object({ a: Type.String() }, { additionalProperties: false }), null],
    ['no body schema', undefined, null],
    ['an open object', Type.Object({ a: Type.String() }), 'body must say additionalProperties: false'],
    ['an open nested object', Type.Object({ a: Type.Object({ b: Type.String() }) }, { additionalProperties: false }), 'body.a must say additionalProperties: false'],
    ['an open object in a list', Type.Object({ a: Type.Array(Type.Object({})) }, { additionalProperties: false }), 'body.a must say additionalProperties: false'],
    ['an open branch of a union', Type.Union([Type.Object({}, { additionalProperties: false }), Type.Object({})]), 'body must say additionalProperties: false'],
  ])('%s → %j', (_what, schema, problem) => {
    expect(openBodyProblem(schema)).toBe(problem);
  });
});
