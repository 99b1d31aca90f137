import type { ApiError, ErrorCode } from '../../shared/api.js';

/** The one way the backend signals a failure a client or a person should read. */
export class HaloError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HaloError';
  }

  toBody(): ApiError {
    return { error: this.code, message: this.message };
  }
}

export const httpError = (statusCode: number, code: ErrorCode, message: string, headers?: Record<string, string>) =>
  new HaloError(statusCode, code, message, headers);

export function isHaloError(err: unknown): err is HaloError {
  return err instanceof HaloError;
}
