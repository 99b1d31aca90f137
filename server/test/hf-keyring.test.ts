// Against a real Secret Service: scripts/test.sh runs the suite inside a
// private D-Bus session with an unlocked gnome-keyring-daemon. Where none can
// be started these tests are skipped, and say why. Each test uses its own
// keyring service name, so a developer's real "halo-forge" entry is never touched.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { createHfAccess } from '../src/secrets/hf-access.js';
import { guardedKeyring, KeyringUnavailableError, type Keyring } from '../src/secrets/keyring.js';
import { loadKeytar, openKeyring } from '../src/secrets/keytar-keyring.js';
import { runCli, tempHome, testEnv } from './support/backend-process.js';

const ACCOUNT = 'huggingface-token';

/** Null when a Secret Service answers within a few seconds, else why not. */
async function secretServiceProblem(): Promise<string | null> {
  if (process.platform !== 'linux') return `this test drives the Linux Secret Service; platform is ${process.platform}`;
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return 'no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set); run the suite through scripts/test.sh';
  const probe = guardedKeyring(() => loadKeytar(), { service: `halo-forge-probe-${process.pid}`, timeoutMs: 3_000 });
  try {
    await probe.get('probe');
    return null;
  } catch (err) {
    return err instanceof KeyringUnavailableError ? err.reason : String(err);
  }
}

const problem = await secretServiceProblem();
if (problem) console.log(`Skipping the real keyring tests: ${problem}`);

let hub: FakeHub;
let cleanups: (() => void | Promise<unknown>)[] = [];
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(() => hub.close());
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A home and a keyring service of the test's own; both removed afterwards. */
function setup() {
  const { home, cleanup } = tempHome();
  const service = `halo-forge-test-${randomBytes(6).toString('hex')}`;
  const env = testEnv(home, { HF_ENDPOINT: hub.url, HALOFORGE_KEYRING_SERVICE: service });
  const raw: Keyring = guardedKeyring(() => loadKeytar(), { service, timeoutMs: 3_000 });
  cleanups.push(cleanup, () => raw.delete(ACCOUNT).catch(() => false));
  return { home, env, raw };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('the Hugging Face token in a real Secret Service', () => {
  it.skipIf(problem !== null)('a saved token lands in the keyring and no file holds it', async () => {
    const { home, env, raw } = setup();
    const hf = createHfAccess({ env, audit: null, keyring: openKeyring(env), autoVerify: false });
    const status = await hf.save({ token: FAKE_HUB_TOKENS.read, verify: true });
    expect(status).toMatchObject({ source: 'keyring', verified: true, canClear: true, keyring: { available: true, reason: null } });
    expect(await raw.get(ACCOUNT)).toBe(FAKE_HUB_TOKENS.read);
    expect(() => statSync(join(home, 'secrets', 'huggingface_token'))).toThrow(/ENOENT/);
    for (const file of filesUnder(home)) expect(readFileSync(file, 'utf8')).not.toContain(FAKE_HUB_TOKENS.read.slice(3));

    // Another process (a restart, the CLI) finds it there.
    const later = createHfAccess({ env, audit: null, keyring: openKeyring(env), autoVerify: false });
    expect(await later.status()).toMatchObject({ source: 'keyring', present: true, verified: true });
    expect((await later.clear()).source).toBe('none');
    expect(await raw.get(ACCOUNT)).toBeNull();
  });

  it.skipIf(problem !== null)('the CLI saves to the keyring, reads it back and clears it', async () => {
    const { home, env, raw } = setup();
    const login = await runCli(['hf', 'login'], env, `${FAKE_HUB_TOKENS.read}\n`);
    expect(login).toEqual({ code: 0, stdout: 'Saved the Hugging Face token in the system keyring; verified as halo-tester (role read).\n', stderr: '' });
    expect(await raw.get(ACCOUNT)).toBe(FAKE_HUB_TOKENS.read);
    // No file holds the token: only the note that the keyring holds one of ours.
    expect(readdirSync(join(home, 'secrets'))).toEqual(['huggingface_token.in-keyring']);
    expect(JSON.parse((await runCli(['hf', 'status', '--json'], env)).stdout)).toMatchObject({ source: 'keyring', keyring: { available: true, reason: null } });
    expect((await runCli(['hf', 'logout'], env)).stdout).toBe('Removed the Hugging Face token Halo Forge stored.\n');
    expect(await raw.get(ACCOUNT)).toBeNull();
    expect(readdirSync(join(home, 'secrets'))).toEqual([]);
  });
});
