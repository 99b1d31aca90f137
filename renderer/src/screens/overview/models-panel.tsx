import type { ReactElement } from 'react';
import type { ModelsFacts, PullSummary, RuntimesFacts } from '../../../../shared/machine';
import { formatBytes, formatEta, formatRate, percent } from './format';
import { Meter } from './meter';
import { Panel } from './panel';

const PULL_WORDS: Record<PullSummary['state'], string> = {
  queued: 'Queued',
  checking: 'Checking',
  downloading: 'Downloading',
  paused: 'Paused',
  verifying: 'Verifying',
  ready: 'Ready',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

function PullRow({ pull }: { pull: PullSummary }): ReactElement {
  const share = pull.bytesTotal > 0 ? percent(pull.bytesDone, pull.bytesTotal) : null;
  const text = [
    pull.bytesTotal > 0 ? `${formatBytes(pull.bytesDone)} of ${formatBytes(pull.bytesTotal)}` : null,
    pull.state === 'downloading' && pull.rate > 0 ? formatRate(pull.rate) : null,
    pull.state === 'downloading' ? formatEta(pull.etaSeconds) : null,
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <li className="overview-pull" data-testid="overview-pull">
      <span className="panel__strong">{pull.repo}</span>
      <Meter label={PULL_WORDS[pull.state]} value={share} text={text} />
    </li>
  );
}

export function ModelsPanel({ models }: { models: ModelsFacts | null }): ReactElement {
  return (
    <Panel icon="models" title="Models" link={{ href: '#/models', text: 'Models' }} testId="overview-models">
      {!models ? (
        <p className="stat__detail">Reading the workstation…</p>
      ) : !models.available ? (
        <p className="stat__detail">The model cache is not read by this server.</p>
      ) : (
        <p className="stat__big" data-testid="overview-model-count">
          {models.count === 0 ? 'No models yet' : `${models.count} ${models.count === 1 ? 'model' : 'models'} · ${formatBytes(models.sizeBytes)}`}
        </p>
      )}
      {models && models.pulls.length > 0 ? (
        <ul className="pull-list" aria-label="Pulls in progress">
          {models.pulls.map((pull) => (
            <PullRow key={pull.id} pull={pull} />
          ))}
        </ul>
      ) : models?.available ? (
        <p className="stat__detail">No pull in progress.</p>
      ) : null}
    </Panel>
  );
}

export function RuntimesPanel({ runtimes }: { runtimes: RuntimesFacts | null }): ReactElement {
  return (
    <Panel icon="activity" title="Running models" testId="overview-runtimes">
      {!runtimes ? (
        <p className="stat__detail">Reading the workstation…</p>
      ) : !runtimes.available ? (
        <p className="stat__detail">This server does not run models yet: serving comes with a later release.</p>
      ) : runtimes.running.length === 0 ? (
        <p className="stat__big">Nothing running</p>
      ) : (
        <ul className="runtime-list">
          {runtimes.running.map((runtime) => (
            <li key={runtime.id} className="runtime" data-testid="overview-runtime">
              <span className="panel__strong">{runtime.model}</span>
              <span className="panel__muted">
                {[runtime.runtime, runtime.state, runtime.memoryBytes !== null ? formatBytes(runtime.memoryBytes) : null, runtime.tokensPerSecond !== null ? `${runtime.tokensPerSecond.toFixed(1)} tokens/s` : null].filter(Boolean).join(' · ')}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
