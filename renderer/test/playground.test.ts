import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_TOKEN_STORAGE_KEY } from '../../shared/api';
import type { AccessMissing, ServingStatus } from '../../shared/serving';
import { createApiClient } from '../src/api/client';
import { accessActions } from '../src/lib/access-actions';
import { AnswerClock, parseChatStreamData } from '../src/lib/chat-stream';
import { clampMaxTokens, createPlaygroundStore, modelChoices, modelFromHash } from '../src/stores/playground';
import { appendLog, servingRights } from '../src/stores/serving';
import { eventStream, fakeBackend, json } from './support/fake-backend';

const TOKEN = `hfk_${'i'.repeat(43)}`;
const MODEL = 'halo-test/tiny-llama:tiny.gguf';

const chunk = (content: string, extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ choices: [{ delta: { content }, finish_reason: null }], ...extra })}\n\n`;

/** A clock that moves only when told: each call returns the next reading. */
function steppedClock(readings: number[]) {
  let i = 0;
  return () => readings[Math.min(i++, readings.length - 1)]!;
}

beforeEach(() => localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe('a chat stream line', () => {
  it.each([
    ['a content delta', JSON.stringify({ choices: [{ delta: { content: ' hello' }, finish_reason: null }] }), { kind: 'delta', content: ' hello', finishReason: null, completionTokens: null }],
    ['the role-only first delta', JSON.stringify({ choices: [{ delta: { role: 'assistant' } }] }), { kind: 'delta', content: '', finishReason: null, completionTokens: null }],
    ['the last delta with its finish reason', JSON.stringify({ choices: [{ delta: {}, finish_reason: 'length' }] }), { kind: 'delta', content: '', finishReason: 'length', completionTokens: null }],
    ['a usage-only chunk', JSON.stringify({ choices: [], usage: { completion_tokens: 12 } }), { kind: 'delta', content: '', finishReason: null, completionTokens: 12 }],
    ['the end marker', '[DONE]', { kind: 'done' }],
    ['an error event from a runtime that died', JSON.stringify({ error: { message: 'The runtime stopped while answering.', code: 'serving.runtime_gone' } }), { kind: 'error', message: 'The runtime stopped while answering.', code: 'serving.runtime_gone', access: null }],
    ['an error given as a bare string', JSON.stringify({ error: 'boom' }), { kind: 'error', message: 'boom', code: null, access: null }],
    ['text that is not JSON', 'hello', { kind: 'ignored' }],
    ['JSON of another shape', JSON.stringify({ hello: 1 }), { kind: 'ignored' }],
    ['JSON null', 'null', { kind: 'ignored' }],
  ])('reads %s', (_name, data, expected) => {
    expect(parseChatStreamData(data)).toEqual(expected);
  });
});

describe('time to first token and tokens per second', () => {
  it('are measured from the request to the first token, then over the tokens after the first', () => {
    const clock = new AnswerClock(1_000);
    clock.content(1_120); // first token after 120 ms
    for (let i = 1; i <= 10; i++) clock.content(1_120 + i * 20); // 10 more, one per 20 ms
    expect(clock.metrics()).toEqual({ ttftMs: 120, tokensPerSecond: 50, tokens: 11 });
  });

  it('have no rate for a single token, and nothing before the first', () => {
    const clock = new AnswerClock(0);
    expect(clock.metrics()).toEqual({ ttftMs: null, tokensPerSecond: null, tokens: 0 });
    clock.content(30);
    expect(clock.metrics()).toEqual({ ttftMs: 30, tokensPerSecond: null, tokens: 1 });
  });

  it('take the stream’s own token count over the number of chunks', () => {
    const clock = new AnswerClock(0);
    clock.content(100);
    clock.content(200); // a chunk that held several tokens
    clock.reportTokens(21);
    expect(clock.metrics().tokensPerSecond).toBe(200);
  });

  it('have no rate when every token arrived in the same instant', () => {
    const clock = new AnswerClock(0);
    clock.content(5);
    clock.content(5);
    expect(clock.metrics().tokensPerSecond).toBeNull();
  });
});

describe('the Playground conversation', () => {
  it('streams an answer from /v1/chat/completions with the stored token, chunk by chunk, split mid-line', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, TOKEN);
    const body = [chunk(' hello'), chunk(' hello'), chunk(' hello'), 'data: [DONE]\n\n'].join('');
    const pieces = [body.slice(0, 17), body.slice(17, 80), body.slice(80)];
    const { calls } = fakeBackend({ 'POST /v1/chat/completions': () => new Response(eventStream(pieces), { headers: { 'content-type': 'text/event-stream' } }) });
    // sent at 0; tokens at 40, 50, 60
    const store = createPlaygroundStore(createApiClient(), steppedClock([0, 40, 50, 60]));
    store.getState().choose(MODEL);
    await store.getState().send('  say hello  ');

    expect(calls).toEqual([{ method: 'POST', path: '/v1/chat/completions', authorization: `Bearer ${TOKEN}`, body: { model: MODEL, messages: [{ role: 'user', content: 'say hello' }], max_tokens: 256, stream: true } }]);
    const [question, answer] = store.getState().turns;
    expect(question).toMatchObject({ role: 'user', content: 'say hello' });
    expect(answer).toMatchObject({ role: 'assistant', content: ' hello hello hello', state: 'done', model: MODEL, metrics: { ttftMs: 40, tokensPerSecond: 100, tokens: 3 } });
    expect(store.getState().streaming).toBe(false);
  });

  it('sends the earlier turns with the next question', async () => {
    fakeBackend({ 'POST /v1/chat/completions': () => new Response(eventStream([chunk(' hi'), 'data: [DONE]\n\n'])) });
    const store = createPlaygroundStore(createApiClient(), steppedClock([0, 1, 2, 3, 4, 5]));
    store.getState().choose(MODEL);
    await store.getState().send('one');
    const { calls } = fakeBackend({ 'POST /v1/chat/completions': () => new Response(eventStream([chunk(' ho'), 'data: [DONE]\n\n'])) });
    await store.getState().send('two');
    expect((calls[0]!.body as { messages: unknown }).messages).toEqual([
      { role: 'user', content: 'one' },
      { role: 'assistant', content: ' hi' },
      { role: 'user', content: 'two' },
    ]);
  });

  it('stops: Stop aborts the request, so the connection closes and the answer keeps what came', async () => {
    let requestSignal: AbortSignal | undefined;
    let firstTokenSent!: () => void;
    const firstToken = new Promise<void>((resolve) => (firstTokenSent = resolve));
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(chunk(' hello')));
        firstTokenSent();
        // and never anything more: a long generation
      },
    });
    const fetch = vi.fn(async (_url: RequestInfo | URL, init: RequestInit = {}) => {
      requestSignal = init.signal ?? undefined;
      return new Response(stream);
    });
    vi.stubGlobal('fetch', fetch);
    const store = createPlaygroundStore(createApiClient(), steppedClock([0, 25]));
    store.getState().choose(MODEL);
    const sending = store.getState().send('tell me a long story');
    await firstToken;
    await vi.waitFor(() => expect(store.getState().turns[1]!.state).toBe('streaming'));
    store.getState().stop();
    await sending;

    expect(requestSignal?.aborted).toBe(true);
    expect(store.getState().turns[1]).toMatchObject({ content: ' hello', state: 'stopped', metrics: { ttftMs: 25, tokens: 1 } });
    expect(store.getState().streaming).toBe(false);
    expect(store.getState().failure).toBeNull();
  });

  it('ends an answer whose runtime died mid-stream as failed, with the reason, instead of hanging', async () => {
    fakeBackend({ 'POST /v1/chat/completions': () => new Response(eventStream([chunk(' hel'), `data: ${JSON.stringify({ error: { message: 'The runtime stopped while answering (exit code 139).', type: 'server_error', code: 'serving.runtime_gone' } })}\n\n`])) });
    const store = createPlaygroundStore(createApiClient(), steppedClock([0, 1]));
    store.getState().choose(MODEL);
    await store.getState().send('hi');
    expect(store.getState().turns[1]).toMatchObject({ content: ' hel', state: 'failed' });
    expect(store.getState().failure).toMatchObject({ detail: 'The runtime stopped while answering (exit code 139).', access: null });
  });

  it('keeps nothing in browser storage', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, TOKEN);
    fakeBackend({ 'POST /v1/chat/completions': () => new Response(eventStream([chunk(' secret answer'), 'data: [DONE]\n\n'])) });
    const store = createPlaygroundStore(createApiClient(), steppedClock([0, 1]));
    store.getState().choose(MODEL);
    await store.getState().send('a private question');
    expect(Object.keys(localStorage)).toEqual([API_TOKEN_STORAGE_KEY]);
    expect(sessionStorage.length).toBe(0);
  });
});

describe('when access is missing', () => {
  const gated: AccessMissing = {
    repo: 'halo-test/gated-llama',
    reason: 'gated',
    url: 'https://huggingface.co/halo-test/gated-llama',
    actions: [
      { kind: 'connect-hf', label: 'Connect Hugging Face' },
      { kind: 'choose-open-model', label: 'Choose an open model' },
      { kind: 'open-model-page', label: 'Open the model page', url: 'https://huggingface.co/halo-test/gated-llama' },
    ],
  };

  it('a /v1 error in OpenAI’s shape reaches the Playground with its access actions', async () => {
    fakeBackend({
      'POST /v1/chat/completions': json(404, { error: { message: 'halo-test/gated-llama is not downloaded, and its license is not accepted.', type: 'invalid_request_error', param: 'model', code: 'serving.not_downloaded', access: gated } }),
    });
    const store = createPlaygroundStore(createApiClient(), steppedClock([0]));
    store.getState().choose('halo-test/gated-llama');
    await store.getState().send('hi');
    const failure = store.getState().failure!;
    expect(failure).toMatchObject({ title: 'Not downloaded', detail: 'halo-test/gated-llama is not downloaded, and its license is not accepted.', access: gated });
    expect(accessActions(failure.access!).map((a) => [a.kind, a.href])).toEqual([
      ['connect-hf', '#/huggingface'],
      ['choose-open-model', '#/models'],
      ['open-model-page', 'https://huggingface.co/halo-test/gated-llama'],
    ]);
  });

  it('a run refused on /api/public carries the same actions', async () => {
    fakeBackend({ 'POST /serving/run': json(404, { error: 'serving.not_downloaded', message: 'Not downloaded.', access: gated }) });
    await expect(createApiClient().runModel({ model: 'halo-test/gated-llama' })).rejects.toMatchObject({ code: 'serving.not_downloaded', status: 404, access: gated });
  });

  it.each([
    ['no actions sent', { ...gated, actions: [] }, 'https://huggingface.co/halo-test/gated-llama'],
    ['a javascript: page', { ...gated, url: 'javascript:alert(1)', actions: [{ kind: 'open-model-page' as const, label: 'Open', url: 'javascript:alert(1)' }] }, 'https://huggingface.co/halo-test/gated-llama'],
    ['a plain-http page', { ...gated, url: 'http://evil.example/x', actions: [] }, 'https://huggingface.co/halo-test/gated-llama'],
    ['a page of its own', { ...gated, url: 'https://hub.example/halo-test/gated-llama', actions: [] }, 'https://hub.example/halo-test/gated-llama'],
  ])('always offers all three, and only an https model page (%s)', (_name, access, page) => {
    const actions = accessActions(access);
    expect(actions.map((a) => a.kind)).toEqual(['connect-hf', 'choose-open-model', 'open-model-page']);
    expect(actions[2]!.href).toBe(page);
    expect(actions.every((a) => a.label.length > 0)).toBe(true);
  });
});

describe('who may run and chat', () => {
  const as = (scope: string | null, authRequired = true) => ({ session: { authRequired, token: scope ? { name: 'tok', scope } : null }, refused: null });
  it.each([
    ['admin', as('admin'), true, true],
    ['operate', as('operate'), true, true],
    ['inference', as('inference'), false, true],
    ['read', as('read'), false, false],
    ['a local user, no token needed', as(null, false), true, true],
    ['no token where one is needed', as(null, true), false, false],
  ])('%s', (_name, state, run, chat) => {
    const rights = servingRights(state);
    expect({ run: rights.run, chat: rights.chat }).toEqual({ run, chat });
    if (!chat || !run) expect(rights.why).toMatch(/token/i);
  });

  it('a refused token may do nothing', () => {
    expect(servingRights({ ...as('admin'), refused: { title: 'x', detail: 'y' } })).toMatchObject({ run: false, chat: false });
  });
});

describe('the model picker', () => {
  it('lists ready and loading models first, then the downloaded ones, each once', () => {
    const status = {
      models: [
        { model: 'b/run:b.gguf', state: 'ready' },
        { model: 'a/load:a.gguf', state: 'starting' },
        { model: 'c/crashed:c.gguf', state: 'crashed' },
      ],
      available: [{ model: 'b/run:b.gguf' }, { model: 'a/disk:x.gguf' }, { model: 'c/crashed:c.gguf' }],
      runtimes: [],
      maxLoaded: 2,
      ttlSeconds: 3600,
    } as unknown as ServingStatus;
    expect(modelChoices(status)).toEqual([
      { model: 'a/load:a.gguf', state: 'loading' },
      { model: 'b/run:b.gguf', state: 'running' },
      { model: 'a/disk:x.gguf', state: 'available' },
      { model: 'c/crashed:c.gguf', state: 'available' },
    ]);
  });
});

describe('the Playground’s settings', () => {
  it.each([
    [64, 64],
    [0, 256],
    [-5, 256],
    [Number.NaN, 256],
    [12.7, 12],
    [1e9, 32_768],
  ])('max tokens %s becomes %s', (input, expected) => {
    expect(clampMaxTokens(input)).toBe(expected);
  });

  it.each([
    ['#/playground?model=halo-test%2Fgated-gguf', 'halo-test/gated-gguf'],
    ['#/playground?model=org/name:file.gguf', 'org/name:file.gguf'],
    ['#/playground', null],
    ['#/playground?model=', null],
    ['#/playground?other=1', null],
  ])('a link %s asks for %s', (hash, model) => {
    expect(modelFromHash(hash)).toBe(model);
  });
});

describe('the runtime log panel', () => {
  it('appends whole lines, starting a new line after text that did not end one', () => {
    expect(appendLog('', 'a\n')).toBe('a\n');
    expect(appendLog('a\n', 'b\n')).toBe('a\nb\n');
    expect(appendLog('a', 'b\n')).toBe('a\nb\n');
  });

  it('keeps the last 400 lines of a chatty runtime', () => {
    let text = '';
    for (let i = 0; i < 1000; i++) text = appendLog(text, `line ${i}\n`);
    const lines = text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(400);
    expect(lines[0]).toBe('line 600');
    expect(lines[399]).toBe('line 999');
  });
});
