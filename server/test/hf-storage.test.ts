import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { createHfAccess, type HfAccess } from '../src/secrets/hf-access.js';
import { guardedKeyring, type Keyring, type KeyringBackend } from '../src/secrets/keyring.js';
import { loadKeytar, openKeyring } from '../src/secrets/keytar-keyring.js';
import { tempHome, testEnv, waitFor } from './support/backend-process.js';

const TOKEN = 'hf_CANARYstorageTestToken0123456789abcd';
const OTHER = 'hf_CANARYanotherStorageToken0123456789ab';

/** An in-memory keyring that records what it was asked. */
function memoryBackend() {
  const entries = new Map<string, string>();
  const calls: string[] = [];
  const backend: KeyringBackend = {
    get: async (s, a) => (calls.push('get'), entries.get(`${s}/${a}`) ?? null),
    set: async (s, a, v) => void (calls.push('set'), entries.set(`${s}/${a}`, v)),
    delete: async (s, a) => (calls.push('delete'), entries.delete(`${s}/${a}`)),
  };
  return { backend, entries, calls };
}

/** A keyring that never answers, like a locked one waiting for a password prompt. */
function hangingBackend() {
  const calls: string[] = [];
  const never = <T>(name: string) => (calls.push(name), new Promise<T>(() => {}));
  const backend: KeyringBackend = { get: () => never('get'), set: () => never('set'), delete: () => never('delete') };
  return { backend, calls };
}

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function setup(options: { keyring?: Keyring | ((env: NodeJS.ProcessEnv) => Keyring); envExtra?: NodeJS.ProcessEnv; hub?: FakeHub; now?: () => Date; autoVerify?: boolean } = {}) {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const env = testEnv(home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: options.hub?.url ?? 'http://127.0.0.1:9', ...options.envExtra });
  const keyring = typeof options.keyring === 'function' ? options.keyring(env) : options.keyring;
  const hf: HfAccess = createHfAccess({ env, audit: new AuditLog(join(home, 'audit.log')), keyring, now: options.now, autoVerify: options.autoVerify ?? false });
  return { home, env, hf, secretFile: join(home, 'secrets', 'huggingface_token'), audit: () => readFileSync(join(home, 'audit.log'), 'utf8') };
}

async function fakeHub(): Promise<FakeHub> {
  const hub = await startFakeHub();
  cleanups.push(() => hub.close());
  return hub;
}

const mode = (path: string) => statSync(path).mode & 0o777;
const whoamiCalls = (hub: FakeHub) => hub.requests.filter((r) => r.path === '/api/whoami-v2').length;

describe('where a saved token goes', () => {
  it('lands in the keyring when the keyring answers, and no file is written', async () => {
    const memory = memoryBackend();
    const { hf, secretFile, home } = setup({ keyring: guardedKeyring(() => memory.backend) });
    const status = await hf.save({ token: TOKEN, verify: false });
    expect(status).toMatchObject({ present: true, source: 'keyring', canClear: true, keyring: { available: true, reason: null } });
    expect(memory.entries.get('halo-forge/huggingface-token')).toBe(TOKEN);
    expect(() => statSync(secretFile)).toThrow(/ENOENT/);
    // Only the note that the keyring holds a token of ours (so a clear that cannot reach it later knows to mark it stale).
    expect(readdirSync(join(home, 'secrets'))).toEqual(['huggingface_token.in-keyring']);
    expect(readFileSync(join(home, 'secrets', 'huggingface_token.in-keyring'), 'utf8')).not.toContain(TOKEN.slice(3));
  });

  describe('with a umask that would leave files world-readable', () => {
    let previous = 0;
    beforeEach(() => {
      previous = process.umask(0);
    });
    afterEach(() => {
      process.umask(previous);
    });

    it('goes to a 0600 file in a 0700 directory without a keyring, and leaves no temp file behind', async () => {
      const { hf, secretFile } = setup();
      const status = await hf.save({ token: TOKEN, verify: false });
      expect(status).toMatchObject({ source: 'file', keyring: { available: false, reason: 'Turned off by HALOFORGE_KEYRING=off.' } });
      expect(readFileSync(secretFile, 'utf8')).toBe(`${TOKEN}\n`);
      expect(mode(secretFile)).toBe(0o600);
      expect(mode(join(secretFile, '..'))).toBe(0o700);
      expect(readdirSync(join(secretFile, '..'))).toEqual(['huggingface_token']);
    });
  });

  it('tightens a secret file that others could read, and says so', async () => {
    const { hf, secretFile } = setup();
    mkdirSync(join(secretFile, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(secretFile, `${TOKEN}\n`, { mode: 0o644 });
    chmodSync(secretFile, 0o644);
    const status = await hf.status();
    expect(status.source).toBe('file');
    expect(status.warnings).toEqual([`${secretFile} was readable by other users (mode 644); tightened to 0600`]);
    expect(mode(secretFile)).toBe(0o600);
  });

  it('removes a leftover file once the keyring takes the token, so the two never disagree', async () => {
    const memory = memoryBackend();
    const { hf, secretFile } = setup({ keyring: guardedKeyring(() => memory.backend) });
    mkdirSync(join(secretFile, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(secretFile, `${OTHER}\n`, { mode: 0o600 });
    await hf.save({ token: TOKEN, verify: false });
    expect(() => statSync(secretFile)).toThrow(/ENOENT/);
  });
});

describe('when the keyring cannot be used', () => {
  it('keytar missing: the status says why and the token goes to the file', async () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module 'keytar'"), { code: 'MODULE_NOT_FOUND' });
    };
    const { hf, secretFile } = setup({ envExtra: { HALOFORGE_KEYRING: undefined }, keyring: (env) => openKeyring(env, { load: () => loadKeytar(missing) }) });
    const status = await hf.save({ token: TOKEN, verify: false });
    expect(status).toMatchObject({ source: 'file', keyring: { available: false, reason: 'The keyring library (keytar) could not be loaded: it is not installed.' } });
    expect(readFileSync(secretFile, 'utf8')).toBe(`${TOKEN}\n`);
  });

  it('no Secret Service: the status says so in plain words, with where the token is kept, and no D-Bus error', async () => {
    const backend: KeyringBackend = {
      get: async () => {
        throw new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
      },
      set: async () => {
        throw new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
      },
      delete: async () => false,
    };
    const { hf, secretFile } = setup({ keyring: guardedKeyring(() => backend) });
    const saved = await hf.save({ token: TOKEN, verify: false });
    expect(saved.keyring).toEqual({
      available: false,
      reason: `No system keyring on this machine (normal on servers): the token is kept in ${secretFile}, readable only by you. Set HALOFORGE_KEYRING=off to stop looking for one.`,
    });
    expect(saved.warnings).toEqual(['This token was saved without verification; verify it once the Hugging Face Hub can be reached.']);
  });

  it('a locked keyring that reads but refuses to save: the reason stays in the status after the fallback', async () => {
    const locked: KeyringBackend = {
      get: async () => null,
      set: async () => {
        throw new Error('Object does not exist at path “/org/freedesktop/secrets/collection/login”');
      },
      delete: async () => false,
    };
    const { hf } = setup({ keyring: guardedKeyring(() => locked) });
    // The D-Bus error is for the log, not for a person.
    const expected = { available: false, reason: 'The keyring refused to save the token; it may be locked.' };
    expect(await hf.save({ token: TOKEN, verify: false })).toMatchObject({ source: 'file', keyring: expected });
    expect((await hf.status()).keyring).toEqual(expected);
  });

  it('a keyring that never answers: the save falls back to the file within the timeout, and the keyring is left alone afterwards', async () => {
    const hanging = hangingBackend();
    const { hf, secretFile } = setup({ keyring: guardedKeyring(() => hanging.backend, { timeoutMs: 200, cooldownMs: 60_000 }) });
    const started = Date.now();
    const saved = await hf.save({ token: TOKEN, verify: false });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(saved).toMatchObject({
      source: 'file',
      keyring: {
        available: false,
        reason: 'The keyring did not answer within 0.2 s (it may be locked and waiting for a password); using the file instead, and not asking the keyring again for 60 s.',
      },
    });
    expect(readFileSync(secretFile, 'utf8')).toBe(`${TOKEN}\n`);

    // Further requests answer at once and start no new keyring call that could hang a worker.
    const again = Date.now();
    for (let i = 0; i < 5; i++) expect((await hf.status()).source).toBe('file');
    expect(Date.now() - again).toBeLessThan(150);
    expect(hanging.calls).toEqual(['set']);
  });

  it('concurrent status reads against a hung keyring share one keyring call', async () => {
    const hanging = hangingBackend();
    const { hf } = setup({ keyring: guardedKeyring(() => hanging.backend, { timeoutMs: 200 }) });
    const statuses = await Promise.all(Array.from({ length: 8 }, () => hf.status()));
    expect(statuses.map((s) => s.keyring.available)).toEqual(Array(8).fill(false));
    expect(hanging.calls).toEqual(['get']);
  });
});

describe('a token from the environment', () => {
  it('is used but cannot be cleared, and the status says where to remove it', async () => {
    const { hf } = setup({ envExtra: { HF_TOKEN: TOKEN } });
    const status = await hf.status();
    expect(status).toMatchObject({ present: true, source: 'env', canClear: false, warnings: [] });
    expect(status.message).toBe(
      "Using HF_TOKEN from the backend's environment; Halo Forge cannot clear it (remove it from the shell profile, service unit or launch agent that starts Halo Forge, then restart). Not verified with the Hub yet.",
    );
    await expect(hf.clear()).rejects.toMatchObject({
      statusCode: 409,
      code: 'hf.env_token',
      message:
        "The Hugging Face token in use comes from HF_TOKEN in the backend's environment, which Halo Forge cannot clear. Remove HF_TOKEN from the shell profile, service unit or launch agent that starts Halo Forge, then restart it.",
    });
  });

  it('still wins over a token saved while it is set, and the status warns about it', async () => {
    const { hf, secretFile } = setup({ envExtra: { HUGGING_FACE_HUB_TOKEN: TOKEN } });
    const status = await hf.save({ token: OTHER, verify: false });
    expect(readFileSync(secretFile, 'utf8')).toBe(`${OTHER}\n`);
    expect(status.source).toBe('env');
    expect(status.warnings).toEqual(['A token saved in the secret file is not used while HUGGING_FACE_HUB_TOKEN is set in the environment: the environment value wins.']);
  });
});

describe("the Hugging Face tools' token", () => {
  it('is used read-only, can be adopted, and is never touched by a clear', async () => {
    const { hf, env, secretFile } = setup();
    const cacheFile = join(env.HF_HOME!, 'token');
    mkdirSync(env.HF_HOME!, { recursive: true });
    writeFileSync(cacheFile, `${TOKEN}\n`);

    expect(await hf.status()).toMatchObject({ source: 'hf-cache', present: true, canClear: false, hfCacheAvailable: true });
    const adopted = await hf.save({ adoptHfCache: true, verify: false });
    expect(adopted).toMatchObject({ source: 'file', hfCacheAvailable: false });
    expect(readFileSync(secretFile, 'utf8')).toBe(`${TOKEN}\n`);

    const cleared = await hf.clear();
    expect(cleared).toMatchObject({ source: 'hf-cache', hfCacheAvailable: true });
    expect(readFileSync(cacheFile, 'utf8')).toBe(`${TOKEN}\n`);
  });

  it('adopting when the tools saved nothing is refused with the path looked at', async () => {
    const { hf, env } = setup();
    await expect(hf.save({ adoptHfCache: true, verify: false })).rejects.toMatchObject({
      statusCode: 400,
      code: 'hf.invalid_token',
      message: `The Hugging Face tools have no token saved at ${join(env.HF_HOME!, 'token')}; paste a token instead.`,
    });
  });
});

describe('clearing', () => {
  it('removes the keyring and file copies and records it in the audit log', async () => {
    const memory = memoryBackend();
    const { hf, secretFile, audit } = setup({ keyring: guardedKeyring(() => memory.backend) });
    await hf.save({ token: TOKEN, verify: false });
    mkdirSync(join(secretFile, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(secretFile, `${OTHER}\n`, { mode: 0o600 });
    const status = await hf.clear({ address: '192.168.1.50' });
    expect(status).toMatchObject({ present: false, source: 'none', canClear: false });
    expect(memory.entries.size).toBe(0);
    expect(() => statSync(secretFile)).toThrow(/ENOENT/);
    const events = audit().trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.event, e.detail])).toEqual([
      ['hf.saved', 'Hugging Face token saved in the keyring, not verified'],
      ['hf.cleared', 'Hugging Face token removed from the keyring and file'],
    ]);
    expect(events[1].address).toBe('192.168.1.50');
  });

  it('says that the keyring copy is ignored and removed later when the keyring cannot be reached during a clear', async () => {
    const hanging = hangingBackend();
    const { hf } = setup({ keyring: guardedKeyring(() => hanging.backend, { timeoutMs: 100 }) });
    await hf.save({ token: TOKEN, verify: false });
    const status = await hf.clear();
    expect(status).toMatchObject({ present: false, source: 'none' });
    expect(status.warnings).toEqual([
      'The system keyring did not answer, so the token saved there earlier could not be removed yet; Halo Forge ignores it and removes it as soon as the keyring answers.',
    ]);
  });
});

describe('the verification cache', () => {
  it('keeps status away from the Hub while a verification is fresh', async () => {
    const hub = await fakeHub();
    const { hf } = setup({ hub, autoVerify: true });
    const saved = await hf.save({ token: FAKE_HUB_TOKENS.read, verify: true });
    expect(saved).toMatchObject({ verified: true, username: 'halo-tester', tokenName: 'halo-read', role: 'read' });
    for (let i = 0; i < 20; i++) await hf.status();
    expect(whoamiCalls(hub)).toBe(1);
  });

  it('renews a verification older than 12 hours once, in the background', async () => {
    const hub = await fakeHub();
    let now = new Date('2025-06-01T00:00:00Z');
    const { hf } = setup({ hub, autoVerify: true, now: () => now });
    await hf.save({ token: FAKE_HUB_TOKENS.read, verify: true });
    now = new Date('2025-06-01T12:30:00Z');
    const burst = await Promise.all(Array.from({ length: 5 }, () => hf.status()));
    expect(burst.map((s) => s.checkedAt)).toEqual(Array(5).fill('2025-06-01T00:00:00.000Z'));
    await waitFor(async () => (await hf.status()).checkedAt === '2025-06-01T12:30:00.000Z', 5_000, 'the background verification');
    for (let i = 0; i < 5; i++) await hf.status();
    expect(whoamiCalls(hub)).toBe(2);
  });

  it('does not ask an unreachable Hub again on every status call', async () => {
    const hub = await fakeHub();
    hub.setOffline(true);
    const { hf } = setup({ hub, autoVerify: true });
    await hf.save({ token: FAKE_HUB_TOKENS.read, verify: false });
    await hf.status();
    await waitFor(() => whoamiCalls(hub) === 1, 5_000, 'the background attempt');
    for (let i = 0; i < 10; i++) {
      const status = await hf.status();
      expect(status.warnings).toEqual(['This token was saved without verification; verify it once the Hugging Face Hub can be reached.']);
    }
    expect(whoamiCalls(hub)).toBe(1);
  });

  it('holds a fingerprint of the token, never the token, in a 0600 file', async () => {
    const hub = await fakeHub();
    const { hf, home } = setup({ hub });
    await hf.save({ token: FAKE_HUB_TOKENS.write, verify: true });
    const path = join(home, 'hf-verification.json');
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(FAKE_HUB_TOKENS.write.slice(3));
    expect(mode(path)).toBe(0o600);
    const [entry] = JSON.parse(text).entries;
    expect(entry).toEqual({ fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), outcome: 'verified', username: 'halo-tester', tokenName: 'halo-write', role: 'write', canWrite: true, reason: null, checkedAt: expect.any(String) });
  });
});
