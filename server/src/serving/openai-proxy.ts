import { Agent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Lease } from './serving-manager.js';

/**
 * Forwards one /v1 request to the runtime serving its model, on loopback,
 * with the runtime's per-launch key in place of the client's credentials
 * (which never leave the backend). The answer is passed through as it
 * arrives: each server-sent event is written on the client's socket the
 * moment it comes, never buffered or compressed. A client that leaves aborts
 * the upstream request, which cancels the generation in the runtime; a
 * runtime that dies mid-stream ends the client's stream with an error event.
 */

// Keep-alive to the runtimes: a new loopback connection per request costs the time to first token.
const agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 });

/** What the client sees of the runtime's answer headers: the type and length, nothing about the runtime. */
const PASSED_HEADERS = ['content-type', 'content-length'];

export interface ProxyOptions {
  lease: Lease;
  /** The path on the runtime, e.g. /v1/chat/completions. */
  path: string;
  /** The JSON body to send (the client's, with `model` set to the id the runtime serves). */
  body: string;
  /** The client's request and response (the route hijacked the reply). */
  req: IncomingMessage;
  res: ServerResponse;
  /** Headers every answer of the backend carries (no-store, nosniff...). */
  headers: OutgoingHttpHeaders;
}

const SSE_DATA = Buffer.from('data: ');

function countEvents(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(SSE_DATA); i >= 0; i = chunk.indexOf(SSE_DATA, i + SSE_DATA.length)) n++;
  return n;
}

function openAiError(message: string, code: string) {
  return JSON.stringify({ error: { message, type: 'server_error', param: null, code } });
}

export function proxyToRuntime({ lease, path, body, req, res, headers }: ProxyOptions): void {
  let settled = false;
  let firstEventAt = 0;
  let events = 0;
  const finish = (ok: boolean) => {
    if (settled) return;
    settled = true;
    const seconds = firstEventAt ? (performance.now() - firstEventAt) / 1000 : 0;
    // The first event opens the answer and the last two close it: the rest carry its tokens.
    lease.release(ok && events > 3 ? { tokens: events - 3, seconds } : undefined);
  };

  const upstream = httpRequest({
    host: '127.0.0.1',
    port: lease.port,
    path,
    method: 'POST',
    agent,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      accept: req.headers.accept ?? 'application/json, text/event-stream',
      authorization: `Bearer ${lease.key}`,
    },
  });
  upstream.setNoDelay(true);

  // The client left (closed the tab, pressed Stop, its SDK was aborted): stop the generation.
  res.on('close', () => {
    if (!res.writableFinished) {
      upstream.destroy();
      finish(false);
    }
  });

  upstream.on('error', (err) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(502, { ...headers, 'content-type': 'application/json' });
    res.end(openAiError(`The model's runtime did not answer (${(err as NodeJS.ErrnoException).code ?? err.message}); it may have stopped. halo-forge ps shows its state.`, 'serving.runtime_gone'));
    finish(false);
  });

  upstream.on('response', (answer) => {
    const streaming = (answer.headers['content-type'] ?? '').startsWith('text/event-stream');
    const out: OutgoingHttpHeaders = { ...headers };
    for (const name of PASSED_HEADERS) if (answer.headers[name] !== undefined) out[name] = answer.headers[name];
    if (streaming) out['x-accel-buffering'] = 'no';
    if (res.destroyed) return void answer.destroy();
    res.writeHead(answer.statusCode ?? 502, out);
    // Each event goes out as one write, flushed at once (no Nagle on the client's socket either).
    res.socket?.setNoDelay(true);

    answer.on('data', (chunk: Buffer) => {
      if (streaming) {
        const n = countEvents(chunk);
        if (n && !firstEventAt) firstEventAt = performance.now();
        events += n;
      }
      if (!res.write(chunk)) {
        answer.pause();
        res.once('drain', () => answer.resume());
      }
    });
    answer.on('end', () => {
      res.end();
      finish(true);
    });
    answer.on('close', () => {
      if (answer.complete || res.writableEnded) return;
      // The runtime went away mid-answer. A stream ends with an error event the SDKs raise; anything else is cut.
      if (streaming && !res.destroyed) res.end(`data: ${openAiError('The model\'s runtime stopped while answering. halo-forge ps shows its state and the log its reason.', 'serving.runtime_gone')}\n\n`);
      else res.destroy();
      finish(false);
    });
  });

  upstream.end(body);
}
