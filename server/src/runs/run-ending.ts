import { join } from 'node:path';
import type { MetricPoint } from '../../../shared/runs.js';
import { describeExit } from '../../../shared/supervision.js';
import { writePrivateFileAtomic } from '../fs/private-file.js';
import { lastLines, readLogTail, RUN_FILES, scanArtifacts, writeRecord, type ExitRecord, type RunRecord } from './run-files.js';
import { recordEnding } from './run-launch-context.js';

// How a run ended, decided from what its keeper left behind: a pure function,
// so each way a run can end is a row in a table test.

export interface Ending {
  state: RunRecord['state'];
  reason: string | null;
}

export const KEEPER_KILLED =
  'The run\'s keeper process was killed before the job ended, so how it would have ended is unknown; what was left of the job was stopped. The log and metrics are kept.';
export const ENDED_UNWATCHED = 'Halo Forge was not running when this job ended, so how it ended is unknown; its log and metrics are kept.';

/**
 * A followed run whose keeper is gone: `exit` is what the keeper wrote (null:
 * it was killed before writing it), `stop` whether someone asked the run to stop.
 */
export function endingOf(exit: ExitRecord | null, stop: { requested: boolean; reason: string | null }): Ending {
  if (exit) {
    if (exit.error) return { state: 'failed', reason: `The program could not be started: ${exit.error}` };
    if (stop.requested) return { state: 'stopped', reason: stop.reason };
    if (exit.code === 0) return { state: 'succeeded', reason: null };
    return { state: 'failed', reason: `The job ended with ${describeExit(exit.code, exit.signal)}.` };
  }
  // Killed with its group at the end of the grace period: the keeper had no chance to write how.
  if (stop.requested) return { state: 'stopped', reason: `${stop.reason ?? 'Stopped.'} It did not end within the grace period and was killed.` };
  // The keeper was killed (by someone else, or the OOM killer). A job left without it has nobody reading its output
  // or recording its end: it is stopped like any other, and the run is lost.
  return { state: 'lost', reason: KEEPER_KILLED };
}

/** The log's end kept in the record of a run that failed or was lost, so its reason is readable without the folder. */
const TAIL_BYTES = 8 * 1024;

/** Writes the ending into the record: state, reason, time, the log's last lines where it went wrong, the artifacts left. */
export function applyEnding(record: RunRecord, outcome: Ending, exit: ExitRecord | undefined, lastMetric: MetricPoint | null): void {
  record.state = outcome.state;
  record.reason = outcome.reason;
  record.endedAt = exit?.endedAt ?? new Date().toISOString();
  record.pid = null;
  record.logTail = outcome.state === 'failed' || outcome.state === 'lost' ? lastLines(readLogTail(record.runDir, TAIL_BYTES)) : '';
  record.artifacts = scanArtifacts(record.runDir);
  record.lastMetric = lastMetric ?? record.lastMetric;
}

/** The ended run's files: run.json, artifacts.json, and the ending in launch_context.json if it ever started. Throws what the disk refuses. */
export function writeEnding(record: RunRecord): void {
  if (record.startedAt) recordEnding(record);
  writeRecord(record);
  writePrivateFileAtomic(join(record.runDir, RUN_FILES.artifacts), `${JSON.stringify({ artifacts: record.artifacts }, null, 2)}\n`);
}
