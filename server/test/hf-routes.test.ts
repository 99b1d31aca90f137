import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_MODELS, FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { buildTestApp, LAN, type TestApp } from './support/app.js';

const LOCAL = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8000' } } as const;
const CANARY = 'hf_CANARYroutesTestTokenNeverEcho0123456';

let hub: FakeHub;
let t: TestApp | null = null;
beforeAll(async () => {
  hub = await startFakeHub();
  hub.addToken(CANARY, { displayName: 'canary-read' });
});
afterAll(() => hub.close());
afterEach(async () => {
  await t?.close();
  t = null;
  hub.reset();
});

async function start(envExtra: NodeJS.ProcessEnv = {}) {
  t = await buildTestApp({ envExtra: { HF_ENDPOINT: hub.url, ...envExtra } });
  return t.app;
}

type App = Awaited<ReturnType<typeof start>>;

const post = (app: App, url: string, payload?: object) => app.inject({ method: 'POST', url: `/api/public/huggingface/${url}`, payload, ...LOCAL });
const del = (app: App) => app.inject({ method: 'DELETE', url: '/api/public/huggingface/token', ...LOCAL });
const status = (app: App) => app.inject({ url: '/api/public/huggingface/status', ...LOCAL });

const KEYRING_OFF = { available: false, reason: 'Turned off by HALOFORGE_KEYRING=off.' };

describe('saving a token through the API', () => {
  it('verifies it with the Hub, saves it and returns the status, never the token', async () => {
    const app = await start();
    const res = await post(app, 'token', { token: CANARY, verify: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      present: true,
      source: 'file',
      verified: true,
      username: 'halo-tester',
      tokenName: 'canary-read',
      role: 'read',
      canClear: true,
      keyring: KEYRING_OFF,
      checkedAt: expect.any(String),
      message: `Using the token saved in ${join(t!.home, 'secrets', 'huggingface_token')}. Verified as halo-tester (token "canary-read", role read).`,
      warnings: [],
      hfCacheAvailable: false,
    });
    expect(res.body).not.toContain(CANARY.slice(3, 12));
    expect((await status(app)).json()).toEqual(res.json());
  });

  it.each([
    ['write', FAKE_HUB_TOKENS.write, true],
    ['admin', FAKE_HUB_TOKENS.admin, true],
    ['fineGrained', FAKE_HUB_TOKENS.fineGrainedWrite, true],
    ['fineGrained', FAKE_HUB_TOKENS.fineGrainedRead, false],
    ['read', FAKE_HUB_TOKENS.read, false],
  ])('a %s token is saved, with a warning when it can write (%#)', async (role, token, warns) => {
    const app = await start();
    const body = (await post(app, 'token', { token })).json();
    expect(body.role).toBe(role);
    expect(body.warnings).toEqual(
      warns ? ['This token can write to Hugging Face repositories; a read token is enough to download models. Create one at https://huggingface.co/settings/tokens and save it instead.'] : [],
    );
  });

  it('refuses a token of the wrong shape without asking the Hub', async () => {
    const app = await start();
    const before = hub.requests.length;
    const res = await post(app, 'token', { token: 'hfk_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'hf.invalid_token',
      message: 'This is a Halo Forge API token (hfk_...), not a Hugging Face token (hf_...). Create a read token at https://huggingface.co/settings/tokens.',
    });
    expect(hub.requests.length).toBe(before);
  });

  it('refuses a token the Hub rejects with the Hub’s reason, as 422 (a 401 would mean the API token is bad)', async () => {
    const app = await start();
    const res = await post(app, 'token', { token: FAKE_HUB_TOKENS.unknown });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ error: 'hf.rejected', message: 'The Hugging Face Hub refused this token: Invalid credentials in Authorization header. Nothing was saved.' });
    expect((await status(app)).json().present).toBe(false);
  });

  it('says plainly when the Hub cannot be reached, saves nothing, and offers to save unverified', async () => {
    const app = await start();
    hub.setOffline(true);
    const res = await post(app, 'token', { token: CANARY, verify: true });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: 'hf.unreachable',
      message: `The Hugging Face Hub at ${hub.url} could not be reached (connection closed). Nothing was saved. To save the token without verifying it, send "verify": false (CLI: halo-forge hf login --no-verify).`,
    });
    expect((await status(app)).json().present).toBe(false);

    const unverified = await post(app, 'token', { token: CANARY, verify: false });
    expect(unverified.statusCode).toBe(200);
    expect(unverified.json()).toMatchObject({
      present: true,
      verified: false,
      username: null,
      checkedAt: null,
      warnings: ['This token was saved without verification; verify it once the Hugging Face Hub can be reached.'],
    });
  });

  it('passes the Hub’s rate limit on as 503 with Retry-After', async () => {
    const app = await start();
    hub.rateLimit(120);
    const res = await post(app, 'token', { token: CANARY });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('120');
    expect(res.json()).toEqual({
      error: 'hf.unreachable',
      message: `The Hugging Face Hub at ${hub.url} is rate-limiting this workstation; try again in 120 s. Nothing was saved. To save the token without verifying it, send "verify": false (CLI: halo-forge hf login --no-verify).`,
    });
  });

  it('asks for a token or an adoption when given neither', async () => {
    const app = await start();
    const res = await post(app, 'token', { verify: true });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'hf.invalid_token', message: 'Send the Hugging Face token as "token", or "adoptHfCache": true to adopt the one the Hugging Face tools saved.' });
  });

  it('records who saved and cleared it in the audit log, without the token', async () => {
    const app = await start();
    const tokenRes = await app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name: 'laptop', scope: 'admin' }, ...LOCAL });
    const apiToken = tokenRes.json().token as string;
    const auth = { authorization: `Bearer ${apiToken}` };
    expect((await app.inject({ method: 'POST', url: '/api/public/huggingface/token', payload: { token: CANARY }, headers: auth, ...LAN })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/api/public/huggingface/token', headers: auth, ...LAN })).statusCode).toBe(200);
    const log = readFileSync(join(t!.home, 'audit.log'), 'utf8');
    expect(log).not.toContain(CANARY.slice(3));
    const events = log.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event.startsWith('hf.'));
    expect(events).toEqual([
      { time: expect.any(String), event: 'hf.saved', address: '192.168.1.50', detail: 'Hugging Face token saved in the file, verified as halo-tester (role read)' },
      { time: expect.any(String), event: 'hf.cleared', address: '192.168.1.50', detail: 'Hugging Face token removed from the file' },
    ]);
  });
});

describe('clearing and re-verifying', () => {
  it('DELETE clears what the app stored and is idempotent', async () => {
    const app = await start();
    await post(app, 'token', { token: CANARY });
    for (let i = 0; i < 2; i++) {
      const res = await del(app);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ present: false, source: 'none', canClear: false });
    }
  });

  it('DELETE answers 409 with an explanation when the token comes from the environment', async () => {
    const app = await start({ HF_TOKEN: CANARY });
    expect((await status(app)).json()).toMatchObject({ source: 'env', canClear: false });
    const res = await del(app);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      error: 'hf.env_token',
      message:
        "The Hugging Face token in use comes from HF_TOKEN in the backend's environment, which Halo Forge cannot clear. Remove HF_TOKEN from the shell profile, service unit or launch agent that starts Halo Forge, then restart it.",
    });
  });

  it('POST verify asks the Hub again and reports a token it now refuses', async () => {
    const app = await start({ HF_TOKEN: FAKE_HUB_TOKENS.unknown });
    const calls = () => hub.requests.filter((r) => r.path === '/api/whoami-v2' && r.token === FAKE_HUB_TOKENS.unknown).length;
    const before = calls();
    const res = await post(app, 'verify');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      present: true,
      verified: false,
      warnings: ['The Hugging Face Hub refused this token when it was last checked (Invalid credentials in Authorization header); save a new one.'],
    });
    expect(calls()).toBeGreaterThanOrEqual(before + 1);
  });

  it('POST verify without any token says so', async () => {
    const app = await start();
    const res = await post(app, 'verify');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'hf.invalid_token', message: 'There is no Hugging Face token to verify; save one first.' });
  });
});

describe('checking a model', () => {
  const M = FAKE_HUB_MODELS;
  const T = FAKE_HUB_TOKENS;
  it.each([
    [M.open, null, 'granted', false],
    [M.open, T.read, 'granted', false],
    [M.open, T.unknown, 'unauthorized', null],
    [M.gatedAuto, null, 'unauthorized', 'auto'],
    [M.gatedAuto, T.read, 'granted', 'auto'],
    [M.gatedManual, T.read, 'gated', 'manual'],
    [M.gatedPending, T.read, 'gated', 'manual'],
    [M.private, null, 'not_found', null],
    [M.private, T.read, 'not_found', null],
    [M.private, T.owner, 'granted', false],
    [M.missing, T.read, 'not_found', null],
  ])('%s with token %s → %s', async (model, token, access, gated) => {
    const app = await start(token ? { HF_TOKEN: token } : {});
    const res = await post(app, 'check-model', { model });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ model, access, gated, url: `${hub.url}/${model}`, message: expect.any(String) });
  });

  it('a model whose license is not accepted yet points at its page and never accepts it', async () => {
    const app = await start({ HF_TOKEN: FAKE_HUB_TOKENS.read });
    const res = await post(app, 'check-model', { model: M.gatedManual });
    expect(res.json().message).toBe(
      `Access to ${M.gatedManual} needs its license accepted on Hugging Face: open ${hub.url}/${M.gatedManual}, accept it, then check again. Halo Forge never accepts a license for you.`,
    );
    expect(hub.requests.every((r) => r.method === 'GET' || r.method === 'HEAD')).toBe(true);
  });

  it('a pending access request is told apart from a license not accepted', async () => {
    const app = await start({ HF_TOKEN: FAKE_HUB_TOKENS.read });
    const res = await post(app, 'check-model', { model: M.gatedPending });
    expect(res.json().message).toBe(`Your request to access ${M.gatedPending} is awaiting a review from its authors. Check again once they have granted it (${hub.url}/${M.gatedPending}).`);
  });

  it('turns to granted once the license has been accepted on the Hub', async () => {
    const app = await start({ HF_TOKEN: FAKE_HUB_TOKENS.admin });
    hub.grant(M.gatedManual);
    expect((await post(app, 'check-model', { model: M.gatedManual })).json().access).toBe('granted');
  });

  it.each([
    [M.gatedAuto, T.read, 'granted'],
    [M.gatedManual, T.read, 'gated'],
    [M.gatedPending, T.read, 'gated'],
    [M.gatedAuto, null, 'unauthorized'],
  ])('on a Hub without the auth-check route, a HEAD under /resolve/ decides: %s with token %s → %s', async (model, token, access) => {
    const app = await start(token ? { HF_TOKEN: token } : {});
    hub.setAuthCheck(false);
    const before = hub.requests.length;
    expect((await post(app, 'check-model', { model })).json().access).toBe(access);
    expect(hub.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/models/${model}`,
      `GET /api/models/${model}/auth-check`,
      `HEAD /${model}/resolve/main/config.json`,
    ]);
  });

  it.each([
    ['offline', () => hub.setOffline(true), `The Hugging Face Hub at HUB could not be reached (connection closed).`],
    ['rate-limited', () => hub.rateLimit(30), `The Hugging Face Hub at HUB is rate-limiting this workstation; try again in 30 s.`],
  ])('reports an %s Hub as unreachable', async (_name, breakHub, message) => {
    const app = await start();
    breakHub();
    const res = await post(app, 'check-model', { model: M.open });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ model: M.open, access: 'unreachable', gated: null, url: `${hub.url}/${M.open}`, message: message.replace('HUB', hub.url) });
  });

  it('refuses a malformed model id', async () => {
    const app = await start();
    const res = await post(app, 'check-model', { model: '../../etc/passwd' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'hf.invalid_model', message: '"../../etc/passwd" is not a Hugging Face model id; use the form org/name, e.g. meta-llama/Llama-3.1-8B.' });
  });
});

describe('who may do what', () => {
  async function tokenWith(app: App, scope: string) {
    const res = await app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name: `t-${scope}`, scope }, ...LOCAL });
    return { authorization: `Bearer ${res.json().token}` };
  }
  it.each([
    ['read', 'GET', 'status', undefined, 200],
    ['read', 'POST', 'check-model', { model: FAKE_HUB_MODELS.open }, 403],
    ['operate', 'POST', 'check-model', { model: FAKE_HUB_MODELS.open }, 200],
    ['operate', 'POST', 'token', { token: CANARY }, 403],
    ['operate', 'DELETE', 'token', undefined, 403],
    ['operate', 'POST', 'verify', undefined, 403],
    ['admin', 'POST', 'token', { token: CANARY }, 200],
    ['admin', 'DELETE', 'token', undefined, 200],
  ] as const)('a %s token: %s %s → %i', async (scope, method, path, payload, code) => {
    const app = await start();
    const headers = await tokenWith(app, scope);
    const res = await app.inject({ method, url: `/api/public/huggingface/${path}`, payload, headers, ...LAN });
    expect(res.statusCode).toBe(code);
    if (code === 403) expect(res.json().error).toBe('auth.forbidden');
  });

  it('a remote client without an API token gets 401 before any Hugging Face work', async () => {
    const app = await start();
    const before = hub.requests.length;
    const res = await app.inject({ method: 'POST', url: '/api/public/huggingface/token', payload: { token: CANARY }, ...LAN });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('auth.required');
    expect(hub.requests.length).toBe(before);
  });
});
