import { afterEach, describe, expect, it } from 'vitest';
import type { TokenCreated } from '../../shared/api.js';
import type { MachineSnapshot, PullSummary } from '../../shared/machine.js';
import type { PullInfo } from '../../shared/models.js';
import { buildTestApp, LAN, type TestApp } from './support/app.js';
import { modelServiceDouble, pullFixture, type ModelServiceDouble } from './support/model-service-double.js';

const LOCAL = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8000' } } as const;
const CANARY = 'hf_CanaryTokenThatMustNeverLeave0000042';
let t: TestApp | null = null;
let models: ModelServiceDouble;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function start() {
  models = modelServiceDouble();
  t = await buildTestApp({ models });
  return t.app;
}

async function readToken(app: TestApp['app']): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/public/tokens', payload: { name: 'phone', scope: 'read' }, ...LOCAL });
  return (res.json() as TokenCreated).token;
}

/** Reads server-sent events until `done` says enough, or the stream ends. */
async function readEvents(body: ReadableStream<Uint8Array>, done: (events: { event: string; data: unknown }[]) => boolean): Promise<{ events: { event: string; data: unknown }[]; ended: boolean; raw: string }> {
  const reader = body.getReader();
  let raw = '';
  const parse = () => [...raw.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => ({ event: m[1]!, data: JSON.parse(m[2]!) as unknown }));
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) return { events: parse(), ended: true, raw };
    raw += new TextDecoder().decode(chunk.value);
    if (done(parse())) {
      await reader.cancel();
      return { events: parse(), ended: false, raw };
    }
  }
}

describe('machine routes with the Models service', () => {
  it('counts the downloaded models and their size, and lists only unfinished pulls, each through the schema', async () => {
    const app = await start();
    models.emitPull(pullFixture({ id: 'p1', state: 'downloading' }));
    models.emitPull(pullFixture({ id: 'p2', repo: 'halo-test/done', state: 'ready', bytesDone: 1000 }));
    // A field the engine might carry by mistake never leaves: the snapshot has a schema, and pulls are summarised.
    models.emitPull({ ...pullFixture({ id: 'p3', repo: 'halo-test/other', state: 'paused' }), token: CANARY } as PullInfo);
    const res = await app.inject({ url: '/api/public/machine', ...LOCAL });
    expect(res.statusCode).toBe(200);
    const body = res.json<MachineSnapshot>();
    expect(body.models).toEqual({
      available: true,
      count: 1,
      sizeBytes: 1000,
      cacheDir: '/tmp/hf/hub',
      pulls: [
        { id: 'p1', repo: 'halo-test/tiny', state: 'downloading', bytesDone: 250, bytesTotal: 1000, rate: 100, etaSeconds: 7.5 },
        { id: 'p3', repo: 'halo-test/other', state: 'paused', bytesDone: 250, bytesTotal: 1000, rate: 100, etaSeconds: 7.5 },
      ],
    });
    expect(res.body).not.toContain(CANARY);
    // The disk shown is the cache's (the nearest folder that exists).
    expect(body.host.disk?.path).toBe('/tmp/hf/hub');
    // The serving layer is wired in: nothing runs yet.
    expect(body.runtimes).toEqual({ available: true, running: [] });
  });

  it('a pull’s progress reaches an open stream between snapshots', async () => {
    const app = await start();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/api/public/machine/events`);
    let emitted = false;
    const { events, raw } = await readEvents(res.body!, (seen) => {
      if (!emitted && seen.some((e) => e.event === 'machine')) {
        emitted = true;
        models.emitPull({ ...pullFixture({ id: 'p9', bytesDone: 600 }), token: CANARY } as PullInfo);
      }
      return seen.some((e) => e.event === 'pulls');
    });
    const pulls = events.find((e) => e.event === 'pulls')!.data as PullSummary[];
    expect(pulls).toEqual([{ id: 'p9', repo: 'halo-test/tiny', state: 'downloading', bytesDone: 600, bytesTotal: 1000, rate: 100, etaSeconds: 7.5 }]);
    expect(raw).not.toContain(CANARY);
  });

  it('a read token may watch from another device; its stream ends when the token is revoked', async () => {
    const app = await start();
    const token = await readToken(app);
    const lan = await app.inject({ url: '/api/public/machine', ...LAN, headers: { authorization: `Bearer ${token}` } });
    expect(lan.statusCode).toBe(200);

    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/api/public/machine/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    let revoked = false;
    const result = await readEvents(res.body!, (seen) => {
      if (!revoked && seen.length > 0) {
        revoked = true;
        void app.inject({ method: 'DELETE', url: '/api/public/tokens/phone', ...LOCAL });
      }
      return false;
    });
    expect(result.ended).toBe(true);
    expect(app.halo.machine.listening).toBe(0);
  });
});
