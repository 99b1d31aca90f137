import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isConnectionAnswered, isConnectionDone, type ConnectionCut, type ConnectionOffer } from './embedded/protocol.js';
import { openAiError, RUNTIME_GONE_MESSAGE, type CutOff, type ProxyOptions } from './openai-proxy.js';
import type { RuntimeProcess } from './runtime-adapter.js';

/**
 * A streamed /v1 answer from the embedded runtime, written by the runtime
 * straight to the client's connection.
 *
 * Through the proxy every token costs the backend a read, a write and two
 * wake-ups (about 130 µs of CPU on a small machine, bench: serving), and on a
 * small model that generates thousands of tokens a second that is a quarter
 * of its speed. Here the backend does what only it can (the gate, the body
 * check, the lease) and then passes the client's socket over the runtime's
 * IPC channel (SCM_RIGHTS); the runtime replays the request into its own
 * HTTP server and answers, with `Connection: close`, so the connection's next
 * request is the gate's again (on a new connection).
 *
 * The backend keeps its copy of the socket, not reading from it, so the
 * answer still ends the way the proxy's does: a runtime that dies mid-answer
 * leaves the backend to end it with an error event (or a 502 before the
 * first byte), and a caller whose token is revoked or expires is cut off,
 * by the runtime when it answers, else by the backend after a grace period.
 *
 * Under Node only: a utility process of the desktop app has no handle
 * passing, and an external runtime is not ours to hand sockets to; those go
 * through the proxy, as does an answer that is not streamed (one hop per
 * answer, not per token, and a kept-alive connection is worth more).
 */

/** How long a runtime has to end an answer it was asked to cut before the backend ends it itself. */
const CUT_GRACE_MS = 2_000;

/** A runtime process that takes connections: it has `send`. */
export type HandoffChannel = Required<Pick<RuntimeProcess, 'send' | 'onMessage' | 'exited'>>;

interface Held {
  socket: Socket;
  res: ServerResponse;
  /** What every answer of the backend carries, for the one it writes itself. */
  headers: ProxyOptions['headers'];
  release: ProxyOptions['lease']['release'];
  /** The runtime said it is writing its answer: from then on only an event may be added to the stream. */
  answered: boolean;
  unwatch: (() => void) | undefined;
  graceTimer: NodeJS.Timeout | null;
}

/** The parts of a net.Socket's native handle used here (Node's own, as child_process uses it). */
interface StreamHandle {
  readStop(): number;
}

/** A plain HTTP/1.1 connection whose socket has a native handle that can be sent, and nothing left unread. */
function handleOf(req: IncomingMessage): StreamHandle | null {
  const socket = req.socket as Socket & { encrypted?: boolean; _handle?: Partial<StreamHandle> | null };
  if (req.httpVersion !== '1.1' || socket.encrypted || socket.destroyed || socket.readableLength > 0) return null;
  const handle = socket._handle;
  return handle && typeof handle.readStop === 'function' ? (handle as StreamHandle) : null;
}

/** One HTTP/1.1 chunk, then the end of a chunked body. */
function lastChunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n`;
}

export class ConnectionHandoff {
  private nextId = 1;
  private readonly held = new Map<number, Held>();
  private gone = false;

  constructor(private readonly channel: HandoffChannel) {
    channel.onMessage((message) => {
      if (isConnectionAnswered(message)) {
        const held = this.held.get(message.id);
        if (held) held.answered = true;
      } else if (isConnectionDone(message)) {
        this.finish(message.id, message.tokens > 0 ? { tokens: message.tokens, seconds: message.seconds } : undefined);
      }
    });
    void channel.exited.then(() => {
      this.gone = true;
      for (const id of [...this.held.keys()]) this.endHere(id, RUNTIME_GONE, 502);
    });
  }

  /**
   * Hands the request's connection to the runtime; false (and nothing done) when it cannot be handed, and the
   * caller proxies it instead.
   */
  take({ lease, path, body, req, res, headers, watchCaller }: ProxyOptions): boolean {
    const handle = this.gone ? null : handleOf(req);
    if (!handle) return false;
    const id = this.nextId++;
    const socket = req.socket;
    // Everything the client sends from now on is the runtime's to read (its leaving, above all).
    handle.readStop();
    // An idle timer here would close this copy, and with it the backend's way to end the answer.
    socket.setTimeout(0);
    const held: Held = { socket, res, headers, release: lease.release, answered: false, unwatch: undefined, graceTimer: null };
    this.held.set(id, held);
    const stringHeaders: Record<string, string> = { 'x-accel-buffering': 'no' };
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') stringHeaders[name.toLowerCase()] = value;
    const offer: ConnectionOffer = { type: 'connection', id, path, body, headers: stringHeaders };
    this.channel.send(offer, handle, (error) => {
      if (error) this.endHere(id, RUNTIME_GONE, 502);
    });
    held.unwatch = watchCaller?.((why) => this.cut(id, why));
    return true;
  }

  private cut(id: number, why: CutOff): void {
    const held = this.held.get(id);
    if (!held || held.graceTimer) return;
    const message: ConnectionCut = { type: 'connection-cut', id, status: why.status, error: { message: why.message, type: why.type, param: null, code: why.code } };
    this.channel.send(message, undefined, () => {});
    held.graceTimer = setTimeout(() => this.endHere(id, why, why.status), CUT_GRACE_MS);
  }

  /** The runtime is done with the connection: the backend's copy goes too, which closes it. */
  private finish(id: number, stats: { tokens: number; seconds: number } | undefined): void {
    const held = this.held.get(id);
    if (!held) return;
    this.held.delete(id);
    held.unwatch?.();
    if (held.graceTimer) clearTimeout(held.graceTimer);
    held.release(stats);
    held.socket.destroy();
  }

  /**
   * The runtime cannot end this answer (it died, or did not end a cut): the backend does, as the proxy would.
   * Before the runtime's first byte the backend's own response is still unwritten and answers whole.
   */
  private endHere(id: number, why: Pick<CutOff, 'message' | 'code' | 'type'>, status: number): void {
    const held = this.held.get(id);
    if (!held) return;
    const error = openAiError(why.message, why.code, why.type);
    if (!held.socket.destroyed) {
      if (!held.answered) {
        held.res.writeHead(status, { ...held.headers, 'content-type': 'application/json', connection: 'close' });
        held.res.end(error);
      } else {
        // This copy is not read from, so it would never see the client's end: closed once the event is out.
        held.socket.end(lastChunk(`data: ${error}\n\n`), () => held.socket.destroy());
      }
    }
    this.held.delete(id);
    held.unwatch?.();
    if (held.graceTimer) clearTimeout(held.graceTimer);
    held.release(undefined);
  }
}

const RUNTIME_GONE = { message: RUNTIME_GONE_MESSAGE, code: 'serving.runtime_gone', type: 'server_error' };
