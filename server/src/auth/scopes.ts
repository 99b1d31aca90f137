import type { Scope } from '../../../shared/api.js';

const RANK: Record<Exclude<Scope, 'inference'>, number> = { read: 0, operate: 1, admin: 2 };

/**
 * admin ⊃ operate ⊃ read; a read token never changes anything, whatever the
 * route says. `inference` is beside them: it reaches the OpenAI API (routes
 * that need `inference`) and nothing else, so a token handed to an OpenAI
 * client on a laptop cannot manage the workstation. Operate and admin may use
 * the OpenAI API too; read may only look (GET /v1/models).
 */
export function scopeAllows(held: Scope, needed: Scope, method: string): boolean {
  const reading = method === 'GET' || method === 'HEAD';
  if (held === 'read' && !reading) return false;
  if (held === 'inference') return needed === 'inference';
  if (needed === 'inference') return true;
  return RANK[held] >= RANK[needed];
}
