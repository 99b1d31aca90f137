import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The backend's runtime supervisor over the bridge, and the main process's relay: both rooms meet in this test only.
import { TINY_WORD, writeTinyGguf } from '../../e2e/support/tiny-gguf.js';
import { MainProcessBridge } from '../../server/src/children/main-bridge.js';
import { probeLlama } from '../../server/src/machine/llama-probe.js';
import { EmbeddedRuntime } from '../../server/src/serving/embedded-adapter.js';
import { RuntimeSupervisor } from '../../server/src/serving/runtime-supervisor.js';
import { ChildRelay } from '../child-relay.js';
import { nodeFork } from '../node-backend.js';
import { wireRelay } from './relay-wire.js';
import { ROOT, isAlive, waitFor } from './support.js';

// The real embedded runtime, started the way the desktop app starts it: the backend's supervisor asks over
// the bridge, the main process's relay forks dist/backend/serving-runtime.mjs (child_process.fork standing in
// for utilityProcess.fork), and a chat completion streams back from the tiny model.

const BACKEND_DIR = join(ROOT, 'dist', 'backend');
const HF_CANARY = 'hf_CanaryBridgeRuntimeToken0123456789ab';
const MODEL_ID = 'halo-forge/tiny:tiny.gguf';

let home: string;
let modelPath: string;

function wire(): { relay: ChildRelay; bridge: MainProcessBridge; sent: string[] } {
  return wireRelay({ fork: nodeFork, backendDir: BACKEND_DIR });
}

function supervisor(bridge: MainProcessBridge, path = modelPath): RuntimeSupervisor {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, HALOFORGE_HOME: home, HF_HOME: join(home, 'hf-home') };
  return new RuntimeSupervisor({
    adapter: new EmbeddedRuntime({ threads: 1, gpu: false }),
    model: { id: MODEL_ID, repo: 'halo-forge/tiny', path },
    home,
    env,
    hfToken: HF_CANARY,
    contextSize: 256,
    nodeBridge: bridge,
    stableAfterMs: 1_000,
  });
}

beforeAll(() => {
  if (!existsSync(join(BACKEND_DIR, 'serving-runtime.mjs'))) throw new Error(`${BACKEND_DIR}/serving-runtime.mjs is missing: run "npm run build" first`);
  home = mkdtempSync(join(tmpdir(), 'halo-relay-runtime-'));
  modelPath = writeTinyGguf(join(home, 'tiny.gguf'));
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('the embedded runtime through the main process', () => {
  it('serves a streamed chat completion, keeps its secrets out of everything relayed, and stops', async () => {
    const { relay, bridge, sent } = wire();
    const s = supervisor(bridge);
    try {
      const state = await s.start();
      if (state.phase !== 'ready') throw new Error(`the runtime did not start: ${JSON.stringify(state)}`);
      const key = s.key!;
      // The runtime is the relay's child, a real process, and nothing secret is on its command line.
      expect(relay.size).toBe(1);
      const argv = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
      expect(argv).toContain('serving-runtime.mjs');
      for (const secret of [key, HF_CANARY]) expect(argv).not.toContain(secret);

      const res = await fetch(`${state.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: 'Say something' }], max_tokens: 3, stream: true }),
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      const text = body
        .split('\n')
        .filter((l) => l.startsWith('data: {'))
        .map((l) => (JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
        .join('');
      expect(text.trim()).toBe([TINY_WORD, TINY_WORD, TINY_WORD].join(' '));
      expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
      // Its log came over the bridge, redacted by the supervisor as any runtime's.
      expect(readFileSync(s.log.path, 'utf8')).toContain('ready in');

      await s.stop();
      expect(isAlive(state.pid)).toBe(false);
      expect(relay.size).toBe(0);
      const relayed = sent.join('\n');
      expect(relayed).toContain('child-output');
      for (const secret of [key, HF_CANARY]) expect(relayed).not.toContain(secret);
    } finally {
      await s.stop();
      await relay.backendGone();
    }
  }, 120_000);

  it('is stopped by the main process when its backend dies without a word (kill -9)', async () => {
    const { relay, bridge } = wire();
    const s = supervisor(bridge);
    const state = await s.start();
    if (state.phase !== 'ready') throw new Error(`the runtime did not start: ${JSON.stringify(state)}`);
    // What the main process does on the backend's exit event: the backend itself can do nothing any more.
    await relay.backendGone();
    await waitFor(() => !isAlive(state.pid), `runtime ${state.pid} to stop`, 10_000);
  }, 120_000);

  it('relays a start that cannot succeed as the runtime\'s own report, not as a crash loop', async () => {
    const { relay, bridge } = wire();
    const broken = join(home, 'broken.gguf');
    writeFileSync(broken, 'this is not a GGUF file');
    const s = supervisor(bridge, broken);
    try {
      const state = await s.start();
      expect(state).toMatchObject({ phase: 'crashed', restartInMs: null, fatalCode: 'bad_model' });
    } finally {
      await s.stop();
      await relay.backendGone();
    }
  }, 120_000);

  it('the GPU probe runs through the main process too, and answers', async () => {
    const { relay, bridge } = wire();
    try {
      const found = await probeLlama({ bridge, timeoutMs: 90_000 });
      expect(found).toEqual({ backend: expect.toSatisfy((b: unknown) => b === null || typeof b === 'string'), devices: expect.any(Array), vramTotalBytes: expect.any(Number) });
    } finally {
      await relay.backendGone();
    }
  }, 120_000);
});
