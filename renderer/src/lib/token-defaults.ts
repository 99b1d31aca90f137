import type { Scope } from '../../../shared/api';

/**
 * A new token is for a device or a script that uses the workstation; it
 * rarely manages who else may. So the least scope that does that job, and an
 * end date: admin and "never expires" are choices, not defaults.
 */
export const NEW_TOKEN_DEFAULTS = { scope: 'operate', expires: '90d' } as const satisfies { scope: Scope; expires: string };

/** Expiry choices; '' is "never". */
export const TOKEN_EXPIRY = [
  ['24h', 'In 24 hours'],
  ['7d', 'In 7 days'],
  ['30d', 'In 30 days'],
  ['90d', 'In 90 days'],
  ['365d', 'In a year'],
  ['', 'Never'],
] as const;
