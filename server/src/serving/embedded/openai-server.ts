import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { badRequest, OpenAiError } from '../openai-error.js';
import type { Engine, Generation } from './engine.js';
import { parseChatRequest, parseCompletionRequest, type ChatRequest, type CompletionRequest } from './openai-request.js';

/**
 * The embedded runtime's HTTP face: OpenAI's /v1 for one model, on
 * 127.0.0.1, behind the per-launch key. /health answers before the model is
 * loaded (503) so the supervisor can tell "loading" from "not there".
 */

export interface OpenAiServerOptions {
  modelId: string;
  key: string;
  /** Echoed on /health so the supervisor knows it reached this launch and not a stranger on the port. */
  launchId: string;
  log: (line: string) => void;
  /** Bodies past this are refused (413) before they are read whole. */
  bodyLimit?: number;
}

export interface OpenAiServer {
  server: Server;
  /** Set once the model is loaded: /health turns 200 and /v1 answers. */
  setEngine(engine: Engine): void;
}

const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export function createOpenAiServer(opts: OpenAiServerOptions): OpenAiServer {
  let engine: Engine | null = null;
  const keyDigest = digest(opts.key);
  const created = Math.floor(Date.now() / 1000);

  const authorized = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : null;
    return presented !== null && timingSafeEqual(digest(presented), keyDigest);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      res.setHeader('X-Halo-Launch', opts.launchId);
      return sendJson(res, engine ? 200 : 503, engine ? { status: 'ok' } : { status: 'loading' });
    }
    if (!path?.startsWith('/v1/')) throw new OpenAiError(404, 'not_found_error', `No route ${req.method} ${path}.`, 'not_found');
    if (!authorized(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new OpenAiError(401, 'authentication_error', 'This runtime needs its key as "Authorization: Bearer <key>".', 'invalid_api_key');
    }
    if (!engine) throw new OpenAiError(503, 'server_error', 'The model is still loading; try again in a moment.', 'model_loading');
    const route = `${req.method} ${path}`;
    if (route === 'GET /v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: opts.modelId, object: 'model', created, owned_by: 'halo-forge' }] });
    }
    if (route === 'POST /v1/chat/completions') return chat(engine, parseChatRequest(await readJson(req, opts.bodyLimit ?? DEFAULT_BODY_LIMIT)), res);
    if (route === 'POST /v1/completions') return complete(engine, parseCompletionRequest(await readJson(req, opts.bodyLimit ?? DEFAULT_BODY_LIMIT)), res);
    throw new OpenAiError(404, 'not_found_error', `No route ${route}.`, 'not_found');
  };

  const checkModel = (model: string) => {
    if (model !== opts.modelId) throw new OpenAiError(404, 'invalid_request_error', `The model "${model}" is not served here; this runtime serves "${opts.modelId}".`, 'model_not_found', 'model');
  };

  const chat = async (engine: Engine, request: ChatRequest, res: ServerResponse) => {
    checkModel(request.model);
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const base = { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: opts.modelId, system_fingerprint: null };
    await generate(res, request, (onText, signal) => engine.generateChat(request.messages, request, onText, signal), {
      first: () => ({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }),
      chunk: (text) => ({ ...base, choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }] }),
      last: (g) => ({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: g.finishReason }] }),
      usage: (g) => ({ ...base, choices: [], usage: usage(g) }),
      whole: (g) => ({
        id,
        object: 'chat.completion',
        created: base.created,
        model: opts.modelId,
        choices: [{ index: 0, message: { role: 'assistant', content: g.text, refusal: null }, logprobs: null, finish_reason: g.finishReason }],
        usage: usage(g),
      }),
    });
  };

  const complete = async (engine: Engine, request: CompletionRequest, res: ServerResponse) => {
    checkModel(request.model);
    const id = `cmpl-${randomBytes(12).toString('hex')}`;
    const base = { id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: opts.modelId };
    await generate(res, request, (onText, signal) => engine.generateCompletion(request.prompt, request, onText, signal), {
      first: null,
      chunk: (text) => ({ ...base, choices: [{ index: 0, text, logprobs: null, finish_reason: null }] }),
      last: (g) => ({ ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: g.finishReason }] }),
      usage: (g) => ({ ...base, choices: [], usage: usage(g) }),
      whole: (g) => ({ ...base, choices: [{ index: 0, text: g.text, logprobs: null, finish_reason: g.finishReason }], usage: usage(g) }),
    });
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? '').split('?')[0];
    // The supervisor polls /health many times a second while loading: not worth a line each.
    if (path !== '/health') res.on('finish', () => opts.log(`${req.method} ${path} ${res.statusCode} ${(performance.now() - started).toFixed(0)} ms`));
    handle(req, res).catch((err: unknown) => {
      const error = err instanceof OpenAiError ? err : new OpenAiError(500, 'server_error', 'The runtime failed to answer this request.', 'internal_error');
      if (!(err instanceof OpenAiError)) opts.log(`error: ${(err as Error)?.stack ?? String(err)}`);
      if (res.headersSent) {
        // Mid-stream: the client gets an error event and the end of the stream, never a hang.
        if (!res.writableEnded) res.end(`data: ${JSON.stringify(error.body)}\n\n`);
      } else if (!res.destroyed) {
        // Read and drop what is left of a refused body: closing mid-upload leaves the client with EPIPE, not the answer.
        // Only a holder of the key gets this far, on loopback.
        req.resume();
        sendJson(res, error.status, error.body);
      }
    });
  });
  // Slow or idle clients must not hold the one model forever, but generations may take minutes.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  return { server, setEngine: (e) => (engine = e) };
}

interface Shapes {
  first: (() => object) | null;
  chunk: (text: string) => object;
  last: (g: Generation) => object;
  usage: (g: Generation) => object;
  whole: (g: Generation) => object;
}

type Run = (onText: (text: string) => void, signal: AbortSignal) => Promise<Generation>;

/** Runs one generation, streamed as OpenAI SSE or answered whole; a client that leaves cancels it. */
async function generate(res: ServerResponse, request: { stream: boolean; includeUsage: boolean }, run: Run, shapes: Shapes): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  if (!request.stream) {
    const g = await run(() => {}, abort.signal).catch((err) => rethrowUnlessAborted(err, abort.signal));
    if (g) sendJson(res, 200, shapes.whole(g));
    return;
  }
  let started = false;
  const event = (payload: object) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  const start = () => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    if (shapes.first) event(shapes.first());
  };
  const g = await run((text) => {
    start();
    event(shapes.chunk(text));
  }, abort.signal).catch((err) => rethrowUnlessAborted(err, abort.signal));
  if (!g || res.destroyed) return;
  start();
  event(shapes.last(g));
  if (request.includeUsage) event(shapes.usage(g));
  res.end('data: [DONE]\n\n');
}

function rethrowUnlessAborted(err: unknown, signal: AbortSignal): null {
  if (signal.aborted) return null;
  throw err;
}

function usage(g: Generation) {
  return { prompt_tokens: g.promptTokens, completion_tokens: g.completionTokens, total_tokens: g.promptTokens + g.completionTokens };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.includes('application/json')) throw badRequest('The request body must be JSON (Content-Type: application/json).');
  const tooLarge = () => new OpenAiError(413, 'invalid_request_error', `The request body is larger than ${limit} bytes.`, 'request_too_large');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge();
  // Events, not for-await: leaving a for-await early destroys the socket under a client still uploading.
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return reject(tooLarge());
      chunks.push(chunk);
    });
    req.once('end', resolve);
    req.once('error', reject);
  });
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
