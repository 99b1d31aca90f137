import { useEffect, type ReactElement } from 'react';
import type { RunInfo } from '../../../../shared/runs';
import { Card, EmptyState, Result, Spinner } from '../../components/ui';
import type { RunPermissions } from '../../lib/run-permissions';
import { useRuns } from '../../stores/runs';
import { RecipeList } from './recipe-list';
import { RunList } from './run-list';
import { RunPage } from './run-page';
import { StartRunDialog } from './start-run-dialog';
import './runs.css';

const openRun = (run: RunInfo) => {
  location.hash = `/runs/${encodeURIComponent(run.id)}`;
};

function RunsOverview({ can }: { can: RunPermissions }): ReactElement {
  const runs = useRuns((s) => s.runs);
  const loaded = useRuns((s) => s.loaded);
  const error = useRuns((s) => s.error);
  return (
    <>
      <Card title="Recipes" description="Saved runs, started again with one click.">
        <RecipeList can={can} onStarted={openRun} />
      </Card>
      <Card title="History" description="Newest first. Each run keeps its redacted log, metrics and artifacts in its own folder on the workstation.">
        {!loaded ? (
          <Spinner label="Loading runs" />
        ) : error && runs.length === 0 ? (
          <Result tone="danger" title={error.title} detail={error.detail} />
        ) : runs.length === 0 ? (
          <EmptyState icon="runs" title="No runs yet">
            <p>Start a training or evaluation job here, or on the workstation with “halo-forge runs start -- COMMAND”.</p>
          </EmptyState>
        ) : (
          <RunList runs={runs} />
        )}
      </Card>
    </>
  );
}

/** Everything below the Runs header: the list and recipes, or one run's page. */
export default function RunsBody({ can, runId, starting, onStartClosed }: { can: RunPermissions; runId: string | null; starting: boolean; onStartClosed: () => void }): ReactElement {
  const poll = useRuns((s) => s.poll);
  const loadRecipes = useRuns((s) => s.loadRecipes);

  useEffect(() => {
    if (!can.watch) return;
    void loadRecipes();
    return poll();
  }, [can.watch, poll, loadRecipes]);

  return (
    <>
      {!can.watch ? (
        <Card title="Runs">
          <EmptyState icon="shield" title="Needs an API token">
            Watching runs needs a token; paste one on the Connection screen.
          </EmptyState>
        </Card>
      ) : runId ? (
        // Keyed: another run's page starts afresh (its log position, metric, comparison).
        <RunPage key={runId} runId={runId} can={can} />
      ) : (
        <RunsOverview can={can} />
      )}
      {starting ? (
        <StartRunDialog
          onClose={onStartClosed}
          onStarted={(run) => {
            onStartClosed();
            openRun(run);
          }}
        />
      ) : null}
    </>
  );
}
