import { judge, mayReach, type OracleContext } from './oracle.js';
import type { FuzzTokens, TokenRole } from './presentations.js';
import { buildCase, cleanRequest, ROUTES, type CaseContext, type FuzzCase, type Route, type Target } from './requests.js';
import { WireConnection, type Outcome } from './wire.js';

// Runs a seeded fuzz against one server over several keep-alive connections
// ("lanes"). Case i always goes to lane i % lanes, in order, so a seed fixes
// what each connection sees. Halfway through, the operate token is revoked
// through the API while every lane holds a connection that has just proved
// it: the next use on that same connection must be refused.

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** Where to connect (the server's address as this process reaches it). */
  host: string;
  port: number;
  target: Target;
  tokens: FuzzTokens;
  lanes: number;
  /** The server must see this client as remote. */
  remoteClient: boolean;
  /** Longest wait for one answer. */
  answerTimeoutMs: number;
  /** How many violations to describe in full (all are counted). */
  maxReported: number;
  /** The app's gated routes (support/fuzz/route-table.ts). */
  routes: Route[];
}

export interface Violation {
  id: number | string;
  problem: string;
  recipe: string;
  /** The request bytes, escaped, with every stretch of a real token masked. */
  request: string;
}

export interface FuzzSummary {
  seed: number;
  cases: number;
  lanes: number;
  elapsedMs: number;
  casesPerSecond: number;
  /** Answers by status, plus "closed" and "reset" for connections that ended without one. */
  outcomes: Record<string, number>;
  /** Cases that got into a protected route: every one carried a valid token of enough scope. */
  reached: number;
  /** Cases carrying a valid token whose scope is too low for the route: each must be refused. */
  scopeTooLow: number;
  controls: { sent: number; passed: number };
  /** Connections ended without an answer, as the oracle allows: cleanly (CONNECT), or by a reset (unread bytes left behind). */
  dropped: { closed: number; reset: number };
  /** Padded to within 600 bytes under the header limit and still answered by the app. */
  nearLimitAnswered: number;
  overLimitRefused: number;
  revocation: { proved: number[]; revoke: number; afterRevoke: number[] };
  final: { health: number; withoutToken: number };
  violationCount: number;
  violations: Violation[];
}

const BATCH = [1, 1, 2, 3];

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const revokeAt = Math.floor(o.cases / 2);
  const ctxBefore: CaseContext = { seed: o.seed, tokens: o.tokens, target: o.target, controlRoles: ['admin', 'read', 'operate'], routes: o.routes };
  const ctxAfter: CaseContext = { ...ctxBefore, controlRoles: ['admin', 'read'] };
  const valid = new Set<TokenRole>(['admin', 'read', 'operate']);
  const oracle: OracleContext = { tokens: o.tokens, valid, remoteClient: o.remoteClient };
  const s: FuzzSummary = {
    seed: o.seed, cases: o.cases, lanes: o.lanes, elapsedMs: 0, casesPerSecond: 0, outcomes: {}, reached: 0, scopeTooLow: 0, controls: { sent: 0, passed: 0 },
    dropped: { closed: 0, reset: 0 }, nearLimitAnswered: 0, overLimitRefused: 0, revocation: { proved: [], revoke: 0, afterRevoke: [] }, final: { health: 0, withoutToken: 0 },
    violationCount: 0, violations: [],
  };
  const violate = (id: number | string, problem: string, recipe: string, bytes: Buffer) => {
    s.violationCount++;
    if (s.violations.length < o.maxReported) s.violations.push({ id, problem, recipe, request: maskedDump(bytes, o.tokens) });
  };
  const open = () => WireConnection.open(o.host, o.port, 10_000);

  const record = (c: FuzzCase, out: Outcome) => {
    const key = out.kind === 'response' ? String(out.status) : out.kind;
    s.outcomes[key] = (s.outcomes[key] ?? 0) + 1;
    const verdict = judge(c, out, oracle);
    if (verdict.reached && !verdict.problem) s.reached++;
    if (c.carries && valid.has(c.carries) && !mayReach(c, oracle)) s.scopeTooLow++;
    if (c.control) {
      s.controls.sent++;
      if (!verdict.problem) s.controls.passed++;
    }
    if ((out.kind === 'closed' || out.kind === 'reset') && !verdict.problem) s.dropped[out.kind]++;
    if (out.kind === 'response' && c.size === 'over' && (out.status === 431 || out.status === 400)) s.overLimitRefused++;
    if (out.kind === 'response' && c.size === 'under' && out.status !== 431 && /padded/.test(c.recipe)) s.nearLimitAnswered++;
    if (verdict.problem) violate(c.id, verdict.problem, c.recipe, c.bytes);
  };

  /** One lane: its cases in order, pipelining short runs of them on one connection. */
  class Lane {
    conn: WireConnection | null = null;
    constructor(readonly index: number) {}

    async run(ids: number[], ctx: CaseContext): Promise<void> {
      // Built as they are sent: a long run's requests would not fit in memory at once.
      const queue: FuzzCase[] = [];
      let built = 0;
      const peek = () => {
        if (queue.length === 0 && built < ids.length) queue.push(buildCase(ctx, ids[built++]!));
        return queue[0];
      };
      while (peek()) {
        const batch: FuzzCase[] = [queue.shift()!];
        const size = BATCH[batch[0]!.id % BATCH.length]!;
        // Only requests that leave the connection usable share a write: Node answers a parse error at once,
        // ahead of the answers still owed to the requests before it, so a bad request always goes alone.
        while (batch.length < size && peek() && !batch[0]!.endsConnection && !peek()!.endsConnection) batch.push(queue.shift()!);
        if (this.conn && !this.conn.usable) this.conn.destroy();
        if (!this.conn?.usable) this.conn = await open();
        const conn = this.conn;
        conn.write(Buffer.concat(batch.map((c) => c.bytes)), batch[batch.length - 1]!.halfClose);
        for (let i = 0; i < batch.length; i++) {
          const c = batch[i]!;
          const out = await conn.next(c.method, o.answerTimeoutMs);
          record(c, out);
          const spent = c.endsConnection || out.kind !== 'response' || out.closes || !conn.usable;
          if (spent) {
            conn.destroy();
            this.conn = null;
            // Requests pipelined behind an answer that closed the connection were never read: send them again.
            queue.unshift(...batch.slice(i + 1));
            break;
          }
        }
      }
    }

    /** A clean request on this lane's connection (opened if needed); the answer's status, or -1. */
    async clean(route: Route, secret: string | null): Promise<number> {
      if (!this.conn?.usable) this.conn = await open();
      this.conn.write(cleanRequest(o.target, route, secret), false);
      const out = await this.conn.next(route.method, o.answerTimeoutMs);
      if (out.kind !== 'response' || out.closes) {
        this.conn.destroy();
        this.conn = null;
      }
      return out.kind === 'response' ? out.status : -1;
    }
  }

  const lanes = Array.from({ length: o.lanes }, (_, i) => new Lane(i));
  const idsOf = (lane: number, from: number, to: number) => {
    const ids: number[] = [];
    for (let id = from + ((lane - (from % o.lanes) + o.lanes) % o.lanes); id < to; id += o.lanes) ids.push(id);
    return ids;
  };

  await Promise.all(lanes.map((lane) => lane.run(idsOf(lane.index, 0, revokeAt), ctxBefore)));

  // Revocation on live connections: every lane proves the operate token, then it is revoked, then each lane tries it again.
  // Fresh connections: a lane that finished early has idled, and a server may be closing it (keep-alive timeout).
  for (const lane of lanes) {
    lane.conn?.destroy();
    lane.conn = null;
  }
  const operate = o.tokens.operate;
  s.revocation.proved = await Promise.all(lanes.map((lane) => lane.clean(ROUTES.health, operate.secret)));
  s.revocation.proved.forEach((status, i) => status !== 200 && violate(`revocation/lane ${i}`, `the operate token was refused (${status}) before its revocation`, 'clean GET health with operate', cleanRequest(o.target, ROUTES.health, operate.secret)));
  const revokeRoute: Route = { id: 'revoke-operate', method: 'DELETE', path: `/api/public/tokens/${operate.name}`, scope: 'admin' };
  const admin = new Lane(-1);
  s.revocation.revoke = await admin.clean(revokeRoute, o.tokens.admin.secret);
  admin.conn?.destroy();
  if (s.revocation.revoke !== 200) violate('revocation', `revoking the operate token through the API answered ${s.revocation.revoke}`, 'DELETE the operate token with admin', cleanRequest(o.target, revokeRoute, o.tokens.admin.secret));
  valid.delete('operate');
  s.revocation.afterRevoke = await Promise.all(lanes.map((lane) => lane.clean(ROUTES.health, operate.secret)));
  s.revocation.afterRevoke.forEach((status, i) => (status === -1 || (status >= 200 && status < 300)) && violate(`revocation/lane ${i}`, `the revoked operate token got ${status} on a connection that had proved it`, 'clean GET health with operate, after revoke', cleanRequest(o.target, ROUTES.health, operate.secret)));

  await Promise.all(lanes.map((lane) => lane.run(idsOf(lane.index, revokeAt, o.cases), ctxAfter)));
  for (const lane of lanes) lane.conn?.destroy();

  // Still alive and still deciding: a clean valid request passes, a tokenless one does not.
  const last = new Lane(-2);
  s.final.health = await last.clean(ROUTES.health, o.tokens.admin.secret);
  s.final.withoutToken = await last.clean(ROUTES.tokens, null);
  last.conn?.destroy();
  if (s.final.health !== 200) violate('final', `a clean request with the admin token got ${s.final.health} at the end`, 'final health', cleanRequest(o.target, ROUTES.health, o.tokens.admin.secret));
  if (s.final.withoutToken !== 401) violate('final', `a request without a token got ${s.final.withoutToken} at the end`, 'final tokens, no token', cleanRequest(o.target, ROUTES.tokens, null));

  s.elapsedMs = Date.now() - started;
  s.casesPerSecond = Math.round((o.cases / s.elapsedMs) * 1000);
  return s;
}

/** The request as text a person can read, bytes escaped, every 12-character stretch of a real token masked. */
export function maskedDump(bytes: Buffer, tokens: FuzzTokens, max = 700): string {
  const text = bytes.subarray(0, 4096).toString('latin1');
  const masked = new Array<boolean>(text.length).fill(false);
  for (const { secret } of Object.values(tokens)) {
    for (let i = 0; i + 12 <= text.length; i++) if (secret.includes(text.slice(i, i + 12))) masked.fill(true, i, i + 12);
  }
  let out = '';
  for (let i = 0; i < text.length && out.length < max; i++) {
    const code = text.charCodeAt(i);
    out += masked[i] ? '•' : code === 0x0d ? '\\r' : code === 0x0a ? '\\n\n' : code < 0x20 || code > 0x7e ? `\\x${code.toString(16).padStart(2, '0')}` : text[i];
  }
  return bytes.length > 4096 || out.length >= max ? `${out}… (${bytes.length} bytes)` : out;
}
