import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../shared/runs';
import { appendLog, EMPTY_LOG, MAX_LINE_CHARS, visibleLines, type RunLog } from '../src/lib/run-log';
import { axisFor, chartModel, MAX_POINTS, mergePoints, metricNames, seriesOf } from '../src/lib/run-metrics';

function feed(chunks: string[], cap = { lines: 1_000, chars: 1_000_000 }): RunLog {
  return chunks.reduce((log, chunk) => appendLog(log, chunk, cap), EMPTY_LOG);
}

describe('the live log', () => {
  it.each([
    ['lines split across chunks join up', ['ep', 'och 1\nepo', 'ch 2\n'], ['epoch 1', 'epoch 2']],
    ['CRLF ends a line like LF', ['a\r\nb\r\n'], ['a', 'b']],
    ['an unfinished last line is shown as it is', ['done\nloading'], ['done', 'loading']],
    ['a progress bar redrawn with CR shows its last state', ['10%\r50%\r100%\n'], ['100%']],
    ['colour codes are dropped', ['\x1b[32mok\x1b[0m\n'], ['ok']],
    ['an empty line is kept', ['a\n\nb\n'], ['a', '', 'b']],
  ])('%s', (_name, chunks, shown) => {
    expect(visibleLines(feed(chunks))).toEqual(shown);
  });

  it('keeps only the newest lines and counts the ones it let go', () => {
    const log = feed(Array.from({ length: 25 }, (_, i) => `line ${i}\n`), { lines: 10, chars: 1_000_000 });
    expect(log.lines).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 15}`));
    expect(log.dropped).toBe(15);
  });

  it('keeps the characters held under the cap, also when one chunk is larger than the cap', () => {
    const cap = { lines: 1_000, chars: 100 };
    const log = feed(['x'.repeat(30) + '\n', 'y'.repeat(30) + '\n', `${'z'.repeat(30)}\n`.repeat(5)], cap);
    expect(log.chars).toBeLessThanOrEqual(100);
    expect(log.chars).toBe(log.lines.reduce((n, l) => n + l.length, 0));
    expect(log.lines.every((l) => l === 'z'.repeat(30))).toBe(true);
    expect(log.dropped).toBe(4);
  });

  it('wraps a line with no end instead of growing it without bound', () => {
    let log = EMPTY_LOG;
    for (let i = 0; i < 30; i++) log = appendLog(log, 'p'.repeat(1_000));
    expect(log.partial.length).toBeLessThanOrEqual(MAX_LINE_CHARS);
    expect(log.lines.length).toBe(7);
    expect(log.lines.join('') + log.partial).toBe('p'.repeat(30_000));
  });

  it('holds 100 MB of output in bounded memory', () => {
    let log = EMPTY_LOG;
    const chunk = 'step 1 loss 2.0 ................................................................\n'.repeat(1_000);
    for (let i = 0; i < 100_000_000 / chunk.length; i++) log = appendLog(log, chunk);
    expect(log.lines.length).toBeLessThanOrEqual(5_000);
    expect(log.chars).toBeLessThanOrEqual(2_000_000);
  });
});

let seq = 0;
function point(values: Record<string, number>, at: { step?: number; epoch?: number; seq?: number } = {}): MetricPoint {
  return { seq: at.seq ?? seq++, step: at.step ?? null, epoch: at.epoch ?? null, time: '2026-12-01T12:00:00.000Z', source: 'stdout', values };
}

describe('metric points', () => {
  it('a replayed stream merges into what is held, each point once, in arrival order', () => {
    const first = [point({ loss: 3 }, { seq: 0, step: 1 }), point({ loss: 2 }, { seq: 1, step: 2 })];
    const replay = [...first, point({ loss: 1 }, { seq: 2, step: 3 })];
    const merged = mergePoints(first, replay);
    expect(merged.map((p) => p.seq)).toEqual([0, 1, 2]);
    expect(mergePoints(merged, [point({ loss: 0.5 }, { seq: 3, step: 4 })]).map((p) => p.seq)).toEqual([0, 1, 2, 3]);
  });

  it('a very long run is thinned in its older half, keeping the newest points whole', () => {
    const points = Array.from({ length: 100 }, (_, i) => point({ loss: 1 / (i + 1) }, { seq: i, step: i }));
    const thinned = mergePoints(points.slice(0, 99), [points[99]!], 80);
    expect(thinned.length).toBeLessThanOrEqual(80);
    expect(thinned.slice(-50).map((p) => p.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    expect(thinned[0]!.seq).toBe(0);
    expect(MAX_POINTS).toBeGreaterThan(1_000);
  });

  it('names losses first', () => {
    expect(metricNames([point({ learning_rate: 1e-5, grad_norm: 1, loss: 2 }), point({ eval_loss: 2.1, eval_accuracy: 0.4 })])).toEqual(['loss', 'eval_loss', 'eval_accuracy', 'grad_norm', 'learning_rate']);
  });

  it.each([
    ['steps when every point has one', [point({ loss: 1 }, { step: 1, epoch: 0.1 }), point({ loss: 1 }, { step: 2 })], 'step'],
    ['epochs for Trainer dict lines, which carry no step', [point({ loss: 1 }, { epoch: 0.1 }), point({ loss: 1 }, { epoch: 0.2 })], 'epoch'],
    ['arrival order when neither is always there', [point({ loss: 1 }, { step: 1 }), point({ loss: 1 }, { epoch: 0.2 })], 'seq'],
    ['only points with the metric count', [point({ loss: 1 }, { step: 1 }), point({ accuracy: 1 }, {})], 'step'],
  ] as const)('the x axis is %s', (_name, points, axis) => {
    expect(axisFor([points], 'loss')).toBe(axis);
  });

  it('a step logged again (a resumed job) replaces the earlier value; non-numbers are skipped', () => {
    const points = [point({ loss: 3 }, { step: 2 }), point({ loss: 4 }, { step: 1 }), point({ loss: 2.5 }, { step: 2 }), point({ loss: Number.NaN }, { step: 3 })];
    expect(seriesOf(points, 'loss', 'step')).toEqual({ xs: [1, 2], ys: [4, 2.5] });
  });
});

describe('comparing two runs', () => {
  it('puts both on one x axis, null where a run has no point there', () => {
    const a = [point({ loss: 3 }, { step: 10 }), point({ loss: 2 }, { step: 20 }), point({ loss: 1 }, { step: 30 })];
    const b = [point({ loss: 2.8 }, { step: 10 }), point({ loss: 1.9 }, { step: 15 })];
    expect(chartModel([{ label: 'baseline', points: a }, { label: 'lr-2e-5', points: b }], 'loss')).toEqual({
      axis: 'step',
      labels: ['baseline', 'lr-2e-5'],
      data: [
        [10, 15, 20, 30],
        [3, null, 2, 1],
        [2.8, 1.9, null, null],
      ],
    });
  });

  it('falls back to the axis both runs have: epochs when one run has no steps', () => {
    const a = [point({ loss: 3 }, { step: 10, epoch: 0.5 }), point({ loss: 2 }, { step: 20, epoch: 1 })];
    const b = [point({ loss: 2.5 }, { epoch: 0.5 })];
    const model = chartModel([{ label: 'a', points: a }, { label: 'b', points: b }], 'loss');
    expect(model.axis).toBe('epoch');
    expect(model.data).toEqual([[0.5, 1], [3, 2], [2.5, null]]);
  });

  it('a run without the metric adds an empty column, not an error', () => {
    const model = chartModel([{ label: 'a', points: [point({ loss: 1 }, { step: 1 })] }, { label: 'b', points: [] }], 'loss');
    expect(model.data).toEqual([[1], [1], [null]]);
  });
});
