import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenStore, TokenStoreCorruptError, type TokenRecord, type Verification } from '../src/auth/token-store.js';

function okRecord(v: Verification): TokenRecord {
  if (v.status !== 'ok') throw new Error(`expected a valid token, got ${v.status}`);
  return v.record;
}
import { tempHome, waitFor } from './support/backend-process.js';

let home: string;
let cleanup: () => void;
let path: string;
beforeEach(() => {
  ({ home, cleanup } = tempHome());
  path = join(home, 'state', 'tokens.json');
});
afterEach(() => cleanup());

const mode = (p: string) => statSync(p).mode & 0o777;
const fileTokens = () => (JSON.parse(readFileSync(path, 'utf8')) as { tokens: { name: string; lastUsed: string | null }[] }).tokens;

describe('token store', () => {
  it('keeps the hash and metadata, never the secret, in a 0600 file inside a 0700 folder', async () => {
    const store = new TokenStore(path).load();
    const { token, record } = await store.create({ name: 'dashboard', note: 'laptop', scope: 'operate', expires: '30d' });
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(4));
    expect(mode(path)).toBe(0o600);
    expect(mode(join(home, 'state'))).toBe(0o700);
    expect(fileTokens()[0]).toEqual({ name: 'dashboard', hash: record.hash, scope: 'operate', created: record.created, lastUsed: null, lastUsedFrom: null, expires: record.expires, note: 'laptop' });
    expect(Date.parse(record.expires!) - Date.parse(record.created)).toBe(30 * 86_400_000);
  });

  it('verifies a token by hash, and tells expired from unknown', async () => {
    const store = new TokenStore(path).load();
    const { token } = await store.create({ name: 'a' });
    const { token: old } = await store.create({ name: 'b', expires: '1m' });
    expect(store.verify(token)).toMatchObject({ status: 'ok', record: { name: 'a', scope: 'admin' } });
    expect(store.verify(old, Date.now() + 120_000)).toMatchObject({ status: 'expired', record: { name: 'b' } });
    expect(store.verify('hfk_' + 'x'.repeat(43))).toEqual({ status: 'invalid' });
  });

  it('refuses a duplicate name and an invalid one, and changes nothing', async () => {
    const store = new TokenStore(path).load();
    await store.create({ name: 'dashboard' });
    const before = readFileSync(path, 'utf8');
    await expect(store.create({ name: 'dashboard' })).rejects.toMatchObject({ statusCode: 409, code: 'token.duplicate' });
    await expect(store.create({ name: 'no spaces' })).rejects.toMatchObject({ statusCode: 400, code: 'token.invalid_name' });
    await expect(store.create({ name: 'x', expires: 'soon' })).rejects.toMatchObject({ statusCode: 400, code: 'request.invalid' });
    await expect(store.revoke('missing')).rejects.toMatchObject({ statusCode: 404, code: 'token.not_found' });
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('a revoked token stays revoked after a last-used flush from a stale server', async () => {
    const server = new TokenStore(path).load();
    const cli = new TokenStore(path).load();
    const { token } = await cli.create({ name: 'laptop' });
    server.reloadIfChanged();
    const verified = server.verify(token);
    expect(verified.status).toBe('ok');
    server.recordUse(okRecord(verified));
    await cli.revoke('laptop');
    await server.flushLastUsed(); // the server has not reloaded yet: its copy still has the token
    expect(fileTokens()).toEqual([]);
    server.reloadIfChanged();
    expect(server.verify(token)).toEqual({ status: 'invalid' });
  });

  it('a last-used flush never touches a new token that reuses a revoked name', async () => {
    const server = new TokenStore(path).load();
    const { token } = await server.create({ name: 'laptop' });
    server.recordUse(okRecord(server.verify(token)));
    const cli = new TokenStore(path).load();
    await cli.revoke('laptop');
    await cli.create({ name: 'laptop' });
    await server.flushLastUsed();
    expect(fileTokens()).toEqual([expect.objectContaining({ name: 'laptop', lastUsed: null })]);
  });

  it('flushes last-used into the current file, keeping tokens another process added', async () => {
    const server = new TokenStore(path).load();
    const { token } = await server.create({ name: 'a' });
    await new TokenStore(path).load().create({ name: 'b' });
    server.recordUse(okRecord(server.verify(token)), Date.parse('2026-05-07T12:14:22Z'));
    await server.flushLastUsed();
    expect(fileTokens().map((t) => [t.name, t.lastUsed])).toEqual([
      ['a', '2026-05-07T12:14:22+00:00'],
      ['b', null],
    ]);
  });

  it('records the address of the last use beside its time, in the list at once and in the file after a flush', async () => {
    const server = new TokenStore(path).load();
    const { token } = await server.create({ name: 'phone' });
    server.recordUse(okRecord(server.verify(token)), Date.parse('2026-05-07T12:14:22Z'), '192.168.1.23');
    expect(server.list()[0]).toMatchObject({ lastUsed: '2026-05-07T12:14:22+00:00', lastUsedFrom: '192.168.1.23' });
    server.recordUse(okRecord(server.verify(token)), Date.parse('2026-05-07T12:15:00Z'), '10.0.0.7');
    await server.flushLastUsed();
    expect(fileTokens()[0]).toMatchObject({ lastUsed: '2026-05-07T12:15:00+00:00', lastUsedFrom: '10.0.0.7' });
    expect(new TokenStore(path).load().list()[0]).toMatchObject({ lastUsedFrom: '10.0.0.7' });
  });

  it('reads a file without lastUsedFrom, or with something that is not an address there, as "not known"', async () => {
    const server = new TokenStore(path).load();
    await server.create({ name: 'old' });
    const file = JSON.parse(readFileSync(path, 'utf8')) as { tokens: Record<string, unknown>[] };
    for (const [value, expected] of [[undefined, null], ['<script>', null], ['::1', '::1']] as const) {
      file.tokens[0]!.lastUsedFrom = value;
      writeFileSync(path, JSON.stringify(file));
      expect(new TokenStore(path).load().list()[0]!.lastUsedFrom).toBe(expected);
    }
  });

  it('sees a token the CLI created or revoked within a second, without a restart', async () => {
    const server = new TokenStore(path).load();
    server.watch();
    try {
      const { token } = await new TokenStore(path).load().create({ name: 'fresh' });
      await waitFor(() => server.verify(token).status === 'ok', 1000, 'the new token');
      await new TokenStore(path).load().revoke('fresh');
      await waitFor(() => server.verify(token).status === 'invalid', 1000, 'the revoke');
    } finally {
      await server.close();
    }
  });

  it.each([
    ['not JSON', '{"tokens": [', /is not valid JSON/],
    ['no token list', '{"version":1}', /expected an object with a "tokens" list/],
    ['a bad hash', '{"tokens":[{"name":"a","hash":"abc","created":"2026-05-07T12:00:00+00:00"}]}', /token "a" has no valid SHA-256 "hash"/],
    ['a bad name', `{"tokens":[{"name":"a b","hash":"${'0'.repeat(64)}","created":"2026-05-07T12:00:00+00:00"}]}`, /token #1: Token name "a b"/],
    ['a duplicate', `{"tokens":[{"name":"a","hash":"${'0'.repeat(64)}","created":"2026-05-07T12:00:00+00:00"},{"name":"a","hash":"${'1'.repeat(64)}","created":"2026-05-07T12:00:00+00:00"}]}`, /the name "a" appears twice/],
    ['a bad date', `{"tokens":[{"name":"a","hash":"${'0'.repeat(64)}","created":"yesterday"}]}`, /token "a" has a bad "created" time/],
    ['an unknown scope', `{"tokens":[{"name":"a","hash":"${'0'.repeat(64)}","created":"2026-05-07T12:00:00+00:00","scope":"root"}]}`, /unknown scope "root"/],
  ])('refuses a store with %s, names the file, and leaves it untouched', async (_what, text, problem) => {
    mkdirSync(join(home, 'state'), { recursive: true, mode: 0o700 });
    writeFileSync(path, text, { mode: 0o600 });
    expect(() => new TokenStore(path).load()).toThrow(TokenStoreCorruptError);
    expect(() => new TokenStore(path).load()).toThrow(problem);
    expect(() => new TokenStore(path).load()).toThrow(path);
    await expect(new TokenStore(path).create({ name: 'x' })).rejects.toThrow(TokenStoreCorruptError);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('keeps the last good tokens when the file goes bad under a running server', async () => {
    const server = new TokenStore(path).load();
    const { token } = await server.create({ name: 'a' });
    const errors: string[] = [];
    server.onReloadError = (m) => errors.push(m);
    writeFileSync(path, '{ broken');
    expect(server.reloadIfChanged()).toBe(false);
    expect(server.verify(token).status).toBe('ok');
    expect(errors[0]).toContain('is not valid JSON');
    server.recordUse(okRecord(server.verify(token)));
    await expect(server.flushLastUsed()).rejects.toThrow(TokenStoreCorruptError);
    expect(readFileSync(path, 'utf8')).toBe('{ broken');
  });

  it('tightens a store readable by others to 0600, with a warning', async () => {
    await new TokenStore(path).load().create({ name: 'a' });
    chmodSync(path, 0o644);
    const store = new TokenStore(path).load();
    expect(mode(path)).toBe(0o600);
    expect(store.warnings).toEqual([`${path} was readable by other users (mode 644); tightened to 0600`]);
  });

  it('loads a store of 100,000 tokens and verifies against it (speed is measured in npm run bench)', async () => {
    const big = new TokenStore(path).load();
    const records = Array.from({ length: 100_000 }, (_, i) => ({ name: `t${i}`, hash: i.toString(16).padStart(64, '0'), scope: 'admin', created: '2026-05-07T12:00:00+00:00', lastUsed: null, expires: null, note: '' }));
    writeFileSync(path, JSON.stringify({ version: 1, tokens: records }), { mode: 0o600 });
    big.reloadIfChanged();
    expect(big.size).toBe(100_000);
    expect(big.verify('hfk_' + 'z'.repeat(43))).toEqual({ status: 'invalid' });
  });
});

describe('a token created by another process', () => {
  it('verifies in a store that has not polled since, on the first try', async () => {
    const server = new TokenStore(path).load();
    const cli = new TokenStore(path).load();
    for (let i = 0; i < 5; i++) {
      const { token } = await cli.create({ name: `ci-${i}` });
      expect(server.verify(token)).toMatchObject({ status: 'ok', record: { name: `ci-${i}` } });
    }
  });

  it('is still unknown once revoked there, after the next reload', async () => {
    const server = new TokenStore(path).load();
    const cli = new TokenStore(path).load();
    const { token } = await cli.create({ name: 'ci' });
    expect(server.verify(token).status).toBe('ok');
    await cli.revoke('ci');
    server.reloadIfChanged();
    expect(server.verify(token)).toEqual({ status: 'invalid' });
  });
});
