import { useState, type ReactElement } from 'react';
import { Badge, Card, DefinitionList, Result, Spinner } from '../../components/ui';
import { ConfirmDialog } from '../../components/dialog';
import { Icon } from '../../components/icons';
import { useHuggingFace } from '../../stores/huggingface';
import { canAdminister, useSession } from '../../stores/session';
import { hfAccessSummary, sourceWords } from '../../lib/huggingface';
import { formatDateTime, relativeTime } from '../../lib/format';

const ROLE_LABELS = { read: 'Read', write: 'Write', fineGrained: 'Fine-grained', admin: 'Admin' } as const;

function ClearControl(): ReactElement | null {
  const status = useHuggingFace((s) => s.status);
  const busy = useHuggingFace((s) => s.busy);
  const clear = useHuggingFace((s) => s.clear);
  const [confirming, setConfirming] = useState(false);
  if (!status?.present) return null;
  if (status.canClear) {
    return (
      <>
        <button type="button" className="button button--ghost-danger" onClick={() => setConfirming(true)} disabled={busy !== 'idle'}>
          Clear stored token
        </button>
        {confirming ? (
          <ConfirmDialog
            title="Clear the Hugging Face token?"
            confirmLabel="Clear token"
            busy={busy === 'clearing'}
            onCancel={() => setConfirming(false)}
            onConfirm={async () => {
              await clear();
              setConfirming(false);
            }}
          >
            <p>The workstation forgets the token it stored. Gated and private models stop downloading until you save a token again.</p>
          </ConfirmDialog>
        ) : null}
      </>
    );
  }
  if (status.source === 'env') {
    return (
      <p className="callout callout--info" data-testid="hf-env-note">
        <Icon name="warning" size={18} />
        <span>
          The dashboard can use this token but <strong>cannot clear it</strong>: it comes from HF_TOKEN in the environment that started Halo Forge. Remove it from the shell, launch agent, service unit or desktop
          environment, then restart Halo Forge.
        </span>
      </p>
    );
  }
  return (
    <p className="callout callout--info">
      <Icon name="warning" size={18} />
      <span>The dashboard cannot clear this token. {status.message}</span>
    </p>
  );
}

export function HfStatusCard(): ReactElement {
  const status = useHuggingFace((s) => s.status);
  const error = useHuggingFace((s) => s.error);
  const busy = useHuggingFace((s) => s.busy);
  const verifyAgain = useHuggingFace((s) => s.verifyAgain);
  const summary = hfAccessSummary(status);
  const admin = useSession(canAdminister);

  return (
    <Card
      title="Status"
      actions={
        <span data-testid="hf-status-badge">
          <Badge tone={summary.tone}>{summary.label}</Badge>
        </span>
      }
    >
      {!status ? (
        error ? (
          <Result tone="danger" title={error.title} detail={error.detail} />
        ) : (
          <Spinner label="Loading Hugging Face status" />
        )
      ) : (
        <div className="stack">
          <DefinitionList
            items={[
              ['Account', status.username ?? '—'],
              ['Token', status.present ? `${status.role ? ROLE_LABELS[status.role] : 'Type known once verified'}${status.tokenName ? ` · “${status.tokenName}”` : ''}` : 'None'],
              ['Comes from', sourceWords(status.source)],
              ['Last verified', status.checkedAt ? <time dateTime={status.checkedAt} title={formatDateTime(status.checkedAt)}>{relativeTime(status.checkedAt)}</time> : 'Never'],
              ['OS keyring', status.keyring.available ? 'Available' : `Not available${status.keyring.reason ? `: ${status.keyring.reason}` : ''}`],
            ]}
          />
          {status.message ? <p className="muted">{status.message}</p> : null}
          {status.warnings.length > 0 ? (
            <ul className="callout callout--warn callout--list" aria-label="Warnings">
              {status.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          ) : null}
          <div className="button-row" hidden={!admin}>
            {status.present ? (
              <button type="button" className="button" onClick={() => void verifyAgain()} disabled={busy !== 'idle'}>
                <Icon name="refresh" size={16} /> Verify again
              </button>
            ) : null}
            {busy === 'reverifying' ? <Spinner label="Verifying with Hugging Face" /> : null}
            <span className="button-row__spacer" />
            <ClearControl />
          </div>
        </div>
      )}
    </Card>
  );
}
