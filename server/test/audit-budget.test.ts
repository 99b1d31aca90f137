import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/audit-log.js';
import { auditLogPath } from '../src/paths.js';
import { tempHome } from './support/backend-process.js';
import { buildTestApp, type TestApp } from './support/app.js';

// About 20k IPv6 /64s failing once each used to push every token.created and
// remote.enabled out of the 1 MiB log and its one rotation, without a token.

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function home(): string {
  const h = tempHome();
  cleanups.push(h.cleanup);
  return h.home;
}

/** The n-th distinct IPv6 /64. */
const slash64 = (n: number) => `2001:db8:${(n >> 16).toString(16)}:${(n & 0xffff).toString(16)}::1`;

describe('failed attempts from many addresses, through the gate', () => {
  it('leave an earlier token.created in the log, and are summed up in one line', async () => {
    const t: TestApp = await buildTestApp();
    cleanups.push(() => t.close());
    const { app } = t;
    const created = await app.inject({ method: 'POST', url: '/api/public/tokens', headers: { host: '127.0.0.1:8000' }, payload: { name: 'laptop' }, remoteAddress: '127.0.0.1' });
    expect(created.statusCode).toBe(201);
    const flood = 3_000;
    for (let i = 0; i < flood; i++) {
      const res = await app.inject({ url: '/api/public/tokens', headers: { host: '127.0.0.1:8000' }, remoteAddress: slash64(i) });
      expect(res.statusCode).toBe(401);
    }
    const entries = app.halo.audit.recent(1000);
    expect(entries.filter((e) => e.event === 'token.created')).toEqual([expect.objectContaining({ token: 'laptop', address: '127.0.0.1' })]);
    expect(entries.filter((e) => e.event === 'auth.failed')).toHaveLength(100);

    // The rest is one line, written when the minute ends (or, here, when the server stops).
    await app.close();
    const lines = readFileSync(auditLogPath(app.halo.env), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; detail?: string });
    expect(lines.at(-1)).toEqual({ time: expect.any(String), event: 'auth.failed', detail: `${flood - 100} more failed attempts from ${flood - 100} addresses in the last minute` });
    expect(lines).toHaveLength(1 + 100 + 1);
  });
});

describe('the audit log under a flood that lasts for hours', () => {
  it('keeps token.created and remote.enabled, within a bounded size on disk', () => {
    const path = join(home(), 'audit.log');
    let now = Date.parse('2026-01-01T00:00:00Z');
    const maxBytes = 32 * 1024;
    const audit = new AuditLog(path, maxBytes, undefined, { now: () => now });
    audit.append({ event: 'token.created', token: 'laptop', address: '127.0.0.1', detail: 'scope admin' });
    audit.append({ event: 'remote.enabled', address: '127.0.0.1', detail: 'http://192.168.1.5:8000' });
    let address = 0;
    // Two hours of fresh /64s (20k in the first minute): the log rotates dozens of times.
    for (let minute = 0; minute < 120; minute++) {
      for (let i = 0; i < (minute === 0 ? 20_000 : 2_000); i++) audit.append({ event: 'auth.failed', address: slash64(address++), reason: 'no token' });
      now += 60_000;
    }
    audit.append({ event: 'token.revoked', token: 'laptop', address: '127.0.0.1' });

    const recent = audit.recent(1000);
    const kept = recent.filter((e) => e.event !== 'auth.failed').map((e) => e.event);
    expect(kept).toEqual(['token.revoked', 'remote.enabled', 'token.created']);
    // Newest first, in time order across the kept, rotated and current files.
    const times = recent.map((e) => Date.parse(e.time));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // Each minute is 100 lines and one summary of the rest.
    expect(recent.find((e) => e.detail?.startsWith('1900 more'))).toEqual(expect.objectContaining({ event: 'auth.failed', detail: '1900 more failed attempts from 1900 addresses in the last minute' }));

    const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
    expect(size(path) + size(`${path}.1`) + size(audit.keptPath)).toBeLessThan(2 * maxBytes + maxBytes / 2 + 1024);
    audit.close();
  });

  it('lets the kept events of authenticated callers go oldest first once they alone exceed their budget', () => {
    const path = join(home(), 'audit.log');
    const maxBytes = 8 * 1024;
    const audit = new AuditLog(path, maxBytes, undefined, { unauthenticatedPerWindow: 0 });
    for (let i = 0; i < 2_000; i++) audit.append({ event: 'token.first_use', token: `t${i}`, address: '10.0.0.1' });
    expect(statSync(audit.keptPath).size).toBeLessThanOrEqual(maxBytes / 2);
    const tokens = audit.recent(1000).map((e) => Number(e.token!.slice(1)));
    expect(tokens[0]).toBe(1999);
    // Contiguous: nothing in the middle went missing, only the oldest.
    expect(tokens).toEqual(tokens.map((_, i) => 1999 - i));
    audit.close();
  });
});
