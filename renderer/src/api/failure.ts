import type { ErrorCode } from '../../../shared/api';
import type { PullAction } from '../../../shared/models';
import type { AccessMissing } from '../../../shared/serving';

/** A failed API call: the backend's stable code, or what went wrong before it could answer. */
export type FailureCode = ErrorCode | 'network' | 'http' | 'not_a_token';

/** What a person reads: a short verdict and the sentence that explains it. */
export interface Explained {
  title: string;
  detail: string;
}

// Only these mean "your halo-forge token is bad"; a 401 with any other code
// (none exist today) must not throw the user out of the screen they are on.
const TOKEN_REFUSED: ReadonlySet<FailureCode> = new Set(['auth.required', 'auth.invalid', 'auth.expired']);

export class ApiFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly status = 0,
    /** Seconds, from Retry-After on 429. */
    readonly retryAfter: number | null = null,
    /** A model could not be served because access is missing: what the person can do about it. */
    readonly access: AccessMissing | null = null,
    /** A Models refusal's fix, as the backend named it (accept a license, connect Hugging Face...). */
    readonly action: PullAction | null = null,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }

  get tokenRefused(): boolean {
    return this.status === 401 && TOKEN_REFUSED.has(this.code);
  }
}

const TITLES: Partial<Record<FailureCode, string>> = {
  network: 'Server unreachable',
  http: 'Unexpected answer',
  not_a_token: 'Not a Halo Forge API token',
  'auth.required': 'Token needed',
  'auth.invalid': 'Invalid or revoked token',
  'auth.expired': 'Token expired',
  'auth.forbidden': 'Forbidden for this token’s scope',
  'auth.throttled': 'Too many failed attempts',
  'request.host': 'Refused by the workstation',
  'request.invalid': 'Request refused',
  'token.invalid_name': 'Invalid name',
  'token.duplicate': 'Name already taken',
  'token.not_found': 'No such token',
  'exposure.fixed': 'Set by the command line',
  'exposure.failed': 'Could not open remote access',
  'hf.invalid_token': 'Not a Hugging Face token',
  'hf.rejected': 'The Hub refused the token',
  'hf.unreachable': 'Hugging Face is unreachable',
  'hf.env_token': 'Held by the environment',
  'hf.storage_failed': 'Could not store the token',
  'hf.invalid_model': 'Not a model id',
  'serving.not_downloaded': 'Not downloaded',
  'serving.incomplete': 'Download unfinished',
  'serving.ambiguous': 'Several model files',
  'serving.unsupported': 'Not runnable here',
  'serving.unknown_runtime': 'Unknown runtime',
  'serving.not_installed': 'Runtime not installed',
  'serving.context_too_large': 'Context too large',
  'serving.too_many': 'Too many models loaded',
  'serving.memory': 'Not enough memory',
  'serving.failed': 'The model failed to start',
  'serving.not_running': 'Not running',
  'serving.runtime_gone': 'The model stopped answering',
  'storage.full': 'The workstation’s disk is full',
  'storage.read_only': 'The workstation’s disk is read-only',
  'storage.denied': 'The workstation cannot write its files',
  'storage.failed': 'The workstation’s disk failed',
  'model.invalid_id': 'Not a model name',
  'model.looks_like_token': 'That looks like a token',
  'model.not_found': 'Model not found',
  'model.gated': 'License not accepted',
  'model.pending': 'Access request pending',
  'model.no_token': 'Hugging Face not connected',
  'model.unauthorized': 'The Hub refused the token',
  'model.revision_not_found': 'Unknown revision',
  'model.entry_not_found': 'File not found',
  'model.no_match': 'No file matches',
  'model.unsafe_path': 'Unsafe file name in the repo',
  'model.too_large': 'File too large',
  'model.disk_full': 'Not enough disk space',
  'model.cache_unwritable': 'The cache folder is not writable',
  'model.verify_failed': 'A file failed verification',
  'model.network': 'Network error',
  'model.hub_unreachable': 'Hugging Face is unreachable',
  'model.not_local': 'Not in the cache',
  'pull.not_found': 'No such pull',
  'pull.busy': 'A pull is already under way',
  internal: 'The workstation hit an error',
};

/** Error → plain words. The backend's message is written for people, so it becomes the detail. */
export function explainFailure(error: unknown): Explained {
  if (error instanceof ApiFailure) return { title: TITLES[error.code] ?? 'Request failed', detail: error.message };
  return { title: 'Something went wrong', detail: error instanceof Error ? error.message : String(error) };
}

const PULL_ACTION_KINDS: ReadonlySet<string> = new Set<PullAction['kind']>(['accept-license', 'connect-hf', 'check-name', 'free-space', 'retry', 'fix-permissions']);

/**
 * The `action` of an error body, if it is one this dashboard can show. Its
 * page must be a web page: a `javascript:` or `file:` URL from a bad answer
 * never becomes a link (the action is kept, without it).
 */
export function pullActionOf(value: unknown): PullAction | null {
  if (!value || typeof value !== 'object') return null;
  const { kind, label, url } = value as Record<string, unknown>;
  if (typeof kind !== 'string' || !PULL_ACTION_KINDS.has(kind) || typeof label !== 'string' || !label) return null;
  const action: PullAction = { kind: kind as PullAction['kind'], label };
  if (typeof url === 'string' && webPage(url)) action.url = url;
  return action;
}

function webPage(url: string): boolean {
  try {
    return ['https:', 'http:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}
