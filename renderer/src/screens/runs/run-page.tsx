import { useEffect, useState, type FormEvent, type ReactElement } from 'react';
import type { RunInfo } from '../../../../shared/runs';
import { Dialog } from '../../components/dialog';
import { Icon } from '../../components/icons';
import { Card, DefinitionList, Field, Result, Spinner } from '../../components/ui';
import { formatDateTime } from '../../lib/format';
import { formatCommandLine, nameProblem } from '../../lib/run-form';
import { isFinished, useRuns, type RunPermissions } from '../../stores/runs';
import { LogView } from './log-view';
import { RunMetricsCard } from './run-metrics-card';
import { RunStateBadge } from './run-list';

const LIVE_WORDS = { off: 'Not following', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', ended: 'Finished' } as const;

function sizeOf(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function duration(from: string | null, to: string | null): string | null {
  if (!from) return null;
  const ms = (to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime();
  if (!Number.isFinite(ms) || ms < 0) return null;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function SaveRecipeDialog({ run, onClose }: { run: RunInfo; onClose: () => void }): ReactElement {
  const [name, setName] = useState(run.recipe ?? run.name);
  const save = useRuns((s) => s.saveRecipe);
  const busy = useRuns((s) => s.busy === `save:${run.id}`);
  const error = useRuns((s) => s.actionError);
  const clearError = useRuns((s) => s.clearActionError);
  const problem = nameProblem(name.trim());
  const close = () => {
    clearError();
    onClose();
  };
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (problem || name.trim() === '') return;
    if (await save(run.id, name.trim())) onClose();
  };
  return (
    <Dialog
      title="Save as a recipe"
      size="small"
      onClose={close}
      description={<p>Its command, folder, environment and model, to start again with one click. Tokens with the operate scope may start recipes.</p>}
      footer={
        <>
          <button type="button" className="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" form="save-recipe-form" className="button button--primary" disabled={busy || !!problem || name.trim() === ''}>
            {busy ? 'Saving…' : 'Save recipe'}
          </button>
        </>
      }
    >
      <form id="save-recipe-form" className="stack" onSubmit={onSubmit}>
        <Field label="Recipe name" error={problem}>
          {({ id, describedBy }) => <input id={id} className="input" value={name} onChange={(e) => setName(e.target.value)} maxLength={64} autoComplete="off" spellCheck={false} aria-describedby={describedBy} data-autofocus />}
        </Field>
        {error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
      </form>
    </Dialog>
  );
}

function RunActions({ run, can }: { run: RunInfo; can: RunPermissions }): ReactElement {
  const stop = useRuns((s) => s.stop);
  const stopping = useRuns((s) => s.busy === `stop:${run.id}`);
  const startRecipe = useRuns((s) => s.startRecipe);
  const startingRecipe = useRuns((s) => run.recipe !== null && s.busy === `recipe:${run.recipe}`);
  const [saving, setSaving] = useState(false);
  const active = !isFinished(run);
  const why = [can.operateWhy, can.admin ? null : 'Saving recipes needs an admin token.'].filter(Boolean).join(' ');
  return (
    <div className="run-page__actions">
      {active ? (
        <button type="button" className="button button--danger" disabled={!can.operate || stopping} title={can.operateWhy ?? undefined} onClick={() => void stop(run.id)}>
          <Icon name="stop" size={14} /> {stopping ? 'Stopping…' : 'Stop'}
        </button>
      ) : null}
      {!active && run.recipe ? (
        <button
          type="button"
          className="button button--primary"
          disabled={!can.operate || startingRecipe}
          title={can.operateWhy ?? undefined}
          onClick={async () => {
            const again = await startRecipe(run.recipe!);
            if (again) location.hash = `/runs/${encodeURIComponent(again.id)}`;
          }}
        >
          <Icon name="play" size={14} /> {startingRecipe ? 'Starting…' : `Run “${run.recipe}” again`}
        </button>
      ) : null}
      <button type="button" className="button" disabled={!can.admin} title={can.admin ? undefined : 'Saving recipes needs an admin token.'} onClick={() => setSaving(true)}>
        Save as recipe
      </button>
      {why ? <p className="muted run-why">{why}</p> : null}
      {saving ? <SaveRecipeDialog run={run} onClose={() => setSaving(false)} /> : null}
    </div>
  );
}

function RunFacts({ run }: { run: RunInfo }): ReactElement {
  const items: [string, ReactElement | string][] = [
    ['Command', <code className="run-facts__code">{formatCommandLine(run.command)}</code>],
    ['Folder', <code className="run-facts__code">{run.cwd}</code>],
    ['Environment', run.env.length > 0 ? run.env.join(', ') : 'Only what Halo Forge sets'],
    ['Model', run.model ? `${run.model.repo} @ ${run.model.commit.slice(0, 10)}` : 'None'],
    ['Started', run.startedAt ? `${formatDateTime(run.startedAt)} by ${run.startedBy}` : `Queued ${formatDateTime(run.createdAt)}`],
    ['Duration', duration(run.startedAt, run.endedAt) ?? '—'],
  ];
  if (run.exitCode !== null || run.signal) items.push(['Exit', run.exitCode !== null ? `code ${run.exitCode}` : `signal ${run.signal}`]);
  items.push(['Run folder', <code className="run-facts__code">{run.runDir}</code>]);
  if (run.artifacts.length > 0) {
    items.push([
      'Artifacts',
      <ul className="run-facts__artifacts">
        {run.artifacts.map((a) => (
          <li key={a.path}>
            <code>{a.path}</code> <span className="muted">{sizeOf(a.bytes)}</span>
          </li>
        ))}
      </ul>,
    ]);
  }
  return <DefinitionList items={items} />;
}

export function RunPage({ runId, can }: { runId: string; can: RunPermissions }): ReactElement {
  const run = useRuns((s) => s.runs.find((r) => r.id === runId) ?? null);
  const watch = useRuns((s) => s.watch);
  const view = useRuns((s) => s.views[runId]);
  const actionError = useRuns((s) => s.actionError);
  const busy = useRuns((s) => s.busy);

  useEffect(() => watch(runId), [runId, watch]);

  if (!run) {
    if (view?.error) return <Result tone="danger" title={view.error.title} detail={view.error.detail} />;
    return <Spinner label="Loading the run" />;
  }
  const live = view?.live ?? 'off';
  return (
    <div className="stack stack--loose run-page" data-testid="run-page">
      <header className="run-page__header">
        <div className="run-page__title">
          <h2 className="run-page__name">{run.name}</h2>
          <RunStateBadge run={run} testId="run-state" />
          <span className={`run-live run-live--${live}`} data-testid="run-live">
            {LIVE_WORDS[live]}
          </span>
        </div>
        <RunActions run={run} can={can} />
      </header>
      {actionError && busy === null ? <Result tone="danger" title={actionError.title} detail={actionError.detail} testId="run-action-error" /> : null}
      {run.reason && run.state !== 'running' ? (
        <Result tone={run.state === 'failed' ? 'danger' : 'warn'} title={run.state === 'failed' ? 'The run failed' : run.state === 'lost' ? 'The run was lost' : 'Stopped'} detail={run.reason} testId="run-reason">
          {run.logTail ? <pre className="run-log__tail">{run.logTail}</pre> : null}
        </Result>
      ) : null}
      <RunMetricsCard run={run} />
      <Card title="Log" description="Redacted on the workstation before it is written or sent: tokens never reach this page.">
        <LogView log={view?.log ?? { lines: [], partial: '', dropped: 0, chars: 0 }} live={!isFinished(run)} />
      </Card>
      <Card title="Details">
        <RunFacts run={run} />
      </Card>
    </div>
  );
}
