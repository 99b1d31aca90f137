// What a person can do about a failed pull, keyed on the error code.
import type { PullAction } from '../../../shared/models.js';

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
      return { kind: 'check-name', label: 'Check the model name and revision' };
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
