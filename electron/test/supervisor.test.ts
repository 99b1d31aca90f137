import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeSpawner } from '../node-backend.js';
import { backendArgs, backoffDelay, BackendSupervisor, isBackendMessage, logFileLine, readableLine, type BackendState, type SupervisorOptions } from '../supervisor.js';
import { BACKEND_ENTRY, FIXTURES, httpGet, isAlive, requireBuild, ROOT, tempHome, testEnv, waitFor } from './support.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(requireBuild);

function home() {
  const h = tempHome();
  cleanups.push(h.cleanup);
  return h.home;
}

/** A supervisor over the real backend (or a fixture), stopped after the test; records every state it goes through. */
function supervise(opts: Partial<SupervisorOptions> & { env: NodeJS.ProcessEnv; entry?: string }) {
  const { env, entry = BACKEND_ENTRY, ...rest } = opts;
  const supervisor = new BackendSupervisor({ spawn: nodeSpawner(entry, { env }), port: 0, readyTimeoutMs: 15_000, ...rest });
  const states: BackendState[] = [];
  supervisor.onState((s) => states.push(s));
  cleanups.push(async () => {
    const pid = supervisor.pid;
    await supervisor.stop();
    if (pid) expect(isAlive(pid), `backend ${pid} outlived its test`).toBe(false);
  });
  return { supervisor, states };
}

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null;
  } catch {
    return false;
  }
}

function listen(port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer().listen({ host: '127.0.0.1', port }, () => resolve(server));
  });
}

describe('pure supervision rules', () => {
  it.each([
    [8000, [], ['serve', '--port', '8000', '--port-fallback', '--log-format', 'json']],
    [8123, ['--log-level', 'warn'], ['serve', '--port', '8123', '--port-fallback', '--log-format', 'json', '--log-level', 'warn']],
  ])('asks the backend for port %i with fallback and JSON log lines', (port, extra, args) => {
    expect(backendArgs(port, extra)).toEqual(args);
  });

  it.each([
    ['{"level":30,"time":1,"msg":"Halo Forge is serving http://127.0.0.1:8000/"}', 'Halo Forge is serving http://127.0.0.1:8000/'],
    ['{"level":40,"time":1,"msg":"tokens.json was readable by others"}', 'WARN: tokens.json was readable by others'],
    ['{"level":50,"time":1,"msg":"Could not write","err":{"message":"ENOSPC"}}', 'ERROR: Could not write (ENOSPC)'],
    ['{"level":60,"time":1,"msg":"gone"}', 'FATAL: gone'],
    ['halo-forge: tokens.json is not valid JSON', 'halo-forge: tokens.json is not valid JSON'],
    ['{"no":"message"}', '{"no":"message"}'],
    ['{broken', '{broken'],
  ])('shows %j to a person as %j', (line, shown) => {
    expect(readableLine(line)).toBe(shown);
  });

  it.each([
    ['{"level":30,"time":1,"msg":"ready"}', '{"level":30,"time":1,"msg":"ready"}'],
    ['boom: the disk is gone', '{"level":50,"time":7,"name":"backend-output","msg":"boom: the disk is gone"}'],
    ['    at serve (file:///app/serve.mjs:1:2)', '{"level":50,"time":7,"name":"backend-output","msg":"    at serve (file:///app/serve.mjs:1:2)"}'],
    ['{not json', '{"level":50,"time":7,"name":"backend-output","msg":"{not json"}'],
    ['["an array"]', '{"level":50,"time":7,"name":"backend-output","msg":"[\\"an array\\"]"}'],
  ])('writes %j to the log file as a JSON line', (line, written) => {
    expect(logFileLine(line, 7)).toBe(written);
  });

  it.each([
    [1, 500],
    [2, 1000],
    [3, 2000],
    [5, 8000],
    [6, 15_000],
    [20, 15_000],
  ])('waits exponentially longer before restart %i (%i ms), up to a cap', (attempt, ms) => {
    expect(backoffDelay(attempt)).toBe(ms);
  });

  it.each([
    [{ type: 'ready', port: 8000, url: 'http://127.0.0.1:8000/', pid: 1 }, true],
    [{ type: 'fatal', message: 'm', hint: 'h' }, true],
    [{ type: 'remote-access', enabled: true, urls: ['http://10.0.0.2:8000/'] }, true],
    [{ type: 'ready', port: '8000', url: 'x', pid: 1 }, false],
    [{ type: 'remote-access', enabled: true, urls: [1] }, false],
    [{ type: 'shutdown' }, false],
    ['ready', false],
    [null, false],
  ])('accepts only well-formed backend messages: %j → %s', (message, ok) => {
    expect(isBackendMessage(message)).toBe(ok);
  });
});

describe('the supervisor with the real backend', () => {
  it('starts the backend and loads the dashboard only after its ready message', async () => {
    const { supervisor, states } = supervise({ env: testEnv(home()) });
    const state = await supervisor.start();
    expect(state.phase).toBe('ready');
    if (state.phase !== 'ready') return;
    expect(states.map((s) => s.phase)).toEqual(['starting', 'ready']);
    expect(state.url).toBe(`http://127.0.0.1:${state.port}/`);
    expect(state.pid).toBe(supervisor.pid);
    const health = await httpGet(`${state.url}api/public/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
  });

  it('takes the next free port when the preferred one is taken', async () => {
    const squatter = await listen();
    cleanups.push(() => new Promise((r) => squatter.close(r)));
    const taken = (squatter.address() as { port: number }).port;
    const { supervisor } = supervise({ env: testEnv(home()), port: taken });
    const state = await supervisor.start();
    expect(state.phase).toBe('ready');
    if (state.phase !== 'ready') return;
    expect(state.port).toBeGreaterThan(taken);
    expect(state.port).toBeLessThanOrEqual(taken + 20);
    expect((await httpGet(`${state.url}api/public/health`)).status).toBe(200);
  });

  it("shows the backend's own message, hint and log path when it cannot start, and does not loop", async () => {
    const h = home();
    writeFileSync(join(h, 'tokens.json'), '{"version": 1, "tokens": [ this is not json');
    const logPath = join(h, 'logs', 'backend.log');
    const { supervisor, states } = supervise({ env: testEnv(h), logPath, backoff: { initialMs: 10 } });
    const state = await supervisor.start();
    expect(state.phase).toBe('failed');
    if (state.phase !== 'failed') return;
    expect(state.message).toContain(join(h, 'tokens.json'));
    expect(state.hint).toBe(`Token store: ${join(h, 'tokens.json')}`);
    expect(state.logPath).toBe(logPath);
    await waitFor(() => supervisor.pid === undefined, 'the failed backend to exit');
    // A corrupt store stays corrupt: one attempt, no restart loop.
    expect(states.filter((s) => s.phase === 'starting')).toHaveLength(1);
    expect(states.some((s) => s.phase === 'restarting')).toBe(false);
    await waitFor(() => readFileSync(logPath, 'utf8').includes('tokens.json'), 'the error in the log file');
    const lines = readFileSync(logPath, 'utf8').trimEnd().split('\n');
    expect(lines.filter((line) => !isJsonObject(line)), 'lines of the log file that are not JSON').toEqual([]);
  });

  it('restarts a backend that dies, after a backoff, on the same port', async () => {
    const { supervisor, states } = supervise({ env: testEnv(home()), backoff: { initialMs: 50 } });
    const first = await supervisor.start();
    if (first.phase !== 'ready') throw new Error(`not ready: ${JSON.stringify(first)}`);
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => supervisor.state.phase === 'restarting', 'the restart notice');
    expect(supervisor.state).toMatchObject({ phase: 'restarting', attempt: 1, delayMs: 50, reason: 'The backend stopped unexpectedly (signal SIGKILL).' });
    const second = await supervisor.settled();
    expect(second.phase).toBe('ready');
    if (second.phase !== 'ready') return;
    expect(second.pid).not.toBe(first.pid);
    expect(isAlive(first.pid)).toBe(false);
    expect(second.port).toBe(first.port);
    expect((await httpGet(`${second.url}api/public/health`)).status).toBe(200);
    expect(states.map((s) => s.phase)).toEqual(['starting', 'ready', 'restarting', 'starting', 'ready']);
  });

  it('stops gracefully: in-flight requests finish, pending last-used times are flushed, no process is left', async () => {
    const h = home();
    const env = testEnv(h);
    const created = spawnSync(process.execPath, [join(ROOT, 'server', 'bin', 'halo-forge.js'), 'token', 'create', 'laptop', '--json'], { env, encoding: 'utf8' });
    expect(created.status, created.stderr).toBe(0);
    const secret = (JSON.parse(created.stdout) as { token: string }).token;

    const logPath = join(h, 'logs', 'backend.log');
    // At debug the backend logs each request as it arrives: that is how the test knows the request is in flight.
    const { supervisor } = supervise({ env, logPath, extraArgs: ['--log-level', 'debug'] });
    const state = await supervisor.start();
    if (state.phase !== 'ready') throw new Error(`not ready: ${JSON.stringify(state)}`);
    expect((await httpGet(`${state.url}api/public/health`, { authorization: `Bearer ${secret}` })).status).toBe(200);

    // A request whose body is still arriving when the stop begins.
    let answered: (r: { status: number; body: string }) => void;
    const answer = new Promise<{ status: number; body: string }>((r) => (answered = r));
    const req = request(`${state.url}api/public/connection/remote`, { method: 'PUT', headers: { 'content-type': 'application/json', 'content-length': 17 }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => answered({ status: res.statusCode ?? 0, body }));
    });
    cleanups.push(() => req.destroy());
    req.write('{"enabled":');
    await waitFor(() => readFileSync(logPath, 'utf8').includes('/api/public/connection/remote'), 'the backend to receive the request');

    const stopped = supervisor.stop();
    await waitFor(async () => (await httpGet(`${state.url}api/public/health`).then((r) => r.status, () => 0)) !== 200, 'the backend to stop taking new requests');
    expect(isAlive(state.pid)).toBe(true);
    req.end('false}');
    const response = await answer;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ enabled: false });

    expect(await stopped).toEqual({ code: 0, signal: null, graceful: true });
    expect(supervisor.state.phase).toBe('stopped');
    expect(isAlive(state.pid)).toBe(false);
    const tokens = JSON.parse(readFileSync(join(h, 'tokens.json'), 'utf8')) as { tokens: Array<{ name: string; lastUsed: string | null }> };
    expect(tokens.tokens.find((t) => t.name === 'laptop')?.lastUsed).toEqual(expect.any(String));
  });

  it('a final stop (quitting) is not undone by a "Restart backend" during the graceful stop, nor by a later start', async () => {
    let spawned = 0;
    const spawnBackend = nodeSpawner(BACKEND_ENTRY, { env: testEnv(home()) });
    const { supervisor } = supervise({ env: {}, spawn: (args, events) => (spawned++, spawnBackend(args, events)) });
    const state = await supervisor.start();
    if (state.phase !== 'ready') throw new Error(`not ready: ${JSON.stringify(state)}`);

    const quitting = supervisor.stop({ final: true });
    // The menu click lands while the backend is still finishing its requests.
    const restarted = supervisor.restart();
    expect(await quitting).toMatchObject({ code: 0, graceful: true });
    expect(await restarted).toEqual({ phase: 'stopped', final: true });
    expect(await supervisor.start()).toEqual({ phase: 'stopped', final: true });
    expect(spawned).toBe(1);
    expect(supervisor.pid).toBeUndefined();
    expect(isAlive(state.pid)).toBe(false);
  });

  it('exits by itself when its supervisor is killed with SIGKILL, leaving no orphan', async () => {
    const host = spawn(process.execPath, [join(FIXTURES, 'supervisor-host.mjs'), BACKEND_ENTRY], { env: testEnv(home()), stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => host.kill('SIGKILL'));
    let out = '';
    host.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await waitFor(() => out.includes('\n'), 'the supervised backend to be ready', 15_000);
    const ready = JSON.parse(out.split('\n')[0]!) as BackendState;
    if (ready.phase !== 'ready') throw new Error(`not ready: ${out}`);
    expect(isAlive(ready.pid)).toBe(true);
    host.kill('SIGKILL');
    await waitFor(() => !isAlive(ready.pid), `backend ${ready.pid} to exit after its supervisor was killed`, 10_000);
  });
});

describe('the supervisor with backends that misbehave', () => {
  const fake = join(FIXTURES, 'fake-backend.mjs');

  it('gives up after repeated crashes, with growing delays, and shows what the backend printed', async () => {
    const logPath = join(home(), 'logs', 'backend.log');
    const { supervisor, states } = supervise({ env: testEnv(home(), { FAKE_BACKEND_MODE: 'crash' }), entry: fake, maxRestarts: 3, backoff: { initialMs: 20, factor: 2, maxMs: 60 }, logPath });
    const state = await supervisor.start();
    expect(state.phase).toBe('failed');
    if (state.phase !== 'failed') return;
    expect(states.flatMap((s) => (s.phase === 'restarting' ? [s.delayMs] : []))).toEqual([20, 40, 60]);
    expect(states.filter((s) => s.phase === 'starting')).toHaveLength(4);
    expect(state.message).toBe('The backend stopped unexpectedly (exit code 3). It stopped 4 times in a row, so Halo Forge gave up restarting it.');
    expect(state.hint).toBe(`The backend's output is in ${logPath}.`);
    expect(state.output).toContain('boom: the model cache is on a disk that is not mounted');
    // Every line of the file is JSON, the supervisor's own and the crash's plain text alike.
    const records = readFileSync(logPath, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { name?: string; msg: string });
    expect(records.filter((r) => r.name === 'backend-output').map((r) => r.msg)).toEqual(Array(4).fill('boom: the model cache is on a disk that is not mounted'));
    expect(records.filter((r) => r.name === 'supervisor').map((r) => r.msg)).toContain('exited (exit code 3)');
  });

  it('kills and retries a backend that never reports ready', async () => {
    // 2 s, not less: on a loaded machine Node alone can take longer than that to print its first line.
    const { supervisor, states } = supervise({ env: testEnv(home(), { FAKE_BACKEND_MODE: 'hang' }), entry: fake, readyTimeoutMs: 2_000, maxRestarts: 1, backoff: { initialMs: 10 } });
    const state = await supervisor.start();
    expect(state).toMatchObject({ phase: 'failed', message: expect.stringContaining('The backend did not report ready within 2 s.') });
    expect(states.find((s) => s.phase === 'restarting')).toMatchObject({ reason: 'The backend did not report ready within 2 s.', output: expect.stringContaining('starting very slowly') });
    expect(supervisor.pid).toBeUndefined();
  });

  it('escalates to SIGTERM and then SIGKILL when the backend ignores the shutdown message', async () => {
    const { supervisor } = supervise({ env: testEnv(home(), { FAKE_BACKEND_MODE: 'stubborn' }), entry: fake, stopGraceMs: 200, killAfterMs: 200 });
    const state = await supervisor.start();
    if (state.phase !== 'ready') throw new Error(`not ready: ${JSON.stringify(state)}`);
    const result = await supervisor.stop();
    expect(result).toEqual({ code: null, signal: 'SIGKILL', graceful: false });
    expect(isAlive(state.pid)).toBe(false);
  });

  it('stops a backend that is still starting with SIGTERM, without waiting out the grace period', async () => {
    const { supervisor } = supervise({ env: testEnv(home(), { FAKE_BACKEND_MODE: 'hang' }), entry: fake, stopGraceMs: 120_000 });
    void supervisor.start();
    await waitFor(() => supervisor.pid !== undefined, 'the backend process');
    const pid = supervisor.pid!;
    expect(await supervisor.stop()).toEqual({ code: null, signal: 'SIGTERM', graceful: true });
    expect(isAlive(pid)).toBe(false);
  });

  it('fails with a message, not a hang, when the backend process cannot be created', async () => {
    const supervisor = new BackendSupervisor({
      spawn: () => {
        throw new Error('spawn ENOENT');
      },
    });
    expect(await supervisor.start()).toMatchObject({ phase: 'failed', message: 'The backend could not be started: spawn ENOENT' });
    expect(await supervisor.stop()).toBeNull();
  });

  it('does not restart a backend that exits while it is being stopped', async () => {
    const { supervisor, states } = supervise({ env: testEnv(home()), backoff: { initialMs: 10 } });
    await supervisor.start();
    await supervisor.stop();
    expect(states.map((s) => s.phase)).toEqual(['starting', 'ready', 'stopping', 'stopped']);
  });
});
