// The Runs contract (issue 14): training and evaluation jobs launched from the
// dashboard or the CLI, supervised by the backend. Shared by server/, renderer/
// and the CLI; imports nothing.
//
// Routes, all under /api/public (scopes: read ⊂ operate ⊂ admin):
//   GET    /runs                        read     { runs: RunInfo[] }, newest first
//   POST   /runs                        admin    RunStartRequest → 201 RunInfo (it executes a command as the workstation's user)
//   GET    /runs/:run                   read     RunInfo (:run is an id, or a name: the newest run with it)
//   POST   /runs/:run/stop              operate  RunInfo (SIGTERM to the process group, SIGKILL after the grace period; a queued run is dropped)
//   GET    /runs/:run/log               read     text/plain: the redacted log (?tail=BYTES, default 64 KiB, at most 4 MiB)
//   GET    /runs/:run/metrics           read     { points: MetricPoint[] }
//   GET    /runs/:run/events            read     text/event-stream: RunStreamEvent frames (see below), live until the run ends
//   POST   /runs/:run/recipe            admin    { name } → 201 Recipe: save this run's command, cwd, env, model as a recipe
//   GET    /runs/recipes                read     { recipes: Recipe[] }
//   POST   /runs/recipes                admin    RecipeRequest → 201 Recipe
//   PUT    /runs/recipes/:name          admin    RecipeRequest (name may change) → Recipe
//   DELETE /runs/recipes/:name          admin    Recipe (the one removed)
//   POST   /runs/recipes/:name/start    operate  RecipeStartRequest → 201 RunInfo
//
// The events stream (fetch with Authorization, like /audit/stream):
//   event: run     data: RunInfo       first frame, then on every state change
//   event: log     data: { text }      the last 64 KiB of the log first, then live output (redacted)
//   event: metric  data: MetricPoint   every point so far first, then live ones
//   event: end     data: RunInfo       the run is finished; the server closes the stream after it

export const RUN_STATES = ['queued', 'running', 'succeeded', 'failed', 'stopped', 'lost'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** States a run never leaves. */
export const FINISHED_RUN_STATES: readonly RunState[] = ['succeeded', 'failed', 'stopped', 'lost'];

export const RUN_ERROR_CODES = [
  /** No run with that id or name. */
  'run.not_found',
  /** The program is not on PATH, not a file, or not executable: the run is not created. */
  'run.command_not_found',
  /** The working folder does not exist, is not a folder, or this user may not enter it. */
  'run.cwd_refused',
  /** An environment variable name is not valid, is reserved (HF_TOKEN, HALOFORGE_*), or its value is a token. */
  'run.env_invalid',
  /** The command line is empty, too long, or holds a token (tokens travel in the environment, never in argv). */
  'run.command_invalid',
  /** The model asked for is not in the local cache. */
  'run.model_not_found',
  'run.recipe_not_found',
  'run.recipe_duplicate',
  /** Recipe or run names: 1-64 letters, digits, ".", "_", "-", starting with a letter or digit. */
  'run.name_invalid',
] as const;
export type RunErrorCode = (typeof RUN_ERROR_CODES)[number];

/** A model from Models handed to the job: HALOFORGE_MODEL_PATH (snapshot folder) and HALOFORGE_MODEL_ID (repo id). */
export interface RunModel {
  repo: string;
  /** The pinned commit of the local snapshot. */
  commit: string;
  /** The snapshot folder in the shared cache. */
  path: string;
}

export interface RunStartRequest {
  /** Default: the program's base name. Same rules as recipe names. */
  name?: string;
  /** argv: [program, ...args]. No shell: pipes and globs are not interpreted. */
  command: string[];
  /** Absolute path; default: the workstation user's home folder. */
  cwd?: string;
  /** Extra variables. Not HF_TOKEN (the workstation's credential is passed), not HALOFORGE_*, and no token values. */
  env?: Record<string, string>;
  /** A repo id ("org/name") pulled into the shared cache; its newest local snapshot is used unless `revision` is given. */
  model?: string;
  /** A commit (or a ref the cache knows, such as "main") of `model`. */
  revision?: string;
  /** Counts against the one-GPU-job-at-a-time limit when that limit is on (the run waits as `queued`). */
  gpu?: boolean;
}

export interface RunArtifact {
  /** Relative to the run folder. */
  path: string;
  bytes: number;
}

export interface RunInfo {
  id: string;
  name: string;
  state: RunState;
  /** The recipe it was started from, if any. */
  recipe: string | null;
  command: string[];
  cwd: string;
  /** Names only: what the caller added. */
  env: string[];
  model: RunModel | null;
  gpu: boolean;
  /** $HALOFORGE_HOME/runs/<id> */
  runDir: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  /** Why it failed, was stopped or lost, in words; null while fine. */
  reason: string | null;
  /** The last lines of its (redacted) log, for a failed or lost run; '' otherwise. */
  logTail: string;
  /** Files the job wrote into its run folder (Halo Forge's own files excluded). */
  artifacts: RunArtifact[];
  /** The newest metric point, for lists. */
  lastMetric: MetricPoint | null;
  /** Who started it: "api" (a token's name or "local") or "cli". */
  startedBy: string;
}

export type MetricSource = 'file' | 'stdout' | 'trainer';

export interface MetricPoint {
  /** Order of arrival within the run (0-based); charts without a step use it. */
  seq: number;
  step: number | null;
  epoch: number | null;
  /** ISO time it was read. */
  time: string;
  source: MetricSource;
  /** Numeric fields only (loss, learning_rate, eval_loss, grad_norm...). */
  values: Record<string, number>;
}

export interface RunLogChunk {
  text: string;
}

export type RunStreamEvent =
  | { event: 'run'; data: RunInfo }
  | { event: 'log'; data: RunLogChunk }
  | { event: 'metric'; data: MetricPoint }
  | { event: 'end'; data: RunInfo };

export interface Recipe {
  name: string;
  command: string[];
  cwd: string | null;
  /** Values are shown: a recipe holds no secrets (token values are refused when it is saved). */
  env: Record<string, string>;
  model: string | null;
  revision: string | null;
  gpu: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface RecipeRequest {
  name: string;
  command: string[];
  cwd?: string | null;
  env?: Record<string, string>;
  model?: string | null;
  revision?: string | null;
  gpu?: boolean;
}

export interface RecipeStartRequest {
  /** Default: the recipe's name. */
  name?: string;
}

export interface SaveRecipeRequest {
  name: string;
}

/** Variables Halo Forge sets for every job; the caller may not set them. */
export const RUN_RESERVED_ENV = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_CACHE', 'HALOFORGE_RUN_DIR', 'HALOFORGE_MODEL_PATH', 'HALOFORGE_MODEL_ID'] as const;
