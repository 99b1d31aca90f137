import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The backend's runtime supervisor over the bridge, and the main process's relay: both rooms meet in this test only.
import { TINY_WORD, writeTinyGguf } from '../../e2e/support/tiny-gguf.js';
import { EmbeddedRuntime } from '../../server/src/serving/embedded-adapter.js';
import { probeLlama } from '../../server/src/machine/llama-probe.js';
import { RuntimeSupervisor } from '../../server/src/serving/runtime-supervisor.js';
import { type ForkEntry } from '../child-relay.js';
import { nodeFork } from '../node-backend.js';
import { wireRelay } from './relay-wire.js';
import { FIXTURES, ROOT } from './support.js';

// node-llama-cpp's binary test inside the desktop app, as far as Node can show it: every process the relay
// forks runs under fixtures/as-utility-process.mjs, so the runtime sees process.versions.electron and a
// parentPort, and its process.execPath runs no script (like Electron's binary with RunAsNode off). The real
// runtime then loads the tiny model only if node-llama-cpp's real testBindingBinary.js ran, forked by the relay.

const BACKEND_DIR = join(ROOT, 'dist', 'backend');
const TEST_MODULE = realpathSync(join(ROOT, 'node_modules', 'node-llama-cpp', 'dist', 'bindings', 'utils', 'testBindingBinary.js'));
const HF_CANARY = 'hf_CanaryLlamaTestForkToken0123456789ab';
const MODEL_ID = 'halo-forge/tiny:tiny.gguf';

let home: string;
let modelPath: string;

beforeAll(() => {
  if (!existsSync(join(BACKEND_DIR, 'serving-runtime.mjs'))) throw new Error(`${BACKEND_DIR}/serving-runtime.mjs is missing: run "npm run build" first`);
  home = mkdtempSync(join(tmpdir(), 'halo-relay-llama-test-'));
  modelPath = writeTinyGguf(join(home, 'tiny.gguf'));
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

/** The relay and the bridge joined in memory, every process the relay forks made to look like a utility process. */
function wire() {
  const forks: { entry: string; env: Record<string, string> }[] = [];
  const asUtilityProcess: ForkEntry = (entry, args, opts) => {
    forks.push({ entry, env: opts.env });
    return nodeFork(entry, args, { ...opts, env: { ...opts.env, NODE_OPTIONS: `--import=${pathToFileURL(join(FIXTURES, 'as-utility-process.mjs')).href}` } });
  };
  const { relay, bridge, sent } = wireRelay({ fork: asUtilityProcess, backendDir: BACKEND_DIR });
  return { relay, bridge, sent, forks };
}

describe('node-llama-cpp\'s binary test in a runtime that is a utility process', () => {
  it('is forked by the main process, and the model loads and answers', async () => {
    const { relay, bridge, sent, forks } = wire();
    const s = new RuntimeSupervisor({
      adapter: new EmbeddedRuntime({ threads: 1, gpu: false }),
      model: { id: MODEL_ID, repo: 'halo-forge/tiny', path: modelPath },
      home,
      env: { PATH: process.env.PATH, HOME: home, HALOFORGE_HOME: home, HF_HOME: join(home, 'hf-home') },
      hfToken: HF_CANARY,
      contextSize: 256,
      nodeBridge: bridge,
      stableAfterMs: 1_000,
    });
    try {
      const state = await s.start();
      if (state.phase !== 'ready') throw new Error(`the runtime did not start: ${JSON.stringify(state)}\n${readFileSync(s.log.path, 'utf8')}`);
      // The relay forked the runtime, then node-llama-cpp's own test file for it, with the runtime's environment.
      expect(forks.map((f) => f.entry)).toEqual([join(realpathSync(BACKEND_DIR), 'serving-runtime.mjs'), TEST_MODULE]);
      expect(forks[1]!.env).toMatchObject({ TEST_BINDING_CP: 'true', HF_TOKEN: HF_CANARY });

      const res = await fetch(`${state.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key!}` },
        body: JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: 'Say something' }], max_tokens: 2 }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0]!.message.content.trim()).toBe(`${TINY_WORD} ${TINY_WORD}`);

      // The test's traffic stayed between the runtime and the main process: none of it, and no secret, reached the backend.
      const relayed = sent.join('\n');
      expect(relayed).not.toContain('test-fork');
      for (const secret of [s.key!, HF_CANARY]) expect(relayed).not.toContain(secret);
      expect(readFileSync(s.log.path, 'utf8')).not.toContain('binary test could not run');
    } finally {
      await s.stop();
      await relay.backendGone();
    }
  }, 120_000);

  it('is forked for the GPU probe too, which answers and exits once its tests are done', async () => {
    const { relay, bridge, forks } = wire();
    try {
      // probeLlama resolves only once the probe has exited: a port still listened to would keep it running.
      const found = await probeLlama({ bridge, timeoutMs: 90_000 });
      expect(found).toEqual({ backend: expect.toSatisfy((b: unknown) => b === null || typeof b === 'string'), devices: expect.any(Array), vramTotalBytes: expect.any(Number) });
      expect(forks[0]!.entry).toBe(join(realpathSync(BACKEND_DIR), 'llama-probe.mjs'));
      expect(forks.slice(1).map((f) => f.entry)).toContain(TEST_MODULE);
      expect(new Set(forks.slice(1).map((f) => f.entry))).toEqual(new Set([TEST_MODULE]));
    } finally {
      await relay.backendGone();
    }
  }, 120_000);
});
