import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';

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

/** What the server answers itself when Node's parser gives up on a request, by Node's error code. */
const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'The request headers are larger than this server reads (16 KiB); send fewer or shorter ones.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time.' },
};
const BAD_REQUEST = { status: 400, message: 'The request is not valid HTTP/1.1.' };

/**
 * Fastify's clientErrorHandler. Its default writes the 400/408/431 without
 * `Connection: close` and then destroys the socket, so Node's keep-alive agent
 * takes the connection for a live one and its next request fails with "socket
 * hang up". The parser cannot go on after such an error, so the connection is
 * closed, and the answer says so. Like Node's own handler, nothing is written
 * into a response already under way (an event stream, say): that would
 * corrupt it.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const { status, message } = CLIENT_ERRORS[err.code ?? ''] ?? BAD_REQUEST;
    const body = JSON.stringify({ error: 'request.invalid', message });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
