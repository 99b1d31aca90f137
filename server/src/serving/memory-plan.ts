import type { GpuFact, GpuReport } from '../../../shared/machine.js';
import type { RuntimeName } from '../../../shared/serving.js';

/**
 * Whether a model fits in the memory the runtime will put it in, as a pure
 * rule over the machine's readings (no I/O: a test tables it).
 *
 * Where it goes. node-llama-cpp loads with gpuLayers "auto": as many layers
 * as fit in free VRAM go to the GPU, the rest stay in RAM (a model never
 * "fails to fit the GPU"; it spills). Its VRAM figure is the sum over every
 * GPU llama.cpp sees (getVramState adds up each device), and llama.cpp's
 * default split mode spreads the layers over all of them, so the budget is
 * the sum of free VRAM, not the best single GPU; from it node-llama-cpp
 * keeps back its padding, min(8% of total VRAM, 1.6 GiB)
 * (defaultLlamaVramPadding in node-llama-cpp 3.21.1's getLlama.js). So a
 * load fits when the part that does not fit in the usable VRAM fits in RAM.
 * Without a GPU the runtime uses (none found, node-llama-cpp cannot use the
 * one there, Apple's unified memory), it is RAM only, as before.
 *
 * Not counted twice. The readings are taken at load time, so the memory of
 * runtimes already loaded is already in them (nvidia-smi's used, RAM's
 * MemAvailable) — except llama.cpp's mapped weights, which are page cache
 * and count as available RAM: the caller subtracts those (`ramHeld`). A
 * model still loading has not taken its memory yet: the caller passes what
 * its plan reserved (`reserved`).
 */

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

/** llama.cpp's compute buffers and the runtime process itself. */
const RUNTIME_OVERHEAD = 256 * MIB;
/** Per token of context when the file's header cannot be read: a 7B model without grouped-query attention (32 layers × 4096 × K and V × f16). */
const FALLBACK_KV_PER_TOKEN = 512 * 1024;
/** The context the embedded runtime takes when none is asked for (engine.ts: the model's, at most 8192). */
export const DEFAULT_CONTEXT_CAP = 8192;

export interface LoadEstimate {
  weights: number;
  kvCache: number;
  overhead: number;
  total: number;
  /** The context it was sized for, in tokens. */
  context: number;
}

/**
 * What loading a GGUF file takes, roughly: its weights as they are on disk
 * (a quantized file is loaded as it is), a tenth more and 256 MiB for
 * llama.cpp's compute buffers and the process, and the KV cache of the
 * context asked for: bytes per token (from the file's header: layers ×
 * KV heads × head size × keys and values × f16) × tokens. The KV cache is
 * what grows with the context: an 8B model with grouped-query attention
 * takes 128 KiB a token (1 GiB at 8192), one without takes 512 KiB (4 GiB).
 */
export function estimateLoad(fileSize: number, shape: { kvBytesPerToken: number; trainedContext: number | null } | null, contextAsked: number | undefined): LoadEstimate {
  const context = contextAsked ?? Math.min(shape?.trainedContext ?? DEFAULT_CONTEXT_CAP, DEFAULT_CONTEXT_CAP);
  const kvCache = context * (shape?.kvBytesPerToken ?? FALLBACK_KV_PER_TOKEN);
  const overhead = Math.ceil(fileSize * 0.1) + RUNTIME_OVERHEAD;
  return { weights: fileSize, kvCache, overhead, total: fileSize + kvCache + overhead, context };
}

export interface MemoryReadings {
  /** RAM the machine can give (MemAvailable). */
  ramAvailable: number;
  /** Of that, mapped model weights of runtimes this backend runs (page cache that MemAvailable counts as free). */
  ramHeld: number;
  /** The machine module's GPU report; null when it could not be taken. */
  gpus: GpuReport | null;
  /** What loads still starting were planned to take, not yet in the readings. */
  reserved: { vram: number; ram: number };
}

export interface MemoryPlan {
  fits: boolean;
  estimate: LoadEstimate;
  /** Bytes planned on the GPUs and in RAM. */
  vram: number;
  ram: number;
  /** One sentence: where it goes, with the numbers (the refusal's reason, or a log line). */
  sentence: string;
}

interface GpuTarget {
  gpus: GpuFact[];
  /** VRAM the runtime may fill: free, less node-llama-cpp's padding and what loading models reserved. */
  usable: number;
  free: number;
  padding: number;
}

/** node-llama-cpp's default VRAM padding for this much VRAM in all (3.21.1). */
export function vramPadding(totalVram: number): number {
  return Math.floor(Math.min(totalVram * 0.08, 1.6 * GIB));
}

/** The GPUs the runtime will offload to, or why it counts RAM only (null note: no GPU, nothing to say). */
export function offloadTarget(report: GpuReport | null, runtime: RuntimeName): { gpus: GpuFact[]; note: null } | { gpus: null; note: string | null } {
  if (!report) return { gpus: null, note: 'the GPU reading failed, so only RAM was counted' };
  const discrete = report.gpus.filter((g) => !g.unifiedMemory);
  // Apple silicon: the GPU's memory is the RAM, which is what is counted.
  if (discrete.length === 0) return { gpus: null, note: report.problem ? `the GPU tool did not answer (${report.problem}), so only RAM was counted` : null };
  let gpus = discrete;
  if (runtime === 'embedded') {
    if (report.llama.state !== 'done') return { gpus: null, note: `node-llama-cpp could not say which GPU it uses (${report.llama.message || report.llama.state}), so only RAM was counted` };
    if (!report.llama.backend) return { gpus: null, note: null };
    // Fewer devices than the driver reports (CUDA_VISIBLE_DEVICES, a card the build cannot drive): which ones
    // is not known, so the ones with the least free memory are counted, never promising more than there is.
    const seen = report.llama.devices.length;
    if (seen > 0 && seen < gpus.length) gpus = [...gpus].sort((a, b) => free(a)! - free(b)!).slice(0, seen);
  }
  // llama-server is not ours to ask: if the machine has GPUs, it was most likely built for them.
  // A MIG card's reading is the whole card's; the runtime gets an instance, whose memory nvidia-smi's query does not give.
  const unread = gpus.filter((g) => free(g) === null || g.mig);
  if (unread.length > 0) {
    const names = unread.map((g) => `GPU ${g.index}${g.mig ? ' (split into MIG instances)' : ''}`).join(', ');
    return { gpus: null, note: `the free memory of ${names} is not known, so only RAM was counted` };
  }
  return { gpus, note: null };
}

function free(g: GpuFact): number | null {
  return g.memoryTotalBytes === null || g.memoryUsedBytes === null ? null : Math.max(0, g.memoryTotalBytes - g.memoryUsedBytes);
}

/** Where a load of `estimate` goes and whether it fits. */
export function planMemory(estimate: LoadEstimate, readings: MemoryReadings, runtime: RuntimeName): MemoryPlan {
  const target = offloadTarget(readings.gpus, runtime);
  const ramFree = Math.max(0, readings.ramAvailable - readings.ramHeld - readings.reserved.ram);
  let gpu: GpuTarget | null = null;
  if (target.gpus) {
    const total = target.gpus.reduce((n, g) => n + g.memoryTotalBytes!, 0);
    const freeVram = target.gpus.reduce((n, g) => n + free(g)!, 0);
    const padding = vramPadding(total);
    gpu = { gpus: target.gpus, free: freeVram, padding, usable: Math.max(0, freeVram - padding - readings.reserved.vram) };
  }
  const vram = gpu ? Math.min(estimate.total, gpu.usable) : 0;
  const ram = estimate.total - vram;
  const fits = ram <= ramFree;
  return { fits, estimate, vram, ram, sentence: describe(estimate, gpu, ram, ramFree, target.note) };
}

function describe(estimate: LoadEstimate, gpu: GpuTarget | null, ram: number, ramFree: number, note: string | null): string {
  const needs = `Loading it needs about ${size(estimate.total)} (${size(estimate.weights)} of weights, ${size(estimate.kvCache)} of KV cache for a context of ${estimate.context} tokens)`;
  if (!gpu) return `${needs}, and RAM has ${size(ramFree)} free${note ? ` (${note})` : ''}.`;
  const which = gpu.gpus.length === 1 ? `GPU ${gpu.gpus[0]!.index} VRAM has` : `GPUs ${gpu.gpus.map((g) => g.index).join(' and ')} VRAM have`;
  const vram = `${which} ${size(gpu.free)} free (${size(gpu.usable)} usable after node-llama-cpp's ${size(gpu.padding)} margin${gpu.gpus.length > 1 ? ', split across them' : ''})`;
  if (ram === 0) return `${needs}; ${vram}: it fits in VRAM.`;
  return `${needs}; ${vram}, and the other ${size(ram)} must come from RAM, which has ${size(ramFree)} free.`;
}

/** "9.9 GiB", "300 MiB", "256 KiB". */
export function size(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  return bytes >= MIB ? `${Math.round(bytes / MIB)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
