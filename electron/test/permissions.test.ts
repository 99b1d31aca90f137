import { describe, expect, it } from 'vitest';
import { decidePermission, PERMISSIONS } from '../permissions.js';

const ORIGIN = 'http://127.0.0.1:8000';

describe('the permission table', () => {
  it('gives every entry a reason', () => {
    for (const [name, entry] of Object.entries(PERMISSIONS)) expect(entry.reason.length, name).toBeGreaterThan(10);
  });

  it('allows only what the dashboard uses', () => {
    expect(Object.entries(PERMISSIONS).filter(([, e]) => e.allow).map(([name]) => name)).toEqual(['clipboard-sanitized-write']);
  });

  it.each([
    ['clipboard-sanitized-write', 'http://127.0.0.1:8000/tokens', true],
    ['clipboard-sanitized-write', 'http://127.0.0.1:8000', true],
    ['clipboard-sanitized-write', 'https://huggingface.co/', false],
    ['clipboard-sanitized-write', 'data:text/html,x', false],
    ['clipboard-read', 'http://127.0.0.1:8000/', false],
    ['media', 'http://127.0.0.1:8000/', false],
    ['notifications', 'http://127.0.0.1:8000/', false],
    ['geolocation', 'http://127.0.0.1:8000/', false],
    ['openExternal', 'http://127.0.0.1:8000/', false],
    ['unknown', 'http://127.0.0.1:8000/', false],
    ['some-permission-chromium-adds-next-year', 'http://127.0.0.1:8000/', false],
    ['toString', 'http://127.0.0.1:8000/', false],
    ['__proto__', 'http://127.0.0.1:8000/', false],
  ])('%s for %s → %s', (permission, url, allow) => {
    const decision = decidePermission(permission, url, ORIGIN);
    expect(decision.allow).toBe(allow);
    expect(decision.reason).not.toBe('');
  });

  it('denies even allowed permissions while the backend is down', () => {
    expect(decidePermission('clipboard-sanitized-write', 'http://127.0.0.1:8000/', null).allow).toBe(false);
  });
});
