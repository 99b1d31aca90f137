import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAKE_HUB_MODELS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { buildTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/backend-process.js';
import { allText, alive, LOCAL, startRun, TRAIN, waitForState } from './support/runs.js';

// Real jobs: train.mjs is a real process that reads HF_TOKEN and downloads from the test Hub with it.
const HF_TOKEN = 'hf_CanaryRunsWorkstationToken0123456789abc';
const API_TOKEN = 'hfk_CanaryRunsApiTokenNeverForJobs0123456789abcdefgh';

let hub: FakeHub;
let t: TestApp | null = null;
beforeAll(async () => {
  hub = await startFakeHub();
  hub.addToken(HF_TOKEN);
});
afterAll(() => hub.close());
/** Workers a job started and left running (as data loaders do): removed even when a test fails halfway. */
const workers: number[] = [];
afterEach(async () => {
  for (const pid of workers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await t?.close();
  t = null;
});

async function app(extra: NodeJS.ProcessEnv = {}) {
  t = await buildTestApp({ envExtra: { HF_ENDPOINT: hub.url, HF_TOKEN, HALOFORGE_API_TOKEN: API_TOKEN, HALOFORGE_RUNS_STOP_GRACE_MS: '1500', ...extra } });
  return t.app;
}

describe('a run from start to finish', () => {
  it('gets the workstation token (and only it), downloads with it, and leaves a run folder with log, metrics, artifacts and no secret', async () => {
    const a = await app();
    const started = await startRun(a, {
      name: 'tiny-sft',
      command: [process.execPath, TRAIN, '--download', FAKE_HUB_MODELS.gatedAuto, '--print-token', '--print-api-token', '--child', '--steps', '3'],
      cwd: t!.home,
      env: { EXTRA: 'yes' },
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ name: 'tiny-sft', env: ['EXTRA'], cwd: t!.home });
    const run = await waitForState(a, started.body.id, ['succeeded', 'failed']);
    // Its worker outlives a job that ends normally (only a stop ends the group).
    workers.push(Number(readFileSync(join(run.runDir, 'child.pid'), 'utf8')));
    expect(run.state).toBe('succeeded');
    expect(run.exitCode).toBe(0);
    const log = (await a.inject({ url: `/api/public/runs/${run.id}/log`, ...LOCAL })).body;
    // The token arrived: the gated file was downloaded with it.
    expect(log).toContain('download 200 {"model_type":"gpt2"}');
    expect(hub.requests.some((r) => r.path.includes('/resolve/') && r.token === HF_TOKEN)).toBe(true);
    expect(log).toContain('api-token absent; hf-token present; EXTRA=yes');
    expect(log).toContain(`HF_HUB_CACHE=${join(t!.home, 'hf-home', 'hub')}`);
    // Printed in two writes, masked all the same.
    expect(log).toMatch(/my token is \[REDACTED\] \(oops\)/);
    expect(log).toContain('api hfk_[REDACTED] end');
    expect(run.artifacts.map((x) => x.path).sort()).toEqual(['checkpoint/model.bin', 'child.pid', 'downloaded-config.json']);

    const points = (await a.inject({ url: `/api/public/runs/${run.id}/metrics`, ...LOCAL })).json().points;
    const trainer = points.filter((p: { source: string }) => p.source === 'trainer');
    expect(trainer.map((p: { values: { loss: number } }) => p.values.loss)).toEqual([2.5, 1.25, 0.8333]);
    expect(trainer[0]).toMatchObject({ epoch: 0.33, values: { grad_norm: 1.5, learning_rate: 5e-5 } });
    expect(points.filter((p: { source: string }) => p.source === 'stdout').map((p: { step: number }) => p.step)).toEqual([1, 2, 3]);
    expect(points.filter((p: { source: string }) => p.source === 'file').map((p: { values: { accuracy: number } }) => p.values.accuracy)).toEqual([1 / 3, 2 / 3, 1]);
    expect(run.lastMetric).not.toBeNull();

    const context = JSON.parse(readFileSync(join(run.runDir, 'launch_context.json'), 'utf8'));
    expect(context).toMatchObject({ run_id: run.id, cwd: t!.home, state: 'succeeded', exit_code: 0, environment_requested: ['EXTRA'] });
    expect(context.environment_added).toEqual(expect.arrayContaining(['HF_TOKEN', 'HF_HUB_CACHE', 'HALOFORGE_RUN_DIR']));
    expect(context.environment).not.toContain('HALOFORGE_API_TOKEN');
    expect(statSync(join(run.runDir, 'launch_context.json')).mode & 0o777).toBe(0o600);

    // Canary: nowhere in the run folder, the log, or the API's answers.
    const answers = [(await a.inject({ url: '/api/public/runs', ...LOCAL })).body, (await a.inject({ url: `/api/public/runs/${run.id}`, ...LOCAL })).body, log, JSON.stringify(points)];
    for (const text of [allText(run.runDir), ...answers]) {
      expect(text).not.toContain(HF_TOKEN);
      expect(text).not.toContain(HF_TOKEN.slice(3));
      expect(text).not.toContain(API_TOKEN);
      expect(text).not.toContain('JobPrintedApiToken');
    }
  });

  it('a job that exits non-zero is failed, with its exit code and the log tail', async () => {
    const a = await app();
    const started = await startRun(a, { command: [process.execPath, TRAIN, '--steps', '1', '--exit', '3'], cwd: t!.home });
    const run = await waitForState(a, started.body.id, ['succeeded', 'failed']);
    expect(run).toMatchObject({ state: 'failed', exitCode: 3, reason: 'The job ended with exit code 3.', name: 'node' });
    expect(run.logTail).toContain('training done');
  });
});

describe('a model from Models', () => {
  it('hands the job the local snapshot of the pulled revision and the repo id, and records model and commit', async () => {
    const a = await app();
    const commit = 'a'.repeat(40);
    const repoDir = join(t!.home, 'hf-home', 'hub', 'models--halo-test--tiny');
    mkdirSync(join(repoDir, 'snapshots', commit), { recursive: true });
    mkdirSync(join(repoDir, 'refs'), { recursive: true });
    writeFileSync(join(repoDir, 'refs', 'main'), commit);
    const started = await startRun(a, { command: [process.execPath, TRAIN, '--steps', '1'], cwd: t!.home, model: 'halo-test/tiny' });
    expect(started.body.model).toEqual({ repo: 'halo-test/tiny', commit, path: join(repoDir, 'snapshots', commit) });
    const run = await waitForState(a, started.body.id, ['succeeded', 'failed']);
    const log = (await a.inject({ url: `/api/public/runs/${run.id}/log`, ...LOCAL })).body;
    expect(log).toContain(`MODEL_ID=halo-test/tiny MODEL_PATH=${join(repoDir, 'snapshots', commit)}`);
    const context = JSON.parse(readFileSync(join(run.runDir, 'launch_context.json'), 'utf8'));
    expect(context).toMatchObject({ model: 'halo-test/tiny', commit });
    expect(context.environment_added).toEqual(expect.arrayContaining(['HALOFORGE_MODEL_ID', 'HALOFORGE_MODEL_PATH']));
    expect((await startRun(a, { command: ['node'], cwd: t!.home, model: 'halo-test/tiny', revision: 'b'.repeat(40) })).body).toMatchObject({ error: 'run.model_not_found' });
  });
});

describe('stop', () => {
  it('ends the whole process group within the grace period: the job on SIGTERM, its worker that ignores SIGTERM with SIGKILL', async () => {
    const a = await app();
    const started = await startRun(a, { name: 'held', command: [process.execPath, TRAIN, '--child', '--hold', '--steps', '1'], cwd: t!.home });
    const id = started.body.id;
    const childPidFile = join(started.body.runDir, 'child.pid');
    await waitFor(() => existsSync(childPidFile) && readFileSync(childPidFile, 'utf8').length > 0, 10_000, 'the worker');
    await waitFor(async () => (await a.inject({ url: `/api/public/runs/${id}/log`, ...LOCAL })).body.includes('holding'), 10_000, 'the job to hold');
    const worker = Number(readFileSync(childPidFile, 'utf8'));
    workers.push(worker);
    const keeper = (await a.inject({ url: `/api/public/runs/${id}`, ...LOCAL })).json().pid as number;
    expect(alive(worker)).toBe(true);
    const began = Date.now();
    const res = await a.inject({ method: 'POST', url: `/api/public/runs/${id}/stop`, ...LOCAL });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ state: 'stopped', reason: 'Stopped by local user.' });
    await waitFor(() => !alive(worker) && !alive(keeper), 4_000, 'the whole tree to be gone');
    expect(Date.now() - began).toBeLessThan(1_500 + 2_000);
    const log = (await a.inject({ url: `/api/public/runs/${id}/log`, ...LOCAL })).body;
    expect(log).toContain('got SIGTERM, saving and exiting');
  });
});

describe('a keeper killed under a running job', () => {
  it('marks the run lost and stops what is left of the job, so no job runs unwatched', async () => {
    const a = await app();
    const started = await startRun(a, { name: 'orphan', command: [process.execPath, TRAIN, '--child', '--hold', '--steps', '1'], cwd: t!.home });
    const { id, runDir, pid: keeper } = started.body;
    await waitFor(async () => (await a.inject({ url: `/api/public/runs/${id}/log`, ...LOCAL })).body.includes('holding'), 10_000, 'the job to hold');
    const worker = Number(readFileSync(join(runDir, 'child.pid'), 'utf8'));
    workers.push(worker);
    process.kill(keeper!, 'SIGKILL');
    const run = await waitForState(a, id, ['lost']);
    expect(run.reason).toContain("keeper process was killed before the job ended");
    expect(run.logTail).toContain('holding');
    await waitFor(() => !alive(worker), 4_000, 'the job’s worker to be gone');
  });
});
