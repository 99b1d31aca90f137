import { lazy, Suspense, useEffect, useMemo, useState, type ReactElement } from 'react';
import type { RunInfo } from '../../../../shared/runs';
import { Card, EmptyState, Field, Spinner } from '../../components/ui';
import { chartModel, metricNames } from '../../lib/run-metrics';
import { useRuns } from '../../stores/runs';

// The chart library is fetched the first time a chart is shown, never with the rest of the dashboard.
const LossChart = lazy(() => import('./loss-chart'));

const NO_POINTS: never[] = [];

/** The run's metrics on a chart, and another run's beside them to compare. */
export function RunMetricsCard({ run }: { run: RunInfo }): ReactElement {
  const runs = useRuns((s) => s.runs);
  const watch = useRuns((s) => s.watch);
  const points = useRuns((s) => s.views[run.id]?.points ?? NO_POINTS);
  const [compareId, setCompareId] = useState('');
  const otherPoints = useRuns((s) => (compareId ? (s.views[compareId]?.points ?? NO_POINTS) : NO_POINTS));
  const other = runs.find((r) => r.id === compareId) ?? null;
  const [chosen, setChosen] = useState<string | null>(null);

  useEffect(() => {
    if (compareId && compareId !== run.id) return watch(compareId);
  }, [compareId, run.id, watch]);

  const names = useMemo(() => metricNames(other ? points.concat(otherPoints) : points), [points, otherPoints, other]);
  const metric = chosen && names.includes(chosen) ? chosen : (names[0] ?? null);
  const model = useMemo(() => {
    if (!metric) return null;
    const series = [{ label: run.name === other?.name ? `${run.name} (this run)` : run.name, points }];
    if (other) series.push({ label: other.name === run.name ? `${other.name} (${other.id.slice(0, 8)})` : other.name, points: otherPoints });
    return chartModel(series, metric);
  }, [metric, run.name, points, other, otherPoints]);

  const candidates = runs.filter((r) => r.id !== run.id);
  return (
    <Card
      title="Metrics"
      description="Read from the job’s stdout (JSON lines with a step or epoch, Trainer’s dict lines) and from metrics.jsonl in its run folder."
      className="run-metrics"
    >
      <div className="run-metrics__controls">
        <Field label="Metric">
          {({ id }) => (
            <select id={id} className="input" value={metric ?? ''} onChange={(e) => setChosen(e.target.value)} disabled={names.length === 0}>
              {names.length === 0 ? <option value="">None yet</option> : null}
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Compare with">
          {({ id }) => (
            <select id={id} className="input" value={compareId} onChange={(e) => setCompareId(e.target.value)} data-testid="compare-select">
              <option value="">No other run</option>
              {candidates.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name} · {r.state} · {new Date(r.createdAt).toLocaleString()}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {model && metric ? (
        <figure className="run-metrics__figure">
          <Suspense fallback={<Spinner label="Loading the chart" />}>
            <LossChart model={model} metric={metric} />
          </Suspense>
          <figcaption className="visually-hidden">
            {metric} by {model.axis}: {model.labels.join(' compared with ')}, {model.data[0].length} points.
          </figcaption>
        </figure>
      ) : (
        <EmptyState icon="runs" title={run.state === 'running' || run.state === 'queued' ? 'No metrics yet' : 'No metrics'}>
          <p>
            Print a JSON line such as <code>{'{"step": 10, "loss": 2.31}'}</code>, let Trainer print its dicts, or append such lines to <code>$HALOFORGE_RUN_DIR/metrics.jsonl</code>.
          </p>
        </EmptyState>
      )}
    </Card>
  );
}
