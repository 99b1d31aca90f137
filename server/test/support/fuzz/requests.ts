import type { Scope } from '../../../../shared/api.js';
import { Prng } from './prng.js';
import { presentation, show, utf8, type FuzzTokens, type Header, type TokenRole } from './presentations.js';

/** A route the fuzzer aims at, with the least scope the product gives it (null: public). */
export interface Route {
  id: string;
  method: string;
  path: string;
  scope: Scope | null;
}

export const ROUTES = {
  health: { id: 'health', method: 'GET', path: '/api/public/health', scope: 'read' },
  healthHead: { id: 'health-head', method: 'HEAD', path: '/api/public/health', scope: 'read' },
  connection: { id: 'connection', method: 'GET', path: '/api/public/connection', scope: 'read' },
  tokens: { id: 'tokens', method: 'GET', path: '/api/public/tokens', scope: 'admin' },
  tokensHead: { id: 'tokens-head', method: 'HEAD', path: '/api/public/tokens', scope: 'admin' },
  audit: { id: 'audit', method: 'GET', path: '/api/public/audit?limit=2', scope: 'admin' },
  /** A mutating admin route that changes nothing when reached: the token does not exist (404 token.not_found). */
  revoke: { id: 'revoke', method: 'DELETE', path: '/api/public/tokens/fuzz-nobody', scope: 'admin' },
  stream: { id: 'stream', method: 'GET', path: '/api/public/audit/stream', scope: 'admin' },
  session: { id: 'session', method: 'GET', path: '/api/public/auth/session', scope: null },
} as const satisfies Record<string, Route>;

const ROUTE_WEIGHTS: readonly (readonly [number, Route])[] = [
  [8, ROUTES.health], [3, ROUTES.healthHead], [3, ROUTES.connection], [7, ROUTES.tokens], [2, ROUTES.tokensHead], [3, ROUTES.audit], [4, ROUTES.revoke], [1, ROUTES.stream], [3, ROUTES.session],
];

export interface Target {
  /** The Host a clean request carries (the listener's own address). */
  host: string;
  /** The server's limit on request-line plus header bytes (Node's maxHeaderSize). */
  maxHeaderSize: number;
  /** What a same-host proxy that appends its own header (HAProxy's `option forwardfor`) adds after the client's headers. */
  appendHeader: Header | null;
}

export interface FuzzCase {
  id: number;
  /** How the case was built, in words (no secret in it). */
  recipe: string;
  bytes: Buffer;
  /** The method as written: the answer to a HEAD has no body. */
  method: string;
  route: Route;
  carries: TokenRole | null;
  /** A clean request with a valid token that must reach its route. */
  control: boolean;
  /** Bytes an HTTP parser may refuse: a 400/431 or closing without an answer is then fine. */
  hostile: boolean;
  /** The connection cannot carry anything after this request. */
  endsConnection: boolean;
  /** The client ends its side after writing (an incomplete body). */
  halfClose: boolean;
  /** Header bytes against the server's limit; "edge" is too close to call. */
  size: 'under' | 'edge' | 'over';
}

export interface CaseContext {
  seed: number;
  tokens: FuzzTokens;
  target: Target;
  /** Tokens a control may use at this point of the run. */
  controlRoles: readonly TokenRole[];
  /** Every gated route the app registers (support/fuzz/route-table.ts), each with its path parameters filled. */
  routes: readonly Route[];
}

/** Half the cases aim at a route of the app's table, half at the hand-picked ones whose answers the oracle reads closely. */
const TABLE_SHARE = 0.5;

export const CONTROL_EVERY = 8;

const TCHAR = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** RFC 3986 characters; parsers differ on the rest (Node refuses a backslash, for one). */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'MKCOL', 'SEARCH']);

interface Draft {
  method: string;
  target: string;
  version: string;
  headers: Header[];
  trailing: Header[];
  /** Raw lines written as they are (no "name: value" shape). */
  rawLines: string[];
  body: string;
  notes: string[];
  endsConnection: boolean;
  hostile: boolean;
  halfClose: boolean;
}

export function buildCase(ctx: CaseContext, id: number): FuzzCase {
  const rng = Prng.forCase(ctx.seed, id);
  if (id % CONTROL_EVERY === 0) return buildControl(ctx, id, rng);
  const route = ctx.routes.length > 0 && rng.chance(TABLE_SHARE) ? rng.pick(ctx.routes) : rng.weighted(ROUTE_WEIGHTS);
  const cred = presentation(rng, ctx.tokens);
  const d: Draft = {
    method: route.method,
    target: route.path,
    version: 'HTTP/1.1',
    headers: [['Host', ctx.target.host]],
    trailing: [],
    rawLines: [],
    body: '',
    notes: [cred.recipe],
    endsConnection: false,
    hostile: false,
    halfClose: false,
  };
  if (cred.query) d.target += (d.target.includes('?') ? '&' : '?') + cred.query;
  requestLine(rng, d, ctx.target);
  addressHeaders(rng, d, ctx.target);
  const at = rng.range(0, d.headers.length);
  d.headers.splice(at, 0, ...cred.headers);
  junkHeaders(rng, d);
  framing(rng, d);
  const filler = cred.bury ? rng.range(1000, 1100) : rng.weighted([[90, 0], [7, rng.range(20, 300)], [3, rng.range(1000, 1100)]]);
  for (let i = 0; i < filler; i++) d.headers.push([`x-f${i}`, rng.pick(['1', 'a', '', 'ok'])]);
  if (filler) d.notes.push(`${filler} filler headers`);
  d.trailing.push(...cred.trailing);
  const size = pad(rng, d, ctx.target);
  return finish(d, id, routeAsSent(ctx, route, d.method), cred.carries, false, size, ctx.target);
}

/**
 * The route a request goes to once its method was changed: another route on
 * the same path (GET /api/public/runs sent as POST reaches the start route,
 * which needs admin), or, where the table has none, the route it was built
 * from (the server can only answer 404).
 */
function routeAsSent(ctx: CaseContext, route: Route, method: string): Route {
  if (method === route.method) return route;
  return ctx.routes.find((r) => r.method === method && r.path === route.path) ?? route;
}

/** A clean request with a valid token on a route its scope allows. */
function buildControl(ctx: CaseContext, id: number, rng: Prng): FuzzCase {
  const role = rng.pick(ctx.controlRoles);
  const scope = ctx.tokens[role].scope;
  const route = rng.pick(scope === 'admin' ? [ROUTES.health, ROUTES.tokens, ROUTES.connection, ROUTES.audit, ROUTES.healthHead] : [ROUTES.health, ROUTES.connection, ROUTES.healthHead]);
  const header: Header = rng.chance(0.7) ? ['Authorization', `Bearer ${ctx.tokens[role].secret}`] : ['X-API-Key', ctx.tokens[role].secret];
  const d: Draft = {
    method: route.method, target: route.path, version: 'HTTP/1.1', headers: [['Host', ctx.target.host], header], trailing: [], rawLines: [], body: '',
    notes: [`control: ${header[0]} ${role}`], endsConnection: false, hostile: false, halfClose: false,
  };
  return finish(d, id, route, role, true, 'under', ctx.target);
}

/** A clean request outside the numbered cases (the revocation checks, the final health check). */
export function cleanRequest(target: Target, route: Route, secret: string | null): Buffer {
  const d: Draft = {
    method: route.method, target: route.path, version: 'HTTP/1.1', headers: [['Host', target.host]], trailing: [], rawLines: [], body: '',
    notes: [], endsConnection: false, hostile: false, halfClose: false,
  };
  if (secret) d.headers.push(['Authorization', `Bearer ${secret}`]);
  return serialize(d, target);
}

function requestLine(rng: Prng, d: Draft, target: Target): void {
  if (rng.chance(0.12)) {
    const method = rng.pick(['HEAD', 'POST', 'PUT', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'get', 'Get', 'CONNECT', 'G\xc9T', 'XGET', '']);
    d.notes.push(`method ${show(method)}`);
    d.method = method;
    if (method === 'CONNECT') {
      d.target = rng.pick([target.host, '127.0.0.1:80', d.target]);
      d.endsConnection = d.hostile = true;
    }
  }
  if (rng.chance(0.2)) {
    const path = d.target;
    const variants = [
      path.replace('/api', '/%61pi'), path.replace('/public', '/%70ublic'), `http://${target.host}${path}`, `http://evil.example${path}`, `HTTP://${target.host.toUpperCase()}${path}`,
      `//${path.slice(1)}`, `${path}/`, `${path}?x=1`, `${path}#frag`, path.toUpperCase(), path.replace('/public/', '/public/./'), path.replace('/public/', '/public/x/../'),
      path.replace('/public/', '/public/%2e%2e/public/'), path.replace('/public/', '/public%2F'), `${path};x=1`, `${path}%00`, `${path}%C0%AF`, path.replace('/api/', '/api/\xe9/'),
      `${path} HTTP/1.1\r\nX: y`, path.replace('/api/public', '/api//public'), path.replace('/api/public', '/api/public/'), '*', `${path}?${'q'.repeat(rng.range(100, 3000))}`,
      path.replace(/\//g, '\\'), `/../..${path}`, `${path}%20`, `${path}\t`, `${path}?%ZZ`, ` ${path}`,
    ];
    d.target = rng.pick(variants);
    d.notes.push(`target ${show(d.target.length > 80 ? `${d.target.slice(0, 60)}…(${d.target.length})` : d.target)}`);
  }
  if (rng.chance(0.06)) {
    d.version = rng.pick(['HTTP/1.0', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', 'HTTP/11', 'HTTP/1.1\x00', 'HTTP/1.10']);
    d.notes.push(`version ${show(d.version)}`);
    d.endsConnection = true;
  }
}

/** Host, Origin and the forwarding headers: what the local pass and the rebinding check read. */
function addressHeaders(rng: Prng, d: Draft, target: Target): void {
  const add = (name: string, value: string) => {
    d.headers.push([name, value]);
    d.notes.push(`${name}: ${show(value.length > 60 ? `${value.slice(0, 40)}…(${value.length})` : value)}`);
  };
  if (rng.chance(0.25)) {
    const host = rng.pick([
      'localhost', 'localhost:1', '127.0.0.1', '[::1]', '[::1]:80', 'evil.example', 'evil.example:80', '127.0.0.1.nip.io', '127.0.0.1@evil.example', '', 'LOCALHOST', 'localhost.',
      'evil.localhost', '127.1', '0x7f.0.0.1', '2130706433', '[::ffff:127.0.0.1]', 'localhost, evil.example',
      '127.0.0.1:8000@evil.example', 'localhost:abc', '127.0.0.1:1,evil.example', '[::1]evil', 'localhost:99999', `${target.host}\xa0`, utf8('l\u043ecalhost'), '\xff\xfe', 'a'.repeat(rng.range(100, 2000)),
    ]);
    if (rng.chance(0.2)) {
      d.headers.push(['Host', host]);
      d.notes.push(`second Host ${show(host.slice(0, 40))}`);
    } else if (rng.chance(0.1)) {
      d.headers.shift();
      d.notes.push('no Host');
      d.endsConnection = true;
    } else {
      d.headers[0] = ['Host', host];
      d.notes.push(`Host ${show(host.slice(0, 40))}`);
    }
  }
  if (rng.chance(0.15)) add('Origin', rng.pick(['null', 'http://evil.example', `http://${target.host}`, 'http://localhost', 'http://127.0.0.1:1', 'file://', 'http://[::1]', '%', '\xff', 'http://evil.example@127.0.0.1', 'chrome-extension://x']));
  if (rng.chance(0.1)) add('Sec-Fetch-Site', rng.pick(['same-origin', 'cross-site', 'none', 'same-site', '', 'Cross-Site', 'same-origin, cross-site']));
  const addrs = () => rng.pick(['127.0.0.1', '::1', '[::1]', '127.0.0.2', '10.0.0.1', '203.0.113.9', 'unknown', '_hidden', 'localhost', '::ffff:127.0.0.1', '0', '', '1.2.3', '\xff', '127.0.0.1:80', '[::1]:443', 'fe80::1%eth0']);
  if (rng.chance(0.15)) add('X-Forwarded-For', Array.from({ length: rng.pick([1, 1, 2, 3, 50]) }, addrs).join(rng.pick([', ', ',', ' , '])));
  if (rng.chance(0.12)) add('Forwarded', Array.from({ length: rng.pick([1, 1, 2, 20]) }, () => `for=${rng.chance(0.3) ? `"${addrs()}"` : addrs()}${rng.chance(0.3) ? ';proto=http;by=127.0.0.1' : ''}`).join(', '));
  if (rng.chance(0.06)) add('X-Real-IP', addrs());
  if (rng.chance(0.03)) add('Forwarded', rng.pick(['for=', 'for=127.0.0.1;for=10.0.0.1', ';;;', 'for="127.0.0.1', `for=${'1'.repeat(500)}`, 'FOR=127.0.0.1', 'for =127.0.0.1', 'x="a;for=127.0.0.1";for=10.0.0.5', 'x="a,for=127.0.0.1", for=127.0.0.1', 'for=_hidden', 'for="[::1]:80"']));
}

/** Random headers and byte-level oddities outside the credential headers. */
function junkHeaders(rng: Prng, d: Draft): void {
  for (let n = rng.weighted([[60, 0], [25, 1], [10, 3], [5, 8]]); n > 0; n--) {
    let name = rng.chance(0.9) ? `X-${rng.string('abcdefghijklmnopqrstuvwxyz-', rng.range(1, 12))}` : rng.pick(['User-Agent', 'Accept', 'Cookie', 'Referer', 'Accept-Encoding', 'X-HTTP-Method-Override', 'Via', 'TE', 'Keep-Alive']);
    // Junk must never be a credential by chance: the oracle counts only the ones it placed.
    if (name.toLowerCase() === 'x-api-key') name = 'X-Not-A-Key';
    let value = '';
    const style = rng.pick(['ascii', 'high', 'utf8', 'overlong', 'long'] as const);
    const length = style === 'long' ? rng.range(500, 4000) : rng.range(0, 40);
    for (let i = 0; i < length; i++) {
      value +=
        style === 'ascii' || style === 'long' ? String.fromCharCode(rng.range(0x20, 0x7e))
        : style === 'high' ? String.fromCharCode(rng.range(0x80, 0xff))
        : style === 'utf8' ? utf8(String.fromCodePoint(rng.range(0xa0, 0x2fff)))
        : rng.pick(['\xc0\x80', '\xe0\x80\x80', '\xf0\x80\x80\x80', '\xed\xbf\xbf', '\xc1\xbf']);
    }
    d.headers.splice(rng.range(1, d.headers.length), 0, [name, value]);
  }
  if (rng.chance(0.04)) {
    // Line-level damage: what a desync or smuggling attempt looks like to a parser.
    const line = rng.pick(['X-Bad : 1', 'X-Bad', ' X-Leading: 1', 'X-Bad\x00: 1', 'X-Bad: a\rb', 'X-Bad: a\nb', 'X-Bad: 1\r\n continued', '\tX-Tab: 1', ': empty-name', 'X-\xff: 1', 'X-Bad:\x01', 'X-Bad: \x7f']);
    d.rawLines.push(line);
    d.notes.push(`raw line ${show(line)}`);
  }
  if (rng.chance(0.05)) {
    const value = rng.pick(['close', 'keep-alive', 'Upgrade', 'close, keep-alive', 'TE', 'x-api-key', 'authorization']);
    d.headers.push(['Connection', value]);
    if (value === 'Upgrade') d.headers.push(['Upgrade', rng.pick(['websocket', 'h2c', 'HTTP/2.0'])]);
    d.notes.push(`Connection: ${value}`);
    if (/close|upgrade/i.test(value)) d.endsConnection = true;
  }
}

/** A body, framed right or wrong. */
function framing(rng: Prng, d: Draft): void {
  const kind = d.method === 'DELETE' || d.method === 'POST' || d.method === 'PUT' ? rng.weighted([[6, 'none'], [3, 'length'], [1, 'chunked'], [1, 'bad']] as const) : rng.weighted([[92, 'none'], [4, 'length'], [1, 'chunked'], [3, 'bad']] as const);
  // '{"enabled":false}' would be a valid PUT /connection/remote and switch off the remote target mid-run: one extra field makes it a refused body.
  const body = rng.pick(['{}', '{"name":"x"}', '{"enabled":false,"x":1}', 'x'.repeat(rng.range(0, 300)), '\xff\xfe\x00\x01', '{"token":"hfk_not-a-token"}']);
  switch (kind) {
    case 'none':
      return;
    case 'length':
      d.headers.push(['Content-Type', rng.pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded'])], ['Content-Length', String(body.length)]);
      d.body = body;
      d.notes.push(`${body.length}-byte body`);
      return;
    case 'chunked':
      d.headers.push(['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']);
      d.body = body ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : '0\r\n\r\n';
      d.notes.push('chunked body');
      return;
    case 'bad': {
      const bad = rng.pick([
        { h: [['Content-Length', '5'], ['Transfer-Encoding', 'chunked']], b: '0\r\n\r\n', what: 'Content-Length and chunked' },
        { h: [['Content-Length', '3'], ['Content-Length', '4']], b: 'abcd', what: 'two lengths' },
        { h: [['Content-Length', '-1']], b: '', what: 'negative length' },
        { h: [['Content-Length', '0x10']], b: '', what: 'hex length' },
        { h: [['Content-Length', '99999999999999999999']], b: '', what: 'huge length' },
        { h: [['Transfer-Encoding', 'chunked, identity']], b: '0\r\n\r\n', what: 'chunked, identity' },
        { h: [['Transfer-Encoding', 'xchunked']], b: '', what: 'unknown coding' },
        { h: [['Transfer-Encoding', 'chunked']], b: 'zz\r\n', what: 'bad chunk size' },
        { h: [['Content-Length', '50']], b: '{"a":', what: 'short body, then end', half: true },
        { h: [['Expect', '100-continue'], ['Content-Length', '2']], b: '{}', what: 'expect 100-continue' },
      ] as { h: Header[]; b: string; what: string; half?: boolean }[]);
      d.headers.push(...bad.h);
      d.body = bad.b;
      d.notes.push(bad.what);
      d.endsConnection = d.hostile = true;
      d.halfClose = bad.half === true;
    }
  }
}

/** Pads the header section to a size around the server's limit, sometimes. */
function pad(rng: Prng, d: Draft, target: Target): FuzzCase['size'] {
  const limit = target.maxHeaderSize;
  const want = rng.weighted([[72, 0], [10, limit - rng.range(65, 600)], [6, limit + rng.range(-63, 63)], [12, limit + rng.range(64, 4000)]]);
  const now = counted(d, target);
  const room = want - now - 'x-fuzz-pad'.length;
  if (want > 0 && room > 0) {
    const high = rng.chance(0.3);
    let value = '';
    for (let i = 0; i < room; i++) value += high ? String.fromCharCode(rng.range(0x80, 0xff)) : 'p';
    d.headers.push(['x-fuzz-pad', value]);
    d.notes.push(`padded to ~${want} header bytes`);
  }
  const total = counted(d, target);
  if (total <= limit - 64) return 'under';
  // Node may answer 431 and close, and may reset a connection it stopped reading.
  d.endsConnection = d.hostile = true;
  return total >= limit + 64 ? 'over' : 'edge';
}

/**
 * What Node counts against maxHeaderSize, near enough: the request target,
 * header names and values (not the method, separators or line ends). The
 * 64-byte margins around the limit absorb the difference.
 */
function counted(d: Draft, target: Target): number {
  let n = d.target.length + d.rawLines.reduce((s, l) => s + l.length, 0);
  for (const [name, value] of [...d.headers, ...d.trailing]) n += name.length + value.length;
  if (target.appendHeader) n += target.appendHeader[0].length + target.appendHeader[1].length;
  return n;
}

function wellFormed(d: Draft): boolean {
  if (!METHODS.has(d.method) || !URI_CHARS.test(d.target) || d.rawLines.length > 0) return false;
  if (d.version !== 'HTTP/1.1' && d.version !== 'HTTP/1.0') return false;
  return [...d.headers, ...d.trailing].every(([name, value]) => TCHAR.test(name) && FIELD_VALUE.test(value));
}

function serialize(d: Draft, target: Target): Buffer {
  let text = `${d.method} ${d.target} ${d.version}\r\n`;
  for (const [name, value] of d.headers) text += `${name}: ${value}\r\n`;
  for (const line of d.rawLines) text += `${line}\r\n`;
  for (const [name, value] of d.trailing) text += `${name}: ${value}\r\n`;
  if (target.appendHeader) text += `${target.appendHeader[0]}: ${target.appendHeader[1]}\r\n`;
  return Buffer.from(`${text}\r\n${d.body}`, 'latin1');
}

function finish(d: Draft, id: number, route: Route, carries: TokenRole | null, control: boolean, size: FuzzCase['size'], target: Target): FuzzCase {
  const hostile = d.hostile || !wellFormed(d);
  return {
    id,
    recipe: `${d.method} ${route.id}: ${d.notes.join('; ')}`,
    bytes: serialize(d, target),
    method: d.method,
    route,
    carries,
    control,
    hostile,
    // A request the parser may refuse is followed by nothing: after a 400 Node closes the connection.
    endsConnection: d.endsConnection || hostile,
    halfClose: d.halfClose,
    size,
  };
}
