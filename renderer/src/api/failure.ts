import type { ErrorCode } from '../../../shared/api';

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
  'storage.full': 'The workstation’s disk is full',
  'storage.read_only': 'The workstation’s disk is read-only',
  'storage.denied': 'The workstation cannot write its files',
  'storage.failed': 'The workstation’s disk failed',
  internal: 'The workstation hit an error',
};

/** Error → plain words. The backend's message is written for people, so it becomes the detail. */
export function explainFailure(error: unknown): Explained {
  if (error instanceof ApiFailure) return { title: TITLES[error.code] ?? 'Request failed', detail: error.message };
  return { title: 'Something went wrong', detail: error instanceof Error ? error.message : String(error) };
}
