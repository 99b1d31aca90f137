// `npm start` rebuilds only what changed since `npm install` built it (scripts/build-steps.mjs).
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script with no type declarations
import { BUILD_STEPS, staleness, staleSteps } from '../../scripts/build-steps.mjs';
import { tempHome } from './support.js';

interface Step {
  script: string;
  sources: string[];
  outputs: string[];
}

const STEP: Step = { script: 'build:x', sources: ['src', 'config.json'], outputs: ['dist/a.js', 'dist/b.js'] };
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A project whose files carry the given ages (seconds before now); folders are as old as the oldest. */
function project(files: Record<string, number>): string {
  const { home: root, cleanup } = tempHome();
  cleanups.push(cleanup);
  const now = Date.now() / 1000;
  const oldest = now - 1000;
  for (const path of Object.keys(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), '');
  }
  for (const dir of ['src', 'src/test', 'src/deep', 'dist']) {
    try {
      utimesSync(join(root, dir), oldest, oldest);
    } catch {
      // Not in this project.
    }
  }
  for (const [path, age] of Object.entries(files)) utimesSync(join(root, path), now - age, now - age);
  return root;
}

describe('which build steps npm start runs', () => {
  it.each<[string, Record<string, number>, string | null]>([
    ['outputs newer than every source', { 'src/a.ts': 100, 'src/deep/b.ts': 90, 'config.json': 80, 'dist/a.js': 10, 'dist/b.js': 10 }, null],
    ['an output missing', { 'src/a.ts': 100, 'config.json': 80, 'dist/a.js': 10 }, 'dist/b.js missing'],
    ['a source file edited after the build', { 'src/deep/b.ts': 5, 'config.json': 80, 'dist/a.js': 10, 'dist/b.js': 10 }, 'src changed since the last build'],
    ['a source edited between writing the two outputs', { 'src/a.ts': 15, 'config.json': 80, 'dist/a.js': 20, 'dist/b.js': 10 }, 'src changed since the last build'],
    ['a config file edited after the build', { 'src/a.ts': 100, 'config.json': 1, 'dist/a.js': 10, 'dist/b.js': 10 }, 'config.json changed since the last build'],
    ['only a test edited after the build', { 'src/a.ts': 100, 'src/test/a.test.ts': 1, 'config.json': 80, 'dist/a.js': 10, 'dist/b.js': 10 }, null],
  ])('%s', (_what, files, reason) => {
    expect(staleness(project(files), STEP)).toBe(reason);
  });

  it('counts a deleted source file as a change (its folder changed)', () => {
    const root = project({ 'src/a.ts': 100, 'src/gone.ts': 100, 'config.json': 80, 'dist/a.js': 10, 'dist/b.js': 10 });
    expect(staleness(root, STEP)).toBeNull();
    rmSync(join(root, 'src', 'gone.ts'));
    expect(staleness(root, STEP)).toBe('src changed since the last build');
  });

  it('covers the scripts of npm run build, in its order', () => {
    expect((BUILD_STEPS as Step[]).map((s) => s.script)).toEqual(['build:node', 'build:backend', 'build:renderer']);
    const root = project({});
    expect((staleSteps(root) as Array<Step & { reason: string }>).map((s) => [s.script, s.reason.endsWith('missing')])).toEqual([
      ['build:node', true],
      ['build:backend', true],
      ['build:renderer', true],
    ]);
  });
});
