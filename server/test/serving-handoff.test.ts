import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'rolldown';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/backend-process.js';
import { openSse, type SseWatch } from './support/sse.js';
import { ConnectionHandoff, type HandoffChannel } from '../src/serving/connection-handoff.js';
import { RUNTIME_KEY_ENV } from '../src/serving/embedded/protocol.js';
import { spawnRuntime, type RuntimeProcess } from '../src/serving/runtime-adapter.js';

// A streamed /v1 answer handed to the runtime with the client's connection
// (connection-handoff.ts): the gate, the route and both ends of the handoff
// are the real ones, and so is the runtime's OpenAI server; only its engine is
// a stand-in whose pace the test sets (support/handoff-runtime.ts). The
// embedded runtime with the tiny model takes the same path in
// serving-embedded/serving-api/serving-e2e (the openai SDK in a namespace).

const KEY = 'handoff-runtime-key-0123456789';
const MODEL = 'halo-test/handoff';
let bundleDir: string;
let entry: string;

beforeAll(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'halo-handoff-'));
  await build({
    input: { 'handoff-runtime': join(import.meta.dirname, 'support', 'handoff-runtime.ts') },
    platform: 'node',
    logLevel: 'silent',
    output: { dir: bundleDir, format: 'esm', entryFileNames: '[name].mjs' },
  });
  entry = join(bundleDir, 'handoff-runtime.mjs');
}, 60_000);
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

interface Rig {
  app: FastifyInstance;
  runtime: RuntimeProcess;
  /** Generations running in the runtime, as it last said. */
  generating: () => number;
  releases: ({ tokens: number; seconds: number } | undefined)[];
  url: string;
}

let t: TestApp | null = null;
let runtime: RuntimeProcess | null = null;
let streams: SseWatch[] = [];
afterEach(async () => {
  for (const stream of streams) stream.close();
  streams = [];
  if (runtime) {
    runtime.kill('SIGCONT');
    runtime.kill('SIGKILL');
    await runtime.exited;
  }
  runtime = null;
  await t?.close();
  t = null;
});

async function rig(): Promise<Rig> {
  runtime = spawnRuntime({ command: process.execPath, args: [entry], env: { ...process.env, [RUNTIME_KEY_ENV]: KEY }, addedEnv: [], watchesParent: true, takesConnections: true }, null);
  const child = runtime;
  let generating = 0;
  const port = await new Promise<number>((resolve) =>
    child.onMessage((m) => {
      const message = m as { type: string; port?: number; count?: number };
      if (message.type === 'test-listening') resolve(message.port!);
      if (message.type === 'test-generating') generating = message.count!;
    }),
  );
  expect(child.send).toBeTypeOf('function');
  const handoff = new ConnectionHandoff(child as HandoffChannel);
  t = await buildTestApp();
  const { app } = t;
  const releases: Rig['releases'] = [];
  // The serving manager's lease, pointing at the stand-in: the gate, the route, the proxy and the handoff are the real ones.
  vi.spyOn(app.halo.serving, 'acquire').mockImplementation(async (model) => ({ model, url: `http://127.0.0.1:${port}`, port, key: KEY, release: (stats) => void releases.push(stats), handoff }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, runtime: child, generating: () => generating, releases, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/chat/completions` };
}

const ask = (url: string, content: string, headers: Record<string, string> = {}, stream = true) =>
  openSse(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream }) });
const lastError = (s: SseWatch) => (JSON.parse(s.events.at(-1)!.data) as { error?: unknown }).error;

describe('a streamed answer handed to the runtime', () => {
  it('is written by the runtime on the client\'s connection, with the backend\'s headers, and closes the connection after it', async () => {
    const r = await rig();
    const stream = await ask(r.url, 'tick');
    streams.push(stream);
    expect(stream.status).toBe(200);
    // The runtime answered (its Connection: close), with the headers every backend answer carries.
    expect(Object.fromEntries(stream.headers)).toMatchObject({
      'content-type': 'text/event-stream',
      connection: 'close',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    await waitFor(() => stream.events.length >= 5, 10_000, 'the answer to stream');
    expect(JSON.parse(stream.events[1]!.data)).toMatchObject({ object: 'chat.completion.chunk', model: MODEL, choices: [{ delta: { content: ' tick' } }] });
    expect(stream.text).not.toContain(KEY);
  });

  it('a client that leaves cancels the generation, and the lease is given back with what was generated', async () => {
    const r = await rig();
    const stream = await ask(r.url, 'tick');
    await waitFor(() => stream.events.length >= 5, 10_000, 'the answer to stream');
    expect(r.generating()).toBe(1);
    stream.close();
    await waitFor(() => r.generating() === 0, 5_000, 'the generation to be cancelled');
    await waitFor(() => r.releases.length === 1, 5_000, 'the lease to be released');
    expect(r.releases[0]).toMatchObject({ tokens: expect.any(Number), seconds: expect.any(Number) });
    expect(r.releases[0]!.tokens).toBeGreaterThanOrEqual(4);
  });

  it('ends with an error event and cancels the generation when its token is revoked; the local user\'s answer goes on', async () => {
    const r = await rig();
    const { token } = await r.app.halo.store.create({ name: 'revoked', scope: 'inference' });
    const byToken = await ask(r.url, 'tick', { authorization: `Bearer ${token}` });
    const byLocal = await ask(r.url, 'tick');
    streams.push(byToken, byLocal);
    await waitFor(() => byToken.events.length > 2 && byLocal.events.length > 2, 10_000, 'both answers to start');
    expect(byToken.headers.get('connection')).toBe('close');
    await r.app.halo.store.revoke('revoked');
    await waitFor(() => byToken.endedAt !== null, 2_000, 'the revoked token’s answer to end');
    expect(lastError(byToken)).toEqual({ message: 'The token "revoked" was revoked while answering.', type: 'authentication_error', param: null, code: 'auth.invalid' });
    expect(byToken.error).toBeNull();
    await waitFor(() => r.generating() === 1, 2_000, 'the runtime to stop generating for the revoked token');
    const seen = byLocal.events.length;
    await waitFor(() => byLocal.events.length > seen, 5_000, 'the local answer to go on');
    expect(byLocal.endedAt).toBeNull();
    expect(byToken.text).not.toMatch(/hfk_/);
  });

  it('a runtime that does not end a cut answer (stopped) has it ended by the backend', async () => {
    const r = await rig();
    const { token } = await r.app.halo.store.create({ name: 'revoked', scope: 'inference' });
    const byToken = await ask(r.url, 'tick', { authorization: `Bearer ${token}` });
    streams.push(byToken);
    await waitFor(() => byToken.events.length > 2, 10_000, 'the answer to start');
    expect(byToken.headers.get('connection')).toBe('close');
    r.runtime.kill('SIGSTOP');
    await r.app.halo.store.revoke('revoked');
    await waitFor(() => byToken.endedAt !== null, 5_000, 'the backend to end the answer');
    expect(lastError(byToken)).toMatchObject({ code: 'auth.invalid', type: 'authentication_error' });
    expect(byToken.error).toBeNull();
  });

  it('a runtime that dies mid-answer leaves the backend to end the stream with an error event, not a hang', async () => {
    const r = await rig();
    const stream = await ask(r.url, 'tick');
    streams.push(stream);
    await waitFor(() => stream.events.length > 2, 10_000, 'the answer to start');
    expect(stream.headers.get('connection')).toBe('close');
    r.runtime.kill('SIGKILL');
    await waitFor(() => stream.endedAt !== null, 5_000, 'the stream to end');
    expect(lastError(stream)).toMatchObject({ code: 'serving.runtime_gone', type: 'server_error' });
    expect(stream.error).toBeNull();
    await waitFor(() => r.releases.length === 1, 2_000, 'the lease to be released');
  });

  it('a runtime that dies before its first byte leaves the backend to answer 502 in OpenAI\'s shape', async () => {
    const r = await rig();
    const answer = fetch(r.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'silent' }], stream: true }) });
    await waitFor(() => r.generating() === 1, 10_000, 'the generation to start');
    r.runtime.kill('SIGKILL');
    const res = await answer;
    expect(res.status).toBe(502);
    // The backend's own answer on the connection it had handed over, which then closes.
    expect(res.headers.get('connection')).toBe('close');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toMatchObject({ error: { code: 'serving.runtime_gone', type: 'server_error' } });
  });

  it('a whole streamed answer ends with [DONE], and the lease learns how many tokens it took', async () => {
    const r = await rig();
    const stream = await ask(r.url, 'short');
    await waitFor(() => stream.endedAt !== null, 10_000, 'the answer to end');
    expect(stream.error).toBeNull();
    expect(stream.headers.get('connection')).toBe('close');
    expect(stream.events.at(-1)!.data).toBe('[DONE]');
    expect(stream.events.filter((e) => e.data.includes(' tick'))).toHaveLength(3);
    await waitFor(() => r.releases.length === 1, 2_000, 'the lease to be released');
    expect(r.releases[0]).toMatchObject({ tokens: 3 });
  });

  it('an answer that is not streamed goes through the proxy, on a connection kept alive', async () => {
    const r = await rig();
    const res = await fetch(r.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'short' }] }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('keep-alive');
    expect(await res.json()).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: ' tick tick tick' } }] });
  });
});
