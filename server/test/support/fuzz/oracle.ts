import type { Scope } from '../../../../shared/api.js';
import type { FuzzTokens, TokenRole } from './presentations.js';
import type { FuzzCase } from './requests.js';
import type { Outcome } from './wire.js';

// Judges an answer by how its request was built, never by re-deciding what
// the gate would do: a case may reach a protected route only if the generator
// put a currently valid token of enough scope into it, in a documented form.

export interface Verdict {
  /** What went wrong, in words; null when the answer is acceptable. */
  problem: string | null;
  /** The request got past the gate into a protected route. */
  reached: boolean;
}

export interface OracleContext {
  tokens: FuzzTokens;
  /** Roles whose secret works at this point of the run. */
  valid: ReadonlySet<TokenRole>;
  /** The server sees this client as remote (no local pass is possible). */
  remoteClient: boolean;
}

const RANK: Record<Exclude<Scope, 'inference'>, number> = { read: 0, operate: 1, admin: 2 };

/**
 * The spec's scope rule: admin covers operate covers read, and a read token never changes anything;
 * an inference token reaches the OpenAI API only, which operate and admin reach too.
 */
function scopeCovers(held: Scope, needed: Scope, method: string): boolean {
  if (held === 'read' && method !== 'GET' && method !== 'HEAD') return false;
  if (held === 'inference') return needed === 'inference';
  if (needed === 'inference') return true;
  return RANK[held] >= RANK[needed];
}

export function mayReach(c: FuzzCase, ctx: OracleContext): boolean {
  if (c.carries === null || !ctx.valid.has(c.carries)) return false;
  return c.route.scope === null || scopeCovers(ctx.tokens[c.carries].scope, c.route.scope, c.method);
}

function json(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The error code of an answer: ours (`{ error: "model.not_found" }`) or the OpenAI API's (`{ error: { code } }`). */
function errorCode(body: string): string | null {
  const error = json(body)?.error;
  const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : error;
  return typeof code === 'string' ? code : null;
}

/**
 * Codes that prove nothing ran behind the gate: the gate's own (auth.*, the
 * Host and header-count refusals), the parser's and the not-found handlers'.
 * A schema refusal (request.invalid) does come after the gate, but the gate
 * answers with that code too, so it is not counted either way.
 */
const NOT_A_ROUTE = /^(auth\.|request\.)|^(not_found|invalid_request_body)$/;

/**
 * A 2xx from the API (the dashboard's HTML fallback is public), or an error
 * only a route gives (token.not_found, model.not_found, model_required...):
 * the request got past the gate. Fastify's own 404 ("Not Found") is no code.
 */
function reachedRoute(o: Extract<Outcome, { kind: 'response' }>): boolean {
  if (o.status >= 200 && o.status < 300) return !(o.headers['content-type'] ?? '').startsWith('text/html');
  const code = errorCode(o.body);
  return code !== null && /^[a-z][a-z_.]*$/.test(code) && !NOT_A_ROUTE.test(code);
}

/**
 * A server error is a crash (500) unless a route gave it with its own code
 * (502 model.hub_unreachable: the Hub is out of reach). The answer to a HEAD
 * has no body to read a code from; the gate never answers 5xx, so a 502 there
 * is the route's too.
 */
function crashed(o: Extract<Outcome, { kind: 'response' }>, method: string): boolean {
  return o.status === 500 || (o.status > 500 && method !== 'HEAD' && !reachedRoute(o));
}

export function judge(c: FuzzCase, o: Outcome, ctx: OracleContext): Verdict {
  const fail = (problem: string, reached = false): Verdict => ({ problem, reached });
  switch (o.kind) {
    case 'timeout':
      return fail('no answer before the deadline (server hung or busy)');
    case 'garbled':
      return fail(`an answer that is not HTTP/1.1: ${JSON.stringify(o.text.slice(0, 120))}`);
    case 'closed':
      // Node closes a CONNECT it has no handler for, and may close on a client that ended its side mid-body.
      // Every other request, however malformed, must be answered (a 400 or 431 from the parser at least).
      return c.method === 'CONNECT' || c.halfClose ? { problem: null, reached: false } : fail('connection closed without an answer');
    case 'reset':
      // A reset is a close with unread bytes left behind: only a header section Node stopped reading explains one.
      return c.hostile && c.size !== 'under' ? { problem: null, reached: false } : fail(`connection reset (${o.code}) without an answer`);
  }
  const reached = c.route.scope !== null && reachedRoute(o);
  if (crashed(o, c.method)) return fail(`server error ${o.status}: ${o.body.slice(0, 200)}`, reached);
  if (reached && !mayReach(c, ctx)) {
    return fail(`ACCEPTED: ${o.status} on ${c.route.id} (needs ${c.route.scope}) without a valid token of that scope${c.carries ? ` (carried ${c.carries}, valid now: ${ctx.valid.has(c.carries)})` : ''}`, true);
  }
  if (c.control && (!reached || o.status !== 200)) return fail(`control refused: ${o.status} ${o.body.slice(0, 160)}`);
  if (c.route.id === 'session' && o.status === 200) {
    const body = json(o.body);
    if (body) {
      if (body.token !== null && !(c.carries && ctx.valid.has(c.carries))) return fail(`the session names a token the request did not validly carry: ${JSON.stringify(body.token)}`, true);
      if (body.authRequired !== true) return fail(`the session says no token is required: ${o.body}`, true);
      if (ctx.remoteClient && body.local !== false) return fail(`the session calls a remote client local: ${o.body}`, true);
    }
  }
  if (c.size === 'over' && o.status !== 431 && o.status !== 400) return fail(`a header section over the limit got ${o.status}, not 431`, reached);
  // The gate's own 431 (too many header lines to judge) is a refusal by design. The parser's is about bytes,
  // and comes straight from its error handler, without the headers every app answer carries.
  if (c.size === 'under' && o.status === 431 && o.headers['x-content-type-options'] === undefined) return fail('the parser refused a header section under its limit with 431', reached);
  return { problem: null, reached };
}
