import { connect, type Socket } from 'node:net';

// HTTP/1.1 over a raw socket: Node's own client refuses to send most of the
// bytes a fuzzer needs (bad header names, CR/LF inside values, invalid UTF-8,
// duplicate credentials), so requests are written as bytes and answers parsed
// here. Enough of HTTP to read what a Fastify server and Node's parser send:
// a status line, headers, and a body framed by Content-Length, by the end of
// the connection, or not at all (HEAD, 1xx, 204, 304, a stream).

export type Outcome =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: string; closes: boolean }
  /** The server ended the connection before any byte of an answer. */
  | { kind: 'closed' }
  | { kind: 'reset'; code: string }
  | { kind: 'timeout' }
  | { kind: 'garbled'; text: string };

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

export class WireConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private ended = false;
  private failure: string | null = null;
  private wake: (() => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.failure = err.code ?? err.message;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  static open(host: string, port: number, timeoutMs: number): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new WireConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** False once the server ended or broke the connection. */
  get usable(): boolean {
    return !this.ended && this.failure === null && !this.socket.destroyed;
  }

  write(bytes: Buffer, halfClose: boolean): void {
    if (halfClose) this.socket.end(bytes);
    else this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Reads the next final answer; `method` tells whether it has a body. */
  async next(method: string, timeoutMs: number): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.tryParse(method);
      if (parsed) {
        if (parsed.kind === 'response' && parsed.status >= 100 && parsed.status < 200) continue;
        return parsed;
      }
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout' };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private notify(): void {
    this.wake?.();
  }

  /** One answer taken off the buffer, or null while more bytes are needed. */
  private tryParse(method: string): Outcome | null {
    const done = this.ended || this.failure !== null;
    if (this.buffer.length === 0) {
      if (this.failure !== null) return { kind: 'reset', code: this.failure };
      return this.ended ? { kind: 'closed' } : null;
    }
    const end = this.buffer.indexOf(HEAD_END);
    if (end === -1) {
      if (done || this.buffer.length > MAX_HEAD) return this.take(this.buffer.length, { kind: 'garbled', text: this.buffer.toString('latin1').slice(0, 200) });
      return null;
    }
    const head = this.buffer.subarray(0, end).toString('latin1');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
    if (!match) return this.take(this.buffer.length, { kind: 'garbled', text: head.slice(0, 200) });
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = end + HEAD_END.length;
    // Node's parser errors (400, 408, 431) end the connection without saying so.
    const closes = /\bclose\b/i.test(headers.connection ?? '') || status === 400 || status === 408 || status === 431;
    const noBody = method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
    if (noBody) return this.take(bodyStart, { kind: 'response', status, headers, body: '', closes });
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) return this.take(this.buffer.length, { kind: 'garbled', text: head.slice(0, 200) });
      if (this.buffer.length < bodyStart + length) {
        return done ? this.take(this.buffer.length, { kind: 'garbled', text: `${head.slice(0, 200)} (body cut short)` }) : null;
      }
      return this.take(bodyStart + length, { kind: 'response', status, headers, body: this.buffer.subarray(bodyStart, bodyStart + length).toString('latin1'), closes });
    }
    if (headers['transfer-encoding'] !== undefined || (headers['content-type'] ?? '').startsWith('text/event-stream')) {
      // A stream (the audit SSE) or a chunked answer: its head is all a judgement needs; the connection is then spent.
      return this.take(this.buffer.length, { kind: 'response', status, headers, body: this.buffer.subarray(bodyStart).toString('latin1'), closes: true });
    }
    // No framing: the body runs to the end of the connection.
    if (!done) return null;
    return this.take(this.buffer.length, { kind: 'response', status, headers, body: this.buffer.subarray(bodyStart).toString('latin1'), closes: true });
  }

  private take(bytes: number, outcome: Outcome): Outcome {
    this.buffer = this.buffer.subarray(bytes);
    return outcome;
  }
}
