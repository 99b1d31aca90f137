// Redaction is the last line of defence: a registered secret is masked in
// whatever form it comes back (a Hub that upper-cases or base64-encodes it, a
// URL that percent-encodes it), and a token-shaped value is caught after
// percent-decoding even when nobody registered it.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { looksLikeSecret, redactSecrets, registerSecret } from '../src/secrets/redact.js';

const SECRET = `hf_CANARYredact${randomBytes(12).toString('hex')}`;
registerSecret(SECRET);
const BODY = SECRET.slice(3);

/** Any 12 characters of the secret, or of one of its encodings, is a leak. */
function leaks(text: string, secret: string): string[] {
  const forms = [secret, secret.toUpperCase(), secret.toLowerCase(), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')];
  return forms.flatMap((f) => Array.from({ length: f.length - 11 }, (_, i) => f.slice(i, i + 12))).filter((n) => text.includes(n));
}

const percent = (s: string, all = false) => [...s].map((c) => (all || c === '_' ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c)).join('');

describe('a registered secret is masked in every form it comes back in', () => {
  const basic = (lead: string) => Buffer.from(`${lead}${SECRET}`).toString('base64');
  it.each([
    ['as is', `token ${SECRET} refused`],
    ['upper-cased', `Invalid credentials: ${SECRET.toUpperCase()}`],
    ['lower-cased', `invalid: ${SECRET.toLowerCase()}`],
    ['mixed case', `Bad ${SECRET.slice(0, 10).toUpperCase()}${SECRET.slice(10)}`],
    ['base64', `echo=${Buffer.from(SECRET).toString('base64')}`],
    ['base64url', `echo=${Buffer.from(SECRET).toString('base64url')}`],
    ['inside base64, no lead byte', `Basic ${basic('')}`],
    ['inside base64, one lead byte', `Basic ${basic('u:')}`.replace('u:', 'u')],
    ['inside base64 after "user:"', `Authorization: Basic ${basic('halo-tester:')}`],
    ['inside base64 after two bytes', `x ${basic('ab')}`],
    ['inside base64url after "user:"', `x ${Buffer.from(`halo-tester:${SECRET}`).toString('base64url')}`],
    ['percent-encoded underscore', `/api/models/${percent(SECRET)}`],
    ['percent-encoded, lower-case hex', `/x/${percent(SECRET).replace('%5F', '%5f')}`],
    ['every character percent-encoded', `/x/${percent(SECRET, true)}`],
    ['percent-encoded and upper-cased', `/x/${percent(SECRET.toUpperCase(), true)}`],
  ])('%s', (_name, text) => {
    const out = redactSecrets(text);
    expect(out).toContain('[REDACTED]');
    expect(leaks(out, SECRET)).toEqual([]);
  });
});

describe('an unregistered token in a URL is caught after percent-decoding', () => {
  const hfk = `hfk_${randomBytes(16).toString('base64url')}`;
  const hf = `hf_${randomBytes(16).toString('hex')}`;
  it.each([
    ['hfk%5F', `GET /api/public/x/${hfk.replace('_', '%5F')} 401`, hfk],
    ['hfk%5f', `/api/public/${hfk.replace('_', '%5f')}`, hfk],
    ['hf%5F', `/api/models/${hf.replace('_', '%5F')}/auth-check`, hf],
    ['hf%5f mid-path', `url=/a/b/${hf.replace('_', '%5f')}?x=1`, hf],
    ['every character encoded', `/x/${percent(hfk, true)}`, hfk],
    ['a malformed escape next to it', `/x/%E0%A4%A/${hfk.replace('_', '%5F')}`, hfk],
  ])('%s', (_name, text, token) => {
    const out = redactSecrets(text);
    expect(out).not.toContain(token.slice(4, 16));
    expect(out).toMatch(/hfk?_\[REDACTED\]/);
  });
});

describe('ordinary text is left alone', () => {
  it.each([
    'HF_ENDPOINT must be an http:// or https:// URL.',
    'HF_TOKEN_PATH and HUGGING_FACE_HUB_TOKEN are read too',
    'GET /api/public/models/meta-llama%2FLlama-3.1-8B 200',
    '100% done, 50%5 off',
    'a base64 blob that is not a secret: aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=',
  ])('%s', (text) => {
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('looksLikeSecret', () => {
  it.each([
    [SECRET, true],
    [`meta-llama/${SECRET}`, true],
    [SECRET.toUpperCase(), true],
    [`hfk_${'a'.repeat(30)}`, true],
    [`api_org_${'A1'.repeat(10)}`, true],
    [`x/${percent(SECRET)}`, true],
    ['meta-llama/Llama-3.1-8B', false],
    ['openai-community/gpt2', false],
    ['someone/hf_tiny_model', false],
    ['hf-internal-testing/tiny-random-gpt2', false],
  ])('%s → %s', (value, expected) => {
    expect(looksLikeSecret(value)).toBe(expected);
  });
});

describe('redaction cost', () => {
  it('a long line of URL characters with one escape at its end is masked in one pass, not one per character', () => {
    const line = `${'a'.repeat(200_000)}/hfk%5F${'B'.repeat(40)}`;
    const started = performance.now();
    const out = redactSecrets(line);
    expect(out.endsWith('/hfk_[REDACTED]')).toBe(true);
    // Quadratic scanning takes seconds here; one pass takes milliseconds.
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
