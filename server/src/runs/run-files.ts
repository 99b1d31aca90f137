import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunArtifact, RunInfo } from '../../../shared/runs.js';
import { readTextIfExists, writePrivateFileAtomic } from '../fs/private-file.js';

// A run's folder, $HALOFORGE_HOME/runs/<id>/. Halo Forge's own files are
// named here; everything else in the folder is the job's (its artifacts).

export const RUN_FILES = {
  /** Halo Forge's state of the run (the backend writes it). */
  record: 'run.json',
  launchContext: 'launch_context.json',
  /** Redacted stdout and stderr (the keeper writes it), rotated to output.log.1 at its cap. */
  log: 'output.log',
  /** Metric points read from the job's output (the keeper writes them). */
  outputMetrics: 'output-metrics.jsonl',
  /** The job's own metrics file, if it writes one. */
  metrics: 'metrics.jsonl',
  /** How the job ended (the keeper writes it). */
  exit: 'exit.json',
  artifacts: 'artifacts.json',
} as const;

const OWN = new Set<string>([...Object.values(RUN_FILES), `${RUN_FILES.log}.1`]);

export function runsDir(home: string): string {
  return join(home, 'runs');
}

/** The record kept in run.json: what the API shows, and what re-attaching needs. */
export interface RunRecord extends RunInfo {
  /** The keeper process: leader of the job's process group. */
  keeper: { pid: number; startTicks: string | null } | null;
  stopRequested: boolean;
  /** The caller's extra variables, kept to start the run when it leaves the queue (never secrets: refused at the door). */
  extraEnv: Record<string, string>;
}

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  /** The job could not be started (spawn error). */
  error?: string;
  endedAt: string;
}

export function readRecord(runDir: string): RunRecord | null {
  try {
    const text = readTextIfExists(join(runDir, RUN_FILES.record));
    if (!text) return null;
    const record = JSON.parse(text) as RunRecord;
    return record && typeof record.id === 'string' && typeof record.state === 'string' ? record : null;
  } catch {
    return null;
  }
}

/** Every run recorded under `dir`; a folder without a readable run.json, or whose record names another folder, is skipped. */
export function readHistory(dir: string): RunRecord[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const records: RunRecord[] = [];
  for (const name of names) {
    const record = readRecord(join(dir, name));
    if (!record || record.runDir !== join(dir, name)) continue;
    record.extraEnv ??= {};
    records.push(record);
  }
  return records;
}

export function writeRecord(record: RunRecord): void {
  writePrivateFileAtomic(join(record.runDir, RUN_FILES.record), `${JSON.stringify(record, null, 2)}\n`);
}

export function readExit(runDir: string): ExitRecord | null {
  try {
    const text = readTextIfExists(join(runDir, RUN_FILES.exit));
    return text ? (JSON.parse(text) as ExitRecord) : null;
  } catch {
    return null;
  }
}

const MAX_ARTIFACTS = 500;

/** Files the job wrote into its run folder (Halo Forge's own left out), largest folders not walked past a depth of 6. */
export function scanArtifacts(runDir: string): RunArtifact[] {
  const found: RunArtifact[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (found.length >= MAX_ARTIFACTS) return;
      const path = join(dir, name);
      const rel = relative(runDir, path);
      if (depth === 0 && (OWN.has(name) || name.startsWith('.'))) continue;
      const s = lstatSync(path, { throwIfNoEntry: false });
      if (!s) continue;
      if (s.isDirectory() && depth < 6) walk(path, depth + 1);
      else if (s.isFile()) found.push({ path: rel, bytes: s.size });
    }
  };
  walk(runDir, 0);
  return found;
}

/** The last `maxBytes` of the log (from the rotated file too, when the current one is shorter). */
export function readLogTail(runDir: string, maxBytes: number): string {
  const current = readRange(join(runDir, RUN_FILES.log), -maxBytes);
  if (current.length >= maxBytes) return current.toString('utf8');
  const older = readRange(join(runDir, `${RUN_FILES.log}.1`), -(maxBytes - current.length));
  return Buffer.concat([older, current]).toString('utf8').replace(/^[^\n]*\uFFFD/, '');
}

/** Bytes of `path` from `start` (negative: from the end) up to `maxBytes`; empty when it does not exist. */
export function readRange(path: string, start: number, maxBytes = Math.abs(start) || 1 << 20): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = fstatSync(fd).size;
    const from = start < 0 ? Math.max(0, size + start) : Math.min(start, size);
    const length = Math.min(maxBytes, size - from);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, from + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last lines of a text, for a failed run's report. */
export function lastLines(text: string, lines = 30): string {
  return text.split('\n').slice(-lines - 1).join('\n').trim();
}
