import type { MetricPoint } from '../../../shared/runs';

/**
 * What the loss charts draw. Points arrive over the events stream, which
 * replays every point so far each time it (re)connects, so merging is by
 * `seq` (the backend's arrival order): a replayed point replaces itself.
 */

/** A browser keeps at most this many points per run; older ones are thinned, never the newest. */
export const MAX_POINTS = 20_000;

export function mergePoints(points: readonly MetricPoint[], incoming: readonly MetricPoint[], max = MAX_POINTS): MetricPoint[] {
  if (incoming.length === 0) return points as MetricPoint[];
  const last = points[points.length - 1];
  let merged: MetricPoint[];
  // The live case: new points after the last one, appended without a sort.
  if (incoming.every((p, i) => p.seq > (i === 0 ? (last?.seq ?? -1) : incoming[i - 1]!.seq))) {
    merged = points.concat(incoming);
  } else {
    const bySeq = new Map<number, MetricPoint>();
    for (const p of points) bySeq.set(p.seq, p);
    for (const p of incoming) bySeq.set(p.seq, p);
    merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  return merged.length > max ? thin(merged, max) : merged;
}

/** Every other point of the older half goes: a long run keeps its shape and all of its recent detail. */
function thin(points: MetricPoint[], max: number): MetricPoint[] {
  const half = Math.floor(points.length / 2);
  const older = points.slice(0, half).filter((_, i) => i % 2 === 0);
  const thinned = older.concat(points.slice(half));
  return thinned.length > max ? thinned.slice(thinned.length - max) : thinned;
}

/** Metric names in the order a person looks for them: losses first, then the rest alphabetically. */
export function metricNames(points: readonly MetricPoint[]): string[] {
  const names = new Set<string>();
  for (const p of points) for (const name of Object.keys(p.values)) names.add(name);
  const rank = (name: string) => (name === 'loss' ? 0 : name === 'train_loss' ? 1 : name === 'eval_loss' ? 2 : /loss/.test(name) ? 3 : 4);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * What the x axis counts. Trainer's dict lines carry an epoch but no step;
 * metrics.jsonl usually has a step. The axis is the first that every point
 * with the metric has, so a chart never mixes steps with epochs.
 */
export type MetricAxis = 'step' | 'epoch' | 'seq';

export const AXIS_LABELS: Record<MetricAxis, string> = { step: 'Step', epoch: 'Epoch', seq: 'Point' };

/** The first axis that every point with `metric`, in every given run, has. */
export function axisFor(runs: readonly (readonly MetricPoint[])[], metric: string): MetricAxis {
  const withMetric = runs.flatMap((points) => points.filter((p) => metric in p.values));
  if (withMetric.length === 0) return 'step';
  return (['step', 'epoch'] as const).find((axis) => withMetric.every((p) => p[axis] !== null)) ?? 'seq';
}

function xOf(point: MetricPoint, axis: MetricAxis): number {
  return axis === 'step' ? point.step! : axis === 'epoch' ? point.epoch! : point.seq;
}

export interface Series {
  xs: number[];
  ys: number[];
}

/** One metric of one run along `axis`, sorted by x; a later point at the same x replaces the earlier one (a resumed job logs a step again). */
export function seriesOf(points: readonly MetricPoint[], metric: string, axis: MetricAxis): Series {
  const byX = new Map<number, number>();
  for (const p of points) {
    const y = p.values[metric];
    if (y === undefined || !Number.isFinite(y)) continue;
    const x = xOf(p, axis);
    if (!Number.isFinite(x)) continue;
    byX.set(x, y);
  }
  const xs = [...byX.keys()].sort((a, b) => a - b);
  return { xs, ys: xs.map((x) => byX.get(x)!) };
}

/** uPlot's data shape: one shared x array, then one y array per series, null where a series has no point at that x. */
export type ChartData = [number[], ...(number | null)[][]];

export interface ChartSeries {
  label: string;
  points: readonly MetricPoint[];
}

export interface ChartModel {
  axis: MetricAxis;
  data: ChartData;
  labels: string[];
}

/**
 * One metric of one or more runs on a shared x axis (the two-run comparison).
 * The axis is the one every run supports, so step 100 of one run lines up
 * with step 100 of the other.
 */
export function chartModel(runs: readonly ChartSeries[], metric: string): ChartModel {
  const axis = axisFor(
    runs.map((r) => r.points),
    metric,
  );
  const series = runs.map((r) => seriesOf(r.points, metric, axis));
  const xs = [...new Set(series.flatMap((s) => s.xs))].sort((a, b) => a - b);
  const columns = series.map((s) => {
    const at = new Map(s.xs.map((x, i) => [x, s.ys[i]!]));
    return xs.map((x) => at.get(x) ?? null);
  });
  return { axis, data: [xs, ...columns], labels: runs.map((r) => r.label) };
}
