// The workstation itself, as the Overview shows it: GPUs, CPU, memory, disk,
// models, runtimes and how the dashboard reaches it. Sent whole by
// GET /api/public/machine and, while someone listens, every ~2 s by
// GET /api/public/machine/events (`event: machine`), with pull progress in
// between (`event: pulls`).
import type { AuthMode } from './api.js';
import type { PullState } from './models.js';

export type GpuVendor = 'nvidia' | 'amd' | 'apple';

export interface GpuFact {
  index: number;
  vendor: GpuVendor;
  name: string;
  /** Null where the tool reports none (a MIG parent answers per instance, a driver "[N/A]"). */
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  /** Apple silicon: the GPU shares the machine's RAM. */
  unifiedMemory: boolean;
  utilizationPercent: number | null;
  temperatureC: number | null;
  /** NVIDIA Multi-Instance GPU is on: utilisation is per instance, not per card. */
  mig: boolean;
}

/** What node-llama-cpp (the embedded runtime) finds on this machine, checked once in a child process. */
export interface LlamaCheck {
  state: 'pending' | 'done' | 'failed';
  /** The backend llama.cpp would use; null: CPU only. */
  backend: 'cuda' | 'vulkan' | 'metal' | null;
  devices: string[];
  vramTotalBytes: number | null;
  /** One sentence: whether it agrees with the vendor tool, or why it could not tell. */
  message: string;
}

export interface GpuReport {
  /** Which tool answered; `none`: no GPU tool found one. */
  source: 'nvidia-smi' | 'rocm-smi' | 'apple' | 'none';
  gpus: GpuFact[];
  driverVersion: string | null;
  /** CUDA for NVIDIA, ROCm for AMD, Metal for Apple. */
  platform: { name: 'CUDA' | 'ROCm' | 'Metal'; version: string | null } | null;
  /** Why a tool that exists did not answer (timed out, driver not loaded); null when all is well. */
  problem: string | null;
  llama: LlamaCheck;
}

export interface HostFacts {
  hostname: string;
  platform: string;
  cpu: { model: string; cores: number; loadAverage: number; utilizationPercent: number | null };
  memory: { usedBytes: number; totalBytes: number };
  /** The disk under the Hugging Face cache; null when it cannot be read. */
  disk: { path: string; freeBytes: number; totalBytes: number } | null;
}

export interface PullSummary {
  id: string;
  repo: string;
  state: PullState;
  bytesDone: number;
  bytesTotal: number;
  rate: number;
  etaSeconds: number | null;
}

export interface ModelsFacts {
  /** False until the Models service answers (or where it is not part of this server). */
  available: boolean;
  count: number;
  sizeBytes: number;
  cacheDir: string | null;
  /** Pulls that are not finished: queued, checking, downloading, paused, verifying. */
  pulls: PullSummary[];
}

export interface RuntimeFact {
  id: string;
  model: string;
  runtime: string;
  state: string;
  memoryBytes: number | null;
  tokensPerSecond: number | null;
}

export interface RuntimesFacts {
  /** False where this server has no serving layer to ask yet. */
  available: boolean;
  running: RuntimeFact[];
}

export interface ConnectionFacts {
  bind: string;
  remote: boolean;
  authMode: AuthMode;
  version: string;
}

export interface MachineSnapshot {
  sampledAt: string;
  host: HostFacts;
  gpus: GpuReport;
  models: ModelsFacts;
  runtimes: RuntimesFacts;
  connection: ConnectionFacts;
}

export const NO_GPU_MESSAGE = 'No GPU found: models run on the CPU';
/** How often the stream samples while someone listens. */
export const MACHINE_SAMPLE_MS = 2000;
