import { closeSync, mkdirSync, openSync, ftruncateSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GpuReport } from '../../shared/machine.js';
import type { LocalModelList } from '../../shared/models.js';
import type { ServingStatus } from '../../shared/serving.js';
import { parseNvidiaQuery } from '../src/machine/nvidia-smi.js';
import { GIB } from '../src/serving/memory-plan.js';
import { buildTestApp, type TestApp } from './support/app.js';
import { LOCAL_FIXTURE, modelServiceDouble } from './support/model-service-double.js';
import { runtimePids, servingHome, TINY_MODEL, TINY_REPO, tinyModelHub } from './support/serving-rig.js';
import { waitFor, workstations } from './support/backend-process.js';
import { requireRuntimeBuild } from './support/serving.js';
import { tinyGguf } from './support/tiny-gguf.js';

// A model too big for the memory its runtime would use is refused before
// any runtime starts, with a sentence that gives the numbers and names the
// memory: through /api/public/serving/run in our error shape and through
// /v1 in OpenAI's. In process with a recorded GPU (the RTX 2080 SUPER's
// nvidia-smi answer, injected as the machine's readings), and through the
// real backend process with this machine's own readings.

const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });

describe('with a GPU: VRAM first, then RAM', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  /** One 8 GiB GPU with 7.8 GiB free, node-llama-cpp using it through CUDA, and 16 GiB of RAM free. */
  async function appWithGpu(fileSize: number): Promise<TestApp> {
    const { gpus } = parseNvidiaQuery(readFileSync(join(import.meta.dirname, 'fixtures', 'machine', 'nvidia-smi-query-rtx2080super.csv'), 'utf8'));
    const report: GpuReport = { source: 'nvidia-smi', gpus, driverVersion: '595.71.05', platform: { name: 'CUDA', version: null }, problem: null, llama: { state: 'done', backend: 'cuda', devices: [gpus[0]!.name], vramTotalBytes: 8 * GIB, message: '' } };
    const models = modelServiceDouble();
    const big: LocalModelList = { ...LOCAL_FIXTURE, models: LOCAL_FIXTURE.models.map((m) => ({ ...m, size: fileSize, revisions: m.revisions.map((r) => ({ ...r, size: fileSize, files: [{ path: 'model.gguf', size: fileSize }] })) })) };
    models.listLocal = async () => big;
    return buildTestApp({ models, serving: { memory: async () => ({ ramAvailable: 16 * GIB, gpus: report }) } });
  }

  it('a model bigger than free VRAM and RAM together is refused on /api/public/serving/run, naming GPU 0 VRAM and RAM with the numbers', async () => {
    t = await appWithGpu(30 * GIB);
    const res = await t.app.inject({ method: 'POST', url: '/api/public/serving/run', payload: { model: 'halo-test/tiny' } });
    expect(res.statusCode).toBe(503);
    // The file is not there to read (a double's cache): its KV cache is the fallback's 512 KiB a token.
    expect(res.json()).toEqual({
      error: 'serving.memory',
      message:
        "halo-test/tiny:model.gguf cannot be loaded. Loading it needs about 37.3 GiB (30.0 GiB of weights, 4.0 GiB of KV cache for a context of 8192 tokens); GPU 0 VRAM has 7.8 GiB free (7.2 GiB usable after node-llama-cpp's 655 MiB margin), and the other 30.1 GiB must come from RAM, which has 16.0 GiB free. Stop a running model (halo-forge ps lists them) or close other programs, then try again.",
    });
    expect((await t.app.inject({ url: '/api/public/serving' })).json<ServingStatus>().models).toEqual([]);
  });

  it('the same refusal reaches an OpenAI client on /v1 in OpenAI\'s error shape', async () => {
    t = await appWithGpu(30 * GIB);
    const res = await t.app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chat('halo-test/tiny') });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: {
        message: expect.stringMatching(/^halo-test\/tiny:model\.gguf cannot be loaded\. Loading it needs about 37\.3 GiB .*GPU 0 VRAM has 7\.8 GiB free .*must come from RAM, which has 16\.0 GiB free\./),
        type: 'server_error',
        param: 'model',
        code: 'serving.memory',
      },
    });
  });
});

describe('on this machine, with its own readings', () => {
  const w = workstations();
  beforeAll(() => requireRuntimeBuild());
  afterAll(w.release);

  it('a 512 GiB model (a sparse file with a real GGUF header) is refused on both APIs, and no runtime starts', async () => {
    const { home, env } = w.home();
    const cache = join(home, 'hf-cache');
    Object.assign(env, { HF_HUB_CACHE: cache });
    const commit = 'c'.repeat(40);
    const repo = join(cache, 'models--halo-test--huge-gguf');
    mkdirSync(join(repo, 'snapshots', commit), { recursive: true });
    mkdirSync(join(repo, 'refs'));
    writeFileSync(join(repo, 'refs', 'main'), commit);
    // The tiny model's header (2 layers: 512 bytes of KV cache a token), then holes to 512 GiB: no disk is used.
    const fd = openSync(join(repo, 'snapshots', commit, 'huge.gguf'), 'w');
    writeSync(fd, tinyGguf());
    ftruncateSync(fd, 512 * GIB);
    closeSync(fd);
    const b = await w.backend(['--log-level', 'warn'], env);

    const run = await fetch(`${b.url}api/public/serving/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'halo-test/huge-gguf' }) });
    expect(run.status).toBe(503);
    const body = (await run.json()) as { error: string; message: string };
    expect(body.error).toBe('serving.memory');
    // A GPU machine names its VRAM too; either way RAM cannot take the rest of 512 GiB.
    const refusal = /^halo-test\/huge-gguf:huge\.gguf cannot be loaded\. Loading it needs about 563\.\d GiB \(512\.0 GiB of weights, 256 KiB of KV cache for a context of 512 tokens\)[,;] .*RAM,? (which )?has [\d.]+ GiB free\. Stop a running model/;
    expect(body.message).toMatch(refusal);

    const v1 = await fetch(`${b.url}v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('halo-test/huge-gguf')) });
    expect(v1.status).toBe(503);
    expect(await v1.json()).toEqual({ error: { message: expect.stringMatching(refusal), type: 'server_error', param: 'model', code: 'serving.memory' } });
    expect(runtimePids(cache)).toEqual([]);
  }, 60_000);

  it('two requests for a model that is not loaded, at once, start one runtime: loads are admitted one at a time', async () => {
    const hub = await tinyModelHub();
    try {
      const s = await servingHome(w, hub);
      const b = await w.backend(['--log-level', 'warn'], s.env);
      const ask = () => fetch(`${b.url}v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat(TINY_REPO)) });
      const answers = await Promise.all([ask(), ask()]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      const status = (await (await fetch(`${b.url}api/public/serving`)).json()) as ServingStatus;
      expect(status.models.map((m) => m.model)).toEqual([TINY_MODEL]);
      // A second runtime would have been dropped from the list but left running.
      await waitFor(async () => runtimePids(s.cache).length === 1, 10_000, 'one runtime');
      expect(runtimePids(s.cache)).toHaveLength(1);
    } finally {
      await hub.close();
    }
  }, 120_000);
});
