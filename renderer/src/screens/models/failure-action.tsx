import type { ReactElement } from 'react';
import type { PullAction } from '../../../../shared/models';
import { Icon } from '../../components/icons';
import { ExternalLink } from './external-link';

/** The one thing that fixes a failure, as a button a person can press. */
export function FailureAction({ action, onRetry }: { action: PullAction; onRetry?: () => void }): ReactElement {
  if (action.kind === 'accept-license' && action.url) {
    return (
      <ExternalLink href={action.url} className="button button--small button--primary button--wrap" testId="failure-action">
        <Icon name="external" size={16} /> {action.label}
      </ExternalLink>
    );
  }
  if (action.kind === 'connect-hf') {
    return (
      <a href="#/huggingface" className="button button--small button--primary button--wrap" data-testid="failure-action">
        <Icon name="huggingface" size={16} /> {action.label}
      </a>
    );
  }
  if (action.kind === 'retry' && onRetry) {
    return (
      <button type="button" className="button button--small button--primary button--wrap" onClick={onRetry} data-testid="failure-action">
        <Icon name="refresh" size={16} /> {action.label}
      </button>
    );
  }
  return (
    <p className="model-action" data-testid="failure-action">
      <Icon name="warning" size={16} /> {action.label}
    </p>
  );
}
