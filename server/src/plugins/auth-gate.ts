import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX, type AuthMode, type ErrorCode, type Scope } from '../../../shared/api.js';
import { extractCredential } from '../auth/credentials.js';
import { clientAddress, hostAllowed, isCrossSiteFetch, localPass, parseHost, type TrustedProxies } from '../auth/local-pass.js';
import type { TokenAuthority } from '../auth/env-token.js';
import type { Verification } from '../auth/token-store.js';
import type { FailureThrottle } from '../auth/throttle.js';
import type { AuditLog } from '../audit/audit-log.js';
import { scopeAllows } from '../auth/scopes.js';

export type Caller =
  | { kind: 'local' }
  | { kind: 'open' }
  | { kind: 'token'; name: string; scope: Scope; hash: string }
  | { kind: 'anonymous' };

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
    clientAddress: string | null;
  }
  interface FastifyContextConfig {
    /** The least scope a token needs; default: read for GET/HEAD, operate otherwise. */
    scope?: Scope;
    /** Reachable without credentials (only the session route). */
    public?: boolean;
  }
}

export interface AuthGateOptions {
  mode: AuthMode;
  authority: () => TokenAuthority;
  throttle: FailureThrottle;
  audit: AuditLog;
  trustedProxies: TrustedProxies;
  allowedHosts: readonly string[];
  /** True when this request came in on a loopback-only listener (where DNS rebinding is the threat). */
  onLoopbackListener: (request: FastifyRequest) => boolean;
}

/** The OpenAI-compatible API on the backend's own port: behind this gate exactly as /api/public is. */
export const OPENAI_PREFIX = '/v1';
const GATED = [API_PREFIX, OPENAI_PREFIX];

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/**
 * Which gated API a request is for (/api/public or /v1), or null. Decided by
 * the route that matched, never by the raw request target: the router also
 * matches `GET http://host/api/public/...` (absolute form) and
 * `/%61pi/public/...` or `/%761/...` (percent-encoded), which a prefix test
 * on request.url would wave through. Unmatched requests are judged on their
 * decoded path; one that cannot be decoded is gated.
 */
export function gatedApi(request: FastifyRequest): string | null {
  const pattern = request.routeOptions.url;
  if (pattern !== undefined) return GATED.find((prefix) => under(pattern, prefix)) ?? null;
  let path = request.url;
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) path = new URL(path).pathname;
    path = decodeURIComponent(path.split('?')[0]!);
  } catch {
    return API_PREFIX;
  }
  path = path.toLowerCase().replace(/\/{2,}/g, '/');
  return GATED.find((prefix) => under(path, prefix)) ?? null;
}

export function isApiRequest(request: FastifyRequest): boolean {
  return gatedApi(request) !== null;
}

/** A request for the OpenAI API: its errors take OpenAI's shape, so SDKs show them. */
export function isOpenAiRequest(request: FastifyRequest): boolean {
  return gatedApi(request) === OPENAI_PREFIX;
}

const CHALLENGE = 'Bearer realm="halo-forge"';

/**
 * Node hands over at most 2000 entries of a request's header list (its
 * default maxHeadersCount: about a thousand header lines) and drops the rest
 * without a word. A header past that point is invisible to every check here:
 * a second, conflicting credential, or the X-Forwarded-For that a proxy adds
 * after the client's own headers (HAProxy's `option forwardfor`), without
 * which a remote client behind it passes as local. A list that long may have
 * been cut, so the request is refused rather than judged on part of it.
 */
const NODE_HEADER_LIST_CAP = 2000;

/** A browser request made by a page from another origin (Fetch Metadata, else Origin against Host). */
function isCrossSite(headers: FastifyRequest['headers']): boolean {
  if (isCrossSiteFetch(headers)) return true;
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== headers.host?.toLowerCase();
  } catch {
    return true;
  }
}

function countHeaderLines(rawHeaders: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) n++;
  return n;
}

const OPENAI_TYPE: Record<number, string> = { 401: 'authentication_error', 403: 'permission_error', 429: 'rate_limit_error' };

function reject(reply: FastifyReply, status: number, error: ErrorCode, message: string, headers: Record<string, string> = {}) {
  const body = isOpenAiRequest(reply.request)
    ? { error: { message, type: OPENAI_TYPE[status] ?? 'invalid_request_error', param: null, code: error } }
    : { error, message };
  return reply.code(status).headers(headers).type('application/json').send(body);
}

/**
 * One onRequest hook covers every route under /api/public (SSE included) and /v1. It
 * runs before the body is read, so an unauthenticated client cannot make the
 * server parse a large body.
 */
export const authGate = fp<AuthGateOptions>(async (app: FastifyInstance, opts) => {
  app.decorateRequest('caller', null as never);
  app.decorateRequest('clientAddress', null);
  const noteFirstUse = firstUseTracker(opts.audit);

  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.rawHeaders.length >= NODE_HEADER_LIST_CAP) {
      // The rest of the list was never read: this connection is done, and the client is told so.
      return reject(reply, 431, 'request.invalid', 'The request has more header lines than this server reads (about 1000); send fewer.', { connection: 'close' });
    }
    const { headers } = request;
    // Node keeps the first of two Host lines and drops the other; which one a
    // proxy in front used is anyone's guess, so neither is believed.
    if (headers.host !== undefined && (parseHost(headers.host) === null || countHeaderLines(request.raw.rawHeaders, 'host') > 1)) {
      return reject(reply, 400, 'request.invalid', 'The Host header must be one host name or address with an optional port, and nothing else.');
    }
    request.clientAddress = clientAddress(request.socket.remoteAddress, headers, opts.trustedProxies);

    // DNS rebinding: a page on evil.example that resolves to 127.0.0.1 reaches
    // a loopback listener with a foreign Host. Refuse it before anything else.
    if (opts.onLoopbackListener(request) && !hostAllowed(headers.host, opts.allowedHosts)) {
      return reject(reply, 421, 'request.host', `This server answers only to localhost. To reach it under another name, start it with --allowed-hosts.`);
    }

    if (!isApiRequest(request)) return;

    const address = request.clientAddress ?? 'unknown';
    const credential = extractCredential(headers, request.raw.rawHeaders);
    const config = request.routeOptions.config;

    if (credential.kind !== 'none') {
      // Verify first: a valid token always works, so nobody sharing an address
      // (NAT, a proxy) can lock token holders out by failing on purpose.
      const authority = opts.authority();
      const result = credential.kind === 'token' ? verifyOnConnection(request.raw.socket, credential.value, authority) : null;
      if (!result || result.status !== 'ok') {
        const wait = opts.throttle.retryAfter(address);
        if (wait > 0) {
          return reject(reply, 429, 'auth.throttled', `Too many failed attempts from ${address}; try again in ${wait} s.`, { 'retry-after': String(wait) });
        }
        const code: ErrorCode = result?.status === 'expired' ? 'auth.expired' : 'auth.invalid';
        const reason = credential.kind === 'malformed' ? credential.reason : code === 'auth.expired' ? 'token expired' : 'unknown or revoked token';
        const blocked = opts.throttle.recordFailure(address);
        if (opts.throttle.isFirstInWindow(address) || blocked) {
          opts.audit.append({ event: blocked ? 'auth.throttled' : 'auth.failed', address, reason, ...(result?.status === 'expired' ? { token: result.record.name } : {}) });
        }
        const message =
          code === 'auth.expired'
            ? `The token "${result!.status === 'expired' ? result!.record.name : ''}" has expired; create a new one.`
            : credential.kind === 'malformed'
              ? `Bad credentials: ${credential.reason}.`
              : 'The token is not valid: it is unknown or has been revoked.';
        return reject(reply, 401, code, message, { 'www-authenticate': `${CHALLENGE}, error="invalid_token"` });
      }
      authority.recordUse(result.record, Date.now(), request.clientAddress);
      noteFirstUse(result.record.name, address);
      request.caller = { kind: 'token', name: result.record.name, scope: result.record.scope, hash: result.record.hash };
    } else if (opts.mode === 'off') {
      // No auth still must not mean that any web page the user visits can drive the API.
      if (isCrossSite(headers)) return reject(reply, 403, 'auth.forbidden', 'Cross-site requests are refused.');
      request.caller = { kind: 'open' };
    } else if (opts.mode === 'auto' && localPass({ peer: request.socket.remoteAddress, headers, trustedProxies: opts.trustedProxies, httpVersion: request.raw.httpVersion }).local) {
      request.caller = { kind: 'local' };
    } else if (config.public) {
      request.caller = { kind: 'anonymous' };
      return;
    } else {
      if (opts.throttle.recordFailure(address) || opts.throttle.isFirstInWindow(address)) {
        opts.audit.append({ event: 'auth.failed', address, reason: 'no token' });
      }
      return reject(reply, 401, 'auth.required', 'This workstation needs an API token: send "Authorization: Bearer hfk_...". Create one on the workstation with "halo-forge token create NAME".', { 'www-authenticate': CHALLENGE });
    }

    // A public route (the session) answers any caller; an inference token may learn its own session there.
    if (request.caller.kind === 'token' && !config.public) {
      const needed = config.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'operate');
      if (!scopeAllows(request.caller.scope, needed, request.method)) {
        return reject(reply, 403, 'auth.forbidden', `The token "${request.caller.name}" has the ${request.caller.scope} scope; this needs ${needed}.`);
      }
    }
  });
});

/**
 * What a keep-alive connection last proved. When the same connection sends
 * the same credential again, the SHA-256 is not recomputed: the token is
 * looked up by its stored hash, so a revoke or an expiry still counts on the
 * very next request. Behind a proxy one upstream connection carries many
 * clients, so the comparison runs in constant time: it must not tell one
 * client how much of another's token it guessed.
 */
const connectionProofs = new WeakMap<object, { credential: string; hash: string }>();

/** Constant-time string equality for equal lengths (all hfk_ tokens share one length). */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function verifyOnConnection(socket: object, credential: string, authority: TokenAuthority): Verification {
  const proof = connectionProofs.get(socket);
  if (proof && sameSecret(proof.credential, credential)) {
    const record = authority.current(proof.hash);
    if (record) return { status: 'ok', record };
  }
  const result = authority.verify(credential);
  if (result.status === 'ok') connectionProofs.set(socket, { credential, hash: result.record.hash });
  else if (proof) connectionProofs.delete(socket);
  return result;
}

/** Addresses each token has been used from since start; the first use from a new one is audited. */
function firstUseTracker(audit: AuditLog) {
  const seen = new Map<string, Set<string>>();
  return (token: string, address: string) => {
    let addresses = seen.get(token);
    if (!addresses) seen.set(token, (addresses = new Set()));
    if (addresses.has(address)) return;
    if (addresses.size > 1000) addresses.clear();
    addresses.add(address);
    audit.append({ event: 'token.first_use', token, address });
  };
}
