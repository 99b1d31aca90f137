import { randomBytes } from 'node:crypto';
import type { RunModel, RunStartRequest } from '../../../shared/runs.js';
import type { RunRecord } from './run-files.js';

// A new run's id and its first record, before anything is spawned.

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** What start() has checked and resolved, and who asked. */
export interface NewRun {
  id: string;
  name: string;
  runDir: string;
  cwd: string;
  model: RunModel | null;
  request: RunStartRequest;
  extraEnv: Record<string, string>;
  startedBy: string;
  recipe: string | null;
}

/** A queued run's record: no process yet, nothing ended. */
export function queuedRecord(run: NewRun): RunRecord {
  return {
    id: run.id,
    name: run.name,
    state: 'queued',
    recipe: run.recipe,
    command: [...run.request.command],
    cwd: run.cwd,
    env: Object.keys(run.extraEnv).sort(),
    model: run.model,
    gpu: run.request.gpu ?? false,
    runDir: run.runDir,
    createdAt: new Date().toISOString(),
    startedAt: null,
    endedAt: null,
    pid: null,
    exitCode: null,
    signal: null,
    reason: null,
    logTail: '',
    artifacts: [],
    lastMetric: null,
    startedBy: run.startedBy,
    keeper: null,
    stopRequested: false,
    extraEnv: run.extraEnv,
  };
}
