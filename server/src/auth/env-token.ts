import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenRecord, Verification } from './token-store.js';

export interface TokenAuthority {
  verify(secret: string): Verification;
  recordUse(record: TokenRecord, at?: number, from?: string | null): void;
  /** The token with this stored hash, unless revoked or expired (long-lived streams, keep-alive connections). */
  current(hash: string): TokenRecord | null;
}

/**
 * HALOFORGE_API_TOKEN: a single-token deployment (docker or Kubernetes
 * secret). Compared in constant time over fixed-length digests, so neither
 * the content nor the length of the secret leaks through timing.
 */
export class EnvToken implements TokenAuthority {
  private readonly digest: Buffer;
  private readonly record: TokenRecord;

  constructor(secret: string) {
    this.digest = createHash('sha256').update(secret).digest();
    this.record = { name: 'env', scope: 'admin', created: new Date().toISOString(), lastUsed: null, lastUsedFrom: null, expires: null, note: 'HALOFORGE_API_TOKEN', hash: this.digest.toString('hex') };
  }

  verify(secret: string): Verification {
    const candidate = createHash('sha256').update(secret).digest();
    return timingSafeEqual(candidate, this.digest) ? { status: 'ok', record: this.record } : { status: 'invalid' };
  }

  recordUse(): void {}

  current(hash: string): TokenRecord | null {
    return hash === this.record.hash ? this.record : null;
  }
}
