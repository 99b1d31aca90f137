import type { ReactElement } from 'react';
import type { RunInfo, RunState } from '../../../../shared/runs';
import { Badge } from '../../components/ui';
import { formatDateTime, relativeTime } from '../../lib/format';
import type { Tone } from '../../lib/huggingface';
import { formatCommandLine } from '../../lib/run-form';

const STATE_TONES: Record<RunState, Tone> = { queued: 'neutral', running: 'info', succeeded: 'ok', failed: 'danger', stopped: 'warn', lost: 'warn' };

export function stateWords(run: Pick<RunInfo, 'state' | 'exitCode' | 'signal'>): string {
  if (run.state === 'failed') return run.exitCode !== null ? `Failed (exit ${run.exitCode})` : run.signal ? `Failed (${run.signal})` : 'Failed';
  return run.state[0]!.toUpperCase() + run.state.slice(1);
}

export function RunStateBadge({ run, testId }: { run: Pick<RunInfo, 'state' | 'exitCode' | 'signal'>; testId?: string }): ReactElement {
  return (
    <span data-testid={testId} className="run-state">
      <Badge tone={STATE_TONES[run.state]}>{stateWords(run)}</Badge>
    </span>
  );
}

/** The newest loss (or the first value) of a run, for the list. */
function lastValue(run: RunInfo): string | null {
  const values = run.lastMetric?.values;
  if (!values) return null;
  const name = 'loss' in values ? 'loss' : Object.keys(values)[0];
  if (name === undefined) return null;
  return `${name} ${Number(values[name]!.toPrecision(4))}`;
}

export function RunList({ runs }: { runs: RunInfo[] }): ReactElement {
  return (
    <ul className="run-list" aria-label="Runs">
      {runs.map((run) => {
        const when = run.startedAt ?? run.createdAt;
        const metric = lastValue(run);
        return (
          <li key={run.id} className="run-list__item" data-testid={`run-row-${run.name}`}>
            <a className="run-list__link" href={`#/runs/${encodeURIComponent(run.id)}`}>
              <span className="run-list__head">
                <span className="run-list__name">{run.name}</span>
                <RunStateBadge run={run} />
              </span>
              <code className="run-list__command">{formatCommandLine(run.command)}</code>
              <span className="run-list__meta">
                <time dateTime={when} title={formatDateTime(when)}>
                  {run.startedAt ? 'started ' : 'queued '}
                  {relativeTime(when)}
                </time>
                {run.recipe ? <span>recipe {run.recipe}</span> : null}
                {run.model ? <span>{run.model.repo}</span> : null}
                {metric ? <span>{metric}</span> : null}
                {run.reason && run.state !== 'running' ? <span className={run.state === 'failed' ? 'run-list__reason run-list__reason--failed' : 'run-list__reason'}>{run.reason}</span> : null}
              </span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}
