import type { ReactElement } from 'react';
import type { AccessMissing } from '../../../../shared/serving';
import { Icon } from '../../components/icons';
import { accessActions, accessReason } from '../../lib/access-actions';
import { ExternalLink } from '../models/external-link';

const ICONS = { 'connect-hf': 'huggingface', 'choose-open-model': 'models', 'open-model-page': 'external' } as const;

/** Spec 001: when a model cannot be served for lack of access, three ways out. */
export function AccessMissingActions({ access, title, detail }: { access: AccessMissing; title: string; detail?: string }): ReactElement {
  return (
    <div className="result result--warn access-missing" data-testid="access-missing" role="group" aria-label="Access missing">
      <Icon name="warning" />
      <div>
        <p className="result__title">{title}</p>
        <p className="result__detail">{detail ?? accessReason(access)}</p>
        <div className="button-row access-missing__actions">
          {accessActions(access).map((action) =>
            action.external ? (
              <ExternalLink key={action.kind} href={action.href} className="button button--small button--wrap" testId={`access-${action.kind}`}>
                <Icon name={ICONS[action.kind]} size={16} /> {action.label}
              </ExternalLink>
            ) : (
              <a key={action.kind} href={action.href} className={`button button--small button--wrap${action.kind === 'connect-hf' ? ' button--primary' : ''}`} data-testid={`access-${action.kind}`}>
                <Icon name={ICONS[action.kind]} size={16} /> {action.label}
              </a>
            ),
          )}
        </div>
      </div>
    </div>
  );
}
