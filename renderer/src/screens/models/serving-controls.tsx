import { useEffect, useRef, type ReactElement } from 'react';
import type { RunningModel, ServableModel, ServingState } from '../../../../shared/serving';
import { Icon } from '../../components/icons';
import { Badge, Card, Result, Spinner } from '../../components/ui';
import type { Tone } from '../../lib/huggingface';
import { formatBytes } from '../../lib/models';
import { runningEntry, useServing, useServingRights } from '../../stores/serving';
import { useSession } from '../../stores/session';
import { AccessMissingActions } from '../playground/access-missing';
import './serving.css';

const STATE_WORDS: Record<ServingState, { label: string; tone: Tone }> = {
  starting: { label: 'Starting', tone: 'info' },
  ready: { label: 'Ready', tone: 'ok' },
  crashed: { label: 'Crashed', tone: 'danger' },
  stopping: { label: 'Stopping', tone: 'neutral' },
  stopped: { label: 'Stopped', tone: 'neutral' },
};

function formatUptime(seconds: number): string {
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${Math.floor(seconds / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
}

function RunFailure({ model }: { model: string }): ReactElement | null {
  const failure = useServing((s) => s.failures[model]);
  if (!failure) return null;
  return failure.access ? <AccessMissingActions access={failure.access} title={failure.title} detail={failure.detail} /> : <Result tone="danger" title={failure.title} detail={failure.detail} testId="run-failure" />;
}

/** The live, redacted log of one runtime; it follows the end unless the reader scrolled up. */
function RuntimeLogPanel({ model }: { model: string }): ReactElement | null {
  const log = useServing((s) => (s.log?.model === model ? s.log : null));
  const pre = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = pre.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [log?.text]);
  if (!log) return null;
  return (
    <div className="runtime-log" data-testid="runtime-log">
      <p className="runtime-log__head">
        {log.phase === 'loading' ? <Spinner /> : null}
        <span>{log.phase === 'live' ? 'Live log' : log.phase === 'ended' ? 'Log (the runtime has stopped)' : log.phase === 'failed' ? 'Log unavailable' : 'Opening the log'}</span>
        <span className="muted">Secrets are removed by the workstation before a line is written or sent.</span>
      </p>
      {log.error ? <Result tone="danger" title={log.error.title} detail={log.error.detail} /> : null}
      <pre
        ref={pre}
        className="runtime-log__text"
        tabIndex={0}
        aria-label={`Runtime log of ${model}`}
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {log.text || (log.phase === 'live' ? 'Nothing logged yet.' : '')}
      </pre>
    </div>
  );
}

function LogToggle({ model }: { model: string }): ReactElement {
  const open = useServing((s) => s.log?.model === model);
  const openLog = useServing((s) => s.openLog);
  const closeLog = useServing((s) => s.closeLog);
  return (
    <button type="button" className="button button--small" aria-expanded={open} onClick={() => (open ? closeLog() : openLog(model))} data-testid="log-toggle">
      <Icon name="log" size={16} /> {open ? 'Hide log' : 'Log'}
    </button>
  );
}

function RunningItem({ entry, canRun }: { entry: RunningModel; canRun: boolean }): ReactElement {
  const pending = useServing((s) => s.pending[entry.model]);
  const stop = useServing((s) => s.stop);
  const words = STATE_WORDS[entry.state];
  const facts: string[] = [entry.runtime];
  if (entry.memoryBytes !== null) facts.push(formatBytes(entry.memoryBytes));
  if (entry.state === 'ready') facts.push(`up ${formatUptime(entry.uptimeSeconds)}`);
  if (entry.contextSize) facts.push(`context ${entry.contextSize}`);
  if (entry.tokensPerSecond !== null) facts.push(`${entry.tokensPerSecond.toFixed(1)} tok/s last answer`);
  if (entry.loadedBy === 'jit') facts.push('loaded by a request');
  return (
    <li className="serving-item" data-testid={`running-${entry.model}`} data-state={entry.state}>
      <div className="serving-item__head">
        <code className="serving-item__id">{entry.model}</code>
        <Badge tone={words.tone}>{words.label}</Badge>
      </div>
      <p className="serving-item__facts muted">{facts.join(' · ')}</p>
      {entry.crash ? (
        <Result
          tone="danger"
          title={entry.crash.restartInMs !== null ? `Crashed; restarting in ${Math.ceil(entry.crash.restartInMs / 1000)} s` : 'Crashed'}
          detail={`${entry.crash.reason}${entry.crash.exitCode !== null ? ` (exit code ${entry.crash.exitCode})` : entry.crash.signal ? ` (${entry.crash.signal})` : ''}${entry.crash.hint ? ` ${entry.crash.hint}` : ''}`}
          testId="crash"
        >
          {entry.crash.logTail ? <pre className="runtime-log__text runtime-log__text--tail">{entry.crash.logTail}</pre> : null}
        </Result>
      ) : null}
      <div className="button-row">
        {entry.state === 'ready' ? (
          <a className="button button--small button--primary" href="#/playground">
            <Icon name="chat" size={16} /> Chat
          </a>
        ) : null}
        <LogToggle model={entry.model} />
        {canRun && entry.state !== 'stopping' ? (
          <button type="button" className="button button--small button--ghost-danger" disabled={pending !== undefined} onClick={() => void stop(entry.model)} data-testid="model-stop" aria-label={`Stop ${entry.model}`}>
            {pending === 'stop' ? <Spinner /> : <Icon name="stop" size={16} />} Stop
          </button>
        ) : null}
      </div>
      <RunFailure model={entry.model} />
      <RuntimeLogPanel model={entry.model} />
    </li>
  );
}

/** The Models screen's "Running" card: what is loaded, its state, Stop and the live log. Follows the serving stream. */
export function RunningModelsCard(): ReactElement | null {
  const rights = useServingRights();
  const readable = useSession((s) => s.phase === 'ready' && !s.refused && !(s.session?.authRequired && !s.session.token) && s.session?.token?.scope !== 'inference');
  const status = useServing((s) => s.status);
  const error = useServing((s) => s.error);
  const follow = useServing((s) => s.follow);
  const load = useServing((s) => s.load);
  useEffect(() => {
    if (!readable) return;
    void load();
    return follow();
  }, [readable, load, follow]);
  if (!readable) return null;
  const models = status?.models ?? [];
  return (
    <Card
      title="Running"
      description={
        status
          ? `Models loaded on this workstation, at most ${status.maxLoaded} at once.${status.ttlSeconds !== null ? ` One left idle for ${formatUptime(status.ttlSeconds)} is unloaded.` : ''} OpenAI clients reach them at /v1 with an inference token.`
          : 'Models loaded on this workstation.'
      }
    >
      {!rights.run && rights.why ? <p className="muted" data-testid="run-refused">{rights.why}</p> : null}
      {error ? <Result tone="danger" title={error.title} detail={error.detail} /> : null}
      {!status && !error ? <Spinner label="Loading the running models" /> : null}
      {status && models.length === 0 ? <p className="muted">Nothing is running. Run a downloaded model below, or send it a message in the Playground.</p> : null}
      {models.length > 0 ? (
        <ul className="serving-list" aria-label="Running models">
          {models.map((entry) => (
            <RunningItem key={entry.model} entry={entry} canRun={rights.run} />
          ))}
        </ul>
      ) : null}
    </Card>
  );
}

function RunButton({ servable }: { servable: ServableModel }): ReactElement {
  const entry = useServing((s) => runningEntry(s.status, servable.model));
  const pending = useServing((s) => s.pending[servable.model]);
  const run = useServing((s) => s.run);
  const active = entry && entry.state !== 'stopped';
  return (
    <li className="run-row" data-testid={`servable-${servable.model}`}>
      <code className="run-row__file">{servable.file || servable.repo}</code>
      <span className="muted">{servable.runtime}</span>
      {active ? (
        <Badge tone={STATE_WORDS[entry.state].tone}>{STATE_WORDS[entry.state].label}</Badge>
      ) : (
        <button type="button" className="button button--small button--primary" disabled={pending !== undefined} onClick={() => void run(servable.model)} data-testid="model-run" aria-label={`Run ${servable.model}`}>
          {pending === 'run' ? <Spinner /> : <Icon name="play" size={16} />} {pending === 'run' ? 'Starting' : 'Run'}
        </button>
      )}
    </li>
  );
}

/** Run buttons for the files of one downloaded repo, for a token that may run models. */
export function RunControls({ repo }: { repo: string }): ReactElement | null {
  const canRun = useServingRights().run;
  const available = useServing((s) => s.status?.available);
  const servables = (available ?? []).filter((m) => m.repo.toLowerCase() === repo.toLowerCase());
  if (!canRun || servables.length === 0) return null;
  return (
    <div className="run-controls">
      <ul className="run-rows" aria-label={`Run ${repo}`}>
        {servables.map((servable) => (
          <RunButton key={servable.model} servable={servable} />
        ))}
      </ul>
      {servables.map((servable) => (
        <RunFailure key={servable.model} model={servable.model} />
      ))}
    </div>
  );
}
