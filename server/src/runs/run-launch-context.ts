import { join } from 'node:path';
import { readTextIfExists, writePrivateFileAtomic } from '../fs/private-file.js';
import { RUN_FILES, type RunRecord } from './run-files.js';

/**
 * A run's launch_context.json: what ran, where, with which variables (names
 * only, never a value), which model and commit, when it started and how it
 * ended. Spec 001: no secret value is ever written here; the arguments were
 * checked at the door (a token in argv is refused).
 */

/**
 * The job's environment: the workstation's base (its own secrets out, HF_TOKEN
 * in), the caller's variables, and what Halo Forge tells every job: the shared
 * cache, its run folder and the model it was given. A HALOFORGE_MODEL_* the
 * caller or the workstation set is dropped, so a job never reads a model it was not given.
 */
export function jobEnvironment(base: NodeJS.ProcessEnv, record: RunRecord, hubCache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...record.extraEnv, HF_HUB_CACHE: hubCache, HALOFORGE_RUN_DIR: record.runDir };
  delete env.HALOFORGE_MODEL_PATH;
  delete env.HALOFORGE_MODEL_ID;
  if (record.model) {
    env.HALOFORGE_MODEL_PATH = record.model.path;
    env.HALOFORGE_MODEL_ID = record.model.repo;
  }
  return env;
}

function launchContext(record: RunRecord, environment: string[], added: string[]) {
  return {
    run_id: record.id,
    name: record.name,
    recipe: record.recipe,
    started_by: record.startedBy,
    started_at: record.startedAt,
    ended_at: record.endedAt,
    state: record.state,
    exit_code: record.exitCode,
    signal: record.signal,
    // Arguments were checked at the door: none holds a token.
    command: record.command,
    cwd: record.cwd,
    model: record.model?.repo ?? null,
    commit: record.model?.commit ?? null,
    model_path: record.model?.path ?? null,
    /** Every variable the job's environment holds, by name only. */
    environment: [...environment].sort(),
    /** The ones Halo Forge set, and the ones the caller asked for. */
    environment_added: [...added].sort(),
    environment_requested: record.env,
    log: join(record.runDir, RUN_FILES.log),
  };
}

export function writeLaunchContext(record: RunRecord, environment: string[], added: string[]): void {
  writePrivateFileAtomic(join(record.runDir, RUN_FILES.launchContext), `${JSON.stringify(launchContext(record, environment, added), null, 2)}\n`);
}

/** Adds how the run ended to its launch_context.json (the environment names recorded at launch stay). */
export function recordEnding(record: RunRecord): void {
  const path = join(record.runDir, RUN_FILES.launchContext);
  const text = readTextIfExists(path);
  if (!text) return;
  const context = JSON.parse(text) as Record<string, unknown>;
  Object.assign(context, { ended_at: record.endedAt, state: record.state, exit_code: record.exitCode, signal: record.signal });
  writePrivateFileAtomic(path, `${JSON.stringify(context, null, 2)}\n`);
}

