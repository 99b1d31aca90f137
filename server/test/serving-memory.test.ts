import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuReport, LlamaCheck } from '../../shared/machine.js';
import type { LocalModel } from '../../shared/models.js';
import { parseNvidiaQuery } from '../src/machine/nvidia-smi.js';
import { defaultThreads } from '../src/serving/embedded-threads.js';
import { readGgufShape } from '../src/serving/gguf-shape.js';
import { NO_GPUS, processGroupMemory } from '../src/serving/memory.js';
import { estimateLoad, GIB, MIB, planMemory, vramPadding, type LoadEstimate, type MemoryReadings } from '../src/serving/memory-plan.js';
import { servableModels } from '../src/serving/model-catalog.js';
import { tinyGguf } from './support/tiny-gguf.js';

// Serving's memory check and the embedded runtime's thread count, as tables:
// where a model's memory goes (RAM, one GPU, several), what is refused and
// with which sentence, how the estimate grows with the context, and how
// many threads llama.cpp gets. GPU readings are recorded nvidia-smi outputs
// parsed by the machine module's own parser.

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'machine', name), 'utf8');
const CUDA: LlamaCheck = { state: 'done', backend: 'cuda', devices: ['NVIDIA GPU'], vramTotalBytes: null, message: '' };

/** A GPU report from a recorded nvidia-smi query, with node-llama-cpp's answer. */
function nvidia(file: string, llama: Partial<LlamaCheck> = {}, rows?: number): GpuReport {
  let text = fixture(file);
  if (rows !== undefined) text = text.split('\n').slice(0, rows + 1).join('\n');
  const { gpus, driverVersion } = parseNvidiaQuery(text);
  return { source: 'nvidia-smi', gpus, driverVersion, platform: { name: 'CUDA', version: null }, problem: null, llama: { ...CUDA, devices: gpus.map((g) => g.name), ...llama } };
}

const RTX = (llama: Partial<LlamaCheck> = {}) => nvidia('nvidia-smi-query-rtx2080super.csv', llama); // 8192 MiB, 214 used
const P100x2 = () => nvidia('nvidia-smi-query-p100x4-418.csv', {}, 2); // 2 × 16280 MiB, 1628 and 3256 used
const P100x4 = () => nvidia('nvidia-smi-query-p100x4-418.csv');
const MIG = () => nvidia('nvidia-smi-query-h100-mig.csv');

/** An 8B-class model with grouped-query attention: 128 KiB of KV cache per token, trained for 128k. */
const GQA = { kvBytesPerToken: 128 * 1024, trainedContext: 131072 };
const readings = (ramAvailable: number, gpus: GpuReport | null, extra: Partial<MemoryReadings> = {}): MemoryReadings => ({ ramAvailable, ramHeld: 0, gpus, reserved: { vram: 0, ram: 0 }, ...extra });
const load = (fileGib: number, ctx?: number): LoadEstimate => estimateLoad(fileGib * GIB, GQA, ctx);

describe('the estimate', () => {
  it('is the weights, a tenth more and 256 MiB, and the KV cache of the context (the model\'s, at most 8192, unless asked)', () => {
    expect(load(4)).toEqual({ weights: 4 * GIB, kvCache: 1 * GIB, overhead: Math.ceil(0.4 * GIB) + 256 * MIB, total: 4 * GIB + 1 * GIB + Math.ceil(0.4 * GIB) + 256 * MIB, context: 8192 });
    expect(estimateLoad(4 * GIB, { ...GQA, trainedContext: 2048 }, undefined).context).toBe(2048);
  });

  it('grows with the context asked for, by the KV cache per token', () => {
    const sizes = [512, 4096, 32768, 131072].map((ctx) => load(4, ctx).total);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    expect(load(4, 32768).total - load(4, 4096).total).toBe((32768 - 4096) * 128 * 1024);
    expect(load(4, 131072).kvCache).toBe(16 * GIB);
  });

  it('without a readable header, allows 512 KiB a token (a 7B model without grouped-query attention)', () => {
    expect(estimateLoad(4 * GIB, null, 4096).kvCache).toBe(2 * GIB);
  });
});

describe('where a model goes, and what is refused', () => {
  it.each<[string, LoadEstimate, MemoryReadings, { fits: boolean; vram: number; sentence: string | RegExp }]>([
    [
      'CPU only: RAM, enough',
      load(4),
      readings(16 * GIB, NO_GPUS),
      { fits: true, vram: 0, sentence: 'Loading it needs about 5.7 GiB (4.0 GiB of weights, 1.0 GiB of KV cache for a context of 8192 tokens), and RAM has 16.0 GiB free.' },
    ],
    [
      'CPU only: RAM, not enough',
      load(8),
      readings(8 * GIB, NO_GPUS),
      { fits: false, vram: 0, sentence: 'Loading it needs about 10.1 GiB (8.0 GiB of weights, 1.0 GiB of KV cache for a context of 8192 tokens), and RAM has 8.0 GiB free.' },
    ],
    [
      'one GPU, enough: all in VRAM, whatever RAM has',
      load(4),
      readings(1 * GIB, RTX()),
      { fits: true, vram: load(4).total, sentence: /; GPU 0 VRAM has 7\.8 GiB free \(7\.2 GiB usable after node-llama-cpp's 655 MiB margin\): it fits in VRAM\.$/ },
    ],
    [
      'one GPU, not enough: the rest spills to RAM, which has room',
      load(12),
      readings(32 * GIB, RTX()),
      { fits: true, vram: 8192 * MIB - 214 * MIB - vramPadding(8192 * MIB), sentence: /GPU 0 VRAM has 7\.8 GiB free .*, and the other 7\.3 GiB must come from RAM, which has 32\.0 GiB free\.$/ },
    ],
    [
      'one GPU, not enough, and RAM short too: refused, naming both',
      load(30),
      readings(16 * GIB, RTX()),
      {
        fits: false,
        vram: 8192 * MIB - 214 * MIB - vramPadding(8192 * MIB),
        sentence: "Loading it needs about 34.3 GiB (30.0 GiB of weights, 1.0 GiB of KV cache for a context of 8192 tokens); GPU 0 VRAM has 7.8 GiB free (7.2 GiB usable after node-llama-cpp's 655 MiB margin), and the other 27.1 GiB must come from RAM, which has 16.0 GiB free.",
      },
    ],
    [
      'two GPUs: their free VRAM adds up (llama.cpp splits the layers), less one margin',
      load(20),
      readings(4 * GIB, P100x2()),
      { fits: true, vram: load(20).total, sentence: /; GPUs 0 and 1 VRAM have 27\.0 GiB free \(25\.4 GiB usable after node-llama-cpp's 1\.6 GiB margin, split across them\): it fits in VRAM\.$/ },
    ],
    [
      'four GPUs: a 70B-class load that no single one could hold',
      estimateLoad(40 * GIB, { kvBytesPerToken: 320 * 1024, trainedContext: 131072 }, undefined),
      readings(8 * GIB, P100x4()),
      { fits: true, vram: estimateLoad(40 * GIB, { kvBytesPerToken: 320 * 1024, trainedContext: 131072 }, undefined).total, sentence: /GPUs 0 and 1 and 2 and 3 VRAM have 54\.1 GiB free/ },
    ],
    [
      'a GPU node-llama-cpp cannot use (no GPU build loads): RAM, as on a CPU-only box',
      load(12),
      readings(8 * GIB, RTX({ backend: null, devices: [] })),
      { fits: false, vram: 0, sentence: /and RAM has 8\.0 GiB free\.$/ },
    ],
    [
      'readings missing (the GPU sample failed): RAM, with a note',
      load(4),
      readings(16 * GIB, null),
      { fits: true, vram: 0, sentence: /and RAM has 16\.0 GiB free \(the GPU reading failed, so only RAM was counted\)\.$/ },
    ],
    [
      'readings missing (a MIG card reports the whole card, not the instance): RAM, with a note',
      load(100),
      readings(64 * GIB, MIG()),
      { fits: false, vram: 0, sentence: /RAM has 64\.0 GiB free \(the free memory of GPU 0 \(split into MIG instances\) is not known, so only RAM was counted\)\.$/ },
    ],
    [
      'node-llama-cpp\'s check failed: RAM, with a note',
      load(4),
      readings(16 * GIB, { ...RTX(), llama: { state: 'failed', backend: null, devices: [], vramTotalBytes: null, message: 'Could not ask node-llama-cpp: it crashed' } }),
      { fits: true, vram: 0, sentence: /\(node-llama-cpp could not say which GPU it uses \(Could not ask node-llama-cpp: it crashed\), so only RAM was counted\)\.$/ },
    ],
    [
      'Apple silicon: the GPU shares the RAM, which is what is counted',
      load(12),
      readings(8 * GIB, { ...NO_GPUS, source: 'apple', gpus: [{ index: 0, vendor: 'apple', name: 'M2 GPU', memoryUsedBytes: 8 * GIB, memoryTotalBytes: 16 * GIB, unifiedMemory: true, utilizationPercent: null, temperatureC: null, mig: false }] }),
      { fits: false, vram: 0, sentence: /and RAM has 8\.0 GiB free\.$/ },
    ],
    [
      'mapped weights of a loaded model are page cache that MemAvailable counts as free: taken off',
      load(4),
      readings(12 * GIB, NO_GPUS, { ramHeld: 8 * GIB }),
      { fits: false, vram: 0, sentence: /and RAM has 4\.0 GiB free\.$/ },
    ],
    [
      'a model still loading holds the VRAM its plan took, though the readings do not show it yet',
      load(4),
      readings(2 * GIB, RTX(), { reserved: { vram: 6 * GIB, ram: 0 } }),
      { fits: false, vram: 8192 * MIB - 214 * MIB - vramPadding(8192 * MIB) - 6 * GIB, sentence: /\(1\.2 GiB usable after node-llama-cpp's 655 MiB margin\), and the other 4\.5 GiB must come from RAM, which has 2\.0 GiB free\.$/ },
    ],
  ])('%s', (_what, estimate, machine, expected) => {
    const plan = planMemory(estimate, machine, 'embedded');
    expect(plan.fits).toBe(expected.fits);
    expect(plan.vram).toBe(expected.vram);
    expect(plan.ram).toBe(estimate.total - expected.vram);
    if (typeof expected.sentence === 'string') expect(plan.sentence).toBe(expected.sentence);
    else expect(plan.sentence).toMatch(expected.sentence);
  });

  it('with fewer devices in node-llama-cpp than the driver reports, counts the GPUs with the least free memory', () => {
    const report = P100x4();
    report.llama.devices = ['Tesla P100-PCIE-16GB', 'Tesla P100-PCIE-16GB'];
    // GPUs 1 and 3 have 3256 MiB used, the others 1628: the two fullest are counted.
    expect(planMemory(load(4), readings(16 * GIB, report), 'embedded').sentence).toMatch(/GPUs 1 and 3 VRAM have 25\.4 GiB free/);
  });

  it('llama-server is counted on the GPUs the driver reports: node-llama-cpp\'s answer is not about it', () => {
    const report = { ...RTX(), llama: { state: 'pending', backend: null, devices: [], vramTotalBytes: null, message: '' } as LlamaCheck };
    expect(planMemory(load(4), readings(1 * GIB, report), 'llama-server')).toMatchObject({ fits: true, ram: 0 });
    expect(planMemory(load(4), readings(1 * GIB, report), 'embedded')).toMatchObject({ fits: false, vram: 0 });
  });
});

describe('what a running runtime holds', () => {
  it.runIf(process.platform === 'linux')('reads a process group\'s resident bytes and, of them, the pages of mapped files (this test\'s own group maps node\'s binary)', () => {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    const held = processGroupMemory(pgid)!;
    expect(held.fileBacked).toBeGreaterThan(10 * MIB);
    expect(held.rss).toBeGreaterThan(held.fileBacked);
    expect(processGroupMemory(2 ** 30)).toBeNull();
  });

  it.runIf(process.platform === 'linux')('counts a runtime that leads no group of its own (a utility process in the desktop app) by its own memory', async () => {
    const { spawn } = await import('node:child_process');
    // Not detached: the child stays in this test's group, as a utility process stays in the app's.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const held = processGroupMemory(child.pid);
      expect(held?.rss).toBeGreaterThan(MIB);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('the KV cache per token, from the GGUF header', () => {
  const dir = mkdtempSync(join(tmpdir(), 'halo-gguf-shape-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Buffer) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };

  it.each<[string, Buffer, object | null]>([
    // 2 layers × 4 KV heads × (16 + 16) × f16
    ['the tiny model', tinyGguf(), { architecture: 'llama', layers: 2, kvBytesPerToken: 2 * 4 * 32 * 2, trainedContext: 512 }],
    // 4 layers × 1 KV head × (64 + 64) × f16: grouped-query attention shrinks it
    ['grouped-query attention', tinyGguf({ contextLength: 2048, size: { embed: 256, blocks: 4, ffn: 64, kvHeads: 1 } }), { layers: 4, kvBytesPerToken: 4 * 1 * 128 * 2, trainedContext: 2048 }],
    ['not a GGUF file', Buffer.from('{"model": "safetensors"}'), null],
    ['a GGUF file cut short in its header', tinyGguf().subarray(0, 200), null],
  ])('%s', async (name, bytes, expected) => {
    const shape = await readGgufShape(write(`${name.replace(/\W+/g, '-')}.gguf`, bytes));
    if (expected === null) expect(shape).toBeNull();
    else expect(shape).toMatchObject(expected);
  });

  it('a file that is not there has no shape', async () => {
    expect(await readGgufShape(join(dir, 'missing.gguf'))).toBeNull();
  });
});

describe('a split GGUF', () => {
  it('is sized as all its parts, which llama.cpp loads together', () => {
    const files = [1, 2, 3].map((n) => ({ path: `q4/big-0000${n}-of-00003.gguf`, size: 10 * GIB })).concat({ path: 'small.gguf', size: GIB });
    const model: LocalModel = { id: 'org/big', kind: 'model', path: '/cache/models--org--big', size: 31 * GIB, revisions: [{ commit: 'c0ffee', refs: ['main'], files, size: 31 * GIB, lastModified: '2026-01-01T00:00:00Z' }], lastPulled: null, incomplete: false };
    expect(servableModels({ cacheDir: '/cache', freeBytes: null, models: [model] }).map((m) => [m.file, m.size])).toEqual([
      ['q4/big-00001-of-00003.gguf', 30 * GIB],
      ['small.gguf', GIB],
    ]);
  });
});

describe('the embedded runtime\'s default thread count', () => {
  it.each<[number, number, number]>([
    // cores, load average → threads
    [2, 0.1, 1],
    [2, 12, 1],
    [1, 0, 1],
    [4, 0.4, 3],
    [16, 0.3, 15],
    [16, 4.4, 12],
    [8, 20, 1],
    [64, 1.2, 63],
  ])('%i physical cores at load %f: %i', (physicalCores, loadAverage, threads) => {
    expect(defaultThreads({ physicalCores, loadAverage })).toBe(threads);
  });
});
