import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { tempHome, testEnv } from './support/backend-process.js';

// Found by the auth fuzzer: a request pipelined ahead of bytes Node's parser
// refused had its static-file answer cut off. The error handler then logged
// the client's hang-up as a server error and failed a second time, trying to
// send its JSON body under the file's text/html type.

let app: FastifyInstance | null = null;
let cleanup = () => {};
afterEach(async () => {
  await app?.close();
  app = null;
  cleanup();
});

async function appWithLog(routes: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance; log: () => string }> {
  const home = tempHome();
  cleanup = home.cleanup;
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  app = await buildApp({ env: testEnv(home.home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: 'http://127.0.0.1:9' }), logStream: stream, logLevel: 'info' });
  routes(app);
  await app.ready();
  return { app, log: () => text };
}

describe('the error handler', () => {
  it('answers its JSON 500 even after a handler set another content type', async () => {
    const { app } = await appWithLog((a) =>
      a.get('/fails-as-html', async (_request, reply) => {
        // As @fastify/static does: straight on the raw response, where Fastify's error path leaves it.
        reply.raw.setHeader('content-type', 'text/html; charset=utf-8');
        throw new Error('broken');
      }),
    );
    const res = await app.inject({ url: '/fails-as-html' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal', message: 'The server hit an unexpected error; details are in its log.' });
  });

  it('logs a client that hung up mid-answer as information, not as a server error', async () => {
    const { app, log } = await appWithLog((a) =>
      a.get('/client-gone', async (request) => {
        request.raw.socket.destroy();
        throw new Error('Premature close');
      }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    await new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`GET /client-gone HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
      socket.on('error', () => {});
      socket.on('close', () => resolve());
    });
    await app.close();
    const lines = log().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain('The connection closed before the answer was sent: Premature close');
  });
});
