import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { watchToken } from '../auth/token-watch.js';

const KEEPALIVE_MS = 15_000;

export interface EventStream {
  send(event: string, data: unknown): void;
  /** `data` already serialized (one line of JSON). */
  sendRaw(event: string, data: string): void;
  /** Ends the stream from the server's side (a run that ended). */
  end(): void;
  /** Called once when the stream ends, whoever ends it (client, revocation, expiry, server close). */
  onEnd(cleanup: () => void): void;
}

/**
 * The stream opener of one route plugin. Its streams end when the server
 * closes: Fastify waits for in-flight requests on close, and a stream never
 * finishes by itself.
 */
export function eventStreams(app: FastifyInstance): (request: FastifyRequest, reply: FastifyReply, comment?: string) => EventStream | null {
  const openStreams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of openStreams) end();
  });
  return (request, reply, comment) => openEventStream(app, openStreams, request, reply, comment);
}

/**
 * Opens a server-sent event stream: read with fetch + Authorization by the
 * dashboard (EventSource cannot send headers, and a token in a URL ends up in
 * logs); ended when the caller's token is revoked (seen within a second) or
 * expires, and when the server closes. Every stream of the API opens here.
 * `comment`, when given, is the stream's first line.
 */
export function openEventStream(app: FastifyInstance, openStreams: Set<() => void>, request: FastifyRequest, reply: FastifyReply, comment?: string): EventStream | null {
  reply.hijack();
  const res = reply.raw;
  // A hijacked answer skips the app's onSend hook: the headers it would add that matter to a stream are here.
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' });
  // A HEAD answer has no body, so Node never flushes its head without an end.
  if (request.method === 'HEAD') {
    res.end();
    return null;
  }
  if (comment) res.write(`: ${comment}\n\n`);
  const { store } = app.halo;
  const { caller } = request;
  const cleanups: (() => void)[] = [];
  // A stream outlives the request that opened it, and the gate saw its token only then.
  const token = watchToken(caller.kind === 'token' ? caller.hash : null, app.halo.envToken ?? store, store, () => end());
  const keepalive = setInterval(() => token.check() && res.write(': keepalive\n\n'), KEEPALIVE_MS).unref();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(keepalive);
    token.stop();
    openStreams.delete(end);
    for (const cleanup of cleanups) cleanup();
  };
  const end = () => {
    stop();
    res.end();
  };
  openStreams.add(end);
  request.raw.on('close', stop);
  return {
    send: (event, data) => {
      if (!stopped) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    sendRaw: (event, data) => {
      if (!stopped) res.write(`event: ${event}\ndata: ${data}\n\n`);
    },
    end,
    onEnd: (cleanup) => {
      if (stopped) cleanup();
      else cleanups.push(cleanup);
    },
  };
}
