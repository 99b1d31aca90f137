// A token a client put in a URL path, percent-encoded (hfk%5F..., hf%5f...),
// must not reach the request log: the log line's url is masked after decoding.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './support/app.js';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

function collector() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => lines.join('') };
}

const encode = (token: string, how: 'underscore' | 'lower' | 'all') =>
  how === 'all' ? [...token].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('') : token.replace('_', how === 'lower' ? '%5f' : '%5F');

describe('a percent-encoded token in a request path', () => {
  it.each([
    ['hfk%5F', 'hfk', 'underscore'],
    ['hfk%5f', 'hfk', 'lower'],
    ['every character of an hfk_ token', 'hfk', 'all'],
    ['hf%5F', 'hf', 'underscore'],
    ['hf%5f', 'hf', 'lower'],
  ] as const)('%s is masked in the request log line', async (_name, prefix, how) => {
    const token = prefix === 'hfk' ? `hfk_${randomBytes(24).toString('base64url')}` : `hf_CANARYpath${randomBytes(14).toString('hex')}`;
    const log = collector();
    t = await buildTestApp({ logStream: log.stream, logLevel: 'debug' });
    const res = await t.app.inject({ url: `/api/public/x/${encode(token, how)}`, remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8000' } });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    const text = log.text();
    expect(text).toMatch(new RegExp(`"url":"/api/public/x/${prefix}_\\[REDACTED\\]"`));
    for (let i = 4; i + 12 <= token.length; i++) expect(text).not.toContain(token.slice(i, i + 12));
  });
});
