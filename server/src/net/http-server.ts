import { createServer, type RequestListener, type Server } from 'node:http';

/** Fastify's own default, which a custom serverFactory does not get; Node's is 5 s. */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * Every listener the backend opens, loopback and remote alike. Idle keep-alive
 * connections outlive nginx's 60 s upstream idle time, so a reverse proxy never
 * sends a request down a connection the backend is closing at that moment
 * (which the proxy answers 502 for a POST).
 */
export function createHttpServer(handler: RequestListener): Server {
  return createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, handler);
}
