// The files and folders Halo Forge keeps under its home are opened without
// following symbolic links: a link planted in place of a secret file would
// otherwise have another file's content sent to the Hub as a bearer token,
// and tightening its mode would chmod a file outside the home. And every
// state file or folder someone loosened is made private again when it is
// opened, not only when it is next written.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_MODELS, FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { TokenStore } from '../src/auth/token-store.js';
import { SettingsFile } from '../src/config/settings.js';
import { readPrivateText, SymlinkRefusedError, tightenFileMode } from '../src/fs/private-file.js';
import { createHfAccess } from '../src/secrets/hf-access.js';
import { tokenFingerprint } from '../src/secrets/verification-cache.js';
import { tempHome, testEnv } from './support/backend-process.js';

const mode = (path: string) => statSync(path).mode & 0o777;

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(() => hub.close());

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
  hub.reset();
  hub.requests.length = 0;
});

/** A home, and a folder outside it that a link points into (another user's files, or /etc). */
function setup() {
  const { home, cleanup } = tempHome();
  const outside = mkdtempSync(join(tmpdir(), 'halo-forge-outside-'));
  cleanups.push(cleanup, () => rmSync(outside, { recursive: true, force: true }));
  chmodSync(outside, 0o755);
  const env = testEnv(home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: hub.url });
  const hf = createHfAccess({ env, audit: new AuditLog(join(home, 'audit.log')), autoVerify: false });
  const secrets = join(home, 'secrets');
  return { home, outside, env, hf, secrets, secretFile: join(secrets, 'huggingface_token') };
}

/** A file outside the home, world-readable as most files are. */
function outsideFile(dir: string, name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, 0o644);
  return path;
}

const tokensSent = () => hub.requests.filter((r) => r.token !== null).map((r) => r.token);

describe('a symbolic link in place of a state file or folder', () => {
  it('a linked secret file is refused: its content is never sent to the Hub, its target never chmod-ed', async () => {
    const { outside, hf, secrets, secretFile } = setup();
    const target = outsideFile(outside, 'someone-elses-token', `${FAKE_HUB_TOKENS.read}\n`);
    mkdirSync(secrets, { mode: 0o700 });
    symlinkSync(target, secretFile);

    const status = await hf.status();
    expect(status).toMatchObject({ present: false, source: 'none' });
    expect(status.warnings).toEqual([
      `${secretFile} is a symbolic link; Halo Forge does not follow links for its own files, so that nothing outside its folder is read or changed. Remove the link (or replace it with the file itself), then try again.`,
    ]);
    expect((await hf.checkModel(FAKE_HUB_MODELS.gatedManual)).access).toBe('unauthorized');
    expect(tokensSent()).toEqual([]);
    expect(mode(target)).toBe(0o644);
    expect(readFileSync(target, 'utf8')).toBe(`${FAKE_HUB_TOKENS.read}\n`);

    // Logging out removes the link itself, never the file it points to.
    await hf.clear();
    expect(readFileSync(target, 'utf8')).toBe(`${FAKE_HUB_TOKENS.read}\n`);
  });

  it('a linked secrets folder is refused for reading and for saving, and nothing lands in or changes the folder it points to', async () => {
    const { home, outside, hf, secrets } = setup();
    const target = outsideFile(outside, 'huggingface_token', `${FAKE_HUB_TOKENS.read}\n`);
    symlinkSync(outside, secrets);

    const status = await hf.status();
    expect(status).toMatchObject({ present: false });
    expect(status.warnings.join('\n')).toContain(
      `${secrets} is a symbolic link; Halo Forge does not follow links for its own folders. Replace the link with a real folder (or set HALOFORGE_HOME to the folder it points to), then try again.`,
    );
    await expect(hf.save({ token: FAKE_HUB_TOKENS.write, verify: false })).rejects.toMatchObject({
      statusCode: 503,
      code: 'storage.denied',
      message: expect.stringContaining(`${secrets} is a symbolic link, which Halo Forge does not follow in its own folder`),
    });
    expect(tokensSent()).toEqual([]);
    expect(mode(outside)).toBe(0o755);
    expect(mode(target)).toBe(0o644);
    expect(readFileSync(target, 'utf8')).toBe(`${FAKE_HUB_TOKENS.read}\n`);
    expect(statSync(home).isDirectory()).toBe(true);
  });

  it('a linked audit log is not appended to', () => {
    const { home, outside } = setup();
    const target = outsideFile(outside, 'shell-history', 'precious\n');
    symlinkSync(target, join(home, 'audit.log'));
    const error = new AuditLog(join(home, 'audit.log')).append({ event: 'hf.saved', detail: 'x' });
    expect(error).toBeInstanceOf(SymlinkRefusedError);
    expect(error?.message).toBe(
      `${join(home, 'audit.log')} is a symbolic link; Halo Forge does not follow links for its own files, so that nothing outside its folder is read or changed. Remove the link (or replace it with the file itself), then try again.`,
    );
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(mode(target)).toBe(0o644);
  });

  it('a linked config.json and tokens.json are refused with the path, and left as they are', () => {
    const { home, outside } = setup();
    const config = outsideFile(outside, 'config.json', '{"remoteAccess":{"enabled":true}}\n');
    const tokens = outsideFile(outside, 'tokens.json', '{"version":1,"tokens":[]}\n');
    symlinkSync(config, join(home, 'config.json'));
    symlinkSync(tokens, join(home, 'tokens.json'));
    expect(() => new SettingsFile(join(home, 'config.json')).read()).toThrow(`${join(home, 'config.json')} is a symbolic link`);
    expect(() => new TokenStore(join(home, 'tokens.json')).load()).toThrow(`${join(home, 'tokens.json')} is a symbolic link`);
    expect([mode(config), mode(tokens)]).toEqual([0o644, 0o644]);
  });

  it('a linked verification cache is not read, and a new verdict replaces the link, never its target', async () => {
    const { home, outside, hf, secretFile } = setup();
    // A verdict someone else wrote: it must not make the status claim who the token belongs to.
    const forged = `${JSON.stringify({ version: 1, entries: [{ fingerprint: tokenFingerprint(FAKE_HUB_TOKENS.read), outcome: 'verified', username: 'mallory', tokenName: null, role: 'admin', canWrite: false, reason: null, checkedAt: new Date().toISOString() }] })}\n`;
    const target = outsideFile(outside, 'cache.json', forged);
    symlinkSync(target, join(home, 'hf-verification.json'));
    mkdirSync(join(home, 'secrets'), { mode: 0o700 });
    writeFileSync(secretFile, `${FAKE_HUB_TOKENS.read}\n`, { mode: 0o600 });
    expect(await hf.status()).toMatchObject({ present: true, verified: false, username: null });
    expect(await hf.verify()).toMatchObject({ verified: true, username: 'halo-tester' });
    expect(readFileSync(target, 'utf8')).toBe(forged);
    expect(mode(target)).toBe(0o644);
    expect(statSync(join(home, 'hf-verification.json')).isFile()).toBe(true);
  });

  it('tightenFileMode and readPrivateText refuse a link rather than chmod its target', () => {
    const { home, outside } = setup();
    const target = outsideFile(outside, 'passwd', 'root:x:0:0\n');
    symlinkSync(target, join(home, 'tokens.json'));
    expect(() => tightenFileMode(join(home, 'tokens.json'))).toThrow(SymlinkRefusedError);
    expect(() => readPrivateText(join(home, 'tokens.json'))).toThrow(SymlinkRefusedError);
    expect(mode(target)).toBe(0o644);
  });
});

describe('a secret file that holds no token', () => {
  it.each([
    ['a config file copied there', '[core]\n\teditor = vim\n'],
    ['a Halo Forge API token', `hfk_${'A'.repeat(40)}\n`],
    ['a token with a space in it', `${FAKE_HUB_TOKENS.read.slice(0, 10)} ${FAKE_HUB_TOKENS.read.slice(10)}\n`],
  ])('%s is refused, never sent, never quoted', async (_name, content) => {
    const { hf, secrets, secretFile } = setup();
    mkdirSync(secrets, { mode: 0o700 });
    writeFileSync(secretFile, content, { mode: 0o600 });
    const status = await hf.status();
    expect(status).toMatchObject({ present: false, source: 'none' });
    expect(status.warnings).toHaveLength(1);
    expect(status.warnings[0]).toMatch(new RegExp(`^${secretFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not hold a Hugging Face token, so it is not used \\(.+\\)\\. Save a token again, or remove the file\\.$`));
    expect(status.warnings[0]).not.toContain(content.trim().slice(4, 14));
    await hf.checkModel(FAKE_HUB_MODELS.gatedManual);
    expect(tokensSent()).toEqual([]);
  });
});

describe('state files and folders someone loosened are made private when opened', () => {
  it('an existing 0644 audit.log is tightened on the next append', () => {
    const { home } = setup();
    const path = join(home, 'audit.log');
    writeFileSync(path, '');
    chmodSync(path, 0o644);
    expect(new AuditLog(path).append({ event: 'hf.saved', detail: 'x' })).toBeNull();
    expect(mode(path)).toBe(0o600);
  });

  it('a 0755 secrets folder is tightened when the token is read, and the status says so', async () => {
    const { hf, secrets, secretFile } = setup();
    mkdirSync(secrets);
    chmodSync(secrets, 0o755);
    writeFileSync(secretFile, `${FAKE_HUB_TOKENS.read}\n`, { mode: 0o600 });
    const status = await hf.status();
    expect(status).toMatchObject({ present: true, source: 'file' });
    expect(status.warnings).toContain(`${secrets} was accessible to other users (mode 755); tightened to 0700`);
    expect(mode(secrets)).toBe(0o700);
  });

  it('a 0644 config.json is tightened when it is read, with a warning for the log', () => {
    const { home } = setup();
    const path = join(home, 'config.json');
    writeFileSync(path, '{"remoteAccess":{"enabled":false}}\n');
    chmodSync(path, 0o644);
    const settings = new SettingsFile(path);
    expect(settings.read().remoteAccess.enabled).toBe(false);
    expect(mode(path)).toBe(0o600);
    expect(settings.warnings).toEqual([`${path} was readable by other users (mode 644); tightened to 0600`]);
  });

  it('a 0644 verification cache is tightened when it is read', async () => {
    const { home, hf, secrets, secretFile } = setup();
    mkdirSync(secrets, { mode: 0o700 });
    writeFileSync(secretFile, `${FAKE_HUB_TOKENS.read}\n`, { mode: 0o600 });
    await hf.verify();
    const cache = join(home, 'hf-verification.json');
    chmodSync(cache, 0o644);
    expect(await hf.status()).toMatchObject({ verified: true });
    expect(mode(cache)).toBe(0o600);
  });
});
