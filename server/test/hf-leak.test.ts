// The proof that the Hugging Face token is never written anywhere but its
// 0600 secret file: a real backend process and the real CLI handle a
// recognisable canary through every HF route and command (some failing on
// purpose), then every file under the test's home, everything the server
// printed, every CLI output and every API response is searched for it.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_MODELS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { runCli, startBackend, tempHome, testEnv, type BackendProcess } from './support/backend-process.js';

const SECRET = `CANARYcanary${randomBytes(16).toString('hex')}`;
const CANARY = `hf_${SECRET}`;
/** A second canary the Hub refuses, so the failure paths carry a token too. */
const REFUSED = `hf_CANARYrefused${randomBytes(12).toString('hex')}`;

/** Any 12 characters of either secret: a prefix or suffix is a leak too. */
function fragments(secret: string): string[] {
  return Array.from({ length: secret.length - 11 }, (_, i) => secret.slice(i, i + 12));
}
const NEEDLES = [...fragments(SECRET), ...fragments(REFUSED.slice(3))];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

let hub: FakeHub;
let home: { home: string; cleanup(): void };
let backend: BackendProcess | null = null;
/** Everything a client or a terminal saw: status lines, headers, bodies, CLI output. */
const seen: { what: string; text: string }[] = [];
const statuses: Record<string, number> = {};
let finalStatus: unknown = null;

beforeAll(async () => {
  expect(statSync(join(__dirname, '../../dist/server/src/cli/main.js')).isFile()).toBe(true);
  hub = await startFakeHub();
  hub.addToken(CANARY, { displayName: 'canary' });
  home = tempHome();
  const env = testEnv(home.home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: hub.url });
  backend = await startBackend(['--log-level', 'debug', '--log-format', 'json'], env);

  const api = async (name: string, method: string, path: string, body?: string) => {
    const res = await fetch(`${backend!.url}api/public/huggingface/${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body });
    const text = await res.text();
    seen.push({ what: `API ${name}`, text: `${res.status} ${JSON.stringify([...res.headers])} ${text}` });
    statuses[name] = res.status;
    if (name === 'status after') finalStatus = JSON.parse(text);
  };
  const cli = async (name: string, args: string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}) => {
    const res = await runCli(['hf', ...args], { ...env, ...extraEnv }, input);
    seen.push({ what: `CLI ${name}`, text: `${res.code}\n${res.stdout}\n${res.stderr}` });
    statuses[name] = res.code ?? -1;
  };

  await api('status before', 'GET', 'status');
  await api('save refused', 'POST', 'token', JSON.stringify({ token: REFUSED }));
  await api('save broken json', 'POST', 'token', `{"token": "${CANARY}", verify}`);
  await api('save', 'POST', 'token', JSON.stringify({ token: CANARY, verify: true }));
  await api('status', 'GET', 'status');
  await api('verify', 'POST', 'verify');
  for (const model of Object.values(FAKE_HUB_MODELS)) await api(`check ${model}`, 'POST', 'check-model', JSON.stringify({ model }));
  await api('check bad id', 'POST', 'check-model', JSON.stringify({ model: `../${CANARY}` }));
  hub.setOffline(true);
  await api('verify offline', 'POST', 'verify');
  await api('check offline', 'POST', 'check-model', JSON.stringify({ model: FAKE_HUB_MODELS.gatedManual }));
  hub.setOffline(false);
  await api('clear', 'DELETE', 'token');

  await cli('login refused', ['login'], `${REFUSED}\n`);
  await cli('login as argument', ['login', CANARY]);
  await cli('login', ['login'], `${CANARY}\n`);
  await cli('status', ['status']);
  await cli('status json', ['status', '--json']);
  await cli('status verify', ['status', '--verify']);
  for (const model of Object.values(FAKE_HUB_MODELS)) await cli(`cli check ${model}`, ['check', model]);
  await cli('cli check bad id', ['check', `x/${CANARY}/y`]);
  await cli('logout', ['logout']);
  await cli('logout env', ['logout'], undefined, { HF_TOKEN: CANARY });
  await cli('status env', ['status', '--verify'], undefined, { HF_TOKEN: CANARY });
  // Leave the token saved, so the scan below has a secret file to skip and check.
  await api('save again', 'POST', 'token', JSON.stringify({ token: CANARY, verify: true }));
  await api('status after', 'GET', 'status');
  await backend.stop();
}, 120_000);

afterAll(async () => {
  await backend?.stop();
  await hub?.close();
  home?.cleanup();
});

describe('the canary Hugging Face token', () => {
  it('went through every route and command, failures included', () => {
    expect(statuses).toMatchObject({
      'save refused': 422,
      'save broken json': 400,
      save: 200,
      verify: 200,
      'check bad id': 400,
      'verify offline': 503,
      clear: 200,
      'login refused': 1,
      'login as argument': 1,
      login: 0,
      'status verify': 0,
      'cli check bad id': 1,
      logout: 0,
      'logout env': 1,
      'save again': 200,
    });
    expect(finalStatus).toMatchObject({ source: 'file', verified: true });
    // The scan below is only worth something if the token really was used.
    expect(hub.requests.filter((r) => r.token === CANARY).length).toBeGreaterThan(10);
    expect(hub.requests.some((r) => r.token === REFUSED)).toBe(true);
  });

  it('appears in no file under the home but the 0600 secret file, whose folder is 0700', () => {
    const secretFile = join(home.home, 'secrets', 'huggingface_token');
    expect(readFileSync(secretFile, 'utf8')).toBe(`${CANARY}\n`);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(home.home, 'secrets')).mode & 0o777).toBe(0o700);

    const files = filesUnder(home.home).filter((f) => f !== secretFile);
    expect(files.map((f) => relative(home.home, f))).toEqual(expect.arrayContaining(['audit.log', 'hf-verification.json']));
    const hits = files.flatMap((f) => {
      const text = readFileSync(f, 'latin1');
      return NEEDLES.filter((n) => text.includes(n)).map(() => relative(home.home, f));
    });
    expect([...new Set(hits)]).toEqual([]);
    expect(readFileSync(join(home.home, 'audit.log'), 'utf8')).toContain('"event":"hf.saved"');
  });

  it('appears in nothing the server printed (debug logging, request logs included)', () => {
    const output = backend!.output();
    expect(output).toContain('"msg":"request completed"');
    expect(NEEDLES.filter((n) => output.includes(n))).toEqual([]);
  });

  it('appears in no API response and no CLI output', () => {
    const hits = seen.filter((s) => NEEDLES.some((n) => s.text.includes(n))).map((s) => s.what);
    expect(hits).toEqual([]);
  });
});
