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
}

export const FINISHED: ReadonlySet<PullInfo['state']> = new Set(['ready', 'failed', 'cancelled']);

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

  write(info: PullInfo): void {
    const record: PullRecord = { ...info, pid: process.pid };
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
