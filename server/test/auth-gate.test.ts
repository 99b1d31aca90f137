import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestApp, LAN, type TestApp } from './support/app.js';
import type { AppOptions } from '../src/app.js';
import type { TokenCreated } from '../../shared/api.js';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function start(options: AppOptions & { envExtra?: NodeJS.ProcessEnv } = {}) {
  t = await buildTestApp(options);
  return t.app;
}

const LOCAL = { remoteAddress: '127.0.0.1' } as const;
const HOST = { host: '127.0.0.1:8000' };

async function newToken(app: Awaited<ReturnType<typeof start>>, body: Record<string, unknown> = { name: 'laptop' }) {
  const res = await app.inject({ method: 'POST', url: '/api/public/tokens', headers: HOST, payload: body, ...LOCAL });
  expect(res.statusCode).toBe(201);
  return res.json() as TokenCreated;
}

describe('the auth gate on a loopback bind (auth auto)', () => {
  it('lets a local user in with no token', async () => {
    const app = await start();
    const res = await app.inject({ url: '/api/public/health', headers: HOST, ...LOCAL });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', version: expect.any(String) });
  });

  it('asks a LAN client for a token, with the Bearer challenge and a JSON body', async () => {
    const app = await start();
    const res = await app.inject({ url: '/api/public/health', ...LAN });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="halo-forge"');
    expect(res.json()).toEqual({ error: 'auth.required', message: expect.stringContaining('halo-forge token create') });
  });

  it('accepts a valid token from a LAN client, as Bearer or X-API-Key', async () => {
    const app = await start();
    const { token } = await newToken(app);
    for (const headers of [{ authorization: `Bearer ${token}` }, { 'x-api-key': token }]) {
      const res = await app.inject({ url: '/api/public/health', headers, ...LAN });
      expect(res.statusCode).toBe(200);
    }
  });

  it('never reads a token from the query string', async () => {
    const app = await start();
    const { token } = await newToken(app);
    const res = await app.inject({ url: `/api/public/health?token=${token}&api_key=${token}`, ...LAN });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('auth.required');
  });

  it('rejects a bad token even from a local user, with invalid_token', async () => {
    const app = await start();
    const res = await app.inject({ url: '/api/public/health', headers: { ...HOST, authorization: `Bearer hfk_${'x'.repeat(43)}` }, ...LOCAL });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="halo-forge", error="invalid_token"');
    expect(res.json()).toEqual({ error: 'auth.invalid', message: 'The token is not valid: it is unknown or has been revoked.' });
  });

  it.each([
    ['Bearer with no token', { authorization: 'Bearer' }, 'Bad credentials: the Authorization header has no token after "Bearer".'],
    ['a Basic header', { authorization: 'Basic Zm9vOmJhcg==' }, 'Bad credentials: only "Authorization: Bearer <token>" is accepted.'],
    ['a 20 KB token', { authorization: `Bearer ${'a'.repeat(15_000)}` }, 'Bad credentials: the token is far longer than any halo-forge token.'],
    ['non-ASCII bytes', { authorization: 'Bearer hfk_\u00e9\u00e8\u00ff' }, 'The token is not valid: it is unknown or has been revoked.'],
  ])('answers %s with a fast 401', async (_what, headers, message) => {
    const app = await start();
    const res = await app.inject({ url: '/api/public/health', headers, ...LAN });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'auth.invalid', message });
  });

  it('tells an expired token apart', async () => {
    const app = await start();
    const { token } = await newToken(app, { name: 'old', expires: '1m' });
    const store = app.halo.store;
    const real = store.verify.bind(store);
    store.verify = (secret: string) => real(secret, Date.now() + 120_000);
    const res = await app.inject({ url: '/api/public/health', headers: { authorization: `Bearer ${token}` }, ...LAN });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'auth.expired', message: 'The token "old" has expired; create a new one.' });
  });

  it('refuses a foreign Host on a loopback bind with 421, whatever the credentials (DNS rebinding)', async () => {
    const app = await start();
    const { token } = await newToken(app);
    for (const headers of [{ host: 'evil.example:8000' }, { host: 'evil.example:8000', authorization: `Bearer ${token}` }]) {
      const res = await app.inject({ url: '/api/public/health', headers, ...LOCAL });
      expect(res.statusCode).toBe(421);
      expect(res.json()).toEqual({ error: 'request.host', message: expect.stringContaining('--allowed-hosts') });
    }
  });

  it('answers a Host given with --allowed-hosts, but still wants a token for it', async () => {
    const app = await start({ allowedHosts: ['gpu-box.lan'] });
    const res = await app.inject({ url: '/api/public/health', headers: { host: 'gpu-box.lan:8000' }, ...LOCAL });
    expect(res.statusCode).toBe(401);
  });

  it.each([
    ['a same-host reverse proxy', { ...HOST, 'x-forwarded-for': '203.0.113.9' }],
    ['a cross-site form POST', { ...HOST, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
  ])('does not let %s pass as local', async (_what, headers) => {
    const app = await start();
    const res = await app.inject({ url: '/api/public/health', headers, ...LOCAL });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('auth.required');
  });

  it('believes forwarding headers only from a --trust-proxy peer', async () => {
    const app = await start({ trustProxy: '10.0.0.2' });
    const viaProxy = await app.inject({ url: '/api/public/health', headers: { ...HOST, 'x-forwarded-for': '127.0.0.1' }, remoteAddress: '10.0.0.2' });
    expect(viaProxy.statusCode).toBe(200);
    const spoofed = await app.inject({ url: '/api/public/health', headers: { ...HOST, 'x-forwarded-for': '127.0.0.1' }, remoteAddress: '10.0.0.3' });
    expect(spoofed.statusCode).toBe(401);
  });

  it('serves the dashboard assets without a token', async () => {
    const app = await start();
    const res = await app.inject({ url: '/', ...LAN });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });
});

describe('auth on and off', () => {
  it('--auth on asks a local user for a token too', async () => {
    const app = await start({ auth: 'on' });
    const res = await app.inject({ url: '/api/public/health', headers: HOST, ...LOCAL });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('auth.required');
  });

  it('--auth off still refuses a cross-site request from a web page', async () => {
    const app = await start({ auth: 'off' });
    for (const headers of [{ ...HOST, 'sec-fetch-site': 'cross-site' }, { ...HOST, origin: 'https://evil.example' }]) {
      const res = await app.inject({ method: 'POST', url: '/api/public/huggingface/verify', headers, ...LOCAL });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: 'auth.forbidden', message: 'Cross-site requests are refused.' });
    }
    expect((await app.inject({ url: '/api/public/health', headers: { ...HOST, origin: 'http://127.0.0.1:8000' }, ...LOCAL })).statusCode).toBe(200);
  });

  it('--auth off refuses to switch remote access on', async () => {
    const app = await start({ auth: 'off' });
    const res = await app.inject({ method: 'PUT', url: '/api/public/connection/remote', headers: HOST, payload: { enabled: true }, ...LOCAL });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: 'exposure.failed', message: expect.stringContaining('Authentication is off (--auth off)') });
  });

  it('--auth off lets anyone in but still rejects a bad token', async () => {
    const app = await start({ auth: 'off' });
    expect((await app.inject({ url: '/api/public/health', ...LAN })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/public/health', headers: { authorization: 'Bearer hfk_nope' }, ...LAN })).statusCode).toBe(401);
  });
});

describe('scopes', () => {
  it.each([
    ['read', 'GET', '/api/public/health', 200],
    ['read', 'GET', '/api/public/tokens', 403],
    ['read', 'PUT', '/api/public/connection/remote', 403],
    ['operate', 'GET', '/api/public/connection', 200],
    ['operate', 'GET', '/api/public/tokens', 403],
    ['operate', 'POST', '/api/public/tokens', 403],
    ['admin', 'GET', '/api/public/tokens', 200],
    ['admin', 'GET', '/api/public/audit', 200],
  ])('a %s token: %s %s → %i', async (scope, method, url, status) => {
    const app = await start();
    const { token } = await newToken(app, { name: 'x', scope });
    const res = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}` }, ...(method === 'GET' ? {} : { payload: {} }), ...LAN });
    expect(res.statusCode).toBe(status);
    if (status === 403) expect(res.json()).toEqual({ error: 'auth.forbidden', message: `The token "x" has the ${scope} scope; this needs ${url.includes('tokens') || url.includes('remote') ? 'admin' : 'operate'}.` });
  });
});

describe('throttling failed attempts', () => {
  const bad = { authorization: `Bearer hfk_${'b'.repeat(43)}` };

  it('answers an address with 429 and Retry-After after 10 failures, and nobody else', async () => {
    const app = await start();
    for (let i = 0; i < 10; i++) expect((await app.inject({ url: '/api/public/health', headers: bad, ...LAN })).statusCode).toBe(401);
    const blocked = await app.inject({ url: '/api/public/health', headers: bad, ...LAN });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.json()).toEqual({ error: 'auth.throttled', message: expect.stringContaining('Too many failed attempts from 192.168.1.50') });
    expect((await app.inject({ url: '/api/public/health', headers: bad, remoteAddress: '192.168.1.51' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/public/health', headers: HOST, ...LOCAL })).statusCode).toBe(200);
  });

  it('never locks out a valid token, whatever others at the same address did', async () => {
    const app = await start();
    const { token } = await newToken(app);
    for (let i = 0; i < 12; i++) await app.inject({ url: '/api/public/connection', ...LAN });
    for (let i = 0; i < 12; i++) await app.inject({ url: '/api/public/health', headers: bad, ...LAN });
    expect((await app.inject({ url: '/api/public/health', headers: { authorization: `Bearer ${token}` }, ...LAN })).statusCode).toBe(200);
  });

  it('counts an IPv6 client by its /64, so rotating addresses does not help', async () => {
    const app = await start();
    for (let i = 1; i <= 10; i++) await app.inject({ url: '/api/public/health', headers: bad, remoteAddress: `2001:db8:0:1::${i.toString(16)}` });
    expect((await app.inject({ url: '/api/public/health', headers: bad, remoteAddress: '2001:db8:0:1:ffff::99' })).statusCode).toBe(429);
    expect((await app.inject({ url: '/api/public/health', headers: bad, remoteAddress: '2001:db8:0:2::1' })).statusCode).toBe(401);
  });
});

describe('single-token deployments (HALOFORGE_API_TOKEN)', () => {
  it.each([
    ['hfk_envonly', 'HALOFORGE_API_TOKEN is too short to be safe: use at least 20 random characters after "hfk_".'],
    ['sk-not-ours-0123456789012345678', 'HALOFORGE_API_TOKEN does not look like a halo-forge token: "hfk_" followed by letters, digits, "-" or "_".'],
  ])('refuses to start with %s', async (value, message) => {
    await expect(start({ envExtra: { HALOFORGE_API_TOKEN: value } })).rejects.toThrow(message);
  });

  it('takes precedence over the file store', async () => {
    const envSecret = 'hfk_envonly_' + 'e'.repeat(40);
    const app = await start({ envExtra: { HALOFORGE_API_TOKEN: envSecret } });
    const { token: fileToken } = await newToken(app);
    expect((await app.inject({ url: '/api/public/health', headers: { authorization: `Bearer ${envSecret}` }, ...LAN })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/public/health', headers: { authorization: `Bearer ${fileToken}` }, ...LAN })).statusCode).toBe(401);
  });
});

describe('session, tokens API and audit', () => {
  it('tells a remote client without a token that one is needed', async () => {
    const app = await start();
    const res = await app.inject({ url: '/api/public/auth/session', ...LAN });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ local: false, authRequired: true, token: null, proxied: false });
    expect((await app.inject({ url: '/api/public/auth/session', headers: HOST, ...LOCAL })).json()).toEqual({ local: true, authRequired: false, token: null, proxied: false });
  });

  it('creates a token once, lists it without its secret, revokes it', async () => {
    const app = await start();
    const created = await newToken(app, { name: 'ci', scope: 'read', note: 'runner' });
    expect(created).toEqual({ name: 'ci', scope: 'read', note: 'runner', created: expect.any(String), lastUsed: null, lastUsedFrom: null, expires: null, token: expect.stringMatching(/^hfk_/) });
    const list = await app.inject({ url: '/api/public/tokens', headers: HOST, ...LOCAL });
    expect(list.json()).toEqual({ tokens: [{ name: 'ci', scope: 'read', note: 'runner', created: created.created, lastUsed: null, lastUsedFrom: null, expires: null }] });
    expect(list.body).not.toContain(created.token);
    const revoked = await app.inject({ method: 'DELETE', url: '/api/public/tokens/ci', headers: HOST, ...LOCAL });
    expect(revoked.statusCode).toBe(200);
    expect((await app.inject({ url: '/api/public/health', headers: { authorization: `Bearer ${created.token}` }, ...LAN })).statusCode).toBe(401);
  });

  it.each([
    [{ name: 'bad name' }, 400, 'token.invalid_name'],
    [{ name: '' }, 400, 'token.invalid_name'],
    [{ name: 'x', scope: 'root' }, 400, 'request.invalid'],
    [{ name: 'x', expires: 'later' }, 400, 'request.invalid'],
    [{ nom: 'x' }, 400, 'request.invalid'],
  ])('refuses %j with %i %s', async (body, status, code) => {
    const app = await start();
    const res = await app.inject({ method: 'POST', url: '/api/public/tokens', headers: HOST, payload: body, ...LOCAL });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error: code, message: expect.any(String) });
  });

  it('refuses a duplicate name with 409 and an unknown revoke with 404', async () => {
    const app = await start();
    await newToken(app, { name: 'dup' });
    const dup = await app.inject({ method: 'POST', url: '/api/public/tokens', headers: HOST, payload: { name: 'dup' }, ...LOCAL });
    expect(dup.json()).toEqual({ error: 'token.duplicate', message: 'A token named "dup" already exists; revoke it first or pick another name.' });
    const missing = await app.inject({ method: 'DELETE', url: '/api/public/tokens/nope', headers: HOST, ...LOCAL });
    expect(missing.statusCode).toBe(404);
  });

  it('audits failures by address, token changes and first use, never a secret', async () => {
    const app = await start();
    const { token } = await newToken(app);
    await app.inject({ url: '/api/public/health', headers: { authorization: 'Bearer hfk_wrong_' + 'w'.repeat(40) }, ...LAN });
    await app.inject({ url: '/api/public/health', headers: { authorization: `Bearer ${token}` }, remoteAddress: '192.168.1.77' });
    await app.inject({ method: 'DELETE', url: '/api/public/tokens/laptop', headers: HOST, ...LOCAL });
    const res = await app.inject({ url: '/api/public/audit', headers: HOST, ...LOCAL });
    const events = (res.json() as { entries: { event: string; address?: string; token?: string; reason?: string }[] }).entries.map(({ event, address, token: name, reason }) => ({ event, address, token: name, reason }));
    expect(events).toEqual([
      { event: 'token.revoked', address: '127.0.0.1', token: 'laptop', reason: undefined },
      { event: 'token.first_use', address: '192.168.1.77', token: 'laptop', reason: undefined },
      { event: 'auth.failed', address: '192.168.1.50', token: undefined, reason: 'unknown or revoked token' },
      { event: 'token.created', address: '127.0.0.1', token: 'laptop', reason: undefined },
    ]);
    const log = readFileSync(join(t!.home, 'audit.log'), 'utf8');
    expect(log).not.toContain(token.slice(4));
    expect(log).not.toContain('w'.repeat(40));
  });

  it('describes the connection for the dashboard', async () => {
    const app = await start();
    const res = await app.inject({ url: '/api/public/connection', headers: HOST, ...LOCAL });
    expect(res.json()).toEqual({
      bind: { host: '127.0.0.1', port: 8000 },
      authMode: 'auto',
      remote: { enabled: false, fixed: false, interface: 'all', port: 8000, urls: [], addresses: [], needsToken: false },
      tokenCount: 0,
      envToken: false,
    });
  });
});

describe('the session route', () => {
  it.each([
    ['auto', LOCAL, HOST, { local: true, authRequired: false, proxied: false }],
    ['auto', LAN, {}, { local: false, authRequired: true, proxied: false }],
    ['on', LOCAL, HOST, { local: true, authRequired: true, proxied: false }],
    ['off', LAN, {}, { local: false, authRequired: false, proxied: false }],
    // A reverse proxy on the workstation: the socket is loopback, the client is not.
    ['auto', LOCAL, { ...HOST, 'x-forwarded-for': '203.0.113.9' }, { local: false, authRequired: true, proxied: true }],
    ['auto', LOCAL, { ...HOST, via: '1.1 nginx' }, { local: false, authRequired: true, proxied: true }],
    ['auto', LOCAL, { host: 'gpu.example.com' }, { local: false, authRequired: true, proxied: true }],
  ] as const)('with --auth %s, %j tells whether this client needs a token and came through a proxy', async (auth, peer, headers, expected) => {
    const app = await start({ auth, ...('host' in headers && headers.host === 'gpu.example.com' ? { allowedHosts: ['gpu.example.com'] } : {}) });
    const res = await app.inject({ url: '/api/public/auth/session', headers, ...peer });
    expect(res.json()).toEqual({ ...expected, token: null });
  });

  it('names the token a caller used, and rejects a revoked one', async () => {
    const app = await start();
    const { token } = await newToken(app, { name: 'phone', scope: 'read' });
    const res = await app.inject({ url: '/api/public/auth/session', headers: { authorization: `Bearer ${token}` }, ...LAN });
    expect(res.json()).toEqual({ local: false, authRequired: true, token: { name: 'phone', scope: 'read' }, proxied: false });
    await app.inject({ method: 'DELETE', url: '/api/public/tokens/phone', headers: HOST, ...LOCAL });
    const after = await app.inject({ url: '/api/public/auth/session', headers: { authorization: `Bearer ${token}` }, ...LAN });
    expect(after.statusCode).toBe(401);
    expect(after.json().error).toBe('auth.invalid');
  });
});
