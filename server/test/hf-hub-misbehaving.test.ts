// A Hub (a mirror, a proxy, a careless future Hub) that echoes the token back
// in its error text, in upper case or base64 or percent-encoded, must not get
// it into anything a person or a read-scope client sees: API answers, the
// status, CLI output, the server's log, the files under the home. And a Hub
// answer that cannot be read is never taken for a grant.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { echoedToken, FAKE_HUB_MODELS, FAKE_HUB_TOKENS, startFakeHub, type FakeHub, type FakeHubMisbehaviour } from '../../e2e/support/fake-hub.js';
import { hubReason } from '../src/secrets/hub-client.js';
import { buildTestApp, type TestApp } from './support/app.js';
import { runCli, tempHome, testEnv } from './support/backend-process.js';

const LOCAL = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8000' } } as const;
const FORMS = ['upper', 'base64', 'base64url', 'percent', 'basic'] as const;

/** A fresh canary per test: nothing registered by an earlier test can hide a leak. */
const canary = () => `hf_CANARYecho${randomBytes(14).toString('hex')}`;

/** Any 12 characters of the token or of one of its echoes is a leak. */
function leaks(text: string, token: string): string[] {
  // "basic" puts the token at a base64 boundary ("halo-tester:" is 12 bytes): its encoding is the base64 form's.
  const forms = [token, token.toLowerCase(), ...FORMS.filter((f) => f !== 'basic').map((f) => echoedToken(token, f))];
  const needles = forms.flatMap((f) => Array.from({ length: f.length - 11 }, (_, i) => f.slice(i, i + 12)));
  return [...new Set(needles.filter((n) => text.includes(n)))];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

let hub: FakeHub;
let t: TestApp | null = null;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(() => hub.close());
afterEach(async () => {
  await t?.close();
  t = null;
  hub.reset();
});

describe.each(FORMS)('a Hub that echoes the token (%s)', (form) => {
  const how: FakeHubMisbehaviour = { echoToken: form };

  it('gets it into no API answer, status or file', async () => {
    const token = canary();
    t = await buildTestApp({ envExtra: { HF_ENDPOINT: hub.url } });
    const app = t.app;
    hub.misbehave(how);
    const post = (url: string, payload?: object) => app.inject({ method: 'POST', url: `/api/public/huggingface/${url}`, payload, ...LOCAL });
    const seen: string[] = [];
    const keep = (name: string, res: { statusCode: number; body: string }) => (seen.push(`${name}: ${res.statusCode} ${res.body}`), res);

    const refused = keep('save', await post('token', { token, verify: true }));
    expect(refused.statusCode).toBe(422);
    expect(refused.json().message).toMatch(/^The Hugging Face Hub refused this token: Invalid credentials: .*(\[…\]|\[REDACTED\]).* is not a valid token\. Nothing was saved\.$/);
    // Saved unverified, then verified against the echoing Hub: its reason lands in the status every read-scope client can read.
    expect(keep('save unverified', await post('token', { token, verify: false })).statusCode).toBe(200);
    keep('verify', await post('verify'));
    const status = keep('status', await app.inject({ url: '/api/public/huggingface/status', ...LOCAL }));
    expect(status.json()).toMatchObject({ present: true, source: 'file', verified: false });
    expect(status.json().message).toMatch(/The Hub refused it when last checked: Invalid credentials/);
    const check = keep('check', await post('check-model', { model: FAKE_HUB_MODELS.gatedManual }));
    expect(check.json()).toMatchObject({ access: 'unauthorized' });

    expect(hub.requests.filter((r) => r.token === token).length).toBeGreaterThanOrEqual(3);
    expect(leaks(seen.join('\n'), token)).toEqual([]);
    const files = filesUnder(t.home).filter((f) => !f.endsWith(join('secrets', 'huggingface_token')));
    expect(files.flatMap((f) => leaks(readFileSync(f, 'latin1'), token).map(() => f))).toEqual([]);
  });

  it('gets it into nothing `hf login` prints', async () => {
    const token = canary();
    const { home, cleanup } = tempHome();
    try {
      hub.misbehave(how);
      const res = await runCli(['hf', 'login'], testEnv(home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: hub.url }), `${token}\n`);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^halo-forge: The Hugging Face Hub refused this token: Invalid credentials: .* Nothing was saved\.\n$/);
      expect(leaks(`${res.stdout}\n${res.stderr}`, token)).toEqual([]);
    } finally {
      cleanup();
    }
  });
});

describe('a Hub answer that is not JSON', () => {
  it.each([
    ['an HTML page (a captive portal)', 'html', /answered 200 with no JSON \(text\/html\)/],
    ['JSON-typed garbage', 'malformed', /answered 200 with malformed JSON/],
  ] as const)('%s is unreachable with the reason, never a grant', async (_name, notJson, reason) => {
    t = await buildTestApp({ envExtra: { HF_ENDPOINT: hub.url, HF_TOKEN: FAKE_HUB_TOKENS.read } });
    hub.misbehave({ notJson });
    for (const model of [FAKE_HUB_MODELS.open, FAKE_HUB_MODELS.gatedManual]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/public/huggingface/check-model', payload: { model }, ...LOCAL });
      expect(res.json()).toEqual({
        model,
        access: 'unreachable',
        gated: null,
        url: `${hub.url}/${model}`,
        message: expect.stringMatching(reason),
      });
      expect(res.json().message).toMatch(/^The Hugging Face Hub at http:\/\/127\.0\.0\.1:\d+ gave an answer Halo Forge cannot read .*; it may not be a Hugging Face Hub or mirror\. Check HF_ENDPOINT, or try again later\.$/);
    }
  });

  it('a whoami answer that is not JSON is unreachable, and the page is not quoted', async () => {
    t = await buildTestApp({ envExtra: { HF_ENDPOINT: hub.url } });
    hub.misbehave({ notJson: 'html' });
    const res = await t.app.inject({ method: 'POST', url: '/api/public/huggingface/token', payload: { token: FAKE_HUB_TOKENS.read, verify: true }, ...LOCAL });
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toMatch(/gave an answer Halo Forge cannot read \(its whoami answer is not valid JSON\)/);
    expect(res.json().message).not.toMatch(/guest network|<html/);
  });
});

describe('a token pasted as a model id', () => {
  it.each([
    ['hf_ token', () => canary()],
    ['hf_ token after an org', () => `meta-llama/${canary()}`],
    ['upper-cased', () => canary().toUpperCase()],
    ['Halo Forge API token', () => `hfk_${randomBytes(24).toString('base64url')}`],
    ['organization token', () => `api_org_${randomBytes(16).toString('hex')}`],
  ])('%s is refused without a Hub call, and not quoted', async (_name, make) => {
    const value = make();
    t = await buildTestApp({ envExtra: { HF_ENDPOINT: hub.url } });
    const before = hub.requests.length;
    const res = await t.app.inject({ method: 'POST', url: '/api/public/huggingface/check-model', payload: { model: value }, ...LOCAL });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'hf.invalid_model',
      message: 'This looks like an access token, not a Hugging Face model id; it was not sent anywhere. Use the form org/name, e.g. meta-llama/Llama-3.1-8B.',
    });
    expect(hub.requests.length).toBe(before);
  });
});

describe("the Hub's reason", () => {
  const token = canary();
  it.each([
    ['a plain reason is kept', { error: 'Invalid credentials in Authorization header' }, null, 'Invalid credentials in Authorization header'],
    ['a trailing full stop goes', { error: 'Repository not found.' }, null, 'Repository not found'],
    ['an upper-cased token is cut out', { error: `Bad token ${token.toUpperCase()} given` }, null, 'Bad token […] given'],
    ['a base64 token is cut out', { error: `Bad ${Buffer.from(token).toString('base64')}` }, null, 'Bad […]'],
    ['control characters become spaces', { error: 'line one\r\n\u001b[31mline two' }, null, 'line one [31mline two'],
    ['a long text is capped', { error: `word `.repeat(100) }, null, `${'word '.repeat(100).slice(0, 159)}…`],
    ['without a text, the error code stands in', null, { errorCode: 'GatedRepo', errorMessage: null }, 'GatedRepo'],
    ['an error code that is not a name is dropped', null, { errorCode: token, errorMessage: null }, null],
    ['the header stands in for a body without a text', { message: 'x' }, { errorCode: null, errorMessage: 'Entry not found' }, 'Entry not found'],
  ])('%s', (_name, body, answer, expected) => {
    expect(hubReason(body, answer)).toBe(expected);
  });
});
