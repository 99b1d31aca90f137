import { describe, expect, it, vi } from 'vitest';
import { consumePairingLink } from '../src/api/pairing';

function open(hash: string, pathname = '/', search = '') {
  const history = { replaceState: vi.fn() };
  const token = consumePairingLink({ hash, pathname, search }, history);
  return { token, replaced: history.replaceState.mock.calls.map((c) => c[2]) };
}

describe('a pairing link', () => {
  it('gives up its token and replaces the address with the Connection screen', () => {
    expect(open('#token=hfk_abc-DEF_123')).toEqual({ token: 'hfk_abc-DEF_123', replaced: ['/#/connection'] });
  });

  it('keeps the path and query of the page it was opened on', () => {
    expect(open('#token=hfk_x', '/dashboard/', '?lang=en').replaced).toEqual(['/dashboard/?lang=en#/connection']);
  });

  it('decodes a percent-encoded token and ignores anything after it', () => {
    expect(open('#token=hfk_a%2Db&next=1').token).toBe('hfk_a-b');
  });

  it('with an empty token is still removed from the address bar', () => {
    expect(open('#token=')).toEqual({ token: null, replaced: ['/#/connection'] });
  });

  it.each(['', '#/overview', '#/connection', '#tokens', '#x-token=hfk_a'])('is not "%s", which is left alone', (hash) => {
    expect(open(hash)).toEqual({ token: null, replaced: [] });
  });
});
