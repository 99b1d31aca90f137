import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_MODELS, FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { CLI, runCli, tempHome, testEnv, waitFor } from './support/backend-process.js';

const TOKEN = FAKE_HUB_TOKENS.read;

let hub: FakeHub;
beforeAll(async () => {
  // The CLI runs from dist/; the test script builds before running the suite.
  expect(statSync(join(__dirname, '../../dist/server/src/cli/main.js')).isFile()).toBe(true);
  hub = await startFakeHub();
});
afterAll(() => hub.close());

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
  hub.reset();
});

function home(extra: NodeJS.ProcessEnv = {}) {
  const h = tempHome();
  cleanups.push(h.cleanup);
  return { home: h.home, env: testEnv(h.home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: hub.url, ...extra }), secretFile: join(h.home, 'secrets', 'huggingface_token') };
}

const hf = (args: string[], env: NodeJS.ProcessEnv, input?: string) => runCli(['hf', ...args], env, input);

describe('halo-forge hf login', () => {
  it('reads the token from standard input, verifies it and saves it', async () => {
    const { env, secretFile } = home();
    const res = await hf(['login'], env, `${TOKEN}\n`);
    expect(res).toEqual({
      code: 0,
      stdout: 'Saved the Hugging Face token in the secret file (no keyring available); verified as halo-tester (role read).\nKeyring: Turned off by HALOFORGE_KEYRING=off.\n',
      stderr: '',
    });
    expect(readFileSync(secretFile, 'utf8')).toBe(`${TOKEN}\n`);
  });

  it('reads from a hidden prompt on a terminal, echoing nothing', async () => {
    const { env, secretFile } = home();
    // `script` gives the CLI a real pseudo-terminal, whose line discipline would echo a typed token.
    const child = spawn('script', ['-q', '-e', '-c', `${process.execPath} ${CLI} hf login`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitFor(() => out.includes('Hugging Face token (input is hidden): '), 10_000, 'the prompt');
    child.stdin.write(`${TOKEN}\r`);
    expect(await exited).toBe(0);
    expect(out).not.toContain(TOKEN.slice(3));
    expect(out).toContain('Saved the Hugging Face token');
    expect(readFileSync(secretFile, 'utf8')).toBe(`${TOKEN}\n`);
  });

  it.each([
    ['as an argument', ['login', TOKEN]],
    ['as an option', ['login', '--token', TOKEN]],
  ])('refuses a token given %s, without printing it', async (_name, args) => {
    const { env, secretFile } = home();
    const res = await hf(args, env);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/too many arguments|unknown option/);
    expect(res.stdout + res.stderr).not.toContain(TOKEN.slice(3));
    expect(() => statSync(secretFile)).toThrow(/ENOENT/);
  });

  it('fails with a clear message when standard input holds no token', async () => {
    const { env } = home();
    expect(await hf(['login'], env, '')).toEqual({ code: 1, stdout: '', stderr: 'halo-forge: No token given. Paste a Hugging Face token at the prompt, or pipe it in: halo-forge hf login < token.txt\n' });
  });

  it('fails with the Hub’s reason for a token it refuses', async () => {
    const { env } = home();
    expect(await hf(['login'], env, `${FAKE_HUB_TOKENS.unknown}\n`)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'halo-forge: The Hugging Face Hub refused this token: Invalid credentials in Authorization header. Nothing was saved.\n',
    });
  });

  it('saves nothing while the Hub is out of reach, unless told --no-verify', async () => {
    const { env, secretFile } = home();
    hub.setOffline(true);
    const refused = await hf(['login'], env, `${TOKEN}\n`);
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: `halo-forge: The Hugging Face Hub at ${hub.url} could not be reached (connection closed). Nothing was saved. To save the token without verifying it, send "verify": false (CLI: halo-forge hf login --no-verify).\n`,
    });
    expect(() => statSync(secretFile)).toThrow(/ENOENT/);
    const saved = await hf(['login', '--no-verify'], env, `${TOKEN}\n`);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain('Saved the Hugging Face token in the secret file (no keyring available); not verified.');
    expect(saved.stderr).toBe('warning: This token was saved without verification; verify it once the Hugging Face Hub can be reached.\n');
  });

  it("adopts the Hugging Face tools' token with --adopt", async () => {
    const { env, secretFile } = home();
    mkdirSync(env.HF_HOME!, { recursive: true });
    writeFileSync(join(env.HF_HOME!, 'token'), TOKEN);
    expect((await hf(['login', '--adopt'], env)).code).toBe(0);
    expect(readFileSync(secretFile, 'utf8')).toBe(`${TOKEN}\n`);
  });

  it('saves while HF_TOKEN is set, and warns that the environment still wins', async () => {
    const { env } = home({ HF_TOKEN: FAKE_HUB_TOKENS.admin });
    const res = await hf(['login'], env, `${TOKEN}\n`);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('warning: A token saved in the secret file is not used while HF_TOKEN is set in the environment: the environment value wins.');
  });
});

describe('halo-forge hf status, check and logout', () => {
  it('status --json prints the same status the API returns, and status --verify asks the Hub again', async () => {
    const { env, secretFile } = home();
    await hf(['login'], env, `${TOKEN}\n`);
    const json = JSON.parse((await hf(['status', '--json'], env)).stdout);
    expect(json).toEqual({
      present: true,
      source: 'file',
      verified: true,
      username: 'halo-tester',
      tokenName: 'halo-read',
      role: 'read',
      canClear: true,
      keyring: { available: false, reason: 'Turned off by HALOFORGE_KEYRING=off.' },
      checkedAt: expect.any(String),
      message: `Using the token saved in ${secretFile}. Verified as halo-tester (token "halo-read", role read).`,
      warnings: [],
      hfCacheAvailable: false,
    });
    const before = hub.requests.filter((r) => r.path === '/api/whoami-v2').length;
    const human = await hf(['status', '--verify'], env);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n').slice(0, 3)).toEqual([
      'source:   file',
      expect.stringMatching(/^verified: yes, as halo-tester \(token "halo-read", role read\), checked \d{4}-/),
      'keyring:  unavailable: Turned off by HALOFORGE_KEYRING=off.',
    ]);
    expect(hub.requests.filter((r) => r.path === '/api/whoami-v2').length).toBe(before + 1);
  });

  it.each([
    [FAKE_HUB_MODELS.open, 0],
    [FAKE_HUB_MODELS.gatedAuto, 0],
    [FAKE_HUB_MODELS.gatedManual, 1],
    [FAKE_HUB_MODELS.missing, 1],
  ])('check %s exits %i', async (model, code) => {
    const { env } = home({ HF_TOKEN: TOKEN });
    const res = await hf(['check', model, '--json'], env);
    expect(res.code).toBe(code);
    const check = JSON.parse(res.stdout);
    expect(check.model).toBe(model);
    expect(res.stderr).toBe(code === 0 ? '' : `halo-forge: ${check.message}\n`);
  });

  it('check refuses a malformed model id', async () => {
    const { env } = home();
    expect(await hf(['check', 'not a model'], env)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'halo-forge: "not a model" is not a Hugging Face model id; use the form org/name, e.g. meta-llama/Llama-3.1-8B.\n',
    });
  });

  it('logout removes the stored token; with HF_TOKEN set it explains why it cannot', async () => {
    const { env, secretFile } = home();
    await hf(['login'], env, `${TOKEN}\n`);
    expect(await hf(['logout'], env)).toEqual({ code: 0, stdout: 'Removed the Hugging Face token Halo Forge stored.\n', stderr: '' });
    expect(() => statSync(secretFile)).toThrow(/ENOENT/);
    expect(await hf(['logout'], env)).toEqual({ code: 0, stdout: 'Halo Forge had no Hugging Face token stored.\n', stderr: '' });

    const withEnv = await hf(['logout'], { ...env, HF_TOKEN: TOKEN });
    expect(withEnv).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "halo-forge: The Hugging Face token in use comes from HF_TOKEN in the backend's environment, which Halo Forge cannot clear. Remove HF_TOKEN from the shell profile, service unit or launch agent that starts Halo Forge, then restart it.\n",
    });
  });
});
