// A keyring call that never returns keeps a libuv thread-pool worker blocked
// for good (four by default): a second one started beside it after every
// timeout would soon stall every fs and dns call of the server. These tests
// hold the guard to one outstanding backend call, whatever the clock says.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.js';
import { createHfAccess } from '../src/secrets/hf-access.js';
import { guardedKeyring, KeyringUnavailableError, type KeyringBackend } from '../src/secrets/keyring.js';
import { tempHome, testEnv, waitFor } from './support/backend-process.js';

const STUCK =
  'A previous keyring call has not returned yet (the keyring may be locked and waiting for a password); using the file instead until it does.';
const TIMEOUT_MS = 500;
const COOLDOWN_MS = 60_000;

/**
 * A keyring whose calls wait until the test lets them go, like a locked one
 * waiting for a password prompt; it also counts how many calls were in it at once.
 */
function heldBackend() {
  const held: (() => void)[] = [];
  let entered = 0;
  let inside = 0;
  let mostInside = 0;
  const hold = <T>(value: T) => {
    entered++;
    mostInside = Math.max(mostInside, ++inside);
    return new Promise<T>((resolve) => held.push(() => (inside--, resolve(value))));
  };
  const backend: KeyringBackend = { get: () => hold(null), set: () => hold(undefined), delete: () => hold(false) };
  return { backend, entered: () => entered, mostInside: () => mostInside, letGo: () => held.splice(0).forEach((go) => go()) };
}

/** A clock the test moves: cooldowns pass without waiting for them. */
function testClock() {
  let t = 1_000_000;
  return { now: () => t, pass: (ms: number) => void (t += ms) };
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; outcome: PromiseSettledResult<T> }> {
  const start = Date.now();
  const [outcome] = await Promise.allSettled([run()]);
  return { ms: Date.now() - start, outcome: outcome! };
}

describe('the keyring guard against a keyring that never answers', () => {
  it('starts one backend call, and refuses every later one at once until it returns, even after the cooldown', async () => {
    const held = heldBackend();
    const clock = testClock();
    const keyring = guardedKeyring(() => held.backend, { timeoutMs: TIMEOUT_MS, cooldownMs: COOLDOWN_MS, now: clock.now });
    await expect(keyring.get('huggingface-token')).rejects.toBeInstanceOf(KeyringUnavailableError);

    const calls: (() => Promise<unknown>)[] = [() => keyring.get('huggingface-token'), () => keyring.set('huggingface-token', 'value'), () => keyring.delete('huggingface-token')];
    for (let i = 0; i < 21; i++) {
      clock.pass(COOLDOWN_MS + 1);
      const { ms, outcome } = await timed(calls[i % 3]!);
      expect(outcome).toMatchObject({ status: 'rejected', reason: { reason: STUCK } });
      expect(ms).toBeLessThan(TIMEOUT_MS);
    }
    expect(held.entered()).toBe(1);
    expect(keyring.state()).toEqual({ available: false, reason: STUCK });
  });

  it('answers calls made while the first one hangs when it times out, without starting them', async () => {
    const held = heldBackend();
    const keyring = guardedKeyring(() => held.backend, { timeoutMs: TIMEOUT_MS });
    const start = Date.now();
    const outcomes = await Promise.allSettled([keyring.get('a'), keyring.set('a', 'v'), keyring.delete('a'), keyring.set('b', 'w')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(Date.now() - start).toBeLessThan(2 * TIMEOUT_MS);
    expect(held.entered()).toBe(1);
  });

  it('asks the keyring again once the call that hung has returned', async () => {
    let hanging = true;
    const held = heldBackend();
    const backend: KeyringBackend = {
      get: (s, a) => (hanging ? held.backend.get(s, a) : Promise.resolve('answered')),
      set: (s, a, v) => (hanging ? held.backend.set(s, a, v) : Promise.resolve()),
      delete: (s, a) => (hanging ? held.backend.delete(s, a) : Promise.resolve(false)),
    };
    const clock = testClock();
    const keyring = guardedKeyring(() => backend, { timeoutMs: TIMEOUT_MS, cooldownMs: COOLDOWN_MS, now: clock.now });
    await expect(keyring.get('a')).rejects.toBeInstanceOf(KeyringUnavailableError);
    clock.pass(COOLDOWN_MS + 1);
    await expect(keyring.get('a')).rejects.toMatchObject({ reason: STUCK });

    hanging = false;
    held.letGo();
    await waitFor(() => keyring.get('a').then((v) => v === 'answered', () => false), 2_000, 'the keyring to be asked again');
    expect(keyring.state()).toEqual({ available: true, reason: null });
  });
});

describe('the keyring guard against a slow keyring that does answer', () => {
  it('makes a save that arrives during a status read wait for it, then saves in the keyring', async () => {
    const held = heldBackend();
    const keyring = guardedKeyring(() => held.backend, { timeoutMs: 10_000 });
    const reading = keyring.get('huggingface-token');
    const saving = keyring.set('huggingface-token', 'value');
    await waitFor(() => held.entered() === 1, 2_000, 'the read to reach the keyring');
    held.letGo();
    await expect(reading).resolves.toBeNull();
    await waitFor(() => held.entered() === 2, 2_000, 'the save to reach the keyring');
    held.letGo();
    await expect(saving).resolves.toBeUndefined();
    expect(held.mostInside()).toBe(1);
    expect(keyring.state()).toEqual({ available: true, reason: null });
  });
});

describe('Hugging Face access with a keyring that never answers', () => {
  let cleanup: () => void = () => {};
  afterEach(() => cleanup());

  it('keeps working through the file for any number of status, save and clear calls, with one keyring call ever started', async () => {
    const home = tempHome();
    cleanup = home.cleanup;
    const env = testEnv(home.home, { HF_ENDPOINT: 'http://127.0.0.1:9' });
    const held = heldBackend();
    const clock = testClock();
    const keyring = guardedKeyring(() => held.backend, { timeoutMs: TIMEOUT_MS, cooldownMs: COOLDOWN_MS, now: clock.now });
    const hf = createHfAccess({ env, audit: new AuditLog(join(home.home, 'audit.log')), keyring, autoVerify: false });
    expect((await hf.status()).source).toBe('none');

    for (let i = 0; i < 20; i++) {
      clock.pass(COOLDOWN_MS + 1);
      const token = `hf_GuardLoop${String(i).padStart(2, '0')}abcdefghijklmnopqrstuvwx`;
      const { ms, outcome } = await timed(() => [() => hf.status(), () => hf.save({ token, verify: false }), () => hf.clear()][i % 3]!());
      expect(outcome.status).toBe('fulfilled');
      expect(ms).toBeLessThan(TIMEOUT_MS);
    }

    const last = 'hf_GuardLastTokenabcdefghijklmnopqrstuvwx';
    expect(await hf.save({ token: last, verify: false })).toMatchObject({ present: true, source: 'file', keyring: { available: false } });
    expect((await hf.childEnv({})).HF_TOKEN).toBe(last);
    expect(held.entered()).toBe(1);
  });
});
