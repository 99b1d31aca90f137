// The disk refuses writes: Halo Forge's home is a small tmpfs that the test
// fills up, or remounts read-only. Every write the API and the CLI offer must
// answer with a clear error (507 full / 503 read-only, a code a client can
// switch on, a message that says what failed and what to do), leave the
// previous files intact byte for byte, and the server must keep serving. Once
// the disk has room again, writes work again without a restart.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { parseStore } from '../src/auth/token-store.js';
import { createHfAccess } from '../src/secrets/hf-access.js';
import { guardedKeyring, type KeyringBackend } from '../src/secrets/keyring.js';
import { runCli, startBackend, tempHome, testEnv } from './support/backend-process.js';
import { call, killHard, listTree, type HttpAnswer } from './support/faults.js';
import { createTestHost, netnsUnavailable, type TestHost } from './support/netns.js';
import { mountUnavailable, PAGE, SmallDisk } from './support/small-disk.js';

const unavailable = mountUnavailable();
if (unavailable) console.log(`Skipping the full and read-only disk tests: ${unavailable}`);
const noNetns = unavailable ? null : netnsUnavailable();
if (noNetns) console.log(`The remote-switch-on part of the disk tests is skipped: ${noNetns}`);

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(() => hub.close());

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (err) {
      console.error(`cleanup failed: ${String(err)}`);
    }
  }
  cleanups = [];
});

const SAVED = ['tokens.json', 'secrets/huggingface_token', 'config.json', 'hf-verification.json'] as const;

/**
 * A home on a 2 MiB tmpfs with a running server (--auth on), an admin token,
 * forty more tokens (a store of several pages), a saved Hugging Face token and a saved config.json.
 */
async function workstationOnSmallDisk() {
  const disk = new SmallDisk(2 * 1024 * 1024);
  cleanups.push(() => disk.unmount());
  const home = disk.dir;
  const env = testEnv(home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: hub.url });
  const boot = await runCli(['token', 'create', 'admin', '--json'], env);
  expect(boot.code, boot.stderr).toBe(0);
  const admin = JSON.parse(boot.stdout).token as string;
  const server = await startBackend(['--auth', 'on'], env, 30_000);
  cleanups.push(() => killHard(server.child));
  const api = (method: string, path: string, body?: unknown) => call(server.port, method, path, { token: admin, body });
  const secrets: Record<string, string> = {};
  for (let i = 0; i < 40; i++) {
    const res = await api('POST', '/tokens', { name: `t${i}`, scope: 'read', note: `token ${i} ${'x'.repeat(150)}` });
    expect(res.status).toBe(201);
    secrets[`t${i}`] = res.body.token;
  }
  // In use before the disk goes bad; t9 is first used after, when its first-use audit line cannot be written.
  for (const name of ['t1', 't2', 't7']) expect((await call(server.port, 'GET', '/health', { token: secrets[name] })).status).toBe(200);
  expect((await api('POST', '/huggingface/token', { token: FAKE_HUB_TOKENS.read, verify: true })).status).toBe(200);
  expect((await api('PUT', '/connection/remote', { enabled: false, interface: 'all', port: 4444 })).status).toBe(200);
  const snapshot = () => Object.fromEntries(SAVED.map((f) => [f, readFileSync(join(home, f), 'utf8')]));
  return { disk, home, env, admin, server, api, secrets, before: snapshot(), snapshot };
}

/** A refusal a person can act on: the status and code, what failed, what to do, and no stack or secret. */
function expectRefusal(res: HttpAnswer, status: number, code: string, what: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error).toBe(code);
  expect(res.body.message).toMatch(what);
  expect(res.body.message).toMatch(status === 507 ? /the disk is full\. Nothing was (changed|saved)\b.*; free some space/ : /read-only file system\. Nothing was (changed|saved)\b.*; remount it read-write/);
  expectNoLeak(res.body.message);
}

function expectNoLeak(text: string): void {
  expect(text).not.toMatch(/\n\s+at |hf_[A-Za-z0-9]{8}|hfk_[A-Za-z0-9_-]{8}/);
}

/**
 * What keeps working while the disk refuses writes: health, a stored token, a
 * token's first use and a bad token (both audited: the disk costs the audit
 * line, not the answer), the token list.
 */
async function expectStillServing(w: Awaited<ReturnType<typeof workstationOnSmallDisk>>): Promise<void> {
  expect(w.server.child.exitCode).toBeNull();
  expect((await call(w.server.port, 'GET', '/health', { token: w.secrets.t7 })).status).toBe(200);
  expect((await call(w.server.port, 'GET', '/health', { token: w.secrets.t9 })).status).toBe(200);
  expect((await call(w.server.port, 'GET', '/health', { token: `hfk_${'B'.repeat(43)}` })).status).toBe(401);
  const list = await w.api('GET', '/tokens');
  expect(list.status).toBe(200);
  expect(list.body.tokens).toHaveLength(41);
}

async function expectCliRefusal(args: string[], env: NodeJS.ProcessEnv, what: RegExp, input?: string): Promise<void> {
  const res = await runCli(args, env, input);
  expect(res.code, res.stderr).toBe(1);
  expect(res.stdout).toBe('');
  expect(res.stderr).toMatch(/^halo-forge: Could not (save|remove) [^\n]+\n$/);
  expect(res.stderr).toMatch(what);
  expectNoLeak(res.stderr);
}

describe.skipIf(unavailable !== null)('a disk that refuses writes', () => {
  it('full: every save answers 507 storage.full, nothing is half-written, the server keeps serving, and writes work once there is room', async () => {
    const w = await workstationOnSmallDisk();
    const storeBytes = w.before['tokens.json']!.length;
    expect(storeBytes).toBeGreaterThan(2 * PAGE);

    // Room for the lock and part of the new store: write(2) takes what fits
    // and refuses the rest. A single unchecked write used to rename that
    // truncated file over the store.
    w.disk.leaveFree(Math.ceil(storeBytes / PAGE));
    expectRefusal(await w.api('POST', '/tokens', { name: 'partial', note: 'y'.repeat(150) }), 507, 'storage.full', /^Could not save the token store .*tokens\.json: /);
    expect(w.snapshot()).toEqual(w.before);

    w.disk.fill();
    expectRefusal(await w.api('POST', '/tokens', { name: 'new' }), 507, 'storage.full', /^Could not save the token store/);
    expectRefusal(await w.api('DELETE', '/tokens/t1'), 507, 'storage.full', /^Could not save the token store/);
    expectRefusal(await w.api('POST', '/huggingface/token', { token: FAKE_HUB_TOKENS.write, verify: true }), 507, 'storage.full', /^Could not save the Hugging Face token: .*huggingface_token failed because/);
    expectRefusal(await w.api('PUT', '/connection/remote', { enabled: false, interface: 'all', port: 5555 }), 507, 'storage.full', /^Remote access stays off: could not save the settings file .*config\.json: /);
    await expectCliRefusal(['token', 'create', 'from-cli'], w.env, /the disk is full/);
    await expectCliRefusal(['token', 'revoke', 't2'], w.env, /the disk is full/);
    await expectCliRefusal(['hf', 'login'], w.env, /the disk is full/, `${FAKE_HUB_TOKENS.write}\n`);
    expect(w.snapshot()).toEqual(w.before);
    expect(listTree(w.home).filter((n) => n.endsWith('.lock') || n.endsWith('.tmp')), 'no lock or temp file left behind').toEqual([]);
    await expectStillServing(w);
    // t1 and t2 were not revoked.
    expect((await call(w.server.port, 'GET', '/health', { token: w.secrets.t1 })).status).toBe(200);
    expect((await call(w.server.port, 'GET', '/health', { token: w.secrets.t2 })).status).toBe(200);

    w.disk.empty();
    const created = await w.api('POST', '/tokens', { name: 'new' });
    expect(created.status).toBe(201);
    expect((await call(w.server.port, 'GET', '/health', { token: created.body.token })).status).toBe(200);
    expect((await w.api('DELETE', '/tokens/t1')).status).toBe(200);
    expect((await runCli(['token', 'revoke', 't2'], w.env)).code).toBe(0);
    expect((await w.api('POST', '/huggingface/token', { token: FAKE_HUB_TOKENS.write, verify: true })).body).toMatchObject({ source: 'file', verified: true });
    expect((await w.api('PUT', '/connection/remote', { enabled: false, interface: 'all', port: 5555 })).status).toBe(200);
    const names = parseStore('tokens.json', readFileSync(join(w.home, 'tokens.json'), 'utf8')).tokens.map((t) => t.name);
    expect(names).toContain('new');
    expect(names).not.toContain('t1');
    expect(names).not.toContain('t2');
    expect(readFileSync(join(w.home, 'secrets/huggingface_token'), 'utf8')).toBe(`${FAKE_HUB_TOKENS.write}\n`);
    expect(JSON.parse(readFileSync(join(w.home, 'config.json'), 'utf8')).remoteAccess.port).toBe(5555);
  });

  it('read-only: every save answers 503 storage.read_only, the files are untouched, and writes work once it is writable again', async () => {
    const w = await workstationOnSmallDisk();
    w.disk.readOnly(true);
    cleanups.push(() => w.disk.readOnly(false));
    expectRefusal(await w.api('POST', '/tokens', { name: 'new' }), 503, 'storage.read_only', /^Could not save the token store/);
    expectRefusal(await w.api('DELETE', '/tokens/t1'), 503, 'storage.read_only', /^Could not save the token store/);
    expectRefusal(await w.api('POST', '/huggingface/token', { token: FAKE_HUB_TOKENS.write, verify: true }), 503, 'storage.read_only', /^Could not save the Hugging Face token/);
    expectRefusal(await w.api('DELETE', '/huggingface/token'), 503, 'storage.read_only', /^Could not remove .*huggingface_token: /);
    expectRefusal(await w.api('PUT', '/connection/remote', { enabled: false, interface: 'all', port: 5555 }), 503, 'storage.read_only', /^Remote access stays off: could not save the settings file/);
    await expectCliRefusal(['token', 'create', 'from-cli'], w.env, /read-only file system/);
    await expectCliRefusal(['token', 'revoke', 't2'], w.env, /read-only file system/);
    await expectCliRefusal(['hf', 'login'], w.env, /read-only file system/, `${FAKE_HUB_TOKENS.write}\n`);
    expect(w.snapshot()).toEqual(w.before);
    await expectStillServing(w);

    w.disk.readOnly(false);
    expect((await w.api('POST', '/tokens', { name: 'new' })).status).toBe(201);
    expect((await w.api('DELETE', '/tokens/t1')).status).toBe(200);
    expect((await w.api('POST', '/huggingface/token', { token: FAKE_HUB_TOKENS.write, verify: true })).status).toBe(200);
    expect((await w.api('PUT', '/connection/remote', { enabled: false, interface: 'all', port: 5555 })).status).toBe(200);
  });

  it('full, with a working keyring: an HF save still lands in the keyring, and says what the disk refused', async () => {
    const disk = new SmallDisk(256 * 1024);
    cleanups.push(() => disk.unmount());
    const entries = new Map<string, string>();
    const memory: KeyringBackend = {
      get: async (service, account) => entries.get(`${service}/${account}`) ?? null,
      set: async (service, account, value) => void entries.set(`${service}/${account}`, value),
      delete: async (service, account) => entries.delete(`${service}/${account}`),
    };
    const env = testEnv(disk.dir, { HF_ENDPOINT: hub.url });
    const hf = createHfAccess({ env, audit: new AuditLog(join(disk.dir, 'audit.log')), keyring: guardedKeyring(() => memory), autoVerify: false });
    disk.fill();
    const status = await hf.save({ token: FAKE_HUB_TOKENS.read, verify: true });
    expect(status).toMatchObject({ present: true, source: 'keyring', verified: false });
    expect(status.warnings).toContain("The token is saved, but the Hub's answer could not be kept (the disk is full); it is asked again later, and the audit log could not be written (the disk is full).");
    expect(entries.get('halo-forge/huggingface-token')).toBe(FAKE_HUB_TOKENS.read);
  });

  it.skipIf(noNetns !== null)('the remote switch turned on while the disk is full goes back off and says so: it never claims a state it could not save', async () => {
    const w = await workstationOnSmallDisk();
    const remote: TestHost = createTestHost();
    cleanups.push(() => remote.remove());
    const url = `http://${remote.hostAddress}:${w.server.port}/api/public/health`;
    w.disk.fill();
    expectRefusal(await w.api('PUT', '/connection/remote', { enabled: true, interface: remote.hostAddress }), 507, 'storage.full', /^Remote access stays off: could not save the settings file/);
    expect((await w.api('GET', '/connection')).body.remote).toMatchObject({ enabled: false });
    expect(await remote.request(url)).toBe('ERR ECONNREFUSED');
    expect(w.snapshot()).toEqual(w.before);

    w.disk.empty();
    expect((await w.api('PUT', '/connection/remote', { enabled: true, interface: remote.hostAddress })).status).toBe(200);
    expect(await remote.request(url)).toBe('401');
    expect(JSON.parse(readFileSync(join(w.home, 'config.json'), 'utf8')).remoteAccess).toEqual({ enabled: true, interface: remote.hostAddress, port: null });
    expect((await w.api('PUT', '/connection/remote', { enabled: false })).status).toBe(200);
  });
});

describe('an audit log the disk will not take (here: a folder in its place)', () => {
  it('costs the audit line, never a token whose secret exists only in the answer, nor a saved switch', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    mkdirSync(join(home, 'audit.log'), { mode: 0o700 });
    const env = testEnv(home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: hub.url });

    const made = await runCli(['token', 'create', 'from-cli', '--json'], env);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/^warning: could not write the audit log: EISDIR/);
    const cliToken = JSON.parse(made.stdout).token as string;

    // The local pass, so no first use of a token is audited on the way in: what is proven here is the routes' own audit lines.
    const server = await startBackend([], env, 30_000);
    cleanups.push(() => killHard(server.child));
    const api = (method: string, path: string, body?: unknown) => call(server.port, method, path, { body });
    const created = await api('POST', '/tokens', { name: 'from-api' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const stored = parseStore('tokens.json', readFileSync(join(home, 'tokens.json'), 'utf8')).tokens;
    expect(stored.find((t) => t.name === 'from-api')?.hash).toBe(createHash('sha256').update(created.body.token).digest('hex'));
    expect(stored.find((t) => t.name === 'from-cli')?.hash).toBe(createHash('sha256').update(cliToken).digest('hex'));
    expect((await api('DELETE', '/tokens/from-api')).status).toBe(200);
    expect((await api('PUT', '/connection/remote', { enabled: false, interface: 'all', port: 4444 })).status).toBe(200);
    expect(JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')).remoteAccess.port).toBe(4444);
    const saved = await api('POST', '/huggingface/token', { token: FAKE_HUB_TOKENS.read, verify: true });
    expect(saved.status).toBe(200);
    expect(saved.body.warnings).toContainEqual(expect.stringMatching(/^The token is saved, but the audit log could not be written \(EISDIR/));
    expect((await runCli(['token', 'revoke', 'from-cli'], env)).code).toBe(0);
  });
});
