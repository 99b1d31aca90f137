import { describe, expect, it } from 'vitest';
import { backoffDelay, CrashCounter } from '../../shared/supervision.js';
import { parseChatRequest, parseCompletionRequest } from '../src/serving/embedded/openai-request.js';
import { redactArguments } from '../src/serving/launch-context.js';
import { OpenAiError } from '../src/serving/openai-error.js';
import { fileSafeName } from '../src/serving/runtime-paths.js';
import { runtimeAdapter } from '../src/serving/runtimes.js';
import { CANARY } from './support/serving.js';

// The serving layer's pure rules, as tables.

describe('runtime names', () => {
  it.each([
    ['embedded', 'embedded'],
    ['llama-server', 'llama-server'],
    ['vllm', 'vllm'],
  ])('%s is a runtime', (name, adapter) => {
    expect(runtimeAdapter(name).name).toBe(adapter);
  });

  it.each(['ollama', '', 'Embedded', 'llama.cpp'])('an unknown runtime (%j) says so, and names the ones that exist', (name) => {
    expect(() => runtimeAdapter(name)).toThrow(`There is no runtime called "${name}". The runtimes are: embedded, llama-server, vllm.`);
  });
});

describe('crash counting (shared with the desktop app)', () => {
  it('restarts with exponential backoff, then gives up past the limit', () => {
    const counter = new CrashCounter(3, { initialMs: 100, factor: 2, maxMs: 250 });
    expect([counter.crashed(), counter.crashed(), counter.crashed(), counter.crashed()]).toEqual([
      { restart: true, attempt: 1, maxAttempts: 3, delayMs: 100 },
      { restart: true, attempt: 2, maxAttempts: 3, delayMs: 200 },
      { restart: true, attempt: 3, maxAttempts: 3, delayMs: 250 },
      { restart: false, crashes: 4 },
    ]);
  });

  it('forgets earlier crashes once the process has been stable', () => {
    const counter = new CrashCounter(1);
    expect(counter.crashed()).toMatchObject({ restart: true });
    counter.stable();
    expect(counter.crashed()).toMatchObject({ restart: true, attempt: 1 });
    expect(counter.crashed()).toEqual({ restart: false, crashes: 2 });
  });

  it.each([
    [1, 500],
    [2, 1000],
    [6, 15_000],
  ])('restart %i waits %i ms by default', (attempt, ms) => expect(backoffDelay(attempt)).toBe(ms));
});

describe('arguments recorded in launch_context.json', () => {
  it.each([
    [['--api-key', 'plain-secret-value'], ['--api-key', '[REDACTED]']],
    [['--api-key=plain-secret-value'], ['--api-key=[REDACTED]']],
    [['--token', CANARY.hfToken], ['--token', '[REDACTED]']],
    [['--hf-repo', `x?token=${CANARY.hfToken}`], ['--hf-repo', 'x?token=hf_[REDACTED]']],
    [['--note', CANARY.apiToken], ['--note', 'hfk_[REDACTED]']],
    [['--model', '/models/a.gguf', '--port', '8080'], ['--model', '/models/a.gguf', '--port', '8080']],
  ])('%j is recorded as %j', (args, recorded) => expect(redactArguments(args)).toEqual(recorded));
});

describe('file names for model ids', () => {
  it.each([
    ['org/name', 'org--name'],
    ['org/name:file.gguf', 'org--name--file.gguf'],
    ['../../etc/passwd', '_--..--etc--passwd'],
    ['a b/c', 'a_b--c'],
  ])('%s → %s', (id, name) => expect(fileSafeName(id)).toBe(name));
});

describe('OpenAI request bodies', () => {
  const ok = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  it('accepts the common fields and text parts', () => {
    expect(
      parseChatRequest({ ...ok, messages: [{ role: 'developer', content: [{ type: 'text', text: 'be brief' }] }, { role: 'user', content: 'hi' }], max_completion_tokens: 5, stop: 'x', stream: true, stream_options: { include_usage: true } }),
    ).toEqual({
      model: 'm',
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }],
      maxTokens: 5,
      temperature: null,
      topP: null,
      seed: null,
      stop: ['x'],
      stream: true,
      includeUsage: true,
    });
    expect(parseCompletionRequest({ model: 'm', prompt: ['once'] })).toMatchObject({ prompt: 'once', stream: false });
  });

  it.each([
    [null, null, 'The request body must be a JSON object.'],
    [[], null, 'The request body must be a JSON object.'],
    [{ ...ok, model: 3 }, 'model', '"model" is required'],
    [{ ...ok, messages: [] }, 'messages', '"messages" must be a non-empty list'],
    [{ ...ok, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, 'messages[0].content', 'only text parts'],
    [{ ...ok, max_tokens: 0 }, 'max_tokens', '"max_tokens" must be an integer from 1'],
    [{ ...ok, max_tokens: 2.5 }, 'max_tokens', 'an integer'],
    [{ ...ok, top_p: 2 }, 'top_p', '"top_p" must be a number from 0 to 1.'],
    [{ ...ok, n: 2 }, 'n', '"n" must be 1'],
    [{ ...ok, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', 'up to 4 strings'],
    [{ ...ok, stream: 'yes' }, 'stream', '"stream" must be true or false.'],
  ])('refuses %j (param %s)', (body, param, message) => {
    let caught: unknown;
    try {
      parseChatRequest(body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OpenAiError);
    const e = caught as OpenAiError;
    expect(e.status).toBe(400);
    expect(e.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(e.message).toContain(message);
  });
});
