// The usual GPU server, reached over SSH: no Secret Service at all. The real
// CLI runs in a fresh home with no DBUS_SESSION_BUS_ADDRESS (and with one
// that points at nothing), with keytar loaded and asked for real. It must
// say in plain words that there is no keyring and where the token is kept
// instead, never show a D-Bus error, and never warn about a keyring token
// "that could not be removed": there never was one.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { runCli, tempHome, testEnv } from './support/backend-process.js';

function keytarProblem(): string | null {
  try {
    createRequire(import.meta.url)('keytar');
    return null;
  } catch (err) {
    return `keytar cannot be loaded: ${(err as Error).message.split('\n')[0]}`;
  }
}
const problem = keytarProblem();
if (problem) console.log(`Skipping the headless keyring test: ${problem}`);

/** What a person must never be shown: the library's own words. */
const DBUS_WORDS = /D-Bus|DBUS|X11|\$DISPLAY|Could not connect|No such file or directory|Secret Service answered/;

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(() => hub.close());

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function headless(bus: string | undefined) {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const env = testEnv(home, { HF_ENDPOINT: hub.url });
  for (const k of ['HALOFORGE_KEYRING', 'HALOFORGE_KEYRING_SERVICE', 'DISPLAY', 'WAYLAND_DISPLAY', 'DBUS_SESSION_BUS_ADDRESS']) delete env[k];
  if (bus) env.DBUS_SESSION_BUS_ADDRESS = bus;
  // GLib also looks for $XDG_RUNTIME_DIR/bus: on a desktop that would be the real session bus.
  env.XDG_RUNTIME_DIR = home;
  // A unique service name: should a Secret Service answer after all, no real entry is touched.
  env.HALOFORGE_KEYRING_SERVICE = `halo-forge-headless-${process.pid}`;
  const secrets = join(home, 'secrets');
  return { home, env, secrets, secretFile: join(secrets, 'huggingface_token'), hf: (args: string[], input?: string) => runCli(['hf', ...args], env, input) };
}

describe.skipIf(problem !== null).each([
  ['no DBUS_SESSION_BUS_ADDRESS', undefined],
  ['a DBUS_SESSION_BUS_ADDRESS that points at nothing', 'unix:path=/nonexistent/halo-forge-test/bus'],
])('a machine with no system keyring (%s)', (_name, bus) => {
  it('says so in plain words, keeps the token in the 0600 file, and never warns about a stale keyring token', async () => {
    const { env, secrets, secretFile, hf } = headless(bus);
    const noKeyring = `No system keyring on this machine (normal on servers): the token is kept in ${secretFile}, readable only by you. Set HALOFORGE_KEYRING=off to stop looking for one.`;

    const fresh = await hf(['status']);
    expect(fresh).toEqual({
      code: 0,
      stdout: `source:   none\nkeyring:  unavailable: ${noKeyring}\nNo Hugging Face token: open models download fine; gated and private ones need a read token.\n`,
      stderr: '',
    });

    const login = await hf(['login'], `${FAKE_HUB_TOKENS.read}\n`);
    expect(login).toEqual({
      code: 0,
      stdout: `Saved the Hugging Face token in the secret file (no keyring available); verified as halo-tester (role read).\nKeyring: ${noKeyring}\n`,
      stderr: '',
    });
    // Only the token: no stale mark, no note of a keyring entry that never existed.
    expect(readdirSync(secrets)).toEqual(['huggingface_token']);

    const status = await hf(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ present: true, source: 'file', verified: true, keyring: { available: false, reason: noKeyring }, warnings: [] });

    const logout = await hf(['logout']);
    expect(logout).toEqual({ code: 0, stdout: 'Removed the Hugging Face token Halo Forge stored.\n', stderr: '' });
    expect(readdirSync(secrets)).toEqual([]);

    // Nothing stored: exactly that, and nothing else.
    expect(await hf(['logout'])).toEqual({ code: 0, stdout: 'Halo Forge had no Hugging Face token stored.\n', stderr: '' });

    const again = await hf(['status']);
    for (const out of [fresh, login, status, logout, again]) expect(`${out.stdout}${out.stderr}`).not.toMatch(DBUS_WORDS);
    expect(`${again.stdout}`).not.toMatch(/warning/);
    expect(env.HALOFORGE_KEYRING).toBeUndefined();
  });
});

describe('a stale mark left by an earlier version on a machine without a keyring', () => {
  it('is not repeated as a warning once the keyring is turned off with HALOFORGE_KEYRING=off', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const secrets = join(home, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    writeFileSync(join(secrets, 'huggingface_token'), `${FAKE_HUB_TOKENS.read}\n`, { mode: 0o600 });
    writeFileSync(join(secrets, 'huggingface_token.keyring-stale'), 'mark\n', { mode: 0o600 });
    const env = testEnv(home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: hub.url });
    const status = await runCli(['hf', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ present: true, source: 'file', warnings: [] });
    expect(await runCli(['hf', 'logout'], env)).toEqual({ code: 0, stdout: 'Removed the Hugging Face token Halo Forge stored.\n', stderr: '' });
    // Kept for the day the keyring is turned back on: the entry it marks must not come back then.
    expect(existsSync(join(secrets, 'huggingface_token.keyring-stale'))).toBe(true);
  });
});
