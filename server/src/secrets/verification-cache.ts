import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { HfRole } from '../../../shared/api.js';
import { readPrivateText, writePrivateFileAtomic } from '../fs/private-file.js';
import { haloHome } from '../paths.js';

/** The Hub rate-limits whoami strictly: a verdict stands this long before it is asked again. */
export const REVERIFY_AFTER_MS = 12 * 3_600_000;
const KEEP = 4;

export interface Verification {
  /** Which token this is about: the start of its SHA-256, never the token. */
  fingerprint: string;
  /** verified: the Hub knew it; rejected: the Hub refused it; unverified: saved without asking. */
  outcome: 'verified' | 'rejected' | 'unverified';
  username: string | null;
  tokenName: string | null;
  role: HfRole;
  canWrite: boolean;
  /** The Hub's reason, when it refused the token. */
  reason: string | null;
  /** When the Hub answered; null when it was never asked. */
  checkedAt: string | null;
}

/** 64 bits of SHA-256: enough to tell tokens apart, useless to recover one. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16);
}

export function isStale(v: Verification | null, now: Date): boolean {
  if (!v || v.outcome === 'unverified' || v.checkedAt === null) return true;
  return now.getTime() - Date.parse(v.checkedAt) > REVERIFY_AFTER_MS;
}

/**
 * The Hub's last word on each recent token, kept under HALOFORGE_HOME so the
 * CLI and the server share it and a restart does not cost a whoami call.
 */
export class VerificationCache {
  readonly path: string;

  constructor(env: NodeJS.ProcessEnv) {
    this.path = join(haloHome(env), 'hf-verification.json');
  }

  lookup(token: string): Verification | null {
    const fingerprint = tokenFingerprint(token);
    return this.read().find((v) => v.fingerprint === fingerprint) ?? null;
  }

  record(token: string, verdict: Omit<Verification, 'fingerprint'>): Verification {
    const entry: Verification = { fingerprint: tokenFingerprint(token), ...verdict };
    const rest = this.read().filter((v) => v.fingerprint !== entry.fingerprint);
    this.write([entry, ...rest].slice(0, KEEP));
    return entry;
  }

  forget(token: string): void {
    const fingerprint = tokenFingerprint(token);
    const entries = this.read();
    if (entries.some((v) => v.fingerprint === fingerprint)) this.write(entries.filter((v) => v.fingerprint !== fingerprint));
  }

  private read(): Verification[] {
    try {
      const parsed = JSON.parse(readPrivateText(this.path)?.text ?? '{}') as { entries?: Verification[] };
      return Array.isArray(parsed.entries) ? parsed.entries.filter((v) => typeof v?.fingerprint === 'string') : [];
    } catch {
      // A damaged (or linked) cache only costs a re-verification; a link is never followed.
      return [];
    }
  }

  private write(entries: Verification[]): void {
    writePrivateFileAtomic(this.path, `${JSON.stringify({ version: 1, entries }, null, 2)}\n`);
  }
}
