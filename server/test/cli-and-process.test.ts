import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startBackend, waitFor, workstations } from './support/backend-process.js';

const { home, backend, release } = workstations();
afterEach(release);

/** Sends raw bytes, so a test can send what fetch refuses to (two Authorization headers, huge headers). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    // A server may answer and close while we are still sending (a 431 for a huge header): keep what arrived.
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(out || err.code) : reject(err)));
    socket.end(text);
  });
}

beforeAll(() => {
  // The CLI and backend run from dist/; the test script builds before running the suite.
  expect(statSync(join(__dirname, '../../dist/server/src/cli/main.js')).isFile()).toBe(true);
});

describe('token CLI', () => {
  it('prints the secret once with the spec wording, lists the columns, revokes', async () => {
    const { env } = home();
    const created = await runCli(['token', 'create', 'dashboard', '--note', 'my laptop', '--expires', '30d'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^name: {2}dashboard\nscope: admin\nexpires: \S+\nSave this token now — it won't be shown again:\n {2}hfk_[A-Za-z0-9_-]{43}\n$/);
    const secret = /hfk_\S+/.exec(created.stdout)![0];

    const list = await runCli(['token', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+CREATED\s+LAST USED\s+SCOPE\s+EXPIRES\s+NOTE$/);
    expect(list.stdout).toMatch(/dashboard\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\s+-\s+admin\s+\S+\s+my laptop/);
    expect(list.stdout).not.toContain(secret);

    const json = await runCli(['token', 'list', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'dashboard', scope: 'admin', created: expect.any(String), lastUsed: null, lastUsedFrom: null, expires: expect.any(String), note: 'my laptop' }]);

    expect((await runCli(['token', 'revoke', 'dashboard'], env)).stdout).toBe('Revoked dashboard.\n');
    expect((await runCli(['token', 'list'], env)).stdout).toBe('No tokens. Create one with: halo-forge token create NAME\n');
  });

  it('names every expiry unit that works in its help', async () => {
    const { env } = home();
    const help = (await runCli(['token', 'create', '--help'], env)).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--expires <duration> expire after a duration: a number and a unit: m (minutes), h (hours), d (days), w (weeks) or y (years), such as 30d');
    for (const unit of ['1m', '1h', '1d', '1w', '1y']) expect((await runCli(['token', 'create', `t${unit}`, '--expires', unit], env)).code, unit).toBe(0);
  });

  it.each([
    [['token', 'create', 'bad name'], 'halo-forge: Token name "bad name" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".\n'],
    [['token', 'create', 'läptop'], 'halo-forge: Token name "läptop" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".\n'],
    [['token', 'create', 'x', '--expires', '0d'], 'halo-forge: Expiry "0d" must be longer than zero.\n'],
    [['token', 'create', 'x', '--scope', 'root'], /error: option '--scope <scope>' argument 'root' is invalid/],
    [['token', 'create', 'x', '--expires', 'soon'], 'halo-forge: Expiry "soon" is not a duration: use a number and a unit: m (minutes), h (hours), d (days), w (weeks) or y (years), such as 30d.\n'],
    [['token', 'revoke', 'ghost'], 'halo-forge: No token named "ghost".\n'],
  ])('%j fails with a clear message and a non-zero exit', async (args, message) => {
    const { env } = home();
    const res = await runCli(args, env);
    expect(res.code).not.toBe(0);
    if (typeof message === 'string') expect(res.stderr).toBe(message);
    else expect(res.stderr).toMatch(message);
  });

  it('refuses a duplicate name and keeps the first token', async () => {
    const { env } = home();
    await runCli(['token', 'create', 'dup'], env);
    const again = await runCli(['token', 'create', 'dup'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('halo-forge: A token named "dup" already exists; revoke it first or pick another name.\n');
    expect(JSON.parse((await runCli(['token', 'list', '--json'], env)).stdout)).toHaveLength(1);
  });
});

describe('serve', () => {
  it('refuses to start on a corrupted token store, names the file and the problem, and leaves it alone', async () => {
    const { home: h, env } = home();
    writeFileSync(join(h, 'tokens.json'), '{"tokens": [ oops', { mode: 0o600 });
    await expect(startBackend([], env)).rejects.toThrow(`backend failed: The token store ${join(h, 'tokens.json')} cannot be read: it is not valid JSON`);
    expect(readFileSync(join(h, 'tokens.json'), 'utf8')).toBe('{"tokens": [ oops');
  });

  it('refuses --auth off on a non-loopback bind unless --insecure-no-auth', async () => {
    const { env } = home();
    const res = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--auth', 'off'], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Refusing to serve 0.0.0.0 with --auth off');
  });

  it('says how to create a token when auth is on and none exists, and never prints a secret', async () => {
    const { env } = home();
    const b = await backend(['--auth', 'on'], env);
    expect(b.output()).toContain('Authentication is ON and no API token exists yet. Create one with: halo-forge token create NAME');
  });

  it('rejects a token revoked by the CLI within a second, without a restart', async () => {
    const { env } = home();
    const b = await backend(['--auth', 'on'], env);
    const secret = JSON.parse((await runCli(['token', 'create', 'laptop', '--json'], env)).stdout).token as string;
    const status = async () => (await fetch(`http://127.0.0.1:${b.port}/api/public/health`, { headers: { authorization: `Bearer ${secret}` } })).status;
    await waitFor(async () => (await status()) === 200, 1000, 'the created token to work');
    await runCli(['token', 'revoke', 'laptop'], env);
    const took = await waitFor(async () => (await status()) === 401, 1000, 'the revoked token to fail');
    expect(took).toBeLessThan(1000);
    expect(b.output()).not.toContain(secret);
  });

  it('flushes last-used on a graceful stop', async () => {
    const { home: h, env } = home();
    const b = await backend(['--auth', 'on'], env);
    const secret = JSON.parse((await runCli(['token', 'create', 'laptop', '--json'], env)).stdout).token as string;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${b.port}/api/public/health`, { headers: { authorization: `Bearer ${secret}` } })).status === 200, 1000);
    expect(await b.stop()).toBe(0);
    const stored = JSON.parse(readFileSync(join(h, 'tokens.json'), 'utf8')).tokens[0];
    expect(stored.lastUsed).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('answers hostile headers with a fast 4xx and stays up', async () => {
    const { env } = home();
    const b = await backend([], env);
    const two = await rawRequest(b.port, 'GET /api/public/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer hfk_one\r\nAuthorization: Bearer hfk_two\r\nConnection: close\r\n\r\n');
    expect(two).toMatch(/^HTTP\/1.1 401/);
    expect(two).toContain('more than one Authorization header');
    const huge = await rawRequest(b.port, `GET /api/public/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${'a'.repeat(40_000)}\r\nConnection: close\r\n\r\n`);
    // Node refuses headers over 16 KB: a 431, or a reset if it closed before we finished sending.
    expect(huge).toMatch(/^(HTTP\/1.1 431|ECONNRESET|EPIPE)/);
    const binary = await rawRequest(b.port, 'GET /api/public/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer hfk_\xff\xfe\x01\r\nConnection: close\r\n\r\n');
    expect(binary).toMatch(/^HTTP\/1.1 40[01]/);
    expect((await fetch(`http://127.0.0.1:${b.port}/api/public/health`)).status).toBe(200);
  });
});

describe('the gate cannot be walked around with request-target tricks', () => {
  it.each([
    'http://127.0.0.1/api/public/health',
    '/%61pi/public/health',
    '/API/public/health',
    '/api//public/health',
    '//api/public/health',
    '/api/public%2fhealth',
    '/api/public/../public/tokens',
    '/api/public/./health',
    '/api/public/health;x',
    '/api/public/health%00',
  ])('GET %s with --auth on and no token is refused', async (target) => {
    const { env } = home();
    const b = await backend(['--auth', 'on'], env);
    const answer = await rawRequest(b.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const status = Number(/^HTTP\/1.1 (\d+)/.exec(answer)?.[1]);
    const body = answer.split('\r\n\r\n')[1] ?? '';
    // Either the gate refuses it, or it reaches no API route (the dashboard page or a 404); never an API answer.
    if (status === 200) expect(body.toLowerCase()).toMatch(/^<!doctype html>/);
    else expect([401, 404]).toContain(status);
    expect(body).not.toContain('"status":"ok"');
  });
});

describe('the live audit stream', () => {
  it('delivers CLI events to an admin token, and ends within a second of that token being revoked', async () => {
    const { env } = home();
    const b = await backend(['--auth', 'on'], env);
    const secret = JSON.parse((await runCli(['token', 'create', 'watcher', '--json'], env)).stdout).token as string;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${b.port}/api/public/health`, { headers: { authorization: `Bearer ${secret}` } })).status === 200, 1000);
    const res = await fetch(`http://127.0.0.1:${b.port}/api/public/audit/stream`, { headers: { authorization: `Bearer ${secret}` } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    let ended = false;
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      ended = true;
    })();
    await runCli(['token', 'create', 'other'], env);
    await waitFor(() => text.includes('"event":"token.created"') && text.includes('"token":"other"'), 2000, 'the CLI event on the stream');
    await runCli(['token', 'revoke', 'watcher'], env);
    const took = await waitFor(() => ended, 1000, 'the stream to end');
    expect(took).toBeLessThan(1000);
    await reading;
    expect(text).not.toContain(secret);
  });
});

describe('port fallback', () => {
  it('names the whole range when every port in it is taken', async () => {
    const { env } = home();
    const { createServer } = await import('node:net');
    const held: import('node:net').Server[] = [];
    // Find 21 consecutive free ports and hold them.
    let base = 0;
    for (let attempt = 0; attempt < 20 && held.length < 21; attempt++) {
      for (const s of held.splice(0)) s.close();
      base = 20000 + Math.floor(Math.random() * 30000);
      for (let p = base; p <= base + 20; p++) {
        const s = createServer();
        const ok = await new Promise<boolean>((r) => s.once('error', () => r(false)).listen(p, '127.0.0.1', () => r(true)));
        if (!ok) break;
        held.push(s);
      }
    }
    try {
      expect(held).toHaveLength(21);
      await expect(backend(['--port', String(base), '--port-fallback'], env)).rejects.toThrow(`backend failed: Ports ${base}–${base + 20} on 127.0.0.1 are all in use.`);
    } finally {
      for (const s of held) s.close();
    }
  });
});
