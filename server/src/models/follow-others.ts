// What other processes change, as events in this one: a CLI's pull writes
// its record about once a second, and a Python tool, `llama-server -hf` or
// the CLI fills the cache. The server follows both, so that the dashboard
// shows them live instead of on its next reload.
import { mkdirSync } from 'node:fs';
import type { PullInfo } from '../../../shared/models.js';
import { cacheSignature, cacheWatchFolders } from './cache-layout.js';
import { watchChanges, type ChangeWatch } from './change-watch.js';
import type { PullRecord, PullRecords } from './pull-records.js';

export interface FollowOptions {
  records: PullRecords;
  cacheDir: string;
  /** A pull of another process changed (its progress, or its state when `stateChanged`). */
  onPull: (pull: PullInfo, stateChanged: boolean) => void;
  /** A repo folder came or went, or a repo's refs changed. */
  onLocalChange: () => void;
  debounceMs?: number;
  pollMs?: number;
  log: (line: string) => void;
}

export function followOthers(o: FollowOptions): ChangeWatch[] {
  const timing = { debounceMs: o.debounceMs, pollMs: o.pollMs };
  try {
    mkdirSync(o.records.dir, { recursive: true, mode: 0o700 });
  } catch {
    // the poll sees it once it exists
  }
  const pulls = watchChanges({
    ...timing,
    folders: () => [o.records.dir],
    // This process's own pulls are sent as they happen; a record read back is older news.
    read: () => o.records.all().filter((r) => r.pid !== process.pid),
    key: (records) => JSON.stringify(records),
    onChange: (records, previous) => {
      const before = new Map(previous.map((r) => [r.id, JSON.stringify(r)]));
      const states = new Map(previous.map((r) => [r.id, r.state]));
      for (const record of records) {
        if (before.get(record.id) === JSON.stringify(record)) continue;
        o.onPull(withoutPid(record), states.get(record.id) !== record.state);
      }
    },
    log: o.log,
  });
  const cache = watchChanges({
    ...timing,
    folders: () => cacheWatchFolders(o.cacheDir),
    read: () => cacheSignature(o.cacheDir),
    key: (signature) => signature,
    onChange: () => o.onLocalChange(),
    log: o.log,
  });
  return [pulls, cache];
}

function withoutPid(record: PullRecord): PullInfo {
  const { pid: _pid, blobs: _blobs, ...info } = record;
  return info;
}
