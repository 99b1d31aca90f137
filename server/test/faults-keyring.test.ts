// The keyring disappears between two calls: the test runs a Secret Service of
// its own (a private bus and gnome-keyring-daemon), saves the Hugging Face
// token in it, then SIGKILLs the daemon under a running server and starts it
// again on the same data, as a crash and a restart would.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { runCli, startBackend, tempHome, testEnv } from './support/backend-process.js';
import { call, killHard, listTree } from './support/faults.js';
import { fingerprint, privateKeyringUnavailable, startPrivateKeyring } from './support/private-keyring.js';

const problem = await privateKeyringUnavailable();
if (problem) console.log(`Skipping the vanishing-keyring test: ${problem}`);

const SERVICE = 'halo-forge-faults';
const ACCOUNT = 'huggingface-token';

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(() => hub.close());

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe.skipIf(problem !== null)('the keyring disappears between two calls', () => {
  it('status says the keyring is unavailable, not "no token"; nothing is lost; the token is back once the keyring is', async () => {
    const keyring = await startPrivateKeyring();
    cleanups.push(() => keyring.close());
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const env = testEnv(home, { DBUS_SESSION_BUS_ADDRESS: keyring.busAddress, HALOFORGE_KEYRING_SERVICE: SERVICE, HF_ENDPOINT: hub.url });
    for (const k of ['HALOFORGE_KEYRING', 'DISPLAY', 'WAYLAND_DISPLAY']) delete env[k];
    const server = await startBackend([], env, 30_000);
    cleanups.push(() => killHard(server.child));
    const api = (method: string, path: string, body?: unknown) => call(server.port, method, path, { body });
    const cliStatus = async () => {
      const res = await runCli(['hf', 'status', '--json'], env);
      expect(res.code, res.stderr).toBe(0);
      return JSON.parse(res.stdout);
    };
    const secretsDir = join(home, 'secrets');
    const saved = fingerprint(FAKE_HUB_TOKENS.read);

    // Saved in the keyring, and seen there by the server and by a CLI process.
    expect((await api('POST', '/huggingface/token', { token: FAKE_HUB_TOKENS.read, verify: true })).body).toMatchObject({ source: 'keyring', verified: true });
    expect(await keyring.fingerprint(SERVICE, ACCOUNT)).toBe(saved);
    const inUse = { present: true, source: 'keyring', verified: true, username: 'halo-tester', role: 'read', keyring: { available: true, reason: null } };
    expect((await api('GET', '/huggingface/status')).body).toMatchObject(inUse);
    expect(await cliStatus()).toMatchObject(inUse);

    await keyring.kill();
    const gone = {
      present: false,
      source: 'none',
      canClear: false,
      // What it means, not D-Bus's words (those go to the server's log).
      keyring: { available: false, reason: 'The system keyring did not answer.' },
      message: expect.stringMatching(/^The system keyring is not answering, so a Hugging Face token saved there cannot be read right now; nothing was removed/),
    };
    expect((await api('GET', '/huggingface/status')).body).toMatchObject(gone);
    expect(await cliStatus()).toMatchObject(gone);
    const text = await runCli(['hf', 'status'], env);
    expect(text.stdout).toMatch(/^source: {3}none\nkeyring: {2}unavailable: The system keyring did not answer\.\nThe system keyring is not answering/);
    expect(text.stdout).not.toMatch(/no token|No Hugging Face token/);

    // A save that does not go through while it is gone (the Hub refuses the token) changes nothing anywhere.
    const refused = await api('POST', '/huggingface/token', { token: FAKE_HUB_TOKENS.unknown, verify: true });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/Nothing was saved/);
    const cliRefused = await runCli(['hf', 'login'], env, `${FAKE_HUB_TOKENS.unknown}\n`);
    expect(cliRefused.code).toBe(1);
    expect(cliRefused.stderr).toMatch(/Nothing was saved/);
    expect(readdirSync(secretsDir), 'no file and no stale mark were written while the keyring was gone').toEqual(['huggingface_token.in-keyring']);

    // Back on the same data: the very token is there, and both the running server and a new CLI process use it.
    await keyring.start();
    expect(await keyring.fingerprint(SERVICE, ACCOUNT)).toBe(saved);
    expect((await api('GET', '/huggingface/status')).body).toMatchObject(inUse);
    expect(await cliStatus()).toMatchObject(inUse);

    // Gone again, and this time a new token is saved: it lands in the 0600 file, and the answer says why
    // and that the keyring's older copy will not come back.
    await keyring.kill();
    const login = await runCli(['hf', 'login'], env, `${FAKE_HUB_TOKENS.fineGrainedRead}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/^Saved the Hugging Face token in the secret file \(no keyring available\); verified as halo-tester \(role fineGrained\)\.\nKeyring: The system keyring did not answer\.\n$/);
    expect(login.stderr).toMatch(/^warning: The system keyring did not answer, so the token saved there earlier could not be removed yet; Halo Forge ignores it and removes it as soon as the keyring answers\.\n/);
    const viaFile = { present: true, source: 'file', verified: true, role: 'fineGrained', keyring: { available: false } };
    expect((await api('GET', '/huggingface/status')).body).toMatchObject(viaFile);
    expect(readdirSync(secretsDir).sort()).toEqual(['huggingface_token', 'huggingface_token.in-keyring', 'huggingface_token.keyring-stale']);

    // Back again: the older copy is deleted, not resurrected; the new token stays in use.
    await keyring.start();
    expect((await api('GET', '/huggingface/status')).body).toMatchObject({ ...viaFile, keyring: { available: true, reason: null }, warnings: [] });
    expect(await keyring.fingerprint(SERVICE, ACCOUNT)).toBe('none');
    expect(await cliStatus()).toMatchObject({ source: 'file', role: 'fineGrained' });
    expect(readdirSync(secretsDir)).toEqual(['huggingface_token']);
    expect(listTree(home).filter((p) => p.includes('.tmp'))).toEqual([]);
    // A dozen CLI processes and two keyring restarts: a loaded CI machine needs more than the default 30 s.
  }, 120_000);
});
