import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenCreated } from '../../shared/api.js';
import type { Recipe, RunInfo } from '../../shared/runs.js';
import { startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { buildTestApp, LAN, type TestApp } from './support/app.js';
import { LOCAL, startRun, TRAIN, waitForState } from './support/runs.js';

const HF_TOKEN = 'hf_CanaryRunsApiTestToken0123456789abcdef';

let hub: FakeHub;
let t: TestApp | null = null;
beforeAll(async () => {
  hub = await startFakeHub();
  hub.addToken(HF_TOKEN);
});
afterAll(() => hub.close());
afterEach(async () => {
  if (t) {
    // Nothing a test started may outlive it.
    for (const run of t.app.halo.runs.list()) if (run.state === 'running' || run.state === 'queued') await t.app.halo.runs.stop(run.id, 'test cleanup');
    await t.close();
  }
  t = null;
});

async function app(extra: NodeJS.ProcessEnv = {}) {
  t = await buildTestApp({ envExtra: { HF_ENDPOINT: hub.url, HF_TOKEN, HALOFORGE_RUNS_STOP_GRACE_MS: '1000', ...extra } });
  return t.app;
}

const hold = () => [process.execPath, TRAIN, '--steps', '1', '--hold'];

describe('bad input is refused before anything runs, with the reason', () => {
  it.each([
    ['a command that does not exist', { command: ['no-such-trainer-xyz', '--help'] }, 400, 'run.command_not_found', '"no-such-trainer-xyz" was not found on the job\'s PATH; give its full path, or install it.'],
    ['a program path that does not exist', { command: ['/nonexistent/bin/python'] }, 400, 'run.command_not_found', 'The program /nonexistent/bin/python does not exist.'],
    ['a program that is a folder', { command: ['/usr'] }, 400, 'run.command_not_found', 'The program /usr is a folder.'],
    ['a cwd that does not exist', { command: ['node'], cwd: '/nonexistent/folder' }, 400, 'run.cwd_refused', 'The working folder /nonexistent/folder does not exist.'],
    ['a relative cwd', { command: ['node'], cwd: 'data' }, 400, 'run.cwd_refused', 'The working folder must be an absolute path; "data" is not.'],
    ['an invalid env name', { command: ['node'], env: { 'BAD-NAME': '1' } }, 400, 'run.env_invalid', '"BAD-NAME" is not a valid environment variable name: letters, digits and "_", not starting with a digit.'],
    ['HF_TOKEN overridden with another value', { command: ['node'], env: { HF_TOKEN: 'hf_SomeOtherTokenValue0123456789abcd' } }, 400, 'run.env_invalid', "HF_TOKEN cannot be set here: the job receives the workstation's Hugging Face token as HF_TOKEN (change it in Settings → Hugging Face)."],
    ['a token in argv', { command: ['node', '-e', '1', `--token=${HF_TOKEN}`] }, 400, 'run.command_invalid', 'Argument 3 holds what looks like a token. Arguments are visible to every user of this machine (ps) and are recorded; the job receives HF_TOKEN in its environment, so leave the token out of the command.'],
    ['a model that is not pulled', { command: ['node'], model: 'org/not-pulled' }, 400, 'run.model_not_found', expect.stringContaining('org/not-pulled is not in the local cache')],
    ['a bad name', { command: ['node'], name: 'has space' }, 400, 'run.name_invalid', expect.stringContaining('"has space" is not a valid name')],
    ['an unknown field', { command: ['node'], shell: true }, 400, 'request.invalid', expect.stringContaining('shell')],
    ['an empty command', { command: [] }, 400, 'request.invalid', expect.any(String)],
  ])('%s', async (_what, body, status, error, message) => {
    const a = await app();
    const res = await startRun(a, { cwd: t!.home, ...body });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error, message });
    expect(JSON.stringify(res.body)).not.toContain(HF_TOKEN.slice(3));
    expect((await a.inject({ url: '/api/public/runs', ...LOCAL })).json().runs).toEqual([]);
  });

  it('a cwd that is a file, and one this user may not enter', async () => {
    const a = await app();
    const file = join(t!.home, 'file.txt');
    writeFileSync(file, 'x');
    expect((await startRun(a, { command: ['node'], cwd: file })).body).toEqual({ error: 'run.cwd_refused', message: `The working folder ${file} is not a folder.` });
    if (process.getuid?.() === 0) return; // root enters any folder
    const locked = join(t!.home, 'locked');
    mkdirSync(locked, { mode: 0o000 });
    try {
      expect((await startRun(a, { command: ['node'], cwd: locked })).body.error).toBe('run.cwd_refused');
    } finally {
      chmodSync(locked, 0o700);
    }
  });
});

describe('scopes: admin starts, operate starts recipes and stops, read watches', () => {
  async function token(a: Awaited<ReturnType<typeof app>>, scope: string) {
    const res = await a.inject({ method: 'POST', url: '/api/public/tokens', payload: { name: `t-${scope}`, scope }, ...LOCAL });
    return { authorization: `Bearer ${(res.json() as TokenCreated).token}` };
  }

  it('enforces each route’s scope for remote tokens', async () => {
    const a = await app();
    const [admin, operate, read] = [await token(a, 'admin'), await token(a, 'operate'), await token(a, 'read')];
    const recipe = { name: 'sft', command: hold(), cwd: t!.home };
    const call = (headers: Record<string, string>, method: string, url: string, payload?: unknown) =>
      a.inject({ method: method as 'GET', url: `/api/public${url}`, headers, ...(payload !== undefined ? { payload } : {}), ...LAN });

    expect((await call(operate, 'POST', '/runs/recipes', recipe)).statusCode).toBe(403);
    expect((await call(admin, 'POST', '/runs/recipes', recipe)).statusCode).toBe(201);
    for (const who of [operate, read]) expect((await call(who, 'POST', '/runs', { command: hold(), cwd: t!.home })).json()).toMatchObject({ error: 'auth.forbidden' });
    expect((await call(read, 'POST', '/runs/recipes/sft/start', {})).statusCode).toBe(403);

    const byOperate = await call(operate, 'POST', '/runs/recipes/sft/start', {});
    expect(byOperate.statusCode).toBe(201);
    const run = byOperate.json() as RunInfo;
    expect(run).toMatchObject({ recipe: 'sft', name: 'sft', startedBy: 'token t-operate' });

    for (const url of ['/runs', `/runs/${run.id}`, `/runs/${run.id}/log`, `/runs/${run.id}/metrics`, '/runs/recipes']) expect((await call(read, 'GET', url)).statusCode).toBe(200);
    expect((await call(read, 'POST', `/runs/${run.id}/stop`)).statusCode).toBe(403);
    expect((await call(operate, 'PUT', '/runs/recipes/sft', recipe)).statusCode).toBe(403);
    expect((await call(operate, 'DELETE', '/runs/recipes/sft')).statusCode).toBe(403);
    expect((await call(operate, 'POST', `/runs/${run.id}/recipe`, { name: 'copy' })).statusCode).toBe(403);

    const stopped = await call(operate, 'POST', `/runs/${run.id}/stop`);
    // Who stopped it is the point here; a busy machine may need the grace period's SIGKILL too.
    expect(stopped.json()).toMatchObject({ state: 'stopped', reason: expect.stringMatching(/^Stopped by token t-operate\./) });
    expect((await call(admin, 'POST', '/runs', { command: [process.execPath, TRAIN, '--steps', '1'], cwd: t!.home })).statusCode).toBe(201);
    const audit = (await a.inject({ url: '/api/public/audit', ...LOCAL })).json().entries as { event: string; token?: string }[];
    // Newest first.
    expect(audit.filter((e) => e.event.startsWith('run.')).map((e) => `${e.event} ${e.token}`)).toEqual(['run.started t-admin', 'run.stopped t-operate', 'run.started t-operate']);
  });
});

describe('recipes', () => {
  it('are created, listed, changed, started with one call, saved from a run, and removed', async () => {
    const a = await app();
    const post = (url: string, payload?: unknown) => a.inject({ method: 'POST', url: `/api/public${url}`, ...(payload !== undefined ? { payload } : {}), ...LOCAL });
    const created = await post('/runs/recipes', { name: 'eval', command: [process.execPath, TRAIN, '--steps', '2'], cwd: t!.home, env: { EXTRA: 'from-recipe' } });
    expect(created.statusCode).toBe(201);
    expect((await post('/runs/recipes', { name: 'eval', command: ['node'] })).json()).toMatchObject({ error: 'run.recipe_duplicate' });
    expect((await post('/runs/recipes', { name: 'leaky', command: ['node'], env: { KEY: HF_TOKEN } })).json()).toMatchObject({ error: 'run.env_invalid' });

    const started = await post('/runs/recipes/eval/start', { name: 'eval-2' });
    expect(started.statusCode).toBe(201);
    const run = await waitForState(a, (started.json() as RunInfo).id, ['succeeded', 'failed']);
    expect(run).toMatchObject({ state: 'succeeded', name: 'eval-2', recipe: 'eval', env: ['EXTRA'] });
    expect((await a.inject({ url: `/api/public/runs/${run.id}/log`, ...LOCAL })).body).toContain('EXTRA=from-recipe');

    const saved = await post(`/runs/${run.id}/recipe`, { name: 'eval-copy' });
    expect(saved.json()).toMatchObject({ name: 'eval-copy', command: run.command, env: { EXTRA: 'from-recipe' }, cwd: t!.home });
    const changed = await a.inject({ method: 'PUT', url: '/api/public/runs/recipes/eval-copy', payload: { name: 'eval-renamed', command: ['node', '--version'] }, ...LOCAL });
    expect(changed.json()).toMatchObject({ name: 'eval-renamed', command: ['node', '--version'], cwd: null, env: {} });
    const list = (await a.inject({ url: '/api/public/runs/recipes', ...LOCAL })).json().recipes as Recipe[];
    expect(list.map((r) => r.name)).toEqual(['eval', 'eval-renamed']);
    expect((await a.inject({ method: 'DELETE', url: '/api/public/runs/recipes/eval', ...LOCAL })).statusCode).toBe(200);
    expect((await post('/runs/recipes/eval/start', {})).json()).toEqual({ error: 'run.recipe_not_found', message: 'There is no recipe named "eval".' });
  });
});

describe('one GPU job at a time', () => {
  it('queues the next GPU job until the first ends; other jobs are not held up; a queued run can be stopped', async () => {
    const a = await app();
    const first = (await startRun(a, { name: 'gpu-1', command: hold(), cwd: t!.home, gpu: true })).body;
    const second = (await startRun(a, { name: 'gpu-2', command: hold(), cwd: t!.home, gpu: true })).body;
    const third = (await startRun(a, { name: 'gpu-3', command: hold(), cwd: t!.home, gpu: true })).body;
    const cpu = (await startRun(a, { name: 'cpu', command: hold(), cwd: t!.home })).body;
    expect([first.state, second.state, third.state, cpu.state]).toEqual(['running', 'queued', 'queued', 'running']);
    expect((await a.inject({ method: 'POST', url: `/api/public/runs/${third.id}/stop`, ...LOCAL })).json()).toMatchObject({ state: 'stopped', reason: 'Stopped by local user before it started.', startedAt: null });
    await a.inject({ method: 'POST', url: `/api/public/runs/${first.id}/stop`, ...LOCAL });
    await waitForState(a, second.id, ['running']);
  });
});

describe('the events stream', () => {
  it('sends the run, the log backlog and live lines, every metric point, and the end; no secret in any frame', async () => {
    const a = await app();
    await a.listen({ host: '127.0.0.1', port: 0 });
    const port = (a.server.address() as { port: number }).port;
    const run = (await startRun(a, { name: 'streamed', command: [process.execPath, TRAIN, '--steps', '4', '--interval', '150', '--print-token'], cwd: t!.home })).body;
    const res = await fetch(`http://127.0.0.1:${port}/api/public/runs/${run.id}/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text(); // the server ends the stream after `end`
    const frames = text.split('\n\n').filter((f) => f.startsWith('event:')).map((f) => ({ event: /^event: (.*)$/m.exec(f)![1], data: JSON.parse(/^data: (.*)$/m.exec(f)![1]!) }));
    expect(frames[0]).toMatchObject({ event: 'run', data: { id: run.id } });
    expect(frames.at(-1)).toMatchObject({ event: 'end', data: { state: 'succeeded' } });
    const log = frames.filter((f) => f.event === 'log').map((f) => f.data.text).join('');
    expect(log).toContain('training done');
    expect(log).toContain('my token is [REDACTED] (oops)');
    const losses = frames.filter((f) => f.event === 'metric' && f.data.source === 'trainer').map((f) => f.data.values.loss);
    expect(losses).toEqual([2.5, 1.25, 0.8333, 0.625]);
    const seqs = frames.filter((f) => f.event === 'metric').map((f) => f.data.seq);
    expect(seqs).toEqual([...seqs.keys()]);
    expect(text).not.toContain(HF_TOKEN.slice(3));
  });

  it('for a finished run: everything at once, then the end', async () => {
    const a = await app();
    await a.listen({ host: '127.0.0.1', port: 0 });
    const port = (a.server.address() as { port: number }).port;
    const run = (await startRun(a, { command: [process.execPath, TRAIN, '--steps', '2'], cwd: t!.home })).body;
    await waitForState(a, run.id, ['succeeded']);
    const text = await (await fetch(`http://127.0.0.1:${port}/api/public/runs/${run.name}/events`)).text();
    expect(text.match(/^event: \w+/gm)).toEqual(['event: run', 'event: log', ...Array(6).fill('event: metric'), 'event: end']);
  });

  it('an unknown run is a 404 in the usual shape', async () => {
    const a = await app();
    const res = await a.inject({ url: '/api/public/runs/nope/events', ...LOCAL });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'run.not_found', message: 'There is no run with the id or name "nope".' });
  });
});

describe('the recipes file', () => {
  it('one that cannot be read is never overwritten: saving is refused and says why', async () => {
    const first = await app();
    const path = join(t!.home, 'recipes.json');
    writeFileSync(path, '{ "recipes": [ broken', { mode: 0o600 });
    // A second backend on the same home reads the file at its start.
    const second = await buildTestApp({ env: first.halo.env });
    try {
      const res = await second.app.inject({ method: 'POST', url: '/api/public/runs/recipes', payload: { name: 'x', command: ['node'] }, ...LOCAL });
      expect(res.statusCode).toBe(503);
      expect(res.json().message).toMatch(/^The recipes file .*recipes\.json cannot be read .*; fix or move it, then restart Halo Forge\. Nothing was changed\.$/);
      expect(readFileSync(path, 'utf8')).toBe('{ "recipes": [ broken');
    } finally {
      await second.close();
    }
  });
});
