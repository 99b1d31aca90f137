import type { AccessMissing, OpenAiErrorBody, ServingApiError, ServingErrorCode } from '../../../shared/serving.js';
import { HaloError } from '../errors.js';
import { hubUrl } from '../secrets/hub-client.js';

/**
 * A serving failure: our shape on /api/public (`{error, message, access?}`),
 * OpenAI's on /v1 (`{error: {message, type, param, code, access?}}`), from
 * one error, so both APIs say the same thing.
 */
export class ServingError extends HaloError {
  constructor(
    statusCode: number,
    readonly servingCode: ServingErrorCode,
    message: string,
    readonly access?: AccessMissing,
    /** The request field it is about, for OpenAI's `param`. */
    readonly param: string | null = 'model',
  ) {
    super(statusCode, servingCode, message);
  }

  override toBody(): ServingApiError {
    return { error: this.servingCode, message: this.message, ...(this.access ? { access: this.access } : {}) };
  }

  toOpenAi(): OpenAiErrorBody {
    return {
      error: {
        message: this.message,
        type: this.statusCode >= 500 ? 'server_error' : 'invalid_request_error',
        param: this.param,
        code: this.servingCode,
        ...(this.access ? { access: this.access } : {}),
      },
    };
  }
}

export const servingError = (status: number, code: ServingErrorCode, message: string, access?: AccessMissing, param?: string | null) =>
  new ServingError(status, code, message, access, param);

/** The spec's three actions for a model this workstation cannot serve because access is missing. */
export function accessMissing(repo: string, reason: AccessMissing['reason'], env: NodeJS.ProcessEnv): AccessMissing {
  let base = 'https://huggingface.co';
  try {
    base = hubUrl(env).replace(/\/+$/, '');
  } catch {
    // An unusable HF_ENDPOINT was refused at startup; the public Hub's address is the fallback.
  }
  const url = `${base}/${repo}`;
  return {
    repo,
    reason,
    url,
    actions: [
      { kind: 'connect-hf', label: 'Connect Hugging Face' },
      { kind: 'choose-open-model', label: 'Choose an open model' },
      { kind: 'open-model-page', label: 'Open the model page', url },
    ],
  };
}
