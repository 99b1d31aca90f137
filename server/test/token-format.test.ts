import { describe, expect, it } from 'vitest';
import { expiryProblem, generateApiToken, hashApiToken, looksLikeApiToken, parseDuration, printable, tokenNameProblem } from '../src/auth/token-format.js';

describe('API token format', () => {
  it('is hfk_ followed by 32 random bytes in base64url', () => {
    const token = generateApiToken();
    expect(token).toMatch(/^hfk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(looksLikeApiToken(token)).toBe(true);
  });

  it('never repeats', () => {
    const seen = new Set(Array.from({ length: 1000 }, generateApiToken));
    expect(seen.size).toBe(1000);
  });

  it('is stored as its SHA-256, not the secret', () => {
    const token = generateApiToken();
    expect(hashApiToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiToken(token)).not.toContain(token.slice(4, 12));
  });

  it.each([
    ['hfk_short', false],
    ['hf_' + 'a'.repeat(43), false],
    ['hfk_' + 'a'.repeat(42), false],
    ['hfk_' + 'a'.repeat(43), true],
    ['hfk_' + 'a'.repeat(42) + '!', false],
    ['hfk_' + 'é'.repeat(43), false],
  ])('shape of %s is %s', (value, ok) => {
    expect(looksLikeApiToken(value)).toBe(ok);
  });
});

describe('token names', () => {
  it.each([
    ['dashboard', null],
    ['ci-runner_2.prod', null],
    ['a'.repeat(64), null],
    ['', 'A token name is required.'],
    ['a'.repeat(65), 'Token name is 65 characters; the limit is 64.'],
    ['bad name', 'Token name "bad name" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['../etc', 'Token name "../etc" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['naïve', 'Token name "naïve" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['läptop', 'Token name "läptop" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['ノート', 'Token name "ノート" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['🦙-box', 'Token name "🦙-box" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['evil\u202Egnp.exe', 'Token name "evil?gnp.exe" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['zero\u200Bwidth', 'Token name "zero?width" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['bell\u0007\u001b[2J', 'Token name "bell??[2J" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['line\nbreak', 'Token name "line?break" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".'],
    ['hf_CANARYcanaryCANARYcanaryCANARY12', 'That looks like a token, not a name: pick a short name such as "laptop".'],
    ['hfk_' + 'a'.repeat(43), 'That looks like a token, not a name: pick a short name such as "laptop".'],
    ['hf_model', null],
  ])('%j → %j', (name, problem) => {
    expect(tokenNameProblem(name)).toBe(problem);
  });
});

describe('expiry durations', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['2w', 14 * 86_400_000],
    ['1y', 365 * 86_400_000],
    ['0d', 0],
    ['30', null],
    ['-1d', null],
    ['soon', null],
  ])('%s → %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('expiry problems', () => {
  const FORMAT = 'a number and a unit: m (minutes), h (hours), d (days), w (weeks) or y (years), such as 30d';
  it.each([
    ['30d', null],
    ['90m', null],
    ['1w', null],
    ['0d', 'Expiry "0d" must be longer than zero.'],
    ['0m', 'Expiry "0m" must be longer than zero.'],
    ['000h', 'Expiry "000h" must be longer than zero.'],
    ['soon', `Expiry "soon" is not a duration: use ${FORMAT}.`],
    ['30', `Expiry "30" is not a duration: use ${FORMAT}.`],
    ['-1d', `Expiry "-1d" is not a duration: use ${FORMAT}.`],
    ['3 Tage', `Expiry "3 Tage" is not a duration: use ${FORMAT}.`],
    ['2ヶ月', `Expiry "2ヶ月" is not a duration: use ${FORMAT}.`],
  ])('%j → %j', (text, problem) => {
    expect(expiryProblem(text)).toBe(problem);
  });
});

describe('showing input back', () => {
  it('cuts long input at whole characters, never inside one', () => {
    expect(printable('🦙'.repeat(70))).toBe(`${'🦙'.repeat(64)}…`);
  });
});
