import { describe, expect, it } from 'vitest';
import { extractCredential } from '../src/auth/credentials.js';

const raw = (headers: Record<string, string>) => Object.entries(headers).flat();

describe('credential extraction', () => {
  const token = 'hfk_' + 'a'.repeat(43);
  it.each([
    ['nothing', {}, { kind: 'none' }],
    ['Bearer', { authorization: `Bearer ${token}` }, { kind: 'token', value: token }],
    ['bearer, any case', { authorization: `bEaReR   ${token}` }, { kind: 'token', value: token }],
    ['X-API-Key', { 'x-api-key': token }, { kind: 'token', value: token }],
    ['both, same token', { authorization: `Bearer ${token}`, 'x-api-key': token }, { kind: 'token', value: token }],
    ['both, different tokens', { authorization: `Bearer ${token}`, 'x-api-key': 'hfk_other' }, { kind: 'malformed', reason: 'Authorization and X-API-Key carry different tokens' }],
    ['Bearer with no token', { authorization: 'Bearer' }, { kind: 'malformed', reason: 'the Authorization header has no token after "Bearer"' }],
    ['Bearer and spaces', { authorization: 'Bearer    ' }, { kind: 'malformed', reason: 'the Authorization header has no token after "Bearer"' }],
    ['Basic auth', { authorization: 'Basic dXNlcjpwYXNz' }, { kind: 'malformed', reason: 'only "Authorization: Bearer <token>" is accepted' }],
    ['empty X-API-Key', { 'x-api-key': '' }, { kind: 'malformed', reason: 'the X-API-Key header is empty' }],
    ['huge token', { authorization: `Bearer ${'x'.repeat(20_000)}` }, { kind: 'malformed', reason: 'the token is far longer than any halo-forge token' }],
    ['a tab after Bearer', { authorization: `Bearer\t${token}` }, { kind: 'token', value: token }],
    // Header bytes arrive as latin1: 0xA0 is U+00A0, which JavaScript's trim() and \s treat as a space and HTTP does not.
    ['a no-break space after Bearer', { authorization: `Bearer\xa0${token}` }, { kind: 'malformed', reason: 'only "Authorization: Bearer <token>" is accepted' }],
    ['a no-break space after the token', { authorization: `Bearer ${token}\xa0` }, { kind: 'token', value: `${token}\xa0` }],
    ['an X-API-Key wrapped in no-break spaces', { 'x-api-key': `\xa0${token}\xa0` }, { kind: 'token', value: `\xa0${token}\xa0` }],
  ])('%s', (_what, headers, expected) => {
    expect(extractCredential(headers, raw(headers))).toEqual(expected);
  });

  it('refuses a second Authorization header that Node would silently drop', () => {
    const rawHeaders = ['Authorization', `Bearer ${token}`, 'authorization', 'Bearer hfk_other'];
    expect(extractCredential({ authorization: `Bearer ${token}` }, rawHeaders)).toEqual({ kind: 'malformed', reason: 'more than one Authorization header' });
  });
});
