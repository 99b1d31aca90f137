import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Socket, type SocketConstructorOpts } from 'node:net';
import { badRequest, OpenAiError } from '../openai-error.js';
import type { Engine, Generation } from './engine.js';
import { parseChatRequest, parseCompletionRequest, type ChatRequest, type CompletionRequest } from './openai-request.js';
import type { ConnectionAnswered, ConnectionCut, ConnectionDone, ConnectionOffer } from './protocol.js';

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
  /** Tells the backend about a connection it handed over (its IPC channel). */
  tell?: (message: ConnectionAnswered | ConnectionDone) => void;
}

export interface OpenAiServer {
  server: Server;
  /** Set once the model is loaded: /health turns 200 and /v1 answers. */
  setEngine(engine: Engine): void;
  /**
   * Answers a request the backend's gate let through, on the client's own connection, which the backend
   * handed over (the OS handle that came with `offer`). The request is replayed into this server's parser,
   * so it is answered by the same code as one from the backend's proxy; the connection closes after it.
   */
  adopt(offer: ConnectionOffer, handle: unknown): void;
  /** Ends a handed-over answer with the backend's error (its caller's token was revoked or expired). */
  cut(cut: ConnectionCut): void;
}

/** A request answered on a connection the backend handed over: what the backend must hear of it. */
interface Adopted {
  offer: ConnectionOffer;
  tell: (message: ConnectionAnswered | ConnectionDone) => void;
  res: ServerResponse | null;
  abort: AbortController | null;
  cut: ConnectionCut | null;
  tokens: number;
  firstTokenAt: number;
  lastTokenAt: number;
}

const adopted = new WeakMap<Socket, Adopted>();
const adoptedOf = (res: ServerResponse): Adopted | undefined => adopted.get(res.socket as Socket);

/** The only paths the backend hands over (it checks them too): anything else on an adopted socket is refused. */
const ADOPTABLE_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);

/**
 * Writes the status and headers. On a handed-over connection the backend is told first (until then it may
 * still answer in full if this process dies) and its own headers (no-store, nosniff...) win: the client
 * must not see a different answer for having been handed over.
 */
function writeHead(res: ServerResponse, status: number, headers: OutgoingHttpHeaders): void {
  const handed = adoptedOf(res);
  if (!handed) {
    res.writeHead(status, headers);
    return;
  }
  handed.tell({ type: 'connection-answered', id: handed.offer.id });
  const merged: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() !== 'connection') merged[name.toLowerCase()] = value;
  Object.assign(merged, handed.offer.headers);
  res.writeHead(status, merged);
}

const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export function createOpenAiServer(opts: OpenAiServerOptions): OpenAiServer {
  let engine: Engine | null = null;
  const keyDigest = digest(opts.key);
  const created = Math.floor(Date.now() / 1000);

  const authorized = (req: IncomingMessage): boolean => {
    // A handed-over connection was judged by the backend's gate; only the backend can hand one over.
    if (adopted.has(req.socket as Socket)) return true;
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
    const handed = adopted.get(req.socket as Socket);
    if (handed) {
      handed.res = res;
      res.on('close', () => {
        handed.abort?.abort();
        const seconds = handed.tokens > 1 ? (handed.lastTokenAt - handed.firstTokenAt) / 1000 : 0;
        handed.tell({ type: 'connection-done', id: handed.offer.id, tokens: handed.tokens, seconds });
      });
      if (handed.cut) return void endWithCut(handed);
    }
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

  const byId = new Map<number, Adopted>();
  const adopt = (offer: ConnectionOffer, handle: unknown) => {
    // What Node itself does with a socket handle received over IPC (child_process's handle conversion).
    const socket = new Socket({ handle, readable: true, writable: true } as SocketConstructorOpts);
    const tell = opts.tell ?? (() => {});
    if (!ADOPTABLE_PATHS.has(offer.path)) {
      socket.destroy();
      return tell({ type: 'connection-done', id: offer.id, tokens: 0, seconds: 0 });
    }
    // TCP_NODELAY is set by the listening server that accepts a socket, and this one was accepted elsewhere.
    socket.setNoDelay(true);
    const handed: Adopted = { offer, tell, res: null, abort: null, cut: null, tokens: 0, firstTokenAt: 0, lastTokenAt: 0 };
    adopted.set(socket, handed);
    byId.set(offer.id, handed);
    socket.once('close', () => {
      byId.delete(offer.id);
      // Gone before its request was read (the client left at once): the backend still waits to hear.
      if (!handed.res) tell({ type: 'connection-done', id: offer.id, tokens: 0, seconds: 0 });
    });
    const body = Buffer.from(offer.body);
    // Connection: close: the answer is this process's, the connection's next request would be the gate's.
    const head = `POST ${offer.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    socket.unshift(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    server.emit('connection', socket);
  };
  const cut = (message: ConnectionCut) => {
    const handed = byId.get(message.id);
    if (!handed) return;
    handed.cut = message;
    if (handed.res) endWithCut(handed);
  };
  return { server, setEngine: (e) => (engine = e), adopt, cut };
}

/** The generation is cancelled, and the client told why, as the backend's proxy does for a caller it cuts off. */
function endWithCut(handed: Adopted): void {
  const res = handed.res!;
  const { status, error } = handed.cut!;
  handed.abort?.abort();
  if (res.writableEnded || res.destroyed) return;
  if (!res.headersSent) {
    const text = JSON.stringify({ error });
    writeHead(res, status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  } else {
    res.end(`data: ${JSON.stringify({ error })}\n\n`);
  }
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
  const handed = adoptedOf(res);
  if (handed) {
    handed.abort = abort;
    if (handed.cut) return;
  }
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
    writeHead(res, 200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
    if (shapes.first) event(shapes.first());
  };
  const g = await run((text) => {
    start();
    event(shapes.chunk(text));
    if (handed) {
      handed.lastTokenAt = performance.now();
      if (handed.tokens++ === 0) handed.firstTokenAt = handed.lastTokenAt;
    }
  }, abort.signal).catch((err) => rethrowUnlessAborted(err, abort.signal));
  // Cancelled: by its client leaving, or cut off on the backend's word (the answer is already ended then).
  if (!g || res.writableEnded || res.destroyed) return;
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
  writeHead(res, status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
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
