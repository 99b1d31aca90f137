import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The backend's run manager over the bridge, and the main process's relay: both rooms meet in this test only.
import { RunManager } from '../../server/src/runs/run-manager.js';
import type { RunInfo } from '../../shared/runs.js';
import { ChildRelay } from '../child-relay.js';
import { nodeFork } from '../node-backend.js';
import { wireRelay } from './relay-wire.js';
import { ROOT, isAlive, waitFor } from './support.js';

// A run inside the desktop app: its keeper is forked by the main process (child_process.fork standing in for
// utilityProcess.fork), so the keeper is in the app's process group, not the leader of one; the job leads its
// own, and a stop, or the backend going, still ends the whole job, worker included.

const BACKEND_DIR = join(ROOT, 'dist', 'backend');
const TRAIN = join(ROOT, 'server', 'test', 'fixtures', 'runs', 'train.mjs');
const GRACE_MS = 1_500;

let home: string;
let relay: ChildRelay;
let runs: RunManager;
const workers: number[] = [];

beforeEach(() => {
  if (!existsSync(join(BACKEND_DIR, 'run-keeper.mjs'))) throw new Error(`${BACKEND_DIR}/run-keeper.mjs is missing: run "npm run build" first`);
  home = mkdtempSync(join(tmpdir(), 'halo-relay-runs-'));
  const wired = wireRelay({ fork: nodeFork, backendDir: BACKEND_DIR });
  relay = wired.relay;
  const bridge = wired.bridge;
  const env = { PATH: process.env.PATH, HOME: home };
  runs = new RunManager({ home, env, childEnv: async () => ({ ...env }), hubCache: join(home, 'hub'), stopGraceMs: GRACE_MS, pollMs: 50, nodeBridge: bridge });
});

afterEach(async () => {
  await runs.close();
  await relay.backendGone();
  for (const pid of workers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  rmSync(home, { recursive: true, force: true });
});

async function until(id: string, states: RunInfo['state'][]): Promise<RunInfo> {
  await waitFor(() => states.includes(runs.get(id).state), `run ${id} to be ${states.join(' or ')} (it is ${runs.get(id).state})`, 20_000);
  return runs.get(id);
}

/** A held job with a worker that ignores SIGTERM, as in the runs tests; resolves once both run. */
async function heldJob(): Promise<{ run: RunInfo; worker: number }> {
  const run = await runs.start({ name: 'held', command: [process.execPath, TRAIN, '--child', '--hold', '--steps', '1'], cwd: home }, { startedBy: 'local' });
  await waitFor(() => runs.logTail(run.id, 64 * 1024).includes('holding'), 'the job to hold', 20_000);
  const worker = Number(readFileSync(join(run.runDir, 'child.pid'), 'utf8'));
  workers.push(worker);
  return { run: runs.get(run.id), worker };
}

describe('runs inside the desktop app', () => {
  it('run to the end under a keeper the main process started, with the job\'s output and exit recorded', async () => {
    const run = await runs.start({ name: 'short', command: [process.execPath, TRAIN, '--steps', '2'], cwd: home }, { startedBy: 'local' });
    const done = await until(run.id, ['succeeded', 'failed', 'lost']);
    expect(done).toMatchObject({ state: 'succeeded', exitCode: 0 });
    const log = runs.logTail(run.id, 64 * 1024);
    expect(log).toContain('training done');
    // The keeper's own setting stays the keeper's: neither the job nor the launch record sees it.
    expect(log).not.toContain('HALOFORGE_KEEPER_GROUP');
    expect(readFileSync(join(run.runDir, 'launch_context.json'), 'utf8')).not.toContain('HALOFORGE_KEEPER_GROUP');
    expect(runs.metrics(run.id).length).toBeGreaterThan(0);
  });

  it('a stop ends the job\'s whole group, its worker that ignores SIGTERM included, and the run says stopped', async () => {
    const { run, worker } = await heldJob();
    expect(isAlive(worker)).toBe(true);
    const stopped = await runs.stop(run.id, 'local user');
    expect(stopped).toMatchObject({ state: 'stopped', reason: 'Stopped by local user.' });
    await waitFor(() => !isAlive(worker), 'the worker to be gone', GRACE_MS + 5_000);
    expect(runs.logTail(run.id, 64 * 1024)).toContain('got SIGTERM, saving and exiting');
  });

  it('the backend going (a kill -9 included) ends its runs\' jobs and workers: nothing runs unwatched', async () => {
    const { run, worker } = await heldJob();
    const keeper = run.pid!;
    await relay.backendGone();
    await waitFor(() => !isAlive(worker) && !isAlive(keeper), 'the keeper, the job and its worker to be gone', 10_000);
    // The keeper still wrote how the job ended, for the next backend to read.
    expect(existsSync(join(run.runDir, 'exit.json'))).toBe(true);
  });
});
