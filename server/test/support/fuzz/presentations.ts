import type { Scope } from '../../../../shared/api.js';
import type { Prng } from './prng.js';

// Ways of presenting a credential, right and wrong. Everything here is a
// "wire string": one character per byte (latin1), so invalid UTF-8 and any
// byte 0x00-0xFF can be written exactly as built.

export type TokenRole = 'admin' | 'read' | 'operate' | 'revoked' | 'expired';

export interface FuzzToken {
  name: string;
  secret: string;
  scope: Scope;
}

/** admin and read stay valid; operate is revoked halfway through a run; revoked and expired never work. */
export type FuzzTokens = Record<TokenRole, FuzzToken>;

export type Header = [name: string, value: string];

export interface Presentation {
  /** Credential headers, written among the first headers. */
  headers: Header[];
  /** Written after every other header, behind `bury` filler headers when set. */
  trailing: Header[];
  bury: boolean;
  /** A token written into the query string (where it must never count, nor reach a log). */
  query: string | null;
  /**
   * The token a server may accept: one presented verbatim, in exactly one of the
   * forms the product documents (see `presentation`). Null for everything else.
   */
  carries: TokenRole | null;
  recipe: string;
}

/** A wire string quoted for a report, every byte outside printable ASCII escaped. */
export const show = (text: string): string =>
  JSON.stringify(text).replace(/[\x7f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** Encodes text as UTF-8 and returns it as a wire string. */
export const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALID: readonly TokenRole[] = ['admin', 'read', 'operate'];

// Look-alikes of token characters, as UTF-8: Cyrillic, Greek, fullwidth, dashes.
const HOMOGLYPHS: Record<string, readonly string[]> = {
  a: ['\u0430', '\u03b1'], e: ['\u0435'], o: ['\u043e', '\u03bf', '0'], p: ['\u0440'], c: ['\u0441'], x: ['\u0445'], y: ['\u0443'],
  A: ['\u0410', '\u0391'], B: ['\u0412', '\u0392'], E: ['\u0415'], H: ['\u041d'], K: ['\u041a', '\u039a'], M: ['\u041c'], O: ['\u041e', '0'], P: ['\u0420'], T: ['\u0422'], X: ['\u0425'],
  l: ['1', 'I', '\u04cf'], I: ['l', '1', '\u0406'], '0': ['O', 'o'], '1': ['l', 'I'], '5': ['S'], S: ['5', '\u0405'],
  _: ['\uff3f', '\u2017'], '-': ['\u2010', '\u2011', '\u2212', '\uff0d'], h: ['\u04bb'], f: ['\u0192'], k: ['\u03ba', '\u043a'],
};

/** Bytes that are not token characters: odd spaces, controls, invalid and overlong UTF-8. */
const ODD_BYTES = [
  '\xa0', '\x85', '\x0b', '\x0c', '\x00', '\x7f', '\x80', '\xff', '\xc0\xaf', '\xe0\x80\xaf', '\xed\xa0\x80', '\xf8\x88\x80\x80\x80', '\xc3',
  utf8('\u200b'), utf8('\ufeff'), utf8('\u3000'), utf8('\u2028'), utf8('\u00a0'),
];

/** Every way here yields a value that is not `token`. */
export function mutateToken(rng: Prng, token: string): { value: string; how: string } {
  const at = (lo = 0) => rng.range(lo, token.length - 1);
  const other = (c: string) => {
    let r = c;
    while (r === c) r = rng.pick([...B64URL]);
    return r;
  };
  const how = rng.pick([
    'replace', 'replace', 'case-flip', 'case-flip', 'delete', 'insert', 'truncate', 'extend', 'swap', 'prefix', 'prefix',
    'space-inside', 'odd-byte', 'odd-byte', 'homoglyph', 'homoglyph', 'percent', 'base64-std', 'padding', 'double', 'quoted', 'prefix-only', 'half-and-half',
  ] as const);
  let value: string;
  switch (how) {
    case 'replace': {
      const i = at();
      value = token.slice(0, i) + other(token[i]!) + token.slice(i + 1);
      break;
    }
    case 'case-flip': {
      const letters = [...token].flatMap((c, i) => (/[a-z]/i.test(c) ? [i] : []));
      const i = rng.pick(letters);
      const c = token[i]!;
      value = token.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + token.slice(i + 1);
      break;
    }
    case 'delete': {
      const i = at();
      value = token.slice(0, i) + token.slice(i + 1);
      break;
    }
    case 'insert': {
      const i = rng.range(0, token.length);
      value = token.slice(0, i) + rng.pick([...B64URL]) + token.slice(i);
      break;
    }
    case 'truncate':
      value = token.slice(0, rng.range(1, token.length - 1));
      break;
    case 'extend':
      value = token + rng.pick([...B64URL, '=', '.', '~', '+', '/']);
      break;
    case 'swap': {
      const pairs = [...token].flatMap((c, i) => (i + 1 < token.length && token[i + 1] !== c ? [i] : []));
      const i = rng.pick(pairs);
      value = token.slice(0, i) + token[i + 1] + token[i] + token.slice(i + 2);
      break;
    }
    case 'prefix':
      value = rng.pick(['hf_', 'HFK_', 'hfk-', 'Hfk_', 'hfK_', 'hfk', 'hfk__', 'hfkk_', 'hfk_hfk_', 'sk_', 'api_org_', '', 'hfk:', 'hfk_ ']) + token.slice(4);
      break;
    case 'space-inside': {
      const i = rng.range(1, token.length - 1);
      value = token.slice(0, i) + rng.pick([' ', '\t', '  ']) + token.slice(i);
      break;
    }
    case 'odd-byte': {
      const byte = rng.pick(ODD_BYTES);
      const where = rng.pick(['start', 'end', 'inside'] as const);
      const i = where === 'start' ? 0 : where === 'end' ? token.length : rng.range(1, token.length - 1);
      value = token.slice(0, i) + byte + token.slice(i);
      break;
    }
    case 'homoglyph': {
      const spots = [...token].flatMap((c, i) => (HOMOGLYPHS[c] ? [i] : []));
      if (spots.length === 0) return { value: `${token}${utf8('\u200b')}`, how: 'odd-byte' };
      const i = rng.pick(spots);
      value = token.slice(0, i) + utf8(rng.pick(HOMOGLYPHS[token[i]!]!)) + token.slice(i + 1);
      break;
    }
    case 'percent': {
      const i = at();
      value = token.slice(0, i) + `%${token.charCodeAt(i).toString(16).toUpperCase().padStart(2, '0')}` + token.slice(i + 1);
      break;
    }
    case 'base64-std': {
      const swapped = token.slice(0, 4) + token.slice(4).replace(/-/g, '+').replace(/_/g, '/');
      value = swapped !== token ? swapped : token.slice(0, -1) + rng.pick(['+', '/']);
      break;
    }
    case 'padding':
      value = token + rng.pick(['=', '==']);
      break;
    case 'double':
      value = token + rng.pick(['', ' ', ',']) + token;
      break;
    case 'quoted':
      value = rng.pick(['"', "'"]) + token + rng.pick(['"', "'", '']);
      break;
    case 'prefix-only':
      value = 'hfk_';
      break;
    case 'half-and-half':
      value = token.slice(0, rng.range(5, token.length - 5)) + rng.string(B64URL, rng.range(5, 40));
      break;
  }
  // A random replacement can land back on the original (e.g. a swap of equal neighbours): extend instead.
  if (value === token) value = `${token}A`;
  return { value, how };
}

interface Tokenish {
  value: string;
  /** Set when `value` is exactly this role's secret. */
  role: TokenRole | null;
  how: string;
}

function pickTokenish(rng: Prng, tokens: FuzzTokens): Tokenish {
  const kind = rng.weighted([
    [30, 'valid'],
    [8, 'revoked'],
    [8, 'expired'],
    [40, 'mutant'],
    [6, 'random'],
    [4, 'junk'],
    [4, 'huge'],
  ] as const);
  switch (kind) {
    case 'valid': {
      const role = rng.pick(VALID);
      return { value: tokens[role].secret, role, how: role };
    }
    case 'revoked':
    case 'expired':
      return { value: tokens[kind].secret, role: kind, how: kind };
    case 'mutant': {
      const role = rng.pick(VALID);
      const m = mutateToken(rng, tokens[role].secret);
      return { value: m.value, role: null, how: `${role}~${m.how}` };
    }
    case 'random':
      return { value: `hfk_${rng.string(B64URL, rng.pick([43, 43, 42, 44, 20, 256]))}`, role: null, how: 'random' };
    case 'junk': {
      let junk = '';
      for (let i = rng.range(1, 80); i > 0; i--) junk += String.fromCharCode(rng.chance(0.7) ? rng.range(0x21, 0x7e) : rng.range(0x80, 0xff));
      return { value: junk, role: null, how: 'junk' };
    }
    case 'huge':
      return { value: `hfk_${rng.string(B64URL, rng.pick([500, 509, 600, 4000, 12000]))}`, role: null, how: 'huge' };
  }
}

// Scheme and padding around a token. "Allowed" means the spec (RFC 7235
// `Bearer 1*SP token68`, with the scheme case-insensitive) lets a server
// read the token as is; the product also takes HTAB and several spaces,
// which changes nothing about what must be known. Leading and trailing SP and
// HTAB are optional whitespace that HTTP removes before anyone sees the value.
const ALLOWED_SCHEMES = ['Bearer ', 'Bearer ', 'Bearer ', 'bearer ', 'BEARER ', 'BeArEr ', 'Bearer   ', 'Bearer\t', 'Bearer \t '];
const WRONG_SCHEMES = [
  'Bearer', 'Bearer:', 'Bearer: ', 'Bearer=', 'Bearer,', 'Bearer\xa0', 'Bearer \xa0', 'Basic ', 'Token ', 'Bearer Bearer ', 'Bear ', 'Bearerr ', 'Bearer realm="halo-forge", ',
  'Bearer token=', utf8('\u0412earer '), utf8('Bearer\u200b '), utf8('Bearer\u3000'), 'hfk ', 'Digest ', 'Negotiate ', 'Bearer\x0b', 'Bearer\x00 ', 'X-API-Key ', 'Authorization: Bearer ', '"Bearer" ',
];
const ALLOWED_PADDING = ['', '', '', '', ' ', '\t', '  ', ' \t'];
const WRONG_SUFFIXES = [',', ';', ' x', ' Bearer', '\xa0', '"', '\\', '=', '\x00', '\x85', '\r', '\n', '\rX-Injected: 1', utf8('\u200b'), '\x0c', ' ,'];

/** Decorates a value with padding; `clean` tells whether the value still reads as exactly the token. */
function decorate(rng: Prng, value: string, schemes: 'bearer' | 'key'): { text: string; clean: boolean; how: string } {
  const pre = rng.pick(ALLOWED_PADDING);
  let scheme = '';
  let clean = true;
  let how = '';
  if (schemes === 'bearer') {
    if (rng.chance(0.75)) scheme = rng.pick(ALLOWED_SCHEMES);
    else {
      scheme = rng.pick(WRONG_SCHEMES);
      clean = false;
      how = `scheme ${show(scheme)}`;
    }
  } else if (rng.chance(0.1)) {
    scheme = rng.pick(['Bearer ', 'bearer ', 'Basic ', 'hfk ']);
    clean = false;
    how = `key with scheme ${show(scheme)}`;
  }
  let suffix = rng.pick(ALLOWED_PADDING);
  if (rng.chance(0.08)) {
    suffix = rng.pick(WRONG_SUFFIXES);
    clean = false;
    how += ` suffix ${show(suffix)}`;
  }
  return { text: pre + scheme + value + suffix, clean, how: how.trim() };
}

const AUTH_NAMES = ['Authorization', 'Authorization', 'authorization', 'AUTHORIZATION', 'AuThOrIzAtIoN'];
const KEY_NAMES = ['X-API-Key', 'X-API-Key', 'x-api-key', 'X-Api-Key', 'X-API-KEY'];
const MISPLACED = (t: string): Header[] => [
  ['Cookie', `token=${t}`], ['Cookie', `halo-forge:api-token=${t}`], ['Proxy-Authorization', `Bearer ${t}`], ['X-API-Token', t], ['Api-Key', t], ['X-Api-Key-Id', t],
  ['X_API_KEY', t], ['X-APIKey', t], ['Authorization-Bearer', t], ['X-Authorization', `Bearer ${t}`], ['X-Auth-Token', t], ['Bearer', t], ['Sec-WebSocket-Protocol', `bearer, ${t}`],
  ['X-Forwarded-Authorization', `Bearer ${t}`], ['Authorisation', `Bearer ${t}`], [utf8('Authorizat\u0131on'), `Bearer ${t}`], ['X-API-Key ', t], ['Authorization\t', `Bearer ${t}`],
];

/** Builds the credential part of a request. */
export function presentation(rng: Prng, tokens: FuzzTokens): Presentation {
  const base: Presentation = { headers: [], trailing: [], bury: false, query: null, carries: null, recipe: '' };
  const kind = rng.weighted([
    [14, 'none'],
    [26, 'bearer'],
    [14, 'key'],
    [7, 'both-same'],
    [8, 'both-different'],
    [6, 'repeated'],
    [3, 'buried'],
    [6, 'misplaced'],
    [4, 'query'],
    [4, 'empty'],
    [3, 'folded'],
  ] as const);
  switch (kind) {
    case 'none':
      return { ...base, recipe: 'no credential' };
    case 'bearer':
    case 'key': {
      const t = pickTokenish(rng, tokens);
      const d = decorate(rng, t.value, kind === 'bearer' ? 'bearer' : 'key');
      const name = rng.pick(kind === 'bearer' ? AUTH_NAMES : KEY_NAMES);
      return { ...base, headers: [[name, d.text]], carries: d.clean ? t.role : null, recipe: `${name}: ${t.how}${d.how ? ` (${d.how})` : ''}` };
    }
    case 'both-same': {
      const t = pickTokenish(rng, tokens);
      const a = decorate(rng, t.value, 'bearer');
      const k = decorate(rng, t.value, 'key');
      const headers: Header[] = [[rng.pick(AUTH_NAMES), a.text], [rng.pick(KEY_NAMES), k.text]];
      if (rng.chance(0.5)) headers.reverse();
      return { ...base, headers, carries: a.clean && k.clean ? t.role : null, recipe: `both headers: ${t.how}${a.how || k.how ? ` (${[a.how, k.how].filter(Boolean).join('; ')})` : ''}` };
    }
    case 'both-different': {
      // Two tokens at once is ambiguous, whichever of them is valid: the product refuses it.
      const [x, y] = conflictingPair(rng, tokens);
      const headers: Header[] = [[rng.pick(AUTH_NAMES), `Bearer ${x.value}`], [rng.pick(KEY_NAMES), y.value]];
      if (rng.chance(0.5)) headers.reverse();
      return { ...base, headers, recipe: `Authorization ${x.how} with X-API-Key ${y.how}` };
    }
    case 'repeated': {
      const same = rng.chance(0.4) ? pickTokenish(rng, tokens) : null;
      const [x, y] = same ? [same, same] : conflictingPair(rng, tokens);
      const bearer = rng.chance(0.6);
      const names = bearer ? AUTH_NAMES : KEY_NAMES;
      const headers: Header[] = [[rng.pick(names), `${bearer ? 'Bearer ' : ''}${x.value}`]];
      if (rng.chance(0.3)) headers.push(['X-Between', 'x']);
      headers.push([rng.pick(names), `${bearer ? 'Bearer ' : ''}${y.value}`]);
      return { ...base, headers, recipe: `${bearer ? 'Authorization' : 'X-API-Key'} twice: ${x.how}, ${y.how}` };
    }
    case 'buried': {
      // A second credential behind a thousand headers: past where Node stops collecting them.
      const role = rng.pick(VALID);
      const [x, y] = [{ value: tokens[role].secret, how: role }, rng.chance(0.5) ? pickTokenish(rng, tokens) : { value: tokens.admin.secret, how: 'admin' }];
      const first: Header = rng.chance(0.5) ? ['Authorization', `Bearer ${x.value}`] : ['X-API-Key', x.value];
      const last: Header = rng.chance(0.5) ? ['Authorization', `Bearer ${y.value}`] : ['X-API-Key', y.value];
      return { ...base, headers: [first], trailing: [last], bury: true, recipe: `${first[0]} ${x.how}, then ${last[0]} ${y.how} after ~1000 headers` };
    }
    case 'misplaced': {
      const t = rng.chance(0.7) ? { value: tokens[rng.pick(VALID)].secret, how: 'valid' } : pickTokenish(rng, tokens);
      const header = rng.pick(MISPLACED(t.value));
      return { ...base, headers: [header], recipe: `${show(header[0])}: ${t.how}` };
    }
    case 'query': {
      const role = rng.pick(VALID);
      const param = rng.pick(['token', 'access_token', 'api_key', 'apikey', 'bearer', 'authorization', 'key']);
      const secret = tokens[role].secret;
      const [spelling, value] = rng.pick([['as is', secret], ['as is', secret], ['percent-encoded', `hfk%5F${secret.slice(4)}`], ['in Bearer', `Bearer%20${secret}`]] as const);
      return { ...base, query: `${param}=${value}`, recipe: `?${param}= ${role} ${spelling}` };
    }
    case 'empty': {
      const header = rng.pick<Header>([['Authorization', ''], ['X-API-Key', ''], ['Authorization', 'Bearer'], ['Authorization', 'Bearer '], ['Authorization', ' '], ['X-API-Key', '\t'], ['Authorization', 'Bearer ""'], ['Authorization', 'Basic']]);
      return { ...base, headers: [header], recipe: `empty: ${show(header.join(": "))}` };
    }
    case 'folded': {
      // obs-fold and bare line breaks around a valid token: HTTP parsers must refuse these, never join them.
      const secret = tokens[rng.pick(VALID)].secret;
      const value = rng.pick([`Bearer\r\n ${secret}`, `Bearer\r\n\t${secret}`, `Bearer ${secret.slice(0, 20)}\r\n ${secret.slice(20)}`, `Bearer\n ${secret}`, `Bearer\r${secret}`]);
      return { ...base, headers: [['Authorization', value]], recipe: `folded ${show(value.replace(secret, '<token>'))}` };
    }
  }
}

/** Two different values, at least one of them usually a valid token. */
function conflictingPair(rng: Prng, tokens: FuzzTokens): [Tokenish, Tokenish] {
  const role = rng.pick(VALID);
  const valid: Tokenish = { value: tokens[role].secret, role, how: role };
  const other = rng.weighted<() => Tokenish>([
    [3, () => { const r = rng.pick(VALID.filter((v) => v !== role)); return { value: tokens[r].secret, role: r, how: r }; }],
    [3, () => { const m = mutateToken(rng, valid.value); return { value: m.value, role: null, how: `${role}~${m.how}` }; }],
    [1, () => ({ value: tokens.revoked.secret, role: 'revoked', how: 'revoked' })],
    [1, () => pickTokenish(rng, tokens)],
  ])();
  if (other.value === valid.value) other.value += 'A';
  return rng.chance(0.5) ? [valid, other] : [other, valid];
}
