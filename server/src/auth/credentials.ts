import type { IncomingHttpHeaders } from 'node:http';

export type Credential =
  | { kind: 'none' }
  | { kind: 'token'; value: string }
  | { kind: 'malformed'; reason: string };

const MAX_CREDENTIAL_LENGTH = 512;

/**
 * HTTP's whitespace is SP and HTAB. JavaScript's `\s` and `trim()` also take
 * U+00A0, which is what the byte 0xA0 becomes in a header value: with them,
 * `Bearer<0xA0>hfk_…` and `hfk_…<0xA0>` passed as the token.
 */
function trimOws(text: string): string {
  // A loop, not /[ \t]+$/: that regex backtracks quadratically over a long run of inner spaces.
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

const isOws = (code: number) => code === 0x20 || code === 0x09;

/** Whether a credential header was sent twice; one pass over the raw header list. */
function repeatedCredentialHeader(rawHeaders: readonly string[]): string | null {
  let authorization = 0;
  let apiKey = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') authorization++;
    else if (name.length === 9 && name.toLowerCase() === 'x-api-key') apiKey++;
  }
  return authorization > 1 ? 'Authorization' : apiKey > 1 ? 'X-API-Key' : null;
}

/**
 * Reads the token from `Authorization: Bearer` or `X-API-Key` — never from the
 * URL, where it would end up in logs and history. Ambiguity (two headers, two
 * different tokens) is refused rather than guessed at.
 */
export function extractCredential(headers: IncomingHttpHeaders, rawHeaders: readonly string[]): Credential {
  const authorization = headers.authorization;
  const apiKey = headers['x-api-key'];
  if (authorization === undefined && apiKey === undefined) return { kind: 'none' };
  // Node keeps only the first Authorization header; the raw list shows a smuggled second one.
  const repeated = repeatedCredentialHeader(rawHeaders);
  if (repeated) return { kind: 'malformed', reason: `more than one ${repeated} header` };

  let bearer: string | undefined;
  if (authorization !== undefined) {
    const header = trimOws(authorization);
    const space = header.search(/[ \t]/);
    const scheme = space === -1 ? header : header.slice(0, space);
    if (scheme.length !== 6 || scheme.toLowerCase() !== 'bearer') return { kind: 'malformed', reason: 'only "Authorization: Bearer <token>" is accepted' };
    bearer = space === -1 ? '' : trimOws(header.slice(space + 1));
    if (!bearer) return { kind: 'malformed', reason: 'the Authorization header has no token after "Bearer"' };
  }
  const key = typeof apiKey === 'string' ? trimOws(apiKey) : undefined;
  if (apiKey !== undefined && !key) return { kind: 'malformed', reason: 'the X-API-Key header is empty' };
  if (bearer !== undefined && key !== undefined && bearer !== key) return { kind: 'malformed', reason: 'Authorization and X-API-Key carry different tokens' };
  const value = (bearer ?? key)!;
  if (value.length > MAX_CREDENTIAL_LENGTH) return { kind: 'malformed', reason: 'the token is far longer than any halo-forge token' };
  return { kind: 'token', value };
}
