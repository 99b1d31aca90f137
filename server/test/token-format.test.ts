import { describe, expect, it } from 'vitest';
import { generateApiToken, hashApiToken, looksLikeApiToken, parseDuration, tokenNameProblem } from '../src/auth/token-format.js';

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
    ['bad name', 'Token name "bad name" may only contain letters, digits, "-", "_" and ".".'],
    ['../etc', 'Token name "../etc" may only contain letters, digits, "-", "_" and ".".'],
    ['naïve', 'Token name "na?ve" may only contain letters, digits, "-", "_" and ".".'],
    ['line\nbreak', 'Token name "line?break" may only contain letters, digits, "-", "_" and ".".'],
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
    ['0d', null],
    ['30', null],
    ['-1d', null],
    ['soon', null],
  ])('%s → %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});
