// What a person can do about a failed pull, keyed on the error code.
import type { ApiError } from '../../../shared/api.js';
import type { PullAction } from '../../../shared/models.js';
import { HaloError, isHaloError } from '../errors.js';

/** A refusal that carries its fix: the error body gains `action`, so a client never has to guess it from the code. */
export class ActionableError extends HaloError {
  constructor(
    err: HaloError,
    readonly action: PullAction,
  ) {
    super(err.statusCode, err.code, err.message, err.headers);
  }

  override toBody(): ApiError & { action: PullAction } {
    return { ...super.toBody(), action: this.action };
  }
}

/** The same error with the action that fixes it, where there is one. */
export function withAction(err: unknown, modelUrl: string): unknown {
  if (!isHaloError(err) || err instanceof ActionableError) return err;
  const action = actionFor(err.code, modelUrl);
  return action ? new ActionableError(err, action) : err;
}

export function actionFor(code: string, modelUrl: string): PullAction | null {
  switch (code) {
    case 'model.gated':
      return { kind: 'accept-license', label: 'Accept the license on the model page', url: modelUrl };
    case 'model.pending':
      return { kind: 'accept-license', label: 'Your access request awaits the authors; check the model page', url: modelUrl };
    case 'model.no_token':
    case 'model.unauthorized':
      return { kind: 'connect-hf', label: 'Connect Hugging Face' };
    case 'model.not_found':
    case 'model.revision_not_found':
    case 'model.entry_not_found':
    case 'model.invalid_id':
    case 'model.no_match':
      return { kind: 'check-name', label: 'Check the model name, revision and file patterns' };
    case 'model.disk_full':
      return { kind: 'free-space', label: 'Free disk space, or move the Hugging Face cache' };
    case 'model.cache_unwritable':
      return { kind: 'fix-permissions', label: 'Make the Hugging Face cache folder writable' };
    case 'model.network':
    case 'model.hub_unreachable':
    case 'model.verify_failed':
      return { kind: 'retry', label: 'Pull again: finished files are kept' };
    default:
      return null;
  }
}
