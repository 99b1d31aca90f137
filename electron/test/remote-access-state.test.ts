import { describe, expect, it } from 'vitest';
import { fromConnection, fromMessage, remoteAccessLabel, remoteAccessTooltip, sameView, UNKNOWN, windowTitle, type RemoteAccessView } from '../remote-access-state.js';

const ON: RemoteAccessView = { known: true, enabled: true, urls: ['http://192.168.1.5:8000/'] };
const OFF: RemoteAccessView = { known: true, enabled: false, urls: [] };

describe('what the tray and menu say about remote access', () => {
  it.each([
    [ON, 'Remote access: ON', 'Halo Forge: reachable from the network at http://192.168.1.5:8000/ (API token required)', 'Models — remote access ON'],
    [OFF, 'Remote access: off', 'Halo Forge: local only (remote access off)', 'Models'],
    [UNKNOWN, 'Remote access: unknown (backend not running)', 'Halo Forge: backend not running', 'Models'],
  ])('%j', (view, label, tooltip, title) => {
    expect(remoteAccessLabel(view)).toBe(label);
    expect(remoteAccessTooltip(view)).toBe(tooltip);
    expect(windowTitle('Models', view)).toBe(title);
  });

  it('reads the state from GET /api/public/connection and from the backend message alike', () => {
    const info = { remote: { enabled: true, fixed: false, interface: 'all', port: 8000, urls: ['http://192.168.1.5:8000/'], needsToken: false } };
    expect(fromConnection(info)).toEqual(ON);
    expect(fromMessage({ enabled: true, urls: ['http://192.168.1.5:8000/'] })).toEqual(ON);
  });

  it.each([
    [ON, { ...ON, urls: [...ON.urls] }, true],
    [ON, OFF, false],
    [ON, { ...ON, urls: ['http://10.0.0.2:8000/'] }, false],
    [OFF, UNKNOWN, false],
    [UNKNOWN, UNKNOWN, true],
  ])('tells a change from a repeat: %j vs %j → same %s', (a, b, same) => {
    expect(sameView(a, b)).toBe(same);
  });
});
