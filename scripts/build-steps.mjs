// Which parts of `npm run build` are out of date. `npm install` builds everything
// (prepare); `npm start` then rebuilds only a part whose sources changed since, so
// a first start does not compile the whole project a second time.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Each build step, as npm runs it, with the paths it reads and one file it writes.
 * A folder counts with everything under it (tests excepted) and its own entries, so
 * that a deleted file makes the step stale too. The lock file stands for node_modules.
 */
export const BUILD_STEPS = [
  {
    script: 'build:node',
    what: 'the TypeScript (server, electron, shared)',
    sources: ['shared', 'server/src', 'electron', 'tsconfig.json', 'package-lock.json'],
    outputs: ['dist/server/src/cli/main.js', 'dist/electron/main.js'],
  },
  {
    script: 'build:backend',
    what: 'the backend bundle',
    sources: ['shared', 'server/src', 'server/rolldown.config.mjs', 'tsconfig.json', 'package-lock.json'],
    outputs: ['dist/backend/halo-forge.mjs'],
  },
  {
    script: 'build:renderer',
    what: 'the dashboard',
    sources: ['shared', 'renderer', 'package-lock.json'],
    outputs: ['dist/renderer/index.html'],
  },
];

const SKIPPED = new Set(['test', 'node_modules', 'dist']);

/** The newest modification time under `path` (0 when it does not exist). */
export function newestMtime(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  let newest = stat.mtimeMs;
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path)) {
      if (!SKIPPED.has(entry)) newest = Math.max(newest, newestMtime(join(path, entry)));
    }
  }
  return newest;
}

/** Why a step must run, or null when its outputs are newer than all of its sources. */
export function staleness(root, step) {
  const outputTimes = step.outputs.map((o) => statSync(join(root, o), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  const missing = step.outputs.filter((_, i) => outputTimes[i] === 0);
  if (missing.length) return `${missing.join(', ')} missing`;
  const built = Math.min(...outputTimes);
  const changed = step.sources.filter((s) => newestMtime(join(root, s)) > built);
  return changed.length ? `${changed.join(', ')} changed since the last build` : null;
}

/** The steps to run, in order, each with the reason. */
export function staleSteps(root, steps = BUILD_STEPS) {
  return steps.flatMap((step) => {
    const reason = staleness(root, step);
    return reason ? [{ ...step, reason }] : [];
  });
}

/** Runs the stale steps through npm, saying why each runs; returns false when one fails. */
export function buildStale(root, say = (line) => process.stdout.write(`${line}\n`)) {
  for (const step of staleSteps(root)) {
    say(`Building ${step.what} (${step.reason})`);
    const built = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', step.script], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
    if (built.status !== 0) return false;
  }
  return true;
}
