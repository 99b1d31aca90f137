// The Models contract: the Hugging Face models this workstation can find,
// pull into the shared Hugging Face cache, keep and delete. Shared by the
// backend (routes, CLI), the dashboard and the tests. Imports nothing.

/** A model on the Hub, as a search lists it. */
export interface HubModelSummary {
  /** `org/name`. */
  id: string;
  downloads: number | null;
  likes: number | null;
  gated: false | 'auto' | 'manual';
  private: boolean;
  /** ISO time of the last change on the Hub. */
  updatedAt: string | null;
  /** e.g. "text-generation". */
  pipelineTag: string | null;
  /** e.g. "gguf", "transformers". */
  library: string | null;
}

export interface ModelSearchResult {
  query: string;
  models: HubModelSummary[];
}

/** One file of a repo at a revision, as the Hub lists it. */
export interface RepoFile {
  path: string;
  size: number;
  /** The git blob SHA-1 (what a non-LFS file is checked against). */
  gitOid: string;
  /** The SHA-256 of an LFS (or Xet) file's content; null for a plain git file. */
  sha256: string | null;
}

/** Files grouped the way people choose them: one GGUF quantization, a safetensors set, the rest. */
export interface FileGroup {
  kind: 'gguf' | 'safetensors' | 'pytorch' | 'other';
  /** e.g. "Q4_K_M", "safetensors (4 shards)", "Configs and tokenizer". */
  label: string;
  files: string[];
  size: number;
  /** Glob patterns that select exactly this group (with configs where a runtime needs them). */
  include: string[];
}

export type ModelAccessState = 'granted' | 'gated' | 'pending' | 'not_found' | 'unauthorized' | 'unreachable';

export interface ModelDetails {
  id: string;
  /** The commit that `revision` resolved to. */
  commit: string;
  revision: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
  /** The model's page on the Hub. */
  url: string;
  files: RepoFile[];
  groups: FileGroup[];
  /** This workstation's access, checked now. */
  access: { state: ModelAccessState; message: string };
  /** What of it is already in the local cache. */
  local: LocalModel | null;
}

export interface LocalFile {
  path: string;
  size: number;
}

export interface LocalRevision {
  commit: string;
  /** Branches and tags that point at this commit (`refs/`). */
  refs: string[];
  files: LocalFile[];
  /** Bytes on disk of this revision's blobs (shared blobs counted once). */
  size: number;
  /** When a file of it was last written (ISO). */
  lastModified: string;
}

/** A repo in the shared cache, whoever put it there (Halo Forge, Python tools, vLLM, llama.cpp). */
export interface LocalModel {
  id: string;
  kind: 'model' | 'dataset' | 'space';
  /** The repo's folder in the cache. */
  path: string;
  /** Bytes on disk, each blob once. */
  size: number;
  revisions: LocalRevision[];
  /** When Halo Forge last finished a pull of it (ISO); null if it came from another tool. */
  lastPulled: string | null;
  /** Set while a pull of it is unfinished: it is not offered for serving until ready. */
  incomplete: boolean;
}

export interface LocalModelList {
  cacheDir: string;
  /** Free bytes on the cache's disk. */
  freeBytes: number | null;
  models: LocalModel[];
}

export const PULL_STATES = ['queued', 'checking', 'downloading', 'paused', 'verifying', 'ready', 'failed', 'cancelled', 'interrupted'] as const;
/**
 * `interrupted`: the process that ran it stopped (killed, quit, reboot); its
 * partial files are kept and the same pull resumes them.
 */
export type PullState = (typeof PULL_STATES)[number];

/** What a person can do about a failed pull. */
export interface PullAction {
  kind: 'accept-license' | 'connect-hf' | 'check-name' | 'free-space' | 'retry' | 'fix-permissions';
  label: string;
  /** A page to open (the model page for a license). */
  url?: string;
}

/** A Models refusal (a pull that cannot start, a model that cannot be read): the usual error, with the action that fixes it where there is one. */
export interface ModelApiError {
  error: string;
  message: string;
  action?: PullAction;
}

export interface PullFileProgress {
  path: string;
  size: number;
  /** Bytes on disk, verified or not. */
  received: number;
  state: 'pending' | 'downloading' | 'verifying' | 'done' | 'failed';
}

export interface PullInfo {
  id: string;
  repo: string;
  /** What was asked for: a branch, tag or commit. */
  revision: string;
  /** What it resolved to, once known. */
  commit: string | null;
  include: string[];
  exclude: string[];
  state: PullState;
  /** Who runs it: this server, or a CLI process. */
  owner: 'server' | 'cli';
  bytesTotal: number;
  bytesDone: number;
  /** Bytes per second over the last few seconds. */
  rate: number;
  etaSeconds: number | null;
  files: PullFileProgress[];
  startedAt: string;
  finishedAt: string | null;
  error: { code: string; message: string; action: PullAction | null } | null;
}

export interface PullRequest {
  /** `org/name` or a huggingface.co URL. */
  repo: string;
  revision?: string;
  include?: string[];
  exclude?: string[];
}

export interface ModelDeleteRequest {
  repo: string;
  /** One revision (commit or ref); all of them when absent. */
  revision?: string;
}

export interface ModelDeleteResult {
  repo: string;
  removedRevisions: string[];
  freedBytes: number;
}

/** What the models event stream sends (`GET /api/public/models/events`). */
export type ModelEvent = { type: 'pull'; pull: PullInfo } | { type: 'local'; models: LocalModelList };

export const MODEL_ERROR_CODES = [
  'model.invalid_id',
  'model.looks_like_token',
  'model.not_found',
  'model.gated',
  'model.pending',
  'model.no_token',
  'model.unauthorized',
  'model.revision_not_found',
  'model.entry_not_found',
  'model.no_match',
  'model.unsafe_path',
  'model.too_large',
  'model.disk_full',
  'model.cache_unwritable',
  'model.verify_failed',
  'model.network',
  'model.hub_unreachable',
  'model.not_local',
  'pull.not_found',
  'pull.busy',
] as const;
export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];
