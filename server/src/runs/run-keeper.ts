import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { writePrivateFileAtomic } from '../fs/private-file.js';
import { registerSecret } from '../secrets/redact.js';
import { RuntimeLog } from '../serving/runtime-log.js';
import { parseOutputLine } from './metric-lines.js';
import { RUN_FILES, type ExitRecord } from './run-files.js';
import { KEEPER_GROUP_ENV, writeJobGroup } from './run-keeper-group.js';

/**
 * `node run-keeper.mjs RUN_DIR LOG_MAX_BYTES CWD -- PROGRAM ARGS...`: runs one
 * job and owns its output, so the job does not depend on the backend staying
 * up. The backend starts the keeper as the leader of a new process group; the
 * job (and whatever it starts) stays in that group (inside the desktop app,
 * the job leads a group of its own: see run-keeper-group.ts). The keeper redacts the
 * job's stdout and stderr line by line into output.log (rotated at its cap),
 * reads metric lines from them, and writes exit.json when the job ends. The
 * backend follows those files, so after a backend restart it re-attaches by
 * reading them again. Nothing unredacted is ever written: the job's output
 * never reaches a file or a pipe the backend holds before redaction.
 *
 * A stop signal for the group reaches the keeper too: it stays to record how
 * the job ended (a SIGKILL for the group ends it as well; the backend then
 * records the stop itself).
 */

const [runDirArg, maxBytesText, cwd, separator, program, ...args] = process.argv.slice(2);
if (!runDirArg || !cwd || separator !== '--' || !program) {
  process.stderr.write('usage: run-keeper RUN_DIR LOG_MAX_BYTES CWD -- PROGRAM ARGS...\n');
  process.exit(2);
}
const runDir: string = runDirArg;

/** Inside the desktop app, after a stop signal to the keeper: time before SIGKILL to the job's group (the main process SIGKILLs the keeper at 5 s). */
const JOB_KILL_AFTER_MS = 3_000;

/** A job that prints nothing but metric lines must not fill the disk with them either. */
const MAX_METRIC_POINTS = 200_000;

registerSecret(process.env.HF_TOKEN);
const log = new RuntimeLog(join(runDir, RUN_FILES.log), Number(maxBytesText) || 50 * 1024 * 1024);
let stopSignal: string | null = null;
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopSignal) return;
    stopSignal = signal;
    log.note(`stop requested (${signal} to the run's process group)`);
  });
}

// Inside the desktop app this keeper is a utility process in the app's own process group: the job leads a group
// of its own, whose id the backend reads to stop it (run-keeper-group.ts). The keeper is stopped with its backend
// there; it stops the job's group too, so that nothing of the run outlives them.
const jobLeadsGroup = process.env[KEEPER_GROUP_ENV] === 'job';
const jobEnv = { ...process.env };
delete jobEnv[KEEPER_GROUP_ENV];
// Never the job's business, whoever set it.
delete jobEnv.ELECTRON_RUN_AS_NODE;
const job = spawn(program, args, { cwd, env: jobEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: jobLeadsGroup });
if (jobLeadsGroup && job.pid !== undefined) {
  const pgid = job.pid;
  try {
    writeJobGroup(runDir, pgid);
  } catch (err) {
    log.note(`could not record the job's process group: ${(err as Error).message}`);
  }
  let escalation: NodeJS.Timeout | null = null;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      signalJobGroup(pgid, signal);
      // Whoever stopped the keeper kills it soon; the job's group must be gone before it is.
      escalation ??= setTimeout(() => signalJobGroup(pgid, 'SIGKILL'), JOB_KILL_AFTER_MS);
      escalation.unref();
    });
  }
}

function signalJobGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}
let points = 0;
const metricsPath = join(runDir, RUN_FILES.outputMetrics);

/** Reads metric lines from output that is already redacted (text). */
function readMetrics(redacted: Readable): void {
  let pending = '';
  redacted.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (points >= MAX_METRIC_POINTS || !line.includes('{')) continue;
      const parsed = parseOutputLine(line);
      if (!parsed) continue;
      points++;
      try {
        appendFileSync(metricsPath, `${JSON.stringify({ time: new Date().toISOString(), source: parsed.source, ...parsed.reading })}\n`, { mode: 0o600 });
      } catch {
        // A full disk costs the chart a point, never the job.
      }
    }
    // A line longer than any metric line is not one: drop what was held.
    if (pending.length > 64 * 1024) pending = '';
  });
}

const outputs = [log.follow(job.stdout), log.follow(job.stderr)];
for (const output of outputs) readMetrics(output);
const drained = Promise.all(outputs.map((output) => new Promise((resolve) => output.once('end', resolve))));

function finish(record: Omit<ExitRecord, 'endedAt'>): void {
  try {
    writePrivateFileAtomic(join(runDir, RUN_FILES.exit), `${JSON.stringify({ ...record, endedAt: new Date().toISOString() })}\n`);
  } finally {
    log.close();
    process.exit(0);
  }
}

job.once('error', (err) => {
  if (job.pid !== undefined) return;
  log.note(`could not be started: ${err.message}`);
  finish({ code: null, signal: null, error: err.message });
});
job.once('exit', (code, signal) => {
  const done = () => {
    log.note(`job exited (${signal ? `signal ${signal}` : `exit code ${code}`})`);
    finish({ code, signal });
  };
  // Its last output is in the log once both redacted streams end; a child of the job holding the pipes open
  // must not delay the record long.
  const late = setTimeout(done, 1_000);
  void drained.then(() => {
    clearTimeout(late);
    done();
  });
});
