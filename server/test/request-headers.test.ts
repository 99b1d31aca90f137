import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { buildTestApp, type TestApp } from './support/app.js';
import type { AppOptions } from '../src/app.js';

// The gate's reading of Host, Sec-Fetch-Site and Forwarded, end to end:
// local-pass.test.ts tables the rules, these show what a request gets.

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function start(options: AppOptions = {}) {
  t = await buildTestApp(options);
  return t.app;
}

const LOCAL = { remoteAddress: '127.0.0.1' } as const;
const BAD_HOST = { error: 'request.invalid', message: 'The Host header must be one host name or address with an optional port, and nothing else.' };

describe('the Host header', () => {
  it.each(['127.0.0.1:8000@evil.com', 'localhost:abc', '127.0.0.1:1,evil.com', '[::1]evil', 'localhost:99999'])(
    '%s is refused with 400, never taken for a loopback name',
    async (host) => {
      const app = await start();
      for (const url of ['/api/public/health', '/api/public/tokens', '/']) {
        const res = await app.inject({ url, headers: { host }, ...LOCAL });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual(BAD_HOST);
      }
    },
  );

  it('is refused with 400 when sent twice, whichever copy is loopback', async () => {
    const app = await start();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    for (const hosts of [['127.0.0.1', 'evil.example'], ['evil.example', '127.0.0.1'], ['127.0.0.1', '127.0.0.1']]) {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.end(`GET /api/public/health HTTP/1.1\r\n${hosts.map((h) => `Host: ${h}\r\n`).join('')}Connection: close\r\n\r\n`);
      await once(socket, 'close');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain(JSON.stringify(BAD_HOST));
    }
  });

  it('still lets a well-formed loopback Host through', async () => {
    const app = await start();
    for (const host of ['127.0.0.1:8000', 'LOCALHOST', '[::1]:8000', 'app.localhost']) {
      expect((await app.inject({ url: '/api/public/tokens', headers: { host }, ...LOCAL })).statusCode).toBe(200);
    }
  });
});

describe('Sec-Fetch-Site', () => {
  it.each([['Cross-Site'], ['CROSS-SITE'], ['same-origin, cross-site'], [['same-origin', 'cross-site']]])(
    '%j counts as cross-site with --auth auto and --auth off alike',
    async (value) => {
      const auto = await start();
      const res = await auto.inject({ url: '/api/public/tokens', headers: { host: '127.0.0.1:8000', 'sec-fetch-site': value }, ...LOCAL });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('auth.required');
      await t!.close();
      const off = await start({ auth: 'off' });
      const refused = await off.inject({ method: 'POST', url: '/api/public/huggingface/verify', headers: { host: '127.0.0.1:8000', 'sec-fetch-site': value }, ...LOCAL });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual({ error: 'auth.forbidden', message: 'Cross-site requests are refused.' });
    },
  );
});

describe('Forwarded behind --trust-proxy', () => {
  it.each([
    ['for= inside another parameter’s quoted string', 'x="a;for=127.0.0.1";for=10.0.0.5', 401],
    ['a quoted comma that does not split', 'x="a,for=127.0.0.1";for=10.0.0.5', 401],
    ['an obfuscated client', 'for=_hidden', 401],
    ['an unknown client', 'for=unknown', 401],
    ['a local client named by the proxy', 'for="127.0.0.1:5555";proto=http', 200],
    ['an IPv6 local client with a port', 'for="[::1]:5555"', 200],
  ])('%s → %s', async (_what, forwarded, status) => {
    const app = await start({ trustProxy: '10.0.0.2' });
    const res = await app.inject({ url: '/api/public/tokens', headers: { host: '127.0.0.1:8000', forwarded }, remoteAddress: '10.0.0.2' });
    expect(res.statusCode).toBe(status);
  });
});
