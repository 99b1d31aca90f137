import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, isAlive, requireRuntimeBuild } from './support/serving.js';
import { runCli, startBackend, waitFor, workstations } from './support/backend-process.js';
import { createTestHost, netnsUnavailable, type TestHost } from './support/netns.js';
import { allArgv, filesUnder, HF_CANARY, runtimePids, servingHome, TINY_MODEL, TINY_REPO, tinyModelHub } from './support/serving-rig.js';
import type { FakeHub } from '../../e2e/support/fake-hub.js';

// Serving through the product, end to end: the test Hub serves the tiny
// model, Halo Forge pulls it into a temporary cache, the backend loads it
// just in time for a /v1 request, and a laptop's official OpenAI SDK (in a
// network namespace, with a bearer token) streams its answer through the gate.

const run = promisify(execFile);
const unavailable = netnsUnavailable();
if (unavailable) console.log(`[serving-e2e] remote-client part skipped: ${unavailable}`);

interface ClientResult {
  status: number;
  text?: string;
  connection?: string | null;
  ids?: string[];
  error?: { message: string; type: string; code: string | null } | null;
  message?: string;
}

let hub: FakeHub;
beforeAll(async () => {
  requireRuntimeBuild();
  hub = await tinyModelHub();
});
afterAll(async () => hub?.close());

const w = workstations();
afterEach(w.release);

async function token(env: NodeJS.ProcessEnv, name: string, scope: string): Promise<string> {
  const created = await runCli(['token', 'create', name, '--scope', scope, '--json'], env);
  expect(created.code, created.stderr).toBe(0);
  return JSON.parse(created.stdout).token as string;
}

describe.skipIf(unavailable !== null)('a laptop on the LAN, through the official openai SDK', () => {
  let remote: TestHost;
  beforeAll(() => {
    remote = createTestHost();
  });
  afterAll(() => remote?.remove());

  const sdk = async (baseURL: string, apiKey: string, mode: 'stream' | 'whole' | 'models' = 'stream'): Promise<ClientResult> => {
    const { stdout } = await run('ip', ['netns', 'exec', remote.namespace, process.execPath, join(FIXTURES, 'openai-client.mjs'), baseURL, apiKey, TINY_REPO, mode], { timeout: 90_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!) as ClientResult;
  };

  it('no token 401; inference token streams "hello hello"; inference on /api/public/tokens 403; read on POST /v1 403; no secret anywhere', async () => {
    const { home, cache, env } = await servingHome(w, hub);
    const b = await w.backend(['--host', '0.0.0.0'], env);
    const inference = await token(env, 'laptop-sdk', 'inference');
    const read = await token(env, 'dashboard-read', 'read');
    const base = `http://${remote.hostAddress}:${b.port}`;

    expect(await remote.request(`${base}/v1/models`)).toBe('401');
    expect(await remote.send(`${base}/v1/chat/completions`, { method: 'POST', body: { model: TINY_REPO, messages: [{ role: 'user', content: 'hi' }] } })).toMatchObject({
      status: 401,
      body: { error: { type: 'authentication_error', code: 'auth.required' } },
    });

    // The first request names a downloaded model that is not loaded: it is loaded just in time.
    expect(runtimePids(cache)).toEqual([]);
    const streamed = await sdk(`${base}/v1`, inference);
    // Answered by the runtime on the laptop's own connection, handed over by the gate (connection-handoff.ts).
    expect(streamed).toMatchObject({ status: 200, text: 'hello hello', connection: 'close' });
    expect(runtimePids(cache)).toHaveLength(1);
    expect(await sdk(`${base}/v1`, inference, 'models')).toMatchObject({ status: 200, ids: [TINY_MODEL] });

    expect(await remote.send(`${base}/api/public/tokens`, { method: 'GET', headers: { authorization: `Bearer ${inference}` } })).toMatchObject({ status: 403, body: { error: 'auth.forbidden' } });
    expect(await remote.send(`${base}/api/public/serving`, { method: 'GET', headers: { authorization: `Bearer ${inference}` } })).toMatchObject({ status: 403 });
    // What a client needs to know its own session is the one thing it may ask.
    expect(await remote.send(`${base}/api/public/auth/session`, { method: 'GET', headers: { authorization: `Bearer ${inference}` } })).toMatchObject({
      status: 200,
      body: { token: { name: 'laptop-sdk', scope: 'inference' } },
    });

    const refused = await sdk(`${base}/v1`, read);
    expect(refused).toMatchObject({ status: 403, error: { type: 'permission_error', code: 'auth.forbidden' } });
    // A read token may look at what is served.
    expect(await sdk(`${base}/v1`, read, 'models')).toMatchObject({ status: 200 });

    // Secret canaries: the HF token, the runtime key and both hfk_ tokens.
    const [pid] = runtimePids(cache);
    const runtimeKey = /HALOFORGE_RUNTIME_KEY=([^\0]+)/.exec((await import('node:fs')).readFileSync(`/proc/${pid}/environ`, 'utf8'))![1]!;
    const runtimeEnv = (await import('node:fs')).readFileSync(`/proc/${pid}/environ`, 'utf8');
    expect(runtimeEnv).toContain(`HF_TOKEN=${HF_CANARY}`);
    expect(runtimeEnv).not.toContain(inference);
    const whole = await sdk(`${base}/v1`, inference, 'whole');
    expect(whole).toMatchObject({ status: 200, text: 'hello hello' });
    const ps = await runCli(['ps', '--json'], env);
    expect(JSON.parse(ps.stdout)).toEqual([expect.objectContaining({ model: TINY_MODEL, runtime: 'embedded', state: 'ready', loadedBy: 'jit', requests: 2, tokensPerSecond: expect.any(Number) })]);
    const places: [string, string][] = [
      ['backend output', b.output()],
      ['argv of every process', allArgv()],
      ['ps output', ps.stdout + ps.stderr],
      ['/v1 answers', JSON.stringify([streamed, whole, refused])],
      ...filesUnder(home)
        .filter((f) => !f.path.startsWith(cache))
        .map((f): [string, string] => [f.path, f.text]),
    ];
    expect(places.some(([p]) => p.endsWith('launch_context.json'))).toBe(true);
    expect(places.some(([p]) => p.includes(join('logs', 'runtimes')))).toBe(true);
    for (const secret of [HF_CANARY, runtimeKey, inference, read]) {
      for (const [where, text] of places) expect(text.includes(secret), `${secret.slice(0, 6)}... in ${where}`).toBe(false);
    }
  }, 120_000);
});

describe('the backend and its runtimes live and die together', () => {
  it('kill -9 of the backend (serve) leaves no runtime running', async () => {
    const { cache, env } = await servingHome(w, hub);
    // Not w.backend: its stop() waits for an exit that a SIGKILL has already delivered.
    const b = await startBackend(['--model', TINY_REPO], env);
    const exited = new Promise((resolve) => b.child.once('exit', resolve));
    try {
      await waitFor(async () => ((await (await fetch(`${b.url}api/public/serving`)).json()) as { models: { state: string }[] }).models[0]?.state === 'ready', 60_000, 'serve --model to load the model');
    } catch (err) {
      b.child.kill('SIGKILL');
      throw err;
    }
    const [pid] = runtimePids(cache);
    expect(pid).toBeDefined();
    b.child.kill('SIGKILL');
    await exited;
    const took = await waitFor(() => !isAlive(pid!), 5_000, 'the runtime to exit after its backend was killed');
    expect(took).toBeLessThan(5_000);
  }, 90_000);

  it('stopping the backend stops its runtimes and removes backend.json', async () => {
    const { home, cache, env } = await servingHome(w, hub);
    const b = await w.backend([], env);
    const ran = await runCli(['models', 'run', TINY_REPO, '--json'], env);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ model: TINY_MODEL, state: 'ready', loadedBy: 'user' });
    const [pid] = runtimePids(cache);
    expect(await b.stop()).toBe(0);
    expect(isAlive(pid!)).toBe(false);
    expect((await import('node:fs')).existsSync(join(home, 'backend.json'))).toBe(false);
    const after = await runCli(['ps'], env);
    expect(after).toMatchObject({ code: 2 });
    expect(after.stderr).toContain('No Halo Forge backend is running');
    expect(after.stderr).toContain('halo-forge serve');
  }, 90_000);
});
