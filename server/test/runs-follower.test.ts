import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunFollower } from '../src/runs/run-follower.js';
import { tempHome } from './support/backend-process.js';

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

function runDir(): string {
  const h = tempHome('halo-forge-follower-');
  cleanup = h.cleanup;
  return h.home;
}

describe('following a run’s files', () => {
  it('reads across a rotation: the rest of the old file, then the new one', () => {
    const dir = runDir();
    const log = join(dir, 'output.log');
    writeFileSync(log, 'first\n');
    const follower = new RunFollower(dir, false);
    expect(follower.poll().log).toBe('first\n');
    appendFileSync(log, 'second\n');
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'third\n');
    expect(follower.poll().log).toBe('second\nthird\n');
    expect(follower.poll().log).toBe('');
  });

  it('a watcher joining late gets the backlog up to what was handed out, then the rest: every line once', () => {
    const dir = runDir();
    const log = join(dir, 'output.log');
    writeFileSync(log, 'one\ntwo\n');
    const follower = new RunFollower(dir, false);
    follower.poll();
    appendFileSync(log, 'three\n'); // written, not yet polled
    const joined = follower.backlog(64 * 1024) + follower.poll().log;
    expect(joined).toBe('one\ntwo\nthree\n');
    expect(follower.backlog(4)).toBe('ree\n');
  });

  it('a character cut between two reads comes out whole', () => {
    const dir = runDir();
    const log = join(dir, 'output.log');
    const bytes = Buffer.from('loss → 0.5\n');
    writeFileSync(log, bytes.subarray(0, 6)); // inside the arrow's three bytes
    const follower = new RunFollower(dir, false);
    const first = follower.poll().log;
    appendFileSync(log, bytes.subarray(6));
    expect(first + follower.poll().log).toBe('loss → 0.5\n');
  });

  it('skips ahead, saying so, when the live view falls far behind; the file keeps everything', () => {
    const dir = runDir();
    writeFileSync(join(dir, 'output.log'), `${'x'.repeat(1023)}\n`.repeat(6 * 1024));
    const text = new RunFollower(dir, false).poll().log;
    expect(text).toMatch(/^\n\[halo-forge: \d+ bytes of output skipped in the live view; they are in the log file\]\n/);
    expect(text.length).toBeLessThan(300 * 1024);
  });

  it('metric points from both files, in order; half-written and malformed lines wait or are skipped', () => {
    const dir = runDir();
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 1, "acc": 0.5}\nnot json\n{"step": 2, "acc"');
    writeFileSync(join(dir, 'output-metrics.jsonl'), `${JSON.stringify({ time: 't', source: 'trainer', step: null, epoch: 0.5, values: { loss: 2 } })}\n{broken\n`);
    const follower = new RunFollower(dir, false);
    expect(follower.poll().points.map((p) => [p.seq, p.source, p.values])).toEqual([
      [0, 'trainer', { loss: 2 }],
      [1, 'file', { acc: 0.5 }],
    ]);
    appendFileSync(join(dir, 'metrics.jsonl'), ': 0.75}\n');
    expect(follower.poll().points.map((p) => [p.seq, p.step, p.values])).toEqual([[2, 2, { acc: 0.75 }]]);
  });
});
