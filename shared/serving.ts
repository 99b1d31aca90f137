// The Serving contract: the models this workstation runs, how to run and
// stop them, and what the backend's OpenAI-compatible /v1 answers. Shared by
// the backend (routes, CLI), the dashboard and the tests. Imports nothing.
//
// Routes (all under /api/public; `read` for GETs, `operate` for run/stop):
//   GET  /serving                  → ServingStatus      what `halo-forge ps` shows, plus what can be run
//   POST /serving/run   RunRequest → RunningModel       loads a model; answers once it is ready (or failed)
//   POST /serving/stop  StopRequest→ RunningModel       stops it (its last state, `stopped`)
//   GET  /serving/events           → SSE of ServingEvent (`event: status`, data: ServingStatus) on every change
//   GET  /serving/log?model=ID     → SSE of RuntimeLogEvent (`event: log`): the log's tail, then live lines (redacted)
//
// The OpenAI API, on the backend's own port, through the same gate
// (`inference`, `operate` or `admin` token; `read` may only GET):
//   GET  /v1/models                → OpenAI list: running models and the downloaded GGUF files JIT can load
//   POST /v1/chat/completions      → proxied to the model's runtime (streaming passes through event by event)
//   POST /v1/completions           → idem
// Errors on /v1 keep OpenAI's shape: {error:{message,type,param,code}}, `code` being a ServingErrorCode
// (or the runtime's own code, e.g. context_length_exceeded), with `access` when access is missing.

export const RUNTIME_NAMES = ['embedded', 'llama-server', 'vllm'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/**
 * starting: loading (or restarting after a crash, see `crash.restartInMs`);
 * ready: answering; crashed: gave up (see `crash`); stopping: on its way out;
 * stopped: only in the answer to a stop.
 */
export const SERVING_STATES = ['starting', 'ready', 'crashed', 'stopping', 'stopped'] as const;
export type ServingState = (typeof SERVING_STATES)[number];

export interface RuntimeCrash {
  reason: string;
  hint: string | null;
  exitCode: number | null;
  signal: string | null;
  /** The last lines of its log (redacted). */
  logTail: string;
  /** Restarting in this many ms; null: given up. */
  restartInMs: number | null;
}

/** One loaded (or loading) model, as `halo-forge ps` shows it. The runtime's port and key are never shown. */
export interface RunningModel {
  /** The id clients send as `model` on /v1: "org/name:file.gguf". */
  model: string;
  repo: string;
  /** The file in the repo (GGUF), or "" for a whole-repo runtime (vLLM). */
  file: string;
  commit: string | null;
  runtime: RuntimeName;
  state: ServingState;
  /** The context it was loaded with; null: the runtime's default. */
  contextSize: number | null;
  /** Resident memory of the runtime's processes, in bytes; null when unknown. */
  memoryBytes: number | null;
  /** ISO time it was asked to run. */
  startedAt: string;
  uptimeSeconds: number;
  /** ISO time of the last /v1 request to it; null before the first. */
  lastUsedAt: string | null;
  /** When it will be unloaded if it stays idle (ISO); null: never (no TTL, or a request is in flight). */
  unloadAt: string | null;
  /** Tokens per second of its last streamed answer, as measured through the proxy; null before one. */
  tokensPerSecond: number | null;
  requests: number;
  /** Who loaded it: the Run button or CLI, a /v1 request (just in time), or `serve --model`. */
  loadedBy: 'user' | 'jit' | 'startup';
  crash: RuntimeCrash | null;
}

/** A downloaded model that can be run (and that /v1 loads just in time). */
export interface ServableModel {
  /** "org/name:file.gguf". */
  model: string;
  repo: string;
  file: string;
  commit: string;
  size: number;
  /** The runtime it would run in by default. */
  runtime: RuntimeName;
  running: boolean;
}

export interface RuntimeInfo {
  name: RuntimeName;
  installed: boolean;
  /** Where it was found, or why not. */
  detail: string;
  /** How to install it; null when installed. */
  install: string | null;
}

export interface ServingStatus {
  models: RunningModel[];
  available: ServableModel[];
  runtimes: RuntimeInfo[];
  /** At most this many models are loaded at once. */
  maxLoaded: number;
  /** Idle models are unloaded after this many seconds; null: never. */
  ttlSeconds: number | null;
}

export interface RunRequest {
  /** "org/name" (a repo with one GGUF file) or "org/name:file.gguf". */
  model: string;
  runtime?: RuntimeName;
  /** Context size in tokens; default: the runtime's (the embedded one takes the model's, up to 8192). */
  ctx?: number;
}

export interface StopRequest {
  /** The running model's id, or its repo when one model of that repo runs. */
  model: string;
}

/** `GET /serving/events`: the whole status on every change. */
export interface ServingEvent {
  type: 'status';
  status: ServingStatus;
}

/** `GET /serving/log?model=ID`: redacted text of the runtime's stdout, stderr and the supervisor's notes. */
export interface RuntimeLogEvent {
  model: string;
  /** One or more whole lines. The first event is the tail so far. */
  text: string;
}

/** What a person can do when a model cannot be served because access is missing (spec 001's three actions). */
export interface AccessMissing {
  repo: string;
  /** not_pulled: nothing of it is in the cache; gated / private: the Hub refuses this workstation's token (or it has none). */
  reason: 'not_pulled' | 'gated' | 'private';
  /** The model's page on the Hub. */
  url: string;
  actions: { kind: 'connect-hf' | 'choose-open-model' | 'open-model-page'; label: string; url?: string }[];
}

export const SERVING_ERROR_CODES = [
  /** Nothing of that repo (or file) is in the cache: carries `access`. */
  'serving.not_downloaded',
  /** A pull of it is unfinished. */
  'serving.incomplete',
  /** The repo holds several GGUF files: name one as REPO:FILE. */
  'serving.ambiguous',
  /** The file or repo is not something this runtime runs (no GGUF for the embedded runtime...). */
  'serving.unsupported',
  'serving.unknown_runtime',
  /** The runtime is not installed here: the message says how to install it. */
  'serving.not_installed',
  'serving.context_too_large',
  /** As many models as allowed are loaded: stop one first. */
  'serving.too_many',
  /** Loading it would take more memory than is free. */
  'serving.memory',
  /** The runtime failed to start or crashed for good (the message has the reason, the log tail is in /serving). */
  'serving.failed',
  'serving.not_running',
  /** The runtime stopped or failed while answering. */
  'serving.runtime_gone',
] as const;
export type ServingErrorCode = (typeof SERVING_ERROR_CODES)[number];

/** Our error body on /api/public for a serving failure; `access` when access is missing. */
export interface ServingApiError {
  error: ServingErrorCode;
  message: string;
  access?: AccessMissing;
}

/** The error body on /v1: OpenAI's shape, plus `access` when access is missing. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; access?: AccessMissing };
}
