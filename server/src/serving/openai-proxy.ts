import { Agent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Lease } from './serving-manager.js';

/**
 * Forwards one /v1 request to the runtime serving its model, on loopback,
 * with the runtime's per-launch key in place of the client's credentials
 * (which never leave the backend). The answer is passed through as it
 * arrives: each server-sent event is written on the client's socket the
 * moment it comes, never buffered or compressed. A client that leaves aborts
 * the upstream request, which cancels the generation in the runtime; a
 * runtime that dies mid-stream ends the client's stream with an error event,
 * and so does a caller who loses the right to the answer (`watchCaller`).
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
  /**
   * Subscribes `cutOff` to the caller losing the right to this answer (its token revoked or expired while
   * the answer streams); returns the unsubscribe, which the proxy calls when the answer is over. Once a
   * request, never per chunk: the proxy's hot path stays as it is.
   */
  watchCaller?: (cutOff: (error: CutOff) => void) => () => void;
}

/** Why an answer was cut off, in OpenAI's error terms. */
export interface CutOff {
  status: number;
  type: string;
  code: string;
  message: string;
}

const SSE_DATA = Buffer.from('data: ');

function countEvents(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(SSE_DATA); i >= 0; i = chunk.indexOf(SSE_DATA, i + SSE_DATA.length)) n++;
  return n;
}

export const RUNTIME_GONE_MESSAGE = "The model's runtime stopped while answering. halo-forge ps shows its state and the log its reason.";

export function openAiError(message: string, code: string, type = 'server_error'): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

export function proxyToRuntime({ lease, path, body, req, res, headers, watchCaller }: ProxyOptions): void {
  let settled = false;
  let firstEventAt = 0;
  let events = 0;
  let streaming = false;
  /** Stops passing the runtime's answer on (set once it arrives). */
  let detach: (() => void) | null = null;
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

  // The generation is cancelled as when the client leaves; the client is told why, as when a runtime dies.
  const cutOff = (why: CutOff) => {
    if (res.writableEnded || res.destroyed) return;
    detach?.();
    upstream.destroy();
    const error = openAiError(why.message, why.code, why.type);
    if (!res.headersSent) {
      res.writeHead(why.status, { ...headers, 'content-type': 'application/json' });
      res.end(error);
    } else if (streaming) res.end(`data: ${error}\n\n`);
    else res.destroy();
    finish(false);
  };
  let unwatch: (() => void) | undefined;

  // The client left (closed the tab, pressed Stop, its SDK was aborted): stop the generation.
  res.on('close', () => {
    unwatch?.();
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
    streaming = (answer.headers['content-type'] ?? '').startsWith('text/event-stream');
    const out: OutgoingHttpHeaders = { ...headers };
    for (const name of PASSED_HEADERS) if (answer.headers[name] !== undefined) out[name] = answer.headers[name];
    if (streaming) out['x-accel-buffering'] = 'no';
    if (res.destroyed) return void answer.destroy();
    res.writeHead(answer.statusCode ?? 502, out);
    // Each event goes out as one write, flushed at once (no Nagle on the client's socket either).
    res.socket?.setNoDelay(true);

    const pass = (chunk: Buffer) => {
      if (streaming) {
        const n = countEvents(chunk);
        if (n && !firstEventAt) firstEventAt = performance.now();
        events += n;
      }
      if (!res.write(chunk)) {
        answer.pause();
        res.once('drain', () => answer.resume());
      }
    };
    answer.on('data', pass);
    detach = () => {
      answer.off('data', pass);
      answer.destroy();
    };
    answer.on('end', () => {
      res.end();
      finish(true);
    });
    answer.on('close', () => {
      if (answer.complete || res.writableEnded) return;
      // The runtime went away mid-answer. A stream ends with an error event the SDKs raise; anything else is cut.
      if (streaming && !res.destroyed) res.end(`data: ${openAiError(RUNTIME_GONE_MESSAGE, 'serving.runtime_gone')}\n\n`);
      else res.destroy();
      finish(false);
    });
  });

  upstream.end(body);
  // Last: a token lost while the model was loading cuts the answer off at once, and the request is already sent.
  unwatch = watchCaller?.(cutOff);
}
