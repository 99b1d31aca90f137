import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, waitFor, workstations } from './support/backend-process.js';
import type { ConnectionInfo, RemoteAccess } from '../../shared/api.js';
import { createTestHost, netnsUnavailable, type TestHost } from './support/netns.js';

// A real remote client: a process in its own network namespace, talking to the
// backend over a veth link, exactly as a laptop on the LAN would.
const unavailable = netnsUnavailable();
if (unavailable) console.log(`[remote-client] skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('a real remote client in a network namespace', () => {
  let remote: TestHost;
  beforeAll(() => {
    remote = createTestHost();
  });
  afterAll(() => remote?.remove());
  const { home, backend, release } = workstations();
  afterEach(release);

  it('on a 0.0.0.0 bind: 401 without a token, 200 with one, 401 within a second of a CLI revoke; loopback still needs none', async () => {
    const { env } = home();
    const b = await backend(['--host', '0.0.0.0'], env);
    const url = `http://${remote.hostAddress}:${b.port}/api/public/health`;
    const secret = JSON.parse((await runCli(['token', 'create', 'laptop', '--json'], env)).stdout).token as string;

    expect(await remote.request(url)).toBe('401');
    await waitFor(async () => (await remote.request(url, { authorization: `Bearer ${secret}` })) === '200', 2000, 'the token to work remotely');
    expect((await fetch(`http://127.0.0.1:${b.port}/api/public/health`)).status).toBe(200);

    await runCli(['token', 'revoke', 'laptop'], env);
    // Measured to the moment the refused request was sent: starting a client in the namespace takes
    // longer than the revoke itself on a busy machine, and that is not the server's time.
    const revokedAt = Date.now();
    let sentAt = revokedAt;
    await waitFor(
      async () => {
        sentAt = Date.now();
        return (await remote.request(url, { authorization: `Bearer ${secret}` })) === '401';
      },
      10_000,
      'the revoke to reach the server',
    );
    expect(sentAt - revokedAt).toBeLessThan(1000);
    expect((await fetch(`http://127.0.0.1:${b.port}/api/public/health`)).status).toBe(200);
  });

  it('a loopback-bound server cannot be reached from the namespace', async () => {
    const { env } = home();
    const b = await backend([], env);
    expect(await remote.request(`http://${remote.hostAddress}:${b.port}/api/public/health`)).toBe('ERR ECONNREFUSED');
  });

  it('the remote-access switch opens a protected port at runtime, persists, and closes it again', async () => {
    const { home: h, env } = home();
    const b = await backend([], env);
    const url = `http://${remote.hostAddress}:${b.port}/api/public/health`;
    expect(await remote.request(url)).toBe('ERR ECONNREFUSED');

    const on = await fetch(`http://127.0.0.1:${b.port}/api/public/connection/remote`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true }) });
    expect(on.status).toBe(200);
    const state = (await on.json()) as RemoteAccess;
    expect(state).toMatchObject({ enabled: true, fixed: false, interface: 'all', port: b.port, needsToken: true });
    expect(state.urls).toContain(`http://${remote.hostAddress}:${b.port}/`);
    expect(JSON.parse(readFileSync(join(h, 'config.json'), 'utf8'))).toEqual({ remoteAccess: { enabled: true, interface: 'all', port: null } });

    expect(await remote.request(url)).toBe('401');
    const secret = JSON.parse((await runCli(['token', 'create', 'laptop', '--json'], env)).stdout).token as string;
    await waitFor(async () => (await remote.request(url, { authorization: `Bearer ${secret}` })) === '200', 2000, 'the new token to work remotely');
    // The local window keeps working through loopback, without a token.
    expect((await fetch(`http://127.0.0.1:${b.port}/api/public/health`)).status).toBe(200);
    // Claiming a loopback Host does not make a remote client local.
    expect(await remote.send(`http://${remote.hostAddress}:${b.port}/api/public/auth/session`, { method: 'GET', headers: { host: '127.0.0.1' } })).toEqual({
      status: 200,
      body: { local: false, authRequired: true, proxied: false, token: null },
    });

    const off = await fetch(`http://127.0.0.1:${b.port}/api/public/connection/remote`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) });
    expect(((await off.json()) as RemoteAccess).enabled).toBe(false);
    expect(await remote.request(url, { authorization: `Bearer ${secret}` })).toBe('ERR ECONNREFUSED');
  });

  it('restores remote access at the next launch', async () => {
    const { env } = home();
    const first = await backend([], env);
    await fetch(`http://127.0.0.1:${first.port}/api/public/connection/remote`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true }) });
    const port = first.port;
    await first.stop();
    const second = await backend(['--port', String(port)], env);
    expect(second.output()).toContain('Remote access is ON');
    expect(await remote.request(`http://${remote.hostAddress}:${second.port}/api/public/health`)).toBe('401');
  });

  it('a remote client cannot flip remote access without an admin token', async () => {
    const { env } = home();
    const b = await backend([], env);
    await fetch(`http://127.0.0.1:${b.port}/api/public/connection/remote`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true }) });
    const operate = JSON.parse((await runCli(['token', 'create', 'runner', '--scope', 'operate', '--json'], env)).stdout).token as string;
    const url = `http://${remote.hostAddress}:${b.port}/api/public/connection/remote`;
    const off = { method: 'PUT', body: { enabled: false } };
    expect(await remote.send(url, off)).toMatchObject({ status: 401, body: { error: 'auth.required' } });
    await waitFor(async () => (await remote.send(url, { ...off, headers: { authorization: `Bearer ${operate}` } })).status === 403, 2000, 'the operate token to be known');
    expect(await remote.send(url, { ...off, headers: { authorization: `Bearer ${operate}` } })).toEqual({
      status: 403,
      body: { error: 'auth.forbidden', message: 'The token "runner" has the operate scope; this needs admin.' },
    });
    expect(((await (await fetch(`http://127.0.0.1:${b.port}/api/public/connection`)).json()) as ConnectionInfo).remote.enabled).toBe(true);
  });
});

describe.skipIf(unavailable !== null)('overlapping remote-access switches', () => {
  let remote: TestHost;
  const { home, backend, release } = workstations();
  beforeAll(() => {
    remote = createTestHost();
  });
  afterAll(() => remote?.remove());
  afterEach(release);

  it('end in the state of the last request, saved as such, with no listener left behind', async () => {
    const { home: h, env } = home();
    const b = await backend([], env);
    const put = (body: object) =>
      fetch(`http://127.0.0.1:${b.port}/api/public/connection/remote`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const secondPort = b.port + 1;
    // Two enables on different ports and a disable, all at once, then one more disable.
    await Promise.all([put({ enabled: true }), put({ enabled: true, port: secondPort }), put({ enabled: false })]);
    const last = await put({ enabled: false });
    expect(((await last.json()) as RemoteAccess).enabled).toBe(false);
    expect(JSON.parse(readFileSync(join(h, 'config.json'), 'utf8')).remoteAccess.enabled).toBe(false);
    for (const port of [b.port, secondPort]) expect(await remote.request(`http://${remote.hostAddress}:${port}/api/public/health`)).toBe('ERR ECONNREFUSED');
  });
});
