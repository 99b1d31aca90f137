import { afterEach, describe, expect, it } from 'vitest';
import { Agent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { answerClientError } from '../src/net/http-server.js';
import { buildTestApp, type TestApp } from './support/app.js';

// Node's http agent keeps connections alive by default (Node 19+). An answer
// the server writes for a bad request must either leave the connection usable
// or say `Connection: close`; otherwise the agent sends its next request down
// a socket the server has destroyed, and that request fails with "socket hang up".

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function listen(): Promise<number> {
  t = await buildTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return (t.app.server.address() as AddressInfo).port;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function send(agent: Agent, port: number, options: { method?: string; headers?: OutgoingHttpHeaders; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: '127.0.0.1', port, path: '/api/public/health', method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

// Host first: Node's client would put it last, past the lines the server reads, and get Node's own 400.
const manyHeaderLines = (port: number): OutgoingHttpHeaders => ({ host: `127.0.0.1:${port}`, ...Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, '1'])) });

describe('after a bad request, the next request on a keep-alive agent', () => {
  it.each([
    ['a 40 KB Authorization header (the parser’s 431)', () => ({ headers: { authorization: `Bearer ${'a'.repeat(40 * 1024)}` } }), 431, 'The request headers are larger than this server reads (16 KiB); send fewer or shorter ones.'],
    ['a thousand header lines (the gate’s 431)', (port: number) => ({ headers: manyHeaderLines(port) }), 431, 'The request has more header lines than this server reads (about 1000); send fewer.'],
    ['a body over the limit (413)', () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'x'.repeat(100 * 1024) }) }), 413, expect.any(String)],
  ])('succeeds: %s', async (_what, bad, status, message) => {
    const port = await listen();
    for (const agent of [new Agent({ keepAlive: true }), new Agent({ keepAlive: true, maxSockets: 1 })]) {
      try {
        for (let round = 0; round < 5; round++) {
          const refused = await send(agent, port, bad(port));
          expect(refused.status).toBe(status);
          expect(JSON.parse(refused.body)).toEqual({ error: 'request.invalid', message });
          if (refused.headers.connection !== undefined) expect(refused.headers.connection).toBe('close');
          const next = await send(agent, port);
          expect(next.status).toBe(200);
        }
      } finally {
        agent.destroy();
      }
    }
  });

  it('gets a parser 431 that says Connection: close, in JSON', async () => {
    const port = await listen();
    const agent = new Agent({ keepAlive: true });
    try {
      const refused = await send(agent, port, { headers: { authorization: `Bearer ${'a'.repeat(40 * 1024)}` } });
      expect(refused.headers.connection).toBe('close');
      expect(refused.headers['content-type']).toBe('application/json');
    } finally {
      agent.destroy();
    }
  });
});

describe('what the server answers when the parser gives up', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_INVALID_METHOD', 400],
    ['HPE_INVALID_HEADER_TOKEN', 400],
  ])('%s → %s with Connection: close, then the socket is closed', (code, status) => {
    let written = '';
    let destroyed = false;
    const socket = { destroyed: false, writable: true, write: (s: string) => (written += s), destroy: () => (destroyed = true) } as unknown as Socket;
    answerClientError(Object.assign(new Error('bad'), { code }), socket);
    expect(written).toMatch(new RegExp(`^HTTP/1\\.1 ${status} [A-Za-z ]+\r\nConnection: close\r\n`));
    const body = written.slice(written.indexOf('\r\n\r\n') + 4);
    expect(written).toContain(`\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`);
    expect(JSON.parse(body)).toEqual({ error: 'request.invalid', message: expect.any(String) });
    expect(destroyed).toBe(true);
  });

  it('writes nothing into a response already under way (an event stream), and closes it', () => {
    let written = '';
    let destroyed = false;
    const socket = { destroyed: false, writable: true, _httpMessage: { headersSent: true }, write: (s: string) => (written += s), destroy: () => (destroyed = true) } as unknown as Socket;
    answerClientError(Object.assign(new Error('bad'), { code: 'HPE_INVALID_METHOD' }), socket);
    expect(written).toBe('');
    expect(destroyed).toBe(true);
  });

  it('answers a request line that is not HTTP with 400 and Connection: close, over a real socket', async () => {
    const port = await listen();
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.write('NOT HTTP AT ALL\r\n\r\n');
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nConnection: close\r\n/);
    expect(answer).toContain('{"error":"request.invalid","message":"The request is not valid HTTP/1.1."}');
  });
});
