import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AuditEntry } from '../../../shared/api.js';

const KEEPALIVE_MS = 15_000;
/** setTimeout's longest delay (~24.8 days); a later expiry re-arms the timer when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const { audit, store } = app.halo;
  const openStreams = new Set<() => void>();
  // Fastify waits for in-flight requests on close; a stream never finishes by itself.
  app.addHook('preClose', async () => {
    for (const end of openStreams) end();
  });

  app.get<{ Querystring: { limit?: string } }>(
    '/audit',
    {
      config: { scope: 'admin' },
      // Query values are text and nothing coerces them: the pattern is the range.
      schema: { querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'a whole number from 1 to 1000' })) }) },
    },
    async (request) => ({ entries: audit.recent(request.query.limit === undefined ? 100 : Number(request.query.limit)) }),
  );

  // Server-sent events, read by the dashboard with fetch + Authorization
  // (EventSource cannot send headers, and a token in a URL ends up in logs).
  app.get('/audit/stream', { config: { scope: 'admin' } }, (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // A HEAD answer has no body, so Node never flushed this head: without an end it hung until the token died.
    if (request.method === 'HEAD') return void res.end();
    res.write(': halo-forge audit stream\n\n');
    const send = (entry: AuditEntry) => res.write(`event: audit\ndata: ${JSON.stringify(entry)}\n\n`);
    const unsubscribe = audit.subscribe(send);
    // A stream outlives the request that opened it: end it when its token is
    // revoked (seen within a second, like any request) or expires.
    const { caller } = request;
    const authority = app.halo.envToken ?? store;
    const stillAllowed = () => caller.kind !== 'token' || authority.current(caller.hash) !== null;
    const unwatch = store.onChange(() => {
      if (!stillAllowed()) end();
    });
    const keepalive = setInterval(() => (stillAllowed() ? res.write(': keepalive\n\n') : end()), KEEPALIVE_MS).unref();
    // An expiring token's stream ends when the token does, not up to a keepalive later.
    let expiry: NodeJS.Timeout | undefined;
    const endAtExpiry = () => {
      const expires = caller.kind === 'token' ? authority.current(caller.hash)?.expires : null;
      if (!expires) return;
      const wait = Math.min(Math.max(Date.parse(expires) - Date.now(), 0) + 1, MAX_TIMER_MS);
      expiry = setTimeout(() => (stillAllowed() ? endAtExpiry() : end()), wait).unref();
    };
    const stop = () => {
      clearInterval(keepalive);
      clearTimeout(expiry);
      unsubscribe();
      unwatch();
      openStreams.delete(end);
    };
    const end = () => {
      stop();
      res.end();
    };
    openStreams.add(end);
    endAtExpiry();
    request.raw.on('close', stop);
  });
}
