import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const KEEPALIVE_MS = 15_000;
/** setTimeout's longest delay (~24.8 days); a later expiry re-arms the timer when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface EventStream {
  send(event: string, data: unknown): void;
  /** `data` already serialized (one line of JSON). */
  sendRaw(event: string, data: string): void;
  /** Called once when the stream ends, whoever ends it (client, revocation, expiry, server close). */
  onEnd(cleanup: () => void): void;
}

/**
 * Opens a server-sent event stream the way the audit stream does: read with
 * fetch + Authorization by the dashboard (EventSource cannot send headers, and
 * a token in a URL ends up in logs); ended when the caller's token is revoked
 * (seen within a second) or expires, and when the server closes.
 */
export function openEventStream(app: FastifyInstance, openStreams: Set<() => void>, request: FastifyRequest, reply: FastifyReply, comment: string): EventStream | null {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  // A HEAD answer has no body, so Node never flushes its head without an end.
  if (request.method === 'HEAD') {
    res.end();
    return null;
  }
  res.write(`: ${comment}\n\n`);
  const { store } = app.halo;
  const { caller } = request;
  const authority = app.halo.envToken ?? store;
  const stillAllowed = () => caller.kind !== 'token' || authority.current(caller.hash) !== null;
  const cleanups: (() => void)[] = [];
  const unwatch = store.onChange(() => {
    if (!stillAllowed()) end();
  });
  const keepalive = setInterval(() => (stillAllowed() ? res.write(': keepalive\n\n') : end()), KEEPALIVE_MS).unref();
  let expiry: NodeJS.Timeout | undefined;
  const endAtExpiry = () => {
    const expires = caller.kind === 'token' ? authority.current(caller.hash)?.expires : null;
    if (!expires) return;
    const wait = Math.min(Math.max(Date.parse(expires) - Date.now(), 0) + 1, MAX_TIMER_MS);
    expiry = setTimeout(() => (stillAllowed() ? endAtExpiry() : end()), wait).unref();
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(keepalive);
    clearTimeout(expiry);
    unwatch();
    openStreams.delete(end);
    for (const cleanup of cleanups) cleanup();
  };
  const end = () => {
    stop();
    res.end();
  };
  openStreams.add(end);
  endAtExpiry();
  request.raw.on('close', stop);
  return {
    send: (event, data) => {
      if (!stopped) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    sendRaw: (event, data) => {
      if (!stopped) res.write(`event: ${event}\ndata: ${data}\n\n`);
    },
    onEnd: (cleanup) => {
      if (stopped) cleanup();
      else cleanups.push(cleanup);
    },
  };
}
