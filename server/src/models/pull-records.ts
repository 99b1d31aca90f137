// Pull records: one 0600 JSON file per pull in $HALOFORGE_HOME/pulls/, written
// atomically, so a pull outlives the process that ran it (killed CLI, quit
// app, reboot) and any process can see it. A record holds what the pull
// asked for and how far it got: never a token, never a signed URL.
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PULL_STATES, type PullInfo } from '../../../shared/models.js';
import { readTextIfExists, writePrivateFileAtomic } from '../fs/private-file.js';
import { processAlive } from '../fs/process-alive.js';
import { haloHome } from '../paths.js';

export interface PullRecord extends PullInfo {
  /** The process that runs (or ran) it. */
  pid: number;
  /** The blob names (etags) of the chosen files, so that any process can remove the partials of a cancelled pull. */
  blobs?: string[];
}

export const FINISHED: ReadonlySet<PullInfo['state']> = new Set(['ready', 'failed', 'cancelled']);
/** Finished for good: a failed pull (or an interrupted one) still waits to be resumed or cancelled. */
export const SETTLED: ReadonlySet<PullInfo['state']> = new Set(['ready', 'cancelled']);
/** Settled records are kept this long, and at most this many. */
export const KEEP_SETTLED_MS = 30 * 24 * 3600 * 1000;
export const KEEP_SETTLED_COUNT = 200;

export function pullsDir(env: NodeJS.ProcessEnv): string {
  return join(haloHome(env), 'pulls');
}

/** The same repo, revision and patterns always give the same id: asking again resumes the same pull. */
export function pullId(repo: string, revision: string, include: string[], exclude: string[]): string {
  const key = JSON.stringify([repo, revision, [...include].sort(), [...exclude].sort()]);
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class PullRecords {
  constructor(readonly dir: string) {}

  write(info: PullInfo, blobs?: string[]): void {
    const record: PullRecord = { ...info, pid: process.pid, ...(blobs ? { blobs } : {}) };
    writePrivateFileAtomic(join(this.dir, `${info.id}.json`), `${JSON.stringify(record, null, 2)}\n`);
  }

  read(id: string): PullRecord | null {
    if (!/^[0-9a-f]{16}$/.test(id)) return null;
    const text = readTextIfExists(join(this.dir, `${id}.json`));
    return text ? parseRecord(text) : null;
  }

  /** Every record; one whose process is gone before it finished reads as `interrupted`. */
  all(): PullRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: PullRecord[] = [];
    for (const name of names) {
      const id = /^([0-9a-f]{16})\.json$/.exec(name)?.[1];
      const record = id ? this.read(id) : null;
      if (record) out.push(withLiveness(record));
    }
    return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  remove(id: string): void {
    rmSync(join(this.dir, `${id}.json`), { force: true });
  }

  /** Removes settled records older than 30 days or beyond the newest 200; returns their ids. */
  prune(now = Date.now()): string[] {
    const doomed = prunable(this.all(), now);
    for (const id of doomed) this.remove(id);
    return doomed;
  }
}

/** Which records go: ready or cancelled ones past the age or the count. Failed and interrupted ones stay until resumed or cancelled. */
export function prunable(records: Pick<PullRecord, 'id' | 'state' | 'startedAt' | 'finishedAt'>[], now: number): string[] {
  const settled = records
    .filter((r) => SETTLED.has(r.state))
    .map((r) => ({ id: r.id, at: Date.parse(r.finishedAt ?? r.startedAt) || 0 }))
    .sort((a, b) => b.at - a.at);
  return settled.filter((r, i) => i >= KEEP_SETTLED_COUNT || now - r.at > KEEP_SETTLED_MS).map((r) => r.id);
}

export function withLiveness(record: PullRecord): PullRecord {
  if (FINISHED.has(record.state) || record.state === 'interrupted') return record;
  if (record.pid !== process.pid && processAlive(record.pid)) return record;
  if (record.pid === process.pid) return record;
  return { ...record, state: 'interrupted', rate: 0, etaSeconds: null };
}

function parseRecord(text: string): PullRecord | null {
  try {
    const r = JSON.parse(text) as PullRecord;
    if (typeof r.id !== 'string' || typeof r.repo !== 'string' || !PULL_STATES.includes(r.state) || typeof r.pid !== 'number') return null;
    return r;
  } catch {
    return null; // a record from a newer version, or damaged: not ours to guess at
  }
}
