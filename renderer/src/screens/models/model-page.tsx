import { useState, type FormEvent, type ReactElement } from 'react';
import type { FileGroup, ModelAccessState, ModelDetails } from '../../../../shared/models';
import { Badge, Card, Field, LiveRegion, Result, Spinner } from '../../components/ui';
import { Icon } from '../../components/icons';
import type { Tone } from '../../lib/huggingface';
import { formatBytes, isActive, patternList } from '../../lib/models';
import { latestPullOf, useModels } from '../../stores/models';
import { ExternalLink } from './external-link';
import { FailureAction } from './failure-action';
import { PullProgress } from './pull-progress';

const ACCESS_WORDS: Record<ModelAccessState, { tone: Tone; label: string }> = {
  granted: { tone: 'ok', label: 'Access granted' },
  gated: { tone: 'warn', label: 'Gated: license not accepted' },
  pending: { tone: 'warn', label: 'Access request pending' },
  not_found: { tone: 'danger', label: 'Not found' },
  unauthorized: { tone: 'danger', label: 'Token not accepted' },
  unreachable: { tone: 'warn', label: 'Hub unreachable' },
};

const ACCESS_ACTION: Partial<Record<ModelAccessState, 'license' | 'connect'>> = { gated: 'license', pending: 'license', unauthorized: 'connect' };

function AccessLine({ details }: { details: ModelDetails }): ReactElement {
  const words = ACCESS_WORDS[details.access.state];
  const action = ACCESS_ACTION[details.access.state];
  return (
    <div className={`model-access model-access--${words.tone}`} data-testid="model-access">
      <div className="model-access__head">
        <Badge tone={words.tone}>{words.label}</Badge>
        {details.gated ? <span className="muted">Gated model ({details.gated === 'manual' ? 'the authors approve each request' : 'approved on request'})</span> : null}
        {details.private ? <span className="muted">Private</span> : null}
      </div>
      <p>{details.access.message}</p>
      {action === 'license' ? <FailureAction action={{ kind: 'accept-license', label: details.access.state === 'pending' ? 'Open the model page' : 'Accept the license on the model page', url: details.url }} /> : null}
      {action === 'connect' ? <FailureAction action={{ kind: 'connect-hf', label: 'Connect Hugging Face' }} modelUrl={details.url} /> : null}
    </div>
  );
}

function GroupRow({ group, onPull, disabled, why }: { group: FileGroup; onPull: () => void; disabled: boolean; why: string | null }): ReactElement {
  return (
    <li className="group" data-testid={`group-${group.label}`}>
      <div className="group__text">
        <span className="group__label">{group.label}</span>
        <span className="muted">
          {formatBytes(group.size)} · {group.files.length} file{group.files.length === 1 ? '' : 's'}
        </span>
      </div>
      <button type="button" className="button button--small" onClick={onPull} disabled={disabled} title={why ?? undefined} aria-label={`Pull ${group.label}`}>
        Pull
      </button>
    </li>
  );
}

function PatternForm({ onPull, disabled, why }: { onPull: (include: string[]) => void; disabled: boolean; why: string | null }): ReactElement {
  const [text, setText] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const include = patternList(text);
    if (include.length > 0) onPull(include);
  };
  return (
    <form className="inline-form pattern-form" onSubmit={submit} aria-label="Pull files matching patterns">
      <Field label="Or only files matching" hint="Globs, separated by commas: *.safetensors, config.json">
        {({ id, describedBy }) => (
          <input id={id} className="input input--mono" value={text} onChange={(e) => setText(e.target.value)} placeholder="*Q4_K_M.gguf" autoComplete="off" spellCheck={false} aria-describedby={describedBy} />
        )}
      </Field>
      <button type="submit" className="button" disabled={disabled || patternList(text).length === 0} title={why ?? undefined}>
        Pull matching
      </button>
    </form>
  );
}

export function ModelPage({ canOperate }: { canOperate: boolean }): ReactElement | null {
  const selected = useModels((s) => s.selected);
  const close = useModels((s) => s.close);
  const startPull = useModels((s) => s.startPull);
  const starting = useModels((s) => s.starting);
  const startError = useModels((s) => s.startError);
  const pull = useModels((s) => (s.selected ? latestPullOf(s.pulls, s.selected.repo) : null));
  if (!selected) return null;
  const details = selected.details;
  const running = pull !== null && (isActive(pull) || pull.state === 'paused');
  const why = !canOperate ? 'Pulling needs a token with the operate scope.' : running ? 'A pull of this model is under way.' : null;
  const disabled = why !== null || starting !== null;
  const pullWith = (include?: string[]) => void startPull({ repo: selected.repo, revision: details?.revision, include });
  const total = details?.files.reduce((sum, f) => sum + f.size, 0) ?? 0;

  return (
    <Card
      title={selected.repo}
      className="model-page"
      description={details ? `Revision ${details.revision} (${details.commit.slice(0, 12)})` : undefined}
      actions={
        <button type="button" className="icon-button" aria-label="Close the model page" onClick={close}>
          <Icon name="close" size={16} />
        </button>
      }
    >
      {selected.phase === 'loading' ? <Spinner label={`Loading ${selected.repo}`} /> : null}
      {selected.error ? (
        <Result tone="danger" title={selected.error.title} detail={selected.error.detail} testId="model-error">
          {selected.error.action ? <FailureAction action={selected.error.action} /> : null}
        </Result>
      ) : null}
      {details ? (
        <div className="stack">
          <AccessLine details={details} />
          <ExternalLink href={details.url} className="button button--small model-page__hub" testId="hub-link">
            <Icon name="external" size={16} /> Open on Hugging Face
          </ExternalLink>
          {details.local ? (
            <p className="muted" data-testid="model-local">
              In the cache: {details.local.revisions.length} revision{details.local.revisions.length === 1 ? '' : 's'}, {formatBytes(details.local.size)}
              {details.local.incomplete ? ' (a pull is unfinished)' : ''}.
            </p>
          ) : null}
          <section aria-labelledby="files-title">
            <div className="section-head">
              <h3 id="files-title" className="section-head__title">
                Files
              </h3>
              <button type="button" className="button button--small button--primary" onClick={() => pullWith()} disabled={disabled} title={why ?? undefined}>
                Pull all ({formatBytes(total)})
              </button>
            </div>
            {!canOperate ? <p className="muted" data-testid="no-operate">Pulling needs a token with the operate scope; this one can only look.</p> : null}
            <ul className="groups">
              {details.groups.map((group) => (
                <GroupRow key={group.label} group={group} onPull={() => pullWith(group.include)} disabled={disabled} why={why} />
              ))}
            </ul>
            <PatternForm onPull={pullWith} disabled={disabled} why={why} />
          </section>
          <LiveRegion>
            {startError ? (
              <Result tone="danger" title={startError.title} detail={startError.detail} testId="pull-refused">
                {startError.action ? <FailureAction action={startError.action} modelUrl={details.url} /> : null}
              </Result>
            ) : null}
          </LiveRegion>
          {pull ? <PullProgress pull={pull} canOperate={canOperate} /> : null}
        </div>
      ) : null}
    </Card>
  );
}
