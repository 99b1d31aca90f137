// The keyring wins over the secret file, so a clear or a rotation that could
// not reach the keyring must not be undone when it answers again: a leaked
// token the user replaced would silently come back.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.js';
import { createHfAccess } from '../src/secrets/hf-access.js';
import { guardedKeyring, type KeyringBackend } from '../src/secrets/keyring.js';
import { freshProcessCaller, loadKeytar, openKeyring } from '../src/secrets/keytar-keyring.js';
import { tempHome, testEnv } from './support/backend-process.js';

const OLD = 'hf_CANARYoldLeakedToken0123456789abcdefgh';
const NEW = 'hf_CANARYnewRotatedToken0123456789abcdefg';
const ENTRY = 'halo-forge/huggingface-token';
const COOLDOWN_MS = 60_000;
const UNVERIFIED = 'This token was saved without verification; verify it once the Hugging Face Hub can be reached.';
const STALE =
  'The system keyring did not answer, so the token saved there earlier could not be removed yet; Halo Forge ignores it and removes it as soon as the keyring answers.';

/**
 * An in-memory keyring that can hang (calls wait, as for a password prompt,
 * and run when it recovers) or fail every call (no Secret Service).
 */
function flakyKeyring() {
  const entries = new Map<string, string>();
  let mode: 'answering' | 'hanging' | 'failing' = 'answering';
  const waiting: (() => void)[] = [];
  const run = <T>(op: () => T): Promise<T> => {
    if (mode === 'failing') return Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY'));
    if (mode === 'hanging') return new Promise<T>((resolve) => waiting.push(() => resolve(op())));
    return Promise.resolve(op());
  };
  const backend: KeyringBackend = {
    get: (s, a) => run(() => entries.get(`${s}/${a}`) ?? null),
    set: (s, a, v) => run(() => void entries.set(`${s}/${a}`, v)),
    delete: (s, a) => run(() => entries.delete(`${s}/${a}`)),
  };
  return {
    backend,
    entries,
    hang: () => void (mode = 'hanging'),
    fail: () => void (mode = 'failing'),
    /** Answers again; calls that were waiting run now, as they do when a keyring is unlocked. */
    recover: () => {
      mode = 'answering';
      for (const go of waiting.splice(0)) go();
    },
  };
}

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function setup() {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  const env = testEnv(home, { HF_ENDPOINT: 'http://127.0.0.1:9' });
  const keyring = flakyKeyring();
  let now = 1_000_000;
  const guarded = guardedKeyring(() => keyring.backend, { timeoutMs: 200, cooldownMs: COOLDOWN_MS, now: () => now });
  const hf = createHfAccess({ env, audit: new AuditLog(join(home, 'audit.log')), keyring: guarded, autoVerify: false });
  return {
    home,
    hf,
    keyring,
    /** The keyring answers again and its cooldown is over. */
    recover: () => {
      keyring.recover();
      now += COOLDOWN_MS + 1;
    },
    audit: () => readFileSync(join(home, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; detail: string }),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

const hfTokenFor = async (hf: ReturnType<typeof setup>['hf']) => (await hf.childEnv({})).HF_TOKEN;

describe('a clear while the keyring does not answer', () => {
  it('stays cleared once the keyring answers again, and the keyring copy is deleted then', async () => {
    const { hf, keyring, recover, audit, home } = setup();
    expect((await hf.save({ token: OLD, verify: false })).source).toBe('keyring');
    keyring.hang();

    expect(await hf.clear()).toMatchObject({ present: false, source: 'none', warnings: [STALE] });
    expect(await hfTokenFor(hf)).toBeUndefined();
    for (const file of filesUnder(home)) {
      expect(readFileSync(file, 'utf8')).not.toContain(OLD.slice(3));
      if (file.startsWith(join(home, 'secrets'))) expect(statSync(file).mode & 0o777).toBe(0o600);
    }

    recover();
    expect(await hf.status()).toMatchObject({ present: false, source: 'none', warnings: [], keyring: { available: true, reason: null } });
    expect(await hfTokenFor(hf)).toBeUndefined();
    expect(keyring.entries.has(ENTRY)).toBe(false);
    expect(audit().map((e) => [e.event, e.detail])).toEqual([
      ['hf.saved', 'Hugging Face token saved in the keyring, not verified'],
      ['hf.cleared', 'Hugging Face token cleared; the keyring did not answer, so its copy is ignored until it can be deleted'],
      ['hf.cleared', 'Hugging Face token left in the keyring by an earlier clear or save deleted, now that the keyring answers'],
    ]);
  });

  it('a token saved once the keyring answers again goes to the keyring and stays in use', async () => {
    const { hf, keyring, recover } = setup();
    await hf.save({ token: OLD, verify: false });
    keyring.hang();
    await hf.clear();
    recover();

    expect(await hf.save({ token: NEW, verify: false })).toMatchObject({ source: 'keyring', warnings: [UNVERIFIED] });
    expect(await hf.status()).toMatchObject({ source: 'keyring', warnings: [UNVERIFIED] });
    expect(await hfTokenFor(hf)).toBe(NEW);
    expect(keyring.entries.get(ENTRY)).toBe(NEW);
  });
});

describe('replacing the token while the keyring does not answer', () => {
  it('hanging: the new token wins once the keyring answers, and the old one is deleted from it', async () => {
    const { hf, keyring, recover } = setup();
    await hf.save({ token: OLD, verify: false });
    keyring.hang();
    await hf.status(); // the dashboard's poll meets the hung keyring first

    expect(await hf.save({ token: NEW, verify: false })).toMatchObject({ present: true, source: 'file', warnings: [STALE, UNVERIFIED] });
    expect(await hfTokenFor(hf)).toBe(NEW);

    recover();
    expect(await hf.status()).toMatchObject({ present: true, source: 'file', warnings: [UNVERIFIED] });
    expect(await hfTokenFor(hf)).toBe(NEW);
    expect(keyring.entries.has(ENTRY)).toBe(false);
  });

  it('failing: the new token wins once the keyring works again, and the old one is deleted from it', async () => {
    const { hf, keyring, recover } = setup();
    await hf.save({ token: OLD, verify: false });
    keyring.fail();

    expect(await hf.save({ token: NEW, verify: false })).toMatchObject({ source: 'file', warnings: [STALE, UNVERIFIED] });

    recover();
    expect(await hf.status()).toMatchObject({ source: 'file', warnings: [UNVERIFIED] });
    expect(await hfTokenFor(hf)).toBe(NEW);
    expect(keyring.entries.has(ENTRY)).toBe(false);
  });
});

describe('without any keyring', () => {
  const missing = () => {
    throw Object.assign(new Error("Cannot find module 'keytar'"), { code: 'MODULE_NOT_FOUND' });
  };
  it.each([
    ['turned off by HALOFORGE_KEYRING=off', { HALOFORGE_KEYRING: 'off' }],
    ['keytar not installed', {}],
  ])('%s: a save and a clear leave nothing behind and warn of nothing', async (_name, extra) => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const env = testEnv(home, { HF_ENDPOINT: 'http://127.0.0.1:9', ...extra });
    const hf = createHfAccess({ env, audit: null, keyring: openKeyring(env, { load: () => loadKeytar(missing) }), autoVerify: false });
    expect(await hf.save({ token: NEW, verify: false })).toMatchObject({ source: 'file', warnings: [UNVERIFIED] });
    expect(await hf.clear()).toMatchObject({ source: 'none', warnings: [] });
    expect(readdirSync(join(home, 'secrets'))).toEqual([]);
  });
});

describe('only a token that really was in the keyring can be stale', () => {
  it('a keyring with no Secret Service from the start: a save and a clear mark nothing stale and warn of nothing', async () => {
    const { hf, keyring, home } = setup();
    keyring.fail();
    expect(await hf.save({ token: NEW, verify: false })).toMatchObject({ source: 'file', warnings: [UNVERIFIED] });
    expect(await hf.status()).toMatchObject({ source: 'file', warnings: [UNVERIFIED] });
    expect(await hf.clear()).toMatchObject({ source: 'none', warnings: [] });
    expect(await hf.status()).toMatchObject({
      source: 'none',
      warnings: [],
      message: 'No Hugging Face token: open models download fine; gated and private ones need a read token.',
    });
    expect(readdirSync(join(home, 'secrets'))).toEqual([]);
  });

  it('a save that timed out may still land once the keyring is unlocked: a clear then marks it stale, and it never comes back', async () => {
    const { hf, keyring, recover } = setup();
    keyring.hang();
    expect(await hf.save({ token: OLD, verify: false })).toMatchObject({ source: 'file' });
    expect(await hf.clear()).toMatchObject({ source: 'none', warnings: [STALE] });
    recover(); // the save that was waiting for the password runs now
    expect(await hf.status()).toMatchObject({ present: false, source: 'none', warnings: [] });
    expect(keyring.entries.has(ENTRY)).toBe(false);
  });

  it('a token saved from the desktop, read over SSH with no session bus: not "no token", and its copy is marked stale by a clear', async () => {
    const { hf, keyring, home } = setup();
    expect((await hf.save({ token: OLD, verify: false })).source).toBe('keyring');
    keyring.fail();
    const status = await hf.status();
    expect(status).toMatchObject({ present: false, keyring: { available: false } });
    expect(status.message).toMatch(/^The system keyring is not answering, so a Hugging Face token saved there cannot be read right now/);
    expect(status.keyring.reason).toBe(
      `The system keyring cannot be reached from this session (no D-Bus session, as over SSH), so a token saved there from the desktop cannot be read now. A token saved now is kept in ${join(home, 'secrets', 'huggingface_token')}, readable only by you.`,
    );
    expect(await hf.clear()).toMatchObject({ warnings: [STALE] });
  });
});

describe('a keyring that restarted under a long-running process', () => {
  // keytar stand-in: answers until the keyring "restarts", then fails as libsecret does with a stale connection.
  function restartingKeytar() {
    let restarted = false;
    const fail = () => (restarted ? Promise.reject(new Error('The name :1.7 was not provided by any .service files')) : Promise.resolve(null));
    return { restart: () => (restarted = true), module: { getPassword: fail, setPassword: fail, deletePassword: () => fail().then(() => false) } };
  }

  it('is asked again from a fresh process once a call that had worked fails', async () => {
    const keytar = restartingKeytar();
    const fresh: string[] = [];
    const backend = loadKeytar(() => keytar.module, async (c) => void fresh.push(c.op));
    expect(await backend.get('svc', 'acct')).toBeNull();
    keytar.restart();
    await backend.get('svc', 'acct');
    await backend.set('svc', 'acct', 'hf_CanaryFreshProcess0123456789abcdef');
    expect(fresh).toEqual(['get', 'set']);
  });

  it('inside the desktop app (no script runs in a fresh Electron process) says to restart the app, and starts nothing', async () => {
    const keytar = restartingKeytar();
    const backend = loadKeytar(() => keytar.module, freshProcessCaller({ ...process.versions, electron: '41.0.0' }));
    expect(await backend.get('svc', 'acct')).toBeNull();
    keytar.restart();
    await expect(backend.get('svc', 'acct')).rejects.toThrow(/^The system keyring restarted since Halo Forge started, and the app cannot reconnect to it: quit Halo Forge and open it again\.$/);
  });
});
