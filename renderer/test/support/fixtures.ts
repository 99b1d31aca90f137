import type { AuthSession, ConnectionInfo, HfStatus, TokenInfo } from '../../../shared/api';

export const LOCAL_SESSION: AuthSession = { local: true, authRequired: false, token: null, proxied: false };
export const ANONYMOUS_SESSION: AuthSession = { local: false, authRequired: true, token: null, proxied: false };
export const ADMIN_SESSION: AuthSession = { local: false, authRequired: true, token: { name: 'laptop', scope: 'admin' }, proxied: false };

export const HEALTH = { status: 'ok', version: '0.1.0' } as const;

export const TOKEN: TokenInfo = { name: 'laptop', scope: 'admin', created: '2026-05-07T12:00:00Z', lastUsed: null, lastUsedFrom: null, expires: null, note: '' };

export const CONNECTION: ConnectionInfo = {
  bind: { host: '127.0.0.1', port: 8000 },
  authMode: 'auto',
  remote: { enabled: false, fixed: false, interface: 'all', port: 8000, urls: [], addresses: [], needsToken: false },
  tokenCount: 0,
  envToken: false,
};

export const HF_NONE: HfStatus = {
  present: false,
  source: 'none',
  verified: false,
  username: null,
  tokenName: null,
  role: null,
  canClear: false,
  keyring: { available: false, reason: 'Turned off by HALOFORGE_KEYRING=off.' },
  checkedAt: null,
  message: 'No Hugging Face token.',
  warnings: [],
  hfCacheAvailable: false,
};

export const HF_CONNECTED: HfStatus = {
  ...HF_NONE,
  present: true,
  source: 'file',
  verified: true,
  username: 'halo-tester',
  tokenName: 'halo-read',
  role: 'read',
  canClear: true,
  checkedAt: '2026-05-07T12:00:00Z',
  message: 'Verified as halo-tester.',
};
