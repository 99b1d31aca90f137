import type { ReactElement } from 'react';
import type { PullAction } from '../../../../shared/models';
import { Icon } from '../../components/icons';
import { ExternalLink } from './external-link';

/** The one thing that fixes a failure, as a button a person can press; missing access gets its ways out (AccessWays). */
export function FailureAction({ action, onRetry, modelUrl }: { action: PullAction; onRetry?: () => void; modelUrl?: string }): ReactElement {
  if (action.kind === 'accept-license' || action.kind === 'connect-hf') return <AccessWays action={action} modelUrl={modelUrl} />;
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

/**
 * Missing access, offered as the Playground offers it (spec 001): the fix the
 * backend named first and primary, the other way out beside it. A license is
 * accepted on the model page, with the account whose token the workstation
 * holds, or another account's token is connected; a token that cannot read
 * the model is replaced, or the model page tells why. ("Choose an open model"
 * is this screen's own search.)
 */
function AccessWays({ action, modelUrl }: { action: PullAction; modelUrl?: string }): ReactElement {
  const page = action.url ?? modelUrl;
  const license = action.kind === 'accept-license';
  const connect = (
    <a key="connect" href="#/huggingface" className={`button button--small button--wrap${license ? '' : ' button--primary'}`} data-testid={license ? 'failure-action-connect-hf' : 'failure-action'}>
      <Icon name="huggingface" size={16} /> {license ? 'Connect Hugging Face' : action.label}
    </a>
  );
  const open = page ? (
    <ExternalLink key="page" href={page} className={`button button--small button--wrap${license ? ' button--primary' : ''}`} testId={license ? 'failure-action' : 'failure-action-open-model-page'}>
      <Icon name="external" size={16} /> {license ? action.label : 'Open the model page'}
    </ExternalLink>
  ) : license ? (
    <p key="page" className="model-action" data-testid="failure-action">
      <Icon name="warning" size={16} /> {action.label}
    </p>
  ) : null;
  return (
    <div className="button-row access-ways" role="group" aria-label="Ways to get access">
      {license ? [open, connect] : [connect, open]}
    </div>
  );
}
