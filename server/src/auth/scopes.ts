import type { Scope } from '../../../shared/api.js';

const RANK: Record<Scope, number> = { read: 0, operate: 1, admin: 2 };

/** admin ⊃ operate ⊃ read; a read token never changes anything, whatever the route says. */
export function scopeAllows(held: Scope, needed: Scope, method: string): boolean {
  if (held === 'read' && method !== 'GET' && method !== 'HEAD') return false;
  return RANK[held] >= RANK[needed];
}
