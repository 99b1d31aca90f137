import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRuntime } from '../src/serving/embedded-adapter.js';
import { findExecutable, LlamaServerRuntime, VllmRuntime } from '../src/serving/external-adapters.js';
import { freeLoopbackPort } from '../src/serving/ports.js';
import type { RuntimeAdapter } from '../src/serving/runtime-adapter.js';
import type { RuntimeState, RuntimeSupervisorOptions } from '../src/serving/runtime-supervisor.js';
import { tempHome, testEnv, waitFor } from './support/backend-process.js';
import { CANARY, commandLine, environOf, FIXTURES, isAlive, requireRuntimeBuild, ROOT, supervisors, waitForState } from './support/serving.js';
import { writeTinyGguf } from './support/tiny-gguf.js';

// The runtime supervisor's lifecycle, with the real embedded runtime and with fake llama-server and vllm
// executables (Node scripts with the same flags, health and /v1 behaviour).

const FAKE = join(FIXTURES, 'fake-runtime.mjs');
const made = supervisors();
let home: { home: string; cleanup(): void };
let modelPath: string;

beforeAll(() => {
  requireRuntimeBuild();
  home = tempHome('halo-supervise-');
  modelPath = writeTinyGguf(join(home.home, 'tiny.gguf'));
});
afterEach(() => made.stopAll());
afterAll(() => home?.cleanup());

function options(adapter: RuntimeAdapter, extra: Partial<RuntimeSupervisorOptions> = {}): RuntimeSupervisorOptions {
  return {
    adapter,
    model: { id: 'org/tiny', repo: 'org/tiny', commit: 'abc123abc123abc123abc123abc123abc123abcd', path: modelPath },
    home: home.home,
    // The backend's own environment carries its API token and a stray HF variable; neither may reach a runtime.
    env: testEnv(home.home, { HALOFORGE_API_TOKEN: CANARY.apiToken, HUGGING_FACE_HUB_TOKEN: 'hf_StrayEnvironmentTokenNotResolved1' }),
    hfToken: CANARY.hfToken,
    hfHubCache: join(home.home, 'hub'),
    backoff: { initialMs: 50, maxMs: 200 },
    ...extra,
  };
}

const embedded = () => new EmbeddedRuntime({ threads: 1, gpu: false });
const fakeLlama = () => new LlamaServerRuntime({ executable: FAKE });

/** The fake runtime's own pid (under the guard), from the record it writes. */
function recorded(path: string): { argv: string[]; env: string[]; pid: number } {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A server that answers 200 to everything, holding a port the supervisor is told to use. */
async function stranger(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end('{"status":"ok"}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

function portsFrom(first: number) {
  let used = false;
  return async () => {
    if (used) return freeLoopbackPort();
    used = true;
    return first;
  };
}

// Each test starts node-llama-cpp at least once (4–11 s on a busy 2-core machine), some twice.
describe('the runtime supervisor with the embedded runtime', { timeout: 120_000 }, () => {
  it('records a crash with its exit and log tail, then restarts the runtime with backoff', async () => {
    const supervisor = made.make(options(embedded()));
    const first = await supervisor.start();
    expect(first.phase).toBe('ready');
    const pid = supervisor.pid!;
    const states: RuntimeState[] = [];
    supervisor.onState((s) => states.push(s));
    process.kill(pid, 'SIGKILL');
    const crashed = await waitForState(supervisor, (s) => s.phase === 'crashed', 10_000, 'crashed');
    expect(crashed).toMatchObject({ phase: 'crashed', exitCode: null, signal: 'SIGKILL', restartInMs: 50, reason: 'The embedded runtime stopped unexpectedly (signal SIGKILL).' });
    expect(crashed.phase === 'crashed' && crashed.logTail).toMatch(/ready in \d+ ms/);
    const again = await waitForState(supervisor, (s) => s.phase === 'ready', 30_000, 'ready again');
    expect(again.phase === 'ready' && again.pid).not.toBe(pid);
    expect(states.map((s) => s.phase)).toEqual(['crashed', 'starting', 'starting', 'ready']);
  });

  it('stops with SIGTERM and leaves no process behind', async () => {
    const supervisor = made.make(options(embedded()));
    await supervisor.start();
    const pid = supervisor.pid!;
    expect(isAlive(pid)).toBe(true);
    await supervisor.stop();
    expect(supervisor.state).toEqual({ phase: 'stopped' });
    expect(isAlive(pid)).toBe(false);
    // node-llama-cpp ends the process by the signal once it has released llama.cpp.
    expect(readFileSync(supervisor.log.path, 'utf8')).toMatch(/stopping \(SIGTERM\)[\s\S]*exited \((exit code 0|signal SIGTERM)\)/);
  });

  it('takes another port when its port is taken, and is not fooled by the stranger answering there', async () => {
    const held = await stranger();
    try {
      const supervisor = made.make(options(embedded(), { pickPort: portsFrom(held.port) }));
      const state = await supervisor.start();
      expect(state.phase).toBe('ready');
      expect(state.phase === 'ready' && state.port).not.toBe(held.port);
      expect(readFileSync(supervisor.log.path, 'utf8')).toContain(`port ${held.port} is taken; trying another`);
    } finally {
      held.server.close();
    }
  });

  it('says so, and does not restart, when the context size is more than the model takes', async () => {
    const supervisor = made.make(options(embedded(), { contextSize: 100_000 }));
    const state = await supervisor.start();
    expect(state).toMatchObject({
      phase: 'crashed',
      reason: 'A context of 100000 tokens is more than this model takes (512).',
      hint: 'Use a context size of 512 or less.',
      exitCode: 2,
      restartInMs: null,
    });
  });

  it('says the embedded runtime is not built, with how to build it', async () => {
    expect(await new EmbeddedRuntime({ entry: join(home.home, 'missing.mjs') }).availability()).toEqual({
      installed: false,
      message: 'The embedded runtime is not built.',
      install: 'Run "npm run build" in the Halo Forge folder.',
    });
    expect(await embedded().availability()).toMatchObject({ installed: true });
  });
});

describe('external runtimes (fake llama-server and vllm)', () => {
  it('launches llama-server on 127.0.0.1 with its key in LLAMA_API_KEY and the shared cache in HF_HUB_CACHE, never in argv', async () => {
    const record = join(home.home, 'llama-record.json');
    const supervisor = made.make(options(fakeLlama(), { env: { ...options(fakeLlama()).env, FAKE_RECORD: record } }));
    expect((await supervisor.start()).phase).toBe('ready');
    const fake = recorded(record);
    expect(fake.argv).toEqual(['--host', '127.0.0.1', '--port', String(supervisor.state.phase === 'ready' && supervisor.state.port), '--model', modelPath, '--alias', 'org/tiny']);
    expect(fake.env).toEqual(expect.arrayContaining(['LLAMA_API_KEY', 'HF_HUB_CACHE', 'HF_TOKEN']));
    expect(fake.env).not.toContain('HALOFORGE_API_TOKEN');
    expect(fake.env).not.toContain('HUGGING_FACE_HUB_TOKEN');
    for (const pid of [supervisor.pid!, fake.pid]) {
      const argv = commandLine(pid);
      for (const secret of [supervisor.key!, CANARY.hfToken, CANARY.apiToken]) expect(argv).not.toContain(secret);
    }
    expect(environOf(fake.pid)).toContain(`LLAMA_API_KEY=${supervisor.key}`);
    const models = await fetch(`http://127.0.0.1:${supervisor.state.phase === 'ready' && supervisor.state.port}/v1/models`, { headers: { authorization: `Bearer ${supervisor.key}` } });
    expect(models.status).toBe(200);
  });

  it('launches vllm serve by repository at the pinned commit, with VLLM_API_KEY', async () => {
    const record = join(home.home, 'vllm-record.json');
    const base = options(new VllmRuntime({ executable: FAKE }));
    const supervisor = made.make({ ...base, env: { ...base.env, FAKE_RECORD: record }, contextSize: 2048 });
    expect((await supervisor.start()).phase).toBe('ready');
    const fake = recorded(record);
    expect(fake.argv.slice(0, 2)).toEqual(['serve', 'org/tiny']);
    expect(fake.argv.join(' ')).toContain('--host 127.0.0.1');
    expect(fake.argv.join(' ')).toContain('--revision abc123abc123abc123abc123abc123abc123abcd');
    expect(fake.argv.join(' ')).toContain('--max-model-len 2048');
    expect(fake.env).toEqual(expect.arrayContaining(['VLLM_API_KEY', 'HF_HUB_CACHE']));
  });

  it('says a runtime is not installed, with how to install it', async () => {
    expect(await new LlamaServerRuntime({ path: home.home }).availability()).toEqual({
      installed: false,
      message: 'llama-server is not installed: llama-server was not found on PATH.',
      install: expect.stringContaining('put llama-server on PATH'),
    });
    expect(await new VllmRuntime({ path: home.home }).availability()).toMatchObject({ installed: false, install: expect.stringContaining('pip install vllm') });
  });

  it('kills a runtime that is not ready in time, and gives up after the restart limit', async () => {
    const record = join(home.home, 'never-record.json');
    const base = options(fakeLlama());
    const supervisor = made.make({ ...base, env: { ...base.env, FAKE_RUNTIME: 'never-ready', FAKE_RECORD: record }, readyTimeoutMs: 3_000, maxRestarts: 1 });
    const state = await supervisor.start();
    expect(state).toMatchObject({ phase: 'crashed', restartInMs: null, reason: expect.stringContaining('The llama-server runtime did not become ready within 3 s.') });
    expect(state.phase === 'crashed' && state.reason).toContain('It stopped 2 times in a row');
    expect(state.phase === 'crashed' && state.logTail).toContain('fake llama-server listening');
    await waitFor(() => !isAlive(recorded(record).pid), 5_000, 'the fake runtime to be gone');
  });

  it('stops a runtime that ignores SIGTERM with SIGKILL, and leaves no process behind', async () => {
    const record = join(home.home, 'stubborn-record.json');
    const base = options(fakeLlama());
    const supervisor = made.make({ ...base, env: { ...base.env, FAKE_RUNTIME: 'ignore-sigterm', FAKE_RECORD: record }, killAfterMs: 500 });
    await supervisor.start();
    const pids = [supervisor.pid!, recorded(record).pid];
    await supervisor.stop();
    expect(supervisor.state).toEqual({ phase: 'stopped' });
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(readFileSync(supervisor.log.path, 'utf8')).toMatch(/ignoring SIGTERM[\s\S]*did not stop within 0.5 s of SIGTERM; sending SIGKILL/);
  });

  it('restarts a runtime that crashes', async () => {
    const record = join(home.home, 'crash-record.json');
    const base = options(fakeLlama());
    const supervisor = made.make({ ...base, env: { ...base.env, FAKE_RECORD: record } });
    await supervisor.start();
    const first = recorded(record).pid;
    process.kill(first, 'SIGKILL');
    const crashed = await waitForState(supervisor, (s) => s.phase === 'crashed', 10_000, 'crashed');
    // Under the guard, the runtime's own end: 128 + SIGKILL.
    expect(crashed).toMatchObject({ exitCode: 137, restartInMs: 50 });
    await waitForState(supervisor, (s) => s.phase === 'ready', 10_000, 'ready again');
    expect(recorded(record).pid).not.toBe(first);
  });

  it('takes another port when its port is in use', async () => {
    const held = await stranger();
    try {
      const supervisor = made.make(options(fakeLlama(), { pickPort: portsFrom(held.port), healthIntervalMs: 50 }));
      const state = await supervisor.start();
      expect(state.phase).toBe('ready');
      expect(state.phase === 'ready' && state.port).not.toBe(held.port);
      expect(readFileSync(supervisor.log.path, 'utf8')).toContain(`port ${held.port} is taken; trying another`);
    } finally {
      held.server.close();
    }
  });

  it('redacts a runtime that prints the HF token, its key and an API token: in the log file, the live stream and the launch record', async () => {
    const base = options(fakeLlama());
    const supervisor = made.make({ ...base, env: { ...base.env, FAKE_RUNTIME: 'print-secrets', FAKE_PRINT_TOKEN: CANARY.apiToken } });
    let live = '';
    supervisor.log.onText((text) => (live += text));
    await supervisor.start();
    await waitFor(() => live.includes('an api token'), 5_000, 'the printed lines');
    const files = readdirSync(join(home.home, 'logs', 'runtimes')).map((f) => readFileSync(join(home.home, 'logs', 'runtimes', f), 'utf8'));
    const records = readdirSync(join(home.home, 'runs')).map((d) => readFileSync(join(home.home, 'runs', d, 'launch_context.json'), 'utf8'));
    for (const text of [live, ...files, ...records]) {
      for (const secret of [supervisor.key!, CANARY.hfToken, CANARY.apiToken]) expect(text).not.toContain(secret);
    }
    expect(live).toContain('token from env: [REDACTED] and key [REDACTED]');
    expect(live).toContain('an api token: hfk_[REDACTED]');
  });
});

describe('parent death', { timeout: 90_000 }, () => {
  it.each(['embedded', 'llama-server'])('a kill -9 of the process that supervises a %s runtime leaves no runtime running', async (runtime) => {
    const builtSupervisor = join(ROOT, 'dist', 'server', 'src', 'serving', 'runtime-supervisor.js');
    if (!existsSync(builtSupervisor)) throw new Error(`${builtSupervisor} is missing: run "npm run build" first`);
    const record = join(home.home, `parent-${runtime}.json`);
    const parent = spawn(process.execPath, [join(FIXTURES, 'runtime-parent.mjs'), ROOT, runtime, modelPath, home.home, FAKE], {
      env: { ...testEnv(home.home), FAKE_RECORD: record },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    parent.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    let pids: number[] = [];
    try {
      await waitFor(() => out.includes('"pid"'), 30_000, 'the runtime to be ready');
      const report = JSON.parse(out.slice(out.indexOf('{'), out.indexOf('}') + 1)) as { state: string; pid: number };
      expect(report.state).toBe('ready');
      pids = [report.pid, ...(runtime === 'embedded' ? [] : [recorded(record).pid])];
      for (const pid of pids) expect(isAlive(pid)).toBe(true);
      parent.kill('SIGKILL');
      const tookMs = await waitFor(() => pids.every((pid) => !isAlive(pid)), 5_000, 'the runtime to be gone');
      console.log(`${runtime}: runtime gone ${tookMs} ms after the kill -9 of its parent`);
    } finally {
      parent.kill('SIGKILL');
      // A runtime that outlived its parent (the failure this test exists for) must not outlive the test.
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

// A real llama-server (llama.cpp) where one is installed: none is packaged for Debian, so most machines skip this.
const realLlamaServer = findExecutable('llama-server', process.env.PATH);
describe.skipIf(!realLlamaServer)('a real llama-server', () => {
  it('serves the tiny model to a client with the launch key', async () => {
    const supervisor = made.make(options(new LlamaServerRuntime(), { contextSize: 512, readyTimeoutMs: 60_000 }));
    const state = await supervisor.start();
    expect(state.phase).toBe('ready');
    const port = state.phase === 'ready' ? state.port : 0;
    const res = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${supervisor.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'org/tiny', prompt: 'hi', max_tokens: 3, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { text: string }[] }).choices[0]!.text.trim()).toBe('hello hello hello');
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`)).status).toBe(401);
  });
});
