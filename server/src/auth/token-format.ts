import { hash, randomBytes } from 'node:crypto';

export const API_TOKEN_PREFIX = 'hfk_';
const SECRET_BYTES = 32;
const TOKEN_SHAPE = /^hfk_[A-Za-z0-9_-]{43,256}$/;
const NAME_SHAPE = /^[A-Za-z0-9._-]{1,64}$/;

/** `hfk_` + 32 random bytes, base64url: 256 bits, so one SHA-256 is all verification needs. */
export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

export function looksLikeApiToken(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

/**
 * A fast hash is right here: the secret is 256 random bits, so there is
 * nothing to brute-force and a slow KDF (the peer's argon2id per request)
 * would only cost throughput.
 */
export function hashApiToken(token: string): string {
  // crypto.hash: the one-shot form, about 3x cheaper than createHash().update().digest().
  return hash('sha256', token, 'hex');
}

/** Null when the name is fine, else why not. */
export function tokenNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'A token name is required.';
  // A pasted secret must not become a name that is then listed, logged and audited.
  if (/^(hfk|hf|api_org)_[A-Za-z0-9_-]{12,}/i.test(name)) return 'That looks like a token, not a name: pick a short name such as "laptop".';
  if (name.length > 64) return `Token name is ${name.length} characters; the limit is 64.`;
  // ASCII only: a name travels in URLs, headers, file names and terminals, where look-alike letters deceive.
  if (!NAME_SHAPE.test(name)) return `Token name "${printable(name)}" may only contain ASCII letters (a-z, A-Z), digits, "-", "_" and ".".`;
  return null;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/** How an expiry is written; the CLI's help and the error for a bad one both say it. */
export const DURATION_FORMAT = 'a number and a unit: m (minutes), h (hours), d (days), w (weeks) or y (years), such as 30d';

/** "30d", "12h", "90m", "2w", "1y" → milliseconds ("0d" is 0); null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,6})\s*([mhdwy])$/i.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
}

/** Null when `text` is an expiry a token can have, else why not. */
export function expiryProblem(text: string): string | null {
  const ms = parseDuration(text);
  if (ms === null) return `Expiry "${printable(text)}" is not a duration: use ${DURATION_FORMAT}.`;
  if (ms === 0) return `Expiry "${printable(text)}" must be longer than zero.`;
  return null;
}

/**
 * Shows a user's bad input back as they typed it (any script: "läptop", "ノート"),
 * but never a control, format or unassigned character: those could move a
 * terminal's cursor, reverse the text around them (bidi overrides) or hide.
 */
export function printable(text: string, max = 64): string {
  const chars = Array.from(text);
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
  return cut.replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/gu, '?');
}
