import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRuntime } from '../src/serving/embedded-adapter.js';
import type { RuntimeSupervisor } from '../src/serving/runtime-supervisor.js';
import { tempHome, testEnv } from './support/backend-process.js';
import { CANARY, commandLine, environOf, requireRuntimeBuild, supervisors } from './support/serving.js';
import { TINY_WORD, writeTinyGguf } from './support/tiny-gguf.js';

// The embedded runtime, started by the supervisor as in the product, asked by the official openai SDK:
// a client nobody here wrote.

const MODEL_ID = 'halo-forge/tiny:tiny.gguf';
const CONTEXT = 4096;
const words = (n: number) => Array(n).fill(TINY_WORD).join(' ');

const made = supervisors();
let home: { home: string; cleanup(): void };
let supervisor: RuntimeSupervisor;
let url: string;
let key: string;
let client: OpenAI;
let coldStartMs: number;

beforeAll(async () => {
  requireRuntimeBuild();
  home = tempHome('halo-serving-');
  const modelPath = writeTinyGguf(join(home.home, 'tiny.gguf'), { contextLength: CONTEXT });
  // The workstation's own API token is in the backend's environment; the HF token is the resolved one.
  const env = testEnv(home.home, { HALOFORGE_API_TOKEN: CANARY.apiToken });
  const started = performance.now();
  supervisor = made.make({
    adapter: new EmbeddedRuntime({ threads: 1 }),
    model: { id: MODEL_ID, repo: 'halo-forge/tiny', commit: 'c0ffee0000000000000000000000000000000000', path: modelPath },
    home: home.home,
    env,
    hfToken: CANARY.hfToken,
    contextSize: CONTEXT,
  });
  const state = await supervisor.start();
  if (state.phase !== 'ready') throw new Error(`the runtime did not start: ${JSON.stringify(state)}`);
  url = state.url;
  key = supervisor.key!;
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
  await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
  coldStartMs = performance.now() - started;
}, 120_000);

afterAll(async () => {
  await made.stopAll();
  home?.cleanup();
});

describe('the embedded runtime, through the openai SDK', () => {
  it('lists its model on /v1/models', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL_ID]);
  });

  it('answers a chat completion whole', async () => {
    const answer = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'system', content: '' }, { role: 'user', content: 'Say something' }], max_tokens: 4 });
    expect(answer.choices[0]!.message).toMatchObject({ role: 'assistant', content: words(4) });
    expect(answer.choices[0]!.finish_reason).toBe('length');
    expect(answer.usage).toMatchObject({ completion_tokens: 4 });
    expect(answer.usage!.prompt_tokens).toBeGreaterThan(0);
  });

  it('streams a chat completion as SSE chunks that end with [DONE], and measures tokens/s', async () => {
    const started = performance.now();
    let firstTokenMs = 0;
    const stream = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'Stream please' }], max_tokens: 200, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      chunks++;
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        if (!firstTokenMs) firstTokenMs = performance.now() - started;
        text += choice.delta.content;
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    const seconds = (performance.now() - started) / 1000;
    expect(text).toBe(words(200));
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(200);
    expect(chunks).toBeGreaterThan(100);
    console.log(`embedded tiny model: cold start (spawn → first answer) ${coldStartMs.toFixed(0)} ms; first token ${firstTokenMs.toFixed(0)} ms; ${(200 / seconds).toFixed(0)} tokens/s streamed`);
  });

  it('streams the raw wire format: data: {...} events, then data: [DONE]', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    for (const e of events.slice(0, -1)) expect(JSON.parse(e.replace(/^data: /, ''))).toMatchObject({ object: 'chat.completion.chunk', model: MODEL_ID });
  });

  it('answers /v1/completions whole and streamed', async () => {
    const whole = await client.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 3 });
    expect(whole.choices[0]!.text).toBe(words(3));
    const stream = await client.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 3, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(words(3));
  });

  it('answers concurrent requests one after another, each whole', async () => {
    const answers = await Promise.all([2, 3, 4].map((n) => client.completions.create({ model: MODEL_ID, prompt: `request ${n}`, max_tokens: n })));
    expect(answers.map((a) => a.choices[0]!.text)).toEqual([words(2), words(3), words(4)]);
  });

  it('refuses a client without the per-launch key with 401 in OpenAI\'s shape, and never echoes what it was sent', async () => {
    const stranger = new OpenAI({ baseURL: `${url}/v1`, apiKey: CANARY.apiToken, maxRetries: 0 });
    const err = await stranger.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    const res = await fetch(`${url}/v1/models`);
    expect(res.status).toBe(401);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ error: { message: 'This runtime needs its key as "Authorization: Bearer <key>".', type: 'authentication_error', param: null, code: 'invalid_api_key' } });
    const echoed = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${CANARY.apiToken}` } });
    expect(await echoed.text()).not.toContain(CANARY.apiToken);
  });

  it.each([
    ['not JSON', '{"model":', 'The request body is not valid JSON', null],
    ['messages is not a list', JSON.stringify({ model: MODEL_ID, messages: 'hi' }), '"messages" must be a non-empty list of {role, content}.', 'messages'],
    ['an unknown role', JSON.stringify({ model: MODEL_ID, messages: [{ role: 'wizard', content: 'hi' }] }), 'messages[0].role must be one of system, developer, user, assistant.', 'messages[0].role'],
    ['a temperature out of range', JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }], temperature: 7 }), '"temperature" must be a number from 0 to 2.', 'temperature'],
    ['no model', JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }), '"model" is required', 'model'],
  ])('answers a malformed body (%s) with a clear 400 in OpenAI\'s shape', async (_name, body, message, param) => {
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(json.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(json.error.message).toContain(message);
  });

  it('refuses a body larger than the limit with 413, and keeps serving', async () => {
    const huge = JSON.stringify({ model: MODEL_ID, prompt: 'x'.repeat(9 * 1024 * 1024) });
    const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: huge });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { message: 'The request body is larger than 8388608 bytes.', type: 'invalid_request_error', param: null, code: 'request_too_large' } });
    expect((await client.completions.create({ model: MODEL_ID, prompt: 'ok', max_tokens: 1 })).choices[0]!.text).toBe(TINY_WORD);
  });

  it('answers a model it does not serve with 404 model_not_found', async () => {
    const err = await client.chat.completions.create({ model: 'someone/else', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('refuses a prompt longer than the context, and says by how much', async () => {
    const long = 'x'.repeat(CONTEXT + 100);
    const chat = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: long }] }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.BadRequestError);
    expect((chat as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    expect((chat as Error).message).toMatch(/The prompt is \d+ tokens, and this model's context holds 4096/);
    const completion = await client.completions.create({ model: MODEL_ID, prompt: long }).catch((e: unknown) => e);
    expect((completion as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    // And it still answers afterwards.
    const after = await client.completions.create({ model: MODEL_ID, prompt: 'ok', max_tokens: 2 });
    expect(after.choices[0]!.text).toBe(words(2));
  });

  it('cancels the generation of a client that disconnects: the next request is answered at once', async () => {
    // Left alone, this one would generate ~4000 tokens (many seconds on the tiny model).
    const abort = new AbortController();
    const stream = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'go on forever' }], stream: true }, { signal: abort.signal });
    let received = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content && ++received === 5) abort.abort();
      }
    } catch (err) {
      expect((err as Error).name).toMatch(/Abort/);
    }
    const started = performance.now();
    const next = await client.completions.create({ model: MODEL_ID, prompt: 'next', max_tokens: 2 });
    const waitedMs = performance.now() - started;
    expect(next.choices[0]!.text).toBe(words(2));
    console.log(`after a disconnect, the next request was answered in ${waitedMs.toFixed(0)} ms`);
    expect(waitedMs).toBeLessThan(3_000);
  });
});

describe('secrets around the embedded runtime', () => {
  it('the key and the HF token are in its environment, not its argv; the workstation API token is in neither', () => {
    const pid = supervisor.pid!;
    const argv = commandLine(pid);
    expect(argv).toContain('serving-runtime.mjs');
    for (const secret of [key, CANARY.hfToken, CANARY.apiToken]) expect(argv).not.toContain(secret);
    const environ = environOf(pid);
    expect(environ).toContain(`HF_TOKEN=${CANARY.hfToken}`);
    expect(environ).toContain(key);
    expect(environ).not.toContain(CANARY.apiToken);
  });

  it('launch_context.json records model, commit, file, runtime, arguments and variable names, and no secret value', () => {
    const record = readFileSync(supervisor.launchContextPath!, 'utf8');
    for (const secret of [key, CANARY.hfToken, CANARY.apiToken]) expect(record).not.toContain(secret);
    const context = JSON.parse(record);
    expect(context).toMatchObject({ runtime: 'embedded', model: MODEL_ID, repo: 'halo-forge/tiny', commit: 'c0ffee0000000000000000000000000000000000', context_size: CONTEXT });
    expect(context.file).toMatch(/tiny\.gguf$/);
    expect(context.arguments).toEqual(expect.arrayContaining(['--model-id', MODEL_ID, '--ctx', String(CONTEXT)]));
    expect(context.environment).toEqual(expect.arrayContaining(['HF_TOKEN', 'HALOFORGE_RUNTIME_KEY']));
    expect(context.environment).not.toContain('HALOFORGE_API_TOKEN');
    expect(context.environment_added).toEqual(['HALOFORGE_RUNTIME_KEY', 'HALOFORGE_RUNTIME_LAUNCH', 'HF_TOKEN']);
    expect(statSync(supervisor.launchContextPath!).mode & 0o777).toBe(0o600);
  });

  it('the runtime log holds its output and no secret', () => {
    const dir = join(home.home, 'logs', 'runtimes');
    const files = readdirSync(dir);
    expect(files).toEqual([expect.stringMatching(/^embedded-halo-forge--tiny--tiny\.gguf\.log$/)]);
    const log = readFileSync(join(dir, files[0]!), 'utf8');
    expect(log).toMatch(/ready in \d+ ms on cpu/);
    expect(log).toContain('POST /v1/chat/completions 200');
    for (const secret of [key, CANARY.hfToken, CANARY.apiToken]) expect(log).not.toContain(secret);
  });
});
