// This workstation's access to a model (HubClient.checkModel), turned into a
// refusal before any bytes move, or into the state a model's page shows.
import type { ModelDetails } from '../../../shared/models.js';
import type { ModelCheck } from '../../../shared/api.js';
import { httpError } from '../errors.js';

export function refuseWithoutAccess(check: ModelCheck, token: string | null): void {
  switch (check.access) {
    case 'granted':
      return;
    case 'gated':
      throw httpError(403, /awaiting a review/i.test(check.message) ? 'model.pending' : 'model.gated', check.message);
    case 'unauthorized':
      throw token ? httpError(403, 'model.unauthorized', check.message) : httpError(401, 'model.no_token', `${check.message} (Connect Hugging Face on the Connection screen, or run halo-forge hf login.)`);
    case 'not_found':
      throw httpError(404, 'model.not_found', check.message);
    default:
      throw httpError(502, 'model.hub_unreachable', check.message);
  }
}

export function accessState(check: ModelCheck): ModelDetails['access']['state'] {
  if (check.access === 'gated' && /awaiting a review/i.test(check.message)) return 'pending';
  return check.access;
}
