import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Scope } from '../../shared/api.js';
import { buildTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/backend-process.js';
import { modelServiceDouble, pullFixture, type ModelServiceDouble } from './support/model-service-double.js';
import { LOCAL, startRun, TRAIN } from './support/runs.js';
import { openSse, type SseWatch } from './support/sse.js';

// Every long-lived stream of the API outlives the request that opened it, and
// the gate saw its token only then. Each stream, with three readers at once:
// one whose token expires mid-stream, one whose token is revoked, and the
// local user, who has no token to lose.

/** How long the expiring token lives: time enough to open the streams on a loaded machine. */
const LIFE_MS = 4_000;

let t: TestApp | null = null;
let streams: SseWatch[] = [];
let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  for (const stream of streams) stream.close();
  streams = [];
  if (t) {
    // Nothing a test started may outlive it.
    for (const run of t.app.halo.runs.list()) if (run.state === 'running' || run.state === 'queued') await t.app.halo.runs.stop(run.id, 'test cleanup');
    await t.close();
  }
  t = null;
});

/** A token that expires about LIFE_MS from now (the store keeps whole seconds); `--expires` allows nothing this short. */
async function expiringToken(app: FastifyInstance, name: string, scope: Scope) {
  const { token, record } = await app.halo.store.create({ name, scope, expires: '1m' }, new Date(Date.now() - 60_000 + LIFE_MS));
  return { token, expiresAt: Date.parse(record.expires!) };
}

interface StreamCase {
  scope: Scope;
  models?: ModelServiceDouble;
  /** Starts what the stream follows, if anything; returns the stream's path. */
  path(app: FastifyInstance, home: string): Promise<string>;
  /** Makes the stream send an event, for a stream that sends none by itself within seconds. */
  poke?(app: FastifyInstance): Promise<unknown> | void;
  /** Sends nothing until something changes, and nothing here changes it. */
  quiet?: true;
}

const models = modelServiceDouble();
const STREAMS: [string, StreamCase][] = [
  ['the audit stream', { scope: 'admin', path: async () => '/api/public/audit/stream', poke: (app) => app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name: 'poke' }, ...LOCAL }) }],
  ['the models stream', { scope: 'read', models, path: async () => '/api/public/models/events', poke: () => models.emitPull(pullFixture()) }],
  ['the serving stream', { scope: 'read', path: async () => '/api/public/serving/events', quiet: true }],
  [
    'a run\'s stream',
    {
      scope: 'read',
      path: async (app, home) => {
        const run = await startRun(app, { name: 'long', command: [process.execPath, TRAIN, '--steps', '2000', '--interval', '250'], cwd: home });
        expect(run.status).toBe(201);
        return `/api/public/runs/${run.body.id}/events`;
      },
    },
  ],
  ['the machine stream', { scope: 'read', path: async () => '/api/public/machine/events' }],
];

describe.each(STREAMS)('%s', (_what, c) => {
  it('ends shortly after its token expires, within a second of its revocation, and never for the local user', async () => {
    t = await buildTestApp(c.models ? { models: c.models } : {});
    const { app } = t;
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}${await c.path(app, t.home)}`;
    const expiring = await expiringToken(app, 'brief', c.scope);
    const { token: revoked } = await app.halo.store.create({ name: 'revoked', scope: c.scope });

    const byExpiring = await openSse(url, { headers: { authorization: `Bearer ${expiring.token}` } });
    const byRevoked = await openSse(url, { headers: { authorization: `Bearer ${revoked}` } });
    const byLocal = await openSse(url);
    streams.push(byExpiring, byRevoked, byLocal);
    for (const stream of streams) expect(stream.status).toBe(200);
    await waitFor(() => streams.every((s) => s.blocks > 0), 10_000, 'each stream to send its first block');
    expect(Date.now(), 'the streams opened before the token expired').toBeLessThan(expiring.expiresAt);

    await app.halo.store.revoke('revoked');
    await waitFor(() => byRevoked.endedAt !== null, 2_000, 'the revoked token’s stream to end');

    await waitFor(() => byExpiring.endedAt !== null, expiring.expiresAt - Date.now() + 1_500, 'the expired token’s stream to end');
    expect(byExpiring.endedAt!, 'not before the token expired').toBeGreaterThanOrEqual(expiring.expiresAt);
    for (const stream of [byExpiring, byRevoked]) expect(stream.error).toBeNull();

    // The local user's stream goes on, and still carries news.
    expect(byLocal.endedAt).toBeNull();
    const seen = byLocal.events.length;
    await c.poke?.(app);
    if (!c.quiet) await waitFor(() => byLocal.events.length > seen, 10_000, 'a new event on the local stream');
    expect(byLocal.endedAt).toBeNull();
    expect(byLocal.error).toBeNull();
  });
});

/** The per-launch key of the stub runtime: a canary that must never reach a client. */
const RUNTIME_KEY = 'stub-runtime-key-7c1d';

/**
 * A runtime that generates forever, one chunk every 100 ms, until its client
 * leaves (or, not streaming, never answers): what a long answer looks like
 * from the proxy. `generating` holds the answers still being generated.
 */
async function endlessRuntime() {
  const generating = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${RUNTIME_KEY}`) return void res.writeHead(401).end();
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      generating.add(res);
      res.on('close', () => generating.delete(res));
      // A whole answer comes only at the end of a generation, which never ends.
      if (!(JSON.parse(body) as { stream?: boolean }).stream) return;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'x' } }] })}\n\n`;
      const timer = setInterval(() => res.write(chunk), 100);
      res.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  cleanups.push(() => server.closeAllConnections());
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, port, generating };
}

const lastError = (stream: SseWatch) => (JSON.parse(stream.events.at(-1)!.data) as { error?: { code: string; type: string } }).error;

async function v1App() {
  t = await buildTestApp();
  const { app } = t;
  const runtime = await endlessRuntime();
  // The serving manager's lease, pointing at the stub: the gate, the route and the proxy are the real ones.
  vi.spyOn(app.halo.serving, 'acquire').mockImplementation(async (model) => ({ model, url: runtime.url, port: runtime.port, key: RUNTIME_KEY, release: () => undefined }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, runtime, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/chat/completions` };
}

describe('a /v1 answer', () => {
  it('ends with an error event and cancels the generation when its token expires or is revoked; the local user\'s answer goes on', async () => {
    const { app, runtime, url } = await v1App();
    const body = JSON.stringify({ model: 'halo-test/endless', messages: [{ role: 'user', content: 'go on' }], stream: true });
    const ask = (headers: Record<string, string> = {}) => openSse(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const expiring = await expiringToken(app, 'brief', 'inference');
    const { token: revoked } = await app.halo.store.create({ name: 'revoked', scope: 'inference' });

    const byExpiring = await ask({ authorization: `Bearer ${expiring.token}` });
    const byRevoked = await ask({ authorization: `Bearer ${revoked}` });
    const byLocal = await ask();
    streams.push(byExpiring, byRevoked, byLocal);
    for (const stream of streams) expect(stream.status).toBe(200);
    await waitFor(() => streams.every((s) => s.events.length > 0), 10_000, 'each answer to start');
    expect(Date.now(), 'the answers started before the token expired').toBeLessThan(expiring.expiresAt);
    expect(runtime.generating.size).toBe(3);

    await app.halo.store.revoke('revoked');
    await waitFor(() => byRevoked.endedAt !== null, 2_000, 'the revoked token’s answer to end');
    expect(lastError(byRevoked)).toMatchObject({ code: 'auth.invalid', type: 'authentication_error' });

    await waitFor(() => byExpiring.endedAt !== null, expiring.expiresAt - Date.now() + 1_500, 'the expired token’s answer to end');
    expect(byExpiring.endedAt!, 'not before the token expired').toBeGreaterThanOrEqual(expiring.expiresAt);
    expect(lastError(byExpiring)).toMatchObject({ code: 'auth.expired', type: 'authentication_error' });
    for (const stream of [byExpiring, byRevoked]) expect(stream.error).toBeNull();

    // Both generations were cancelled in the runtime; the local user's goes on.
    await waitFor(() => runtime.generating.size === 1, 2_000, 'the runtime to stop generating for the lost tokens');
    const seen = byLocal.events.length;
    await waitFor(() => byLocal.events.length > seen, 5_000, 'the local answer to go on');
    expect(byLocal.endedAt).toBeNull();
    for (const stream of streams) {
      expect(stream.text).not.toContain(RUNTIME_KEY);
      expect(stream.text).not.toMatch(/hfk_/);
    }
  });

  it('not streamed, is refused in OpenAI\'s shape and cancelled when its token is revoked before the answer comes', async () => {
    const { app, runtime, url } = await v1App();
    const { token } = await app.halo.store.create({ name: 'revoked', scope: 'inference' });
    const answer = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'halo-test/endless', messages: [{ role: 'user', content: 'go on' }] }),
    });
    await waitFor(() => runtime.generating.size === 1, 10_000, 'the generation to start');
    await app.halo.store.revoke('revoked');
    const res = await answer;
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { message: 'The token "revoked" was revoked while answering.', type: 'authentication_error', param: null, code: 'auth.invalid' } });
    await waitFor(() => runtime.generating.size === 0, 2_000, 'the runtime to stop generating');
  });
});
