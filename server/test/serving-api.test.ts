import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireRuntimeBuild } from './support/serving.js';
import { runCli, waitFor, workstations, type BackendProcess } from './support/backend-process.js';
import { OTHER_MODEL, OTHER_REPO, runtimePids, servingHome, TINY_MODEL, TINY_REPO, tinyModelHub, type ServingHome } from './support/serving-rig.js';
import { FAKE_HUB_MODELS, type FakeHub } from '../../e2e/support/fake-hub.js';
import type { RunningModel, ServingStatus } from '../../shared/serving.js';

// Serving through the real backend process on loopback (a local user needs
// no token): the bad-input table of issue 12, a runtime dying mid-stream,
// just-in-time loading, the idle TTL and the cap, and the CLI.

let hub: FakeHub;
beforeAll(async () => {
  requireRuntimeBuild();
  hub = await tinyModelHub();
});
afterAll(async () => hub?.close());

const post = (b: BackendProcess, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${b.url}${path.slice(1)}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const status = async (b: BackendProcess) => (await (await fetch(`${b.url}api/public/serving`)).json()) as ServingStatus;
/** The first event of a server-sent event stream (comments skipped); the stream is then closed. */
async function firstEvent(url: string): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before an event: ${text}`);
      text += new TextDecoder().decode(value);
      const event = text.split('\n\n').find((e) => e.startsWith('event: '));
      if (event) return event;
    }
  } finally {
    controller.abort();
  }
}

const chat = (model: string, content = 'hi', extra: object = {}) => ({ model, messages: [{ role: 'user', content }], max_tokens: 2, ...extra });

describe('bad input gets a clear answer', () => {
  const w = workstations();
  let s: ServingHome;
  let b: BackendProcess;
  beforeAll(async () => {
    s = await servingHome(w, hub);
    b = await w.backend(['--log-level', 'warn'], { ...s.env, PATH: '/usr/bin:/bin' });
  }, 60_000);
  afterAll(w.release);

  it.each<[string, string, unknown, number, object]>([
    ['a model that is not downloaded (/v1)', '/v1/chat/completions', chat('halo-test/nowhere'), 404, { error: { code: 'serving.not_downloaded', param: 'model', type: 'invalid_request_error' } }],
    ['a model that is not downloaded (run)', '/api/public/serving/run', { model: 'halo-test/nowhere' }, 404, { error: 'serving.not_downloaded', access: { repo: 'halo-test/nowhere' } }],
    ['a gated model this workstation was not let into', '/v1/chat/completions', chat(FAKE_HUB_MODELS.gatedManual), 404, { error: { code: 'serving.not_downloaded', access: { reason: 'gated', url: expect.stringMatching(/\/meta-llama\/Llama-3\.1-8B$/), actions: [{ kind: 'connect-hf' }, { kind: 'choose-open-model' }, { kind: 'open-model-page' }] } } }],
    ['a private model', '/api/public/serving/run', { model: FAKE_HUB_MODELS.private }, 404, { error: 'serving.not_downloaded', message: expect.stringContaining('connect Hugging Face'), access: { reason: 'private' } }],
    ['a file the repo does not have', '/api/public/serving/run', { model: `${TINY_REPO}:missing.gguf` }, 404, { error: 'serving.not_downloaded' }],
    ['an unknown runtime', '/api/public/serving/run', { model: TINY_REPO, runtime: 'ollama' }, 400, { error: 'serving.unknown_runtime', message: expect.stringContaining('embedded, llama-server, vllm') }],
    ['a runtime that is not installed', '/api/public/serving/run', { model: TINY_REPO, runtime: 'llama-server' }, 503, { error: 'serving.not_installed', message: expect.stringContaining('llama-server') }],
    ['a context the model cannot take', '/api/public/serving/run', { model: TINY_REPO, ctx: 4096 }, 400, { error: 'serving.context_too_large', message: expect.stringContaining('(512)') }],
    ['a context that is not a number of tokens', '/api/public/serving/run', { model: TINY_REPO, ctx: 'big' }, 400, { error: 'request.invalid' }],
    ['a malformed /v1 body', '/v1/chat/completions', '{"model": "x', 400, { error: { type: 'invalid_request_error', code: 'invalid_request_body', message: expect.stringContaining('not valid JSON') } }],
    ['a /v1 body that is not an object', '/v1/chat/completions', '[1,2]', 400, { error: { type: 'invalid_request_error', message: 'The request body must be a JSON object.' } }],
    ['a /v1 body without a model', '/v1/chat/completions', { messages: [] }, 400, { error: { param: 'model', code: 'model_required' } }],
  ])('%s', async (_what, path, body, code, answer) => {
    const res = await post(b, path, body);
    expect(res.status).toBe(code);
    expect(await res.json()).toMatchObject(answer);
  });

  it('a context too large leaves nothing loaded', async () => {
    await post(b, '/api/public/serving/run', { model: TINY_REPO, ctx: 4096 });
    expect((await status(b)).models).toEqual([]);
    expect(runtimePids(s.cache)).toEqual([]);
  });

  it('a request larger than the body limit is refused with 413, in OpenAI\'s shape', async () => {
    const res = await post(b, '/v1/chat/completions', chat(TINY_REPO, 'x'.repeat(9 * 1024 * 1024)));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_request_body', message: expect.stringContaining('8 MiB') } });
  });

  it('a prompt longer than the context is refused by the runtime, and the refusal reaches the client as sent', async () => {
    const res = await post(b, '/v1/chat/completions', chat(TINY_REPO, 'hello '.repeat(2000)));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'context_length_exceeded', message: expect.stringContaining('context holds 512') } });
  }, 60_000);

  it('a runtime that dies mid-stream ends the stream with an error event, not a hang', async () => {
    const res = await post(b, '/v1/completions', { model: TINY_REPO, prompt: 'hello', max_tokens: 500, stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const first = await reader.read();
    text += new TextDecoder().decode(first.value);
    for (const pid of runtimePids(s.cache)) process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      expect(Date.now()).toBeLessThan(deadline);
    }
    const events = text.split('\n\n').filter((e) => e.startsWith('data: '));
    const last = events.at(-1)!;
    // 500 tokens take far longer than the kill: the answer was cut, and the client is told so.
    expect(JSON.parse(last.slice(6))).toMatchObject({ error: { code: 'serving.runtime_gone', type: 'server_error' } });
    // The supervisor restarts it; the backend itself never went down.
    expect((await fetch(`${b.url}api/public/health`)).status).toBe(200);
  }, 60_000);
});

describe('just in time, the idle TTL and the cap', () => {
  const w = workstations();
  afterEach(w.release);

  it('loads a downloaded model for a /v1 request, refuses a second past --max-models 1, unloads after --model-ttl, then loads the other', async () => {
    const s = await servingHome(w, hub, [TINY_REPO, OTHER_REPO]);
    const b = await w.backend(['--model-ttl', '3s', '--max-models', '1'], s.env);

    const listed = (await (await fetch(`${b.url}v1/models`)).json()) as { data: { id: string; state: string }[] };
    expect(listed.data).toEqual([expect.objectContaining({ id: OTHER_MODEL, state: 'not-loaded' }), expect.objectContaining({ id: TINY_MODEL, state: 'not-loaded' })]);
    expect(runtimePids(s.cache)).toEqual([]);

    const first = await post(b, '/v1/chat/completions', chat(TINY_REPO));
    expect(first.status).toBe(200);
    expect(((await first.json()) as { model: string }).model).toBe(TINY_MODEL);
    const loaded = (await status(b)).models;
    expect(loaded).toEqual([expect.objectContaining({ model: TINY_MODEL, state: 'ready', loadedBy: 'jit', requests: 1, unloadAt: expect.any(String) })]);
    expect(loaded[0]!.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);

    const second = await post(b, '/v1/chat/completions', chat(OTHER_REPO));
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: { code: 'serving.too_many', message: expect.stringContaining('(1)') } });

    const took = await waitFor(async () => (await status(b)).models.length === 0 && runtimePids(s.cache).length === 0, 15_000, 'the idle model to be unloaded');
    expect(took).toBeGreaterThan(1_000);

    const third = await post(b, '/v1/chat/completions', chat(OTHER_MODEL));
    expect(third.status).toBe(200);
    expect((await status(b)).models.map((m) => m.model)).toEqual([OTHER_MODEL]);
  }, 120_000);

  it('CLI: models run, ps (table and --json), models stop; the status and log streams; a bad name is a clear error', async () => {
    const s = await servingHome(w, hub);
    const b = await w.backend([], s.env);
    const ran = await runCli(['models', 'run', TINY_REPO], s.env);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`${TINY_MODEL} is ready`);
    expect(ran.stdout).toMatch(/base URL http:\/\/127\.0\.0\.1:\d+\/v1/);

    const table = await runCli(['ps'], s.env);
    expect(table.stdout).toMatch(/^MODEL\s+RUNTIME\s+MEMORY\s+STATE\s+UPTIME\s+TOKENS\/S\n/);
    expect(table.stdout).toMatch(new RegExp(`${TINY_MODEL.replace(/[.]/g, '\\.')}\\s+embedded\\s+\\d+(\\.\\d)? MiB\\s+ready\\s+\\d+s`));
    const listed = JSON.parse((await runCli(['ps', '--json'], s.env)).stdout) as RunningModel[];
    expect(listed).toEqual([expect.objectContaining({ model: TINY_MODEL, runtime: 'embedded', state: 'ready', loadedBy: 'user' })]);

    // The live streams: the whole status, then the runtime's log (its tail first), redacted and never its key.
    const events = await firstEvent(`${b.url}api/public/serving/events`);
    expect(events).toMatch(/^event: status\ndata: /);
    expect(JSON.parse(events.split('data: ')[1]!)).toMatchObject({ type: 'status', status: { models: [{ model: TINY_MODEL, state: 'ready' }], maxLoaded: 2, ttlSeconds: 3600 } });
    const log = await firstEvent(`${b.url}api/public/serving/log?model=${encodeURIComponent(TINY_REPO)}`);
    const logEvent = JSON.parse(log.split('data: ')[1]!) as { model: string; text: string };
    expect(logEvent.model).toBe(TINY_REPO);
    expect(logEvent.text).toContain(`starting embedded for ${TINY_MODEL}`);
    expect(logEvent.text).toContain('ready on 127.0.0.1:');
    const notRunning = await fetch(`${b.url}api/public/serving/log?model=halo-test%2Fnowhere`);
    expect(notRunning.status).toBe(404);
    expect(await notRunning.json()).toMatchObject({ error: 'serving.not_running' });

    const unknown = await runCli(['models', 'stop', 'halo-test/nowhere'], s.env);
    expect(unknown).toMatchObject({ code: 3 });
    expect(unknown.stderr).toContain('"halo-test/nowhere" is not running');

    const stopped = await runCli(['models', 'stop', TINY_REPO], s.env);
    expect(stopped).toMatchObject({ code: 0, stdout: `Stopped ${TINY_MODEL}.\n` });
    expect(runtimePids(s.cache)).toEqual([]);
    expect((await runCli(['ps'], s.env)).stdout).toContain('No model is loaded');
  }, 120_000);
});
