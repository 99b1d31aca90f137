import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCudaVersion, parseNvidiaQuery } from '../src/machine/nvidia-smi.js';
import { parseRocmSmi } from '../src/machine/rocm-smi.js';
import { crossCheck } from '../src/machine/gpus.js';
import { parseProbeOutput } from '../src/machine/llama-probe.js';
import type { GpuFact } from '../../shared/machine.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'machine', name), 'utf8');
const MIB = 1024 * 1024;

describe('nvidia-smi query CSV (recorded outputs)', () => {
  it('an H100 with MIG on: memory in bytes, utilisation unknown ([N/A]) rather than 0, MIG marked', () => {
    const { gpus, driverVersion } = parseNvidiaQuery(fixture('nvidia-smi-query-h100-mig.csv'));
    expect(driverVersion).toBe('590.48.01');
    expect(gpus).toEqual([
      { index: 0, vendor: 'nvidia', name: 'NVIDIA H100 80GB HBM3', memoryUsedBytes: 11125 * MIB, memoryTotalBytes: 81559 * MIB, unifiedMemory: false, utilizationPercent: null, temperatureC: 53, mig: true },
    ]);
  });

  it('a consumer card with many [N/A] fields: the ones the Overview shows are all there', () => {
    const { gpus, driverVersion } = parseNvidiaQuery(fixture('nvidia-smi-query-rtx2080super.csv'));
    expect(driverVersion).toBe('595.71.05');
    expect(gpus).toEqual([
      { index: 0, vendor: 'nvidia', name: 'NVIDIA GeForce RTX 2080 SUPER', memoryUsedBytes: 214 * MIB, memoryTotalBytes: 8192 * MIB, unifiedMemory: false, utilizationPercent: 0, temperatureC: 40, mig: false },
    ]);
  });

  it('four GPUs on an old driver (418), a [Not Supported] fan: each card keeps its own figures, in index order', () => {
    const { gpus, driverVersion } = parseNvidiaQuery(fixture('nvidia-smi-query-p100x4-418.csv'));
    expect(driverVersion).toBe('418.87.01');
    expect(gpus.map((g) => [g.index, g.name, g.memoryUsedBytes! / MIB, g.memoryTotalBytes! / MIB, g.utilizationPercent, g.temperatureC, g.mig])).toEqual([
      [0, 'Tesla P100-PCIE-16GB', 1628, 16280, 10, 25, false],
      [1, 'Tesla P100-PCIE-16GB', 3256, 16280, 30, 25, false],
      [2, 'Tesla P100-PCIE-16GB', 1628, 16280, 20, 24, false],
      [3, 'Tesla P100-PCIE-16GB', 3256, 16280, 70, 24, false],
    ]);
  });

  it.each([
    ['what Halo Forge asks (nounits)', 'index, name, memory.used [MiB], memory.total [MiB], utilization.gpu [%], temperature.gpu, driver_version, mig.mode.current\n1, NVIDIA A10, 1, 23028, 7, 32, 550.127.05, [N/A]\n', { index: 1, used: 1 * MIB, util: 7, temp: 32 }],
    ['columns in another order', 'temperature.gpu, utilization.gpu [%], memory.total [MiB], memory.used [MiB], name, index\n61, 99, 24576, 20000, NVIDIA GeForce RTX 3090, 0\n', { index: 0, used: 20000 * MIB, util: 99, temp: 61 }],
    ['every value unknown', 'index, name, memory.used [MiB], memory.total [MiB], utilization.gpu [%], temperature.gpu\n0, NVIDIA GPU, [N/A], [N/A], [Not Supported], [Unknown Error]\n', { index: 0, used: null, util: null, temp: null }],
  ])('%s', (_name, text, want) => {
    const [gpu] = parseNvidiaQuery(text).gpus;
    expect({ index: gpu!.index, used: gpu!.memoryUsedBytes, util: gpu!.utilizationPercent, temp: gpu!.temperatureC }).toEqual(want);
  });

  it('no GPU rows: an empty list; text without a header: a clear error', () => {
    expect(parseNvidiaQuery('index, name\n').gpus).toEqual([]);
    expect(parseNvidiaQuery('').gpus).toEqual([]);
    expect(() => parseNvidiaQuery('NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.')).toThrow(/without a header line/);
  });
});

describe('CUDA version from the plain nvidia-smi header (recorded outputs)', () => {
  it.each([
    ['nvidia-smi-table-h100-mig.txt', '13.1'],
    ['nvidia-smi-table-rtx2080super.txt', '13.2'],
    ['nvidia-smi-table-a10-550.txt', '12.4'],
    ['nvidia-smi-table-titanrtx-415.txt', '10.0'],
  ])('%s → %s', (name, want) => {
    expect(parseCudaVersion(fixture(name))).toBe(want);
  });

  it('a driver too old to print it (before 410): unknown, not a wrong number', () => {
    expect(parseCudaVersion('| NVIDIA-SMI 390.116                Driver Version: 390.116                   |')).toBeNull();
  });
});

describe('rocm-smi JSON (recorded outputs)', () => {
  it('four MI100s (ROCm 6.0.2): VRAM in bytes, use, edge temperature, the driver under "system"', () => {
    const { gpus, driverVersion } = parseRocmSmi(fixture('rocm-smi-mi100x4-rocm602.json'));
    expect(driverVersion).toBe('6.3.6');
    expect(gpus.map((g) => [g.index, g.name, g.memoryUsedBytes, g.memoryTotalBytes, g.utilizationPercent, g.temperatureC])).toEqual([
      [0, 'Arcturus GL-XL [Instinct MI100]', 6750208, 34342961152, 0, 53],
      [1, 'Arcturus GL-XL [Instinct MI100]', 6750208, 34342961152, 0, 55],
      [2, 'Arcturus GL-XL [Instinct MI100]', 6750208, 34342961152, 0, 54],
      [3, 'Arcturus GL-XL [Instinct MI100]', 6750208, 34342961152, 0, 51],
    ]);
    expect(gpus.every((g) => g.vendor === 'amd' && !g.unifiedMemory && !g.mig)).toBe(true);
  });

  it('an RX 6700 XT on ROCm 4.3: "Card series" is a bare vendor id, so the name falls back to the device id', () => {
    const { gpus } = parseRocmSmi(fixture('rocm-smi-rx6700xt-rocm430.json'));
    expect(gpus).toEqual([{ index: 0, vendor: 'amd', name: 'AMD GPU 0x73df', memoryUsedBytes: 1622728704, memoryTotalBytes: 12868124672, unifiedMemory: false, utilizationPercent: 0, temperatureC: 45, mig: false }]);
  });

  it('cards sort by number (card10 after card2), and text that is not JSON throws', () => {
    const text = JSON.stringify({ card10: { 'Card series': 'B' }, card2: { 'Card series': 'A' }, system: {} });
    expect(parseRocmSmi(text).gpus.map((g) => [g.index, g.name])).toEqual([
      [2, 'A'],
      [10, 'B'],
    ]);
    expect(() => parseRocmSmi('ERROR: No AMD GPUs')).toThrow();
  });
});

describe('node-llama-cpp cross-check', () => {
  const gpu = (vendor: GpuFact['vendor'], index = 0): GpuFact => ({ index, vendor, name: 'x', memoryUsedBytes: 0, memoryTotalBytes: 1, unifiedMemory: vendor === 'apple', utilizationPercent: 0, temperatureC: 0, mig: false });
  it.each([
    ['no GPU anywhere', [], { backend: null, devices: [], vramTotalBytes: 0 }, 'node-llama-cpp finds no GPU either: the embedded runtime uses the CPU.'],
    ['both see two CUDA GPUs', [gpu('nvidia'), gpu('nvidia', 1)], { backend: 'cuda', devices: ['A', 'B'], vramTotalBytes: 2 }, 'node-llama-cpp uses CUDA on all 2 GPUs.'],
    ['driver sees one, llama.cpp none', [gpu('nvidia')], { backend: null, devices: [], vramTotalBytes: 0 }, 'node-llama-cpp cannot use this GPU (no GPU build of llama.cpp loads here): the embedded runtime uses the CPU.'],
    ['counts disagree', [gpu('amd'), gpu('amd', 1)], { backend: 'vulkan', devices: ['A'], vramTotalBytes: 1 }, 'node-llama-cpp uses Vulkan but sees 1 GPU where the driver reports 2.'],
    ['a GPU no vendor tool reports', [], { backend: 'vulkan', devices: ['Intel Arc A770'], vramTotalBytes: 1 }, 'node-llama-cpp uses Vulkan on Intel Arc A770 that no vendor tool reports.'],
    ['Apple silicon', [gpu('apple')], { backend: 'metal', devices: ['Apple M2 Pro'], vramTotalBytes: 1 }, 'node-llama-cpp uses Metal on this GPU.'],
  ] as const)('%s', (_name, gpus, probe, want) => {
    expect(crossCheck([...gpus], { ...probe, devices: [...probe.devices] })).toBe(want);
  });

  it('the probe answer is its last stdout line; an unknown backend counts as none', () => {
    expect(parseProbeOutput('noise\n{"backend":"cuda","devices":["NVIDIA H200"],"vramTotalBytes":150000000000}\n')).toEqual({ backend: 'cuda', devices: ['NVIDIA H200'], vramTotalBytes: 150000000000 });
    expect(parseProbeOutput('{"backend":false,"devices":[],"vramTotalBytes":0}').backend).toBeNull();
    expect(() => parseProbeOutput('Segmentation fault')).toThrow();
  });
});
