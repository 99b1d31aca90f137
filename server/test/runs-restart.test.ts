import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricPoint, RunInfo } from '../../shared/runs.js';
import { startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { waitFor, workstations, type BackendProcess } from './support/backend-process.js';
import { alive, allText, TRAIN } from './support/runs.js';

// The real backend (dist/backend, through the CLI), killed with SIGKILL while a run is going.
const HF_TOKEN = 'hf_CanaryRunsRestartToken0123456789abcdef';

let hub: FakeHub;
const w = workstations();
const leftovers: number[] = [];
beforeAll(async () => {
  hub = await startFakeHub();
  hub.addToken(HF_TOKEN);
});
afterAll(() => hub.close());
/** True while any process of the group is there (a zombie included, for the moment it lasts). */
function groupThere(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  const groups = leftovers.splice(0);
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  // A keeper that has not died yet could still write into the run folder while the home is removed, and leave it.
  await waitFor(() => !groups.some(groupThere), 10_000, 'the runs the test left to be gone').catch(() => {});
  await w.release();
});

async function api<T>(b: BackendProcess, path: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(`${b.url}api/public${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  return (await res.json()) as T;
}

async function killHard(b: BackendProcess): Promise<void> {
  const exited = new Promise((r) => b.child.once('exit', r));
  b.child.kill('SIGKILL');
  await exited;
}

async function setup(args: string[]) {
  const { home, env } = w.home();
  Object.assign(env, { HF_ENDPOINT: hub.url, HF_TOKEN, HALOFORGE_RUNS_STOP_GRACE_MS: '1000' });
  const first = await w.backend([], env);
  const run = await api<RunInfo>(first, '/runs', 'POST', { name: 'long-sft', command: [process.execPath, TRAIN, ...args], cwd: home });
  expect(run.state).toBe('running');
  leftovers.push(run.pid!);
  return { home, env, first, run };
}

const logOf = (b: BackendProcess, id: string) => fetch(`${b.url}api/public/runs/${id}/log`).then((r) => r.text());

describe('runs survive a backend restart', () => {
  it('a job still going is re-attached: same process, its log and metrics whole, and its whole tree stops on request', async () => {
    const { env, first, run } = await setup(['--steps', '3', '--child', '--hold']);
    await waitFor(async () => (await logOf(first, run.id)).includes('holding'), 10_000, 'the job to hold');
    await killHard(first);
    expect(alive(run.pid!)).toBe(true);

    const second = await w.backend([], env);
    expect(second.output()).toContain(`Run ${run.id} (long-sft) is still going: re-attached.`);
    const again = await api<RunInfo>(second, `/runs/${run.id}`);
    expect(again).toMatchObject({ state: 'running', pid: run.pid, name: 'long-sft' });
    const { points } = await api<{ points: MetricPoint[] }>(second, `/runs/${run.id}/metrics`);
    expect(points.filter((p) => p.source === 'trainer').map((p) => p.values.loss)).toEqual([2.5, 1.25, 0.8333]);
    expect(await logOf(second, run.id)).toContain('holding');

    const worker = Number(readFileSync(join(run.runDir, 'child.pid'), 'utf8'));
    const stopped = await api<RunInfo>(second, `/runs/${run.id}/stop`, 'POST');
    expect(stopped).toMatchObject({ state: 'stopped' });
    await waitFor(() => !alive(run.pid!) && !alive(worker), 3_000, 'the re-attached tree to be gone');
    expect(await logOf(second, run.id)).toContain('got SIGTERM, saving and exiting');
    expect(allText(run.runDir)).not.toContain(HF_TOKEN.slice(3));
  });

  it('a job that ended while the backend was down gets its real outcome from the keeper’s record', async () => {
    const { env, first, run } = await setup(['--steps', '2', '--interval', '200', '--exit', '4']);
    await killHard(first);
    await waitFor(() => existsSync(join(run.runDir, 'exit.json')), 10_000, 'the job to end');
    const second = await w.backend([], env);
    const after = await api<RunInfo>(second, `/runs/${run.id}`);
    expect(after).toMatchObject({ state: 'failed', exitCode: 4, reason: 'The job ended with exit code 4.' });
    expect(after.logTail).toContain('training done');
  });

  it('a job whose processes died with the backend (a reboot) is marked lost; its log, metrics and history stay', async () => {
    const { env, first, run } = await setup(['--steps', '2', '--hold']);
    await waitFor(async () => (await logOf(first, run.id)).includes('holding'), 10_000, 'the job to hold');
    await killHard(first);
    process.kill(-run.pid!, 'SIGKILL');
    await waitFor(() => !alive(run.pid!), 3_000, 'the keeper to be gone');

    const second = await w.backend([], env);
    const after = await api<RunInfo>(second, `/runs/${run.id}`);
    expect(after).toMatchObject({ state: 'lost', reason: 'Halo Forge was not running when this job ended, so how it ended is unknown; its log and metrics are kept.' });
    expect(after.logTail).toContain('holding');
    const { points } = await api<{ points: MetricPoint[] }>(second, `/runs/${run.id}/metrics`);
    expect(points.filter((p) => p.source === 'trainer')).toHaveLength(2);
    expect((await api<{ runs: RunInfo[] }>(second, '/runs')).runs.map((r) => r.id)).toEqual([run.id]);
    const context = JSON.parse(readFileSync(join(run.runDir, 'launch_context.json'), 'utf8'));
    expect(context).toMatchObject({ state: 'lost', exit_code: null });
  });
});
