import type { ReactElement } from 'react';
import type { PullInfo } from '../../../../shared/models';
import { Badge } from '../../components/ui';
import { formatBytes, formatEta, formatRate, isActive, isResumable, percentDone, PULL_STATE_WORDS } from '../../lib/models';
import { useModels } from '../../stores/models';
import { FailureAction } from './failure-action';

/** One pull: its state, bytes, rate and time left, live; the buttons that steer it; an honest end. */
export function PullProgress({ pull, canOperate }: { pull: PullInfo; canOperate: boolean }): ReactElement {
  const steer = useModels((s) => s.steer);
  const startPull = useModels((s) => s.startPull);
  const busy = useModels((s) => s.busyPull === pull.id);
  const words = PULL_STATE_WORDS[pull.state];
  const percent = percentDone(pull);
  const verified = pull.files.filter((f) => f.state === 'done').length;
  const retry = () => void startPull({ repo: pull.repo, revision: pull.revision, include: pull.include, exclude: pull.exclude });

  return (
    <article className={`pull pull--${pull.state}`} data-testid={`pull-${pull.repo}`} aria-label={`Pull of ${pull.repo}`}>
      <div className="pull__head">
        <code className="pull__repo">{pull.repo}</code>
        <Badge tone={words.tone}>{words.label}</Badge>
      </div>
      <div className="progress" role="progressbar" aria-label={`${pull.repo} progress`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <span className="progress__bar" style={{ width: `${percent}%` }} />
      </div>
      <p className="pull__numbers" data-testid="pull-numbers">
        <span>
          {formatBytes(pull.bytesDone)} of {formatBytes(pull.bytesTotal)} ({percent}%)
        </span>
        <span>
          {verified} of {pull.files.length} file{pull.files.length === 1 ? '' : 's'} verified
        </span>
        {pull.state === 'downloading' ? <span>{formatRate(pull.rate)}</span> : null}
        {pull.state === 'downloading' && formatEta(pull.etaSeconds) ? <span>{formatEta(pull.etaSeconds)}</span> : null}
      </p>
      {pull.state === 'ready' ? <p className="pull__end pull__end--ok">Every chosen file is on disk and verified. Ready to serve.</p> : null}
      {pull.state === 'interrupted' ? <p className="pull__end">The process that ran it stopped. Its finished and partial files are kept: resume continues where it stopped.</p> : null}
      {pull.owner === 'cli' && isActive(pull) ? <p className="muted">Running in a halo-forge CLI on the workstation.</p> : null}
      {pull.error ? (
        <div className="pull__error" role="alert">
          <p>{pull.error.message}</p>
          {pull.error.action && canOperate ? <FailureAction action={pull.error.action} onRetry={retry} /> : null}
        </div>
      ) : null}
      {canOperate && (pull.owner === 'server' || pull.state === 'interrupted') ? (
        <div className="button-row">
          {isActive(pull) ? (
            <button type="button" className="button button--small" disabled={busy} onClick={() => void steer(pull.id, 'pause')}>
              Pause
            </button>
          ) : null}
          {isResumable(pull) ? (
            <button type="button" className="button button--small button--primary" disabled={busy} onClick={() => void steer(pull.id, 'resume')}>
              Resume
            </button>
          ) : null}
          {isActive(pull) || pull.state === 'paused' ? (
            <button type="button" className="button button--small button--ghost-danger" disabled={busy} onClick={() => void steer(pull.id, 'cancel')}>
              Cancel
            </button>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}
