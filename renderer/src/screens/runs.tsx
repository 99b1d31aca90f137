import { lazy, Suspense, useEffect, useState, type ReactElement } from 'react';
import { Icon } from '../components/icons';
import { ScreenHeader, Spinner } from '../components/ui';
import { runPermissions } from '../lib/run-permissions';
import { useSession } from '../stores/session';

// The Runs screen (its store, log, forms and, one step further, the chart
// library) is its own chunk: a dashboard opened for anything else never
// downloads it. Only the header is here, so the title is in place at once.
const RunsBody = lazy(() => import('./runs/runs-body'));

/** `#/runs/ID` opens a run's page; `#/runs` the list. Back and forward move between them. */
export function runIdFromHash(hash: string): string | null {
  const match = /^#\/?runs\/([^/?#]+)/.exec(hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
}

function useOpenRun(): string | null {
  const [id, setId] = useState(() => runIdFromHash(location.hash));
  useEffect(() => {
    const follow = () => setId(runIdFromHash(location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return id;
}

export function RunsScreen(): ReactElement {
  const session = useSession((s) => (s.refused ? null : s.session));
  const can = runPermissions(session);
  const runId = useOpenRun();
  const [starting, setStarting] = useState(false);

  return (
    <>
      <ScreenHeader
        title="Runs"
        lead="Training and evaluation jobs on the workstation: live logs, loss curves, and the workstation’s Hugging Face token as HF_TOKEN, never written into a run folder."
        actions={
          <span className="runs-header-actions">
            {runId ? (
              <a className="button" href="#/runs">
                All runs
              </a>
            ) : null}
            <button type="button" className="button button--primary" disabled={!can.admin} title={can.adminWhy ?? undefined} onClick={() => setStarting(true)}>
              <Icon name="plus" size={16} /> Start a run
            </button>
          </span>
        }
      />
      {can.watch && !can.admin ? (
        <p className="muted" data-testid="start-why">
          {can.adminWhy}
        </p>
      ) : null}
      {!session ? (
        <Spinner label="Checking the connection" />
      ) : (
        <Suspense fallback={<Spinner label="Loading runs" />}>
          <RunsBody can={can} runId={runId} starting={starting} onStartClosed={() => setStarting(false)} />
        </Suspense>
      )}
    </>
  );
}
