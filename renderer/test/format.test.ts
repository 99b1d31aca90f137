import { describe, expect, it } from 'vitest';
import { describeAuditEntry, isLoopbackHost, relativeTime } from '../src/lib/format';

describe('the mode line', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.4.5.6', true],
    ['localhost', true],
    ['[::1]', true],
    ['192.168.1.20', false],
    ['workstation.local', false],
    ['[fd00::2]', false],
    ['127.0.0.1.nip.io', false],
  ])('%s is this computer: %s', (host, local) => {
    expect(isLoopbackHost(host)).toBe(local);
  });
});

describe('activity in words', () => {
  it.each([
    [{ time: 't', event: 'auth.failed', address: '192.168.1.9', reason: 'unknown or revoked token' }, 'Failed attempt from 192.168.1.9: unknown or revoked token'],
    [{ time: 't', event: 'auth.throttled', address: '192.168.1.9' }, 'Blocked from 192.168.1.9 after repeated failed attempts'],
    [{ time: 't', event: 'token.created', token: 'laptop', detail: 'scope admin' }, 'Token “laptop” created (scope admin)'],
    [{ time: 't', event: 'token.revoked', token: 'laptop' }, 'Token “laptop” revoked'],
    [{ time: 't', event: 'token.first_use', token: 'laptop', address: '10.0.0.2' }, 'Token “laptop” used from 10.0.0.2 for the first time'],
    [{ time: 't', event: 'remote.enabled', detail: 'http://192.168.1.20:8000/' }, 'Remote access turned on: http://192.168.1.20:8000/'],
  ] as const)('%j', (entry, text) => {
    expect(describeAuditEntry(entry).text).toBe(text);
  });
});

describe('times', () => {
  const now = Date.parse('2026-05-07T12:00:00Z');
  it.each([
    ['2026-05-07T11:59:50Z', 'just now'],
    ['2026-05-07T11:57:00Z', '3 minutes ago'],
    ['2026-05-07T09:00:00Z', '3 hours ago'],
    ['2026-06-06T12:00:00Z', 'in 30 days'],
    ['2026-09-07T12:00:00Z', 'in 4 months'],
  ])('%s reads "%s"', (iso, words) => {
    expect(relativeTime(iso, now)).toBe(words);
  });
});
