// uPlot draws the loss curves. It was chosen for size: about 50 KB minified
// (22 KB gzipped) against Chart.js 4's ~200 KB (~70 KB gzipped), and it is
// built for many points appended live (a setData per point, no animation).
// This file is loaded with import() from the Runs screen only, so the chart
// code is its own chunk and the rest of the dashboard never pays for it.
import { useEffect, useRef, useState, type ReactElement } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { AXIS_LABELS, type ChartModel } from '../../lib/run-metrics';

// Two runs must tell apart for colour-blind readers too: indigo and orange, the second one dashed.
const STROKES = ['#4f46e5', '#ea7a0c'];
const HEIGHT = 260;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function options(model: ChartModel, metric: string, width: number): uPlot.Options {
  const text = cssVar('--muted', '#5a6270');
  const grid = cssVar('--border', '#e2e5ea');
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height: HEIGHT,
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false } },
    axes: [
      { ...axis, label: AXIS_LABELS[model.axis], labelSize: 20 },
      { ...axis, label: metric, labelSize: 20, size: 56 },
    ],
    series: [
      { label: AXIS_LABELS[model.axis] },
      ...model.labels.map((label, i) => ({
        label,
        stroke: STROKES[i % STROKES.length],
        width: 2,
        dash: i === 0 ? undefined : [6, 4],
        // A point missing in one run (it logs every 10 steps, the other every 5) is not a gap in its curve.
        // Point markers are uPlot's own call: shown while there is room between points, hidden when dense.
        spanGaps: true,
      })),
    ],
  };
}

/** The canvas is painted with the theme's colours once; a switch to dark (or back) repaints it. */
function useColorScheme(): 'light' | 'dark' {
  const query = typeof matchMedia === 'undefined' ? null : matchMedia('(prefers-color-scheme: dark)');
  const [dark, setDark] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const change = () => setDark(query.matches);
    query.addEventListener('change', change);
    return () => query.removeEventListener('change', change);
  }, [query?.media]);
  return dark ? 'dark' : 'light';
}

export default function LossChart({ model, metric }: { model: ChartModel; metric: string }): ReactElement {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const scheme = useColorScheme();
  const shape = `${metric}\u0000${model.axis}\u0000${model.labels.join('\u0000')}\u0000${scheme}`;

  // A new metric, axis or set of runs builds a new chart; new points only replace the data.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(options(model, metric, Math.max(el.clientWidth, 200)), model.data as uPlot.AlignedData, el);
    chart.current = plot;
    // The chart follows its box: a phone turned sideways, a sidebar that folds away.
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt only when its shape changes, see above
  }, [shape]);

  useEffect(() => {
    chart.current?.setData(model.data as uPlot.AlignedData);
  }, [model]);

  // How many points each run has on the chart, for tests and for the curious: "41,32".
  const counts = model.data.slice(1).map((ys) => ys.filter((y) => y !== null).length);
  return <div ref={box} className="loss-chart" data-testid="loss-chart" data-points={counts.join(',')} />;
}
