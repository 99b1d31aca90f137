// Which GPUs this machine has, from the vendor's own tool (nvidia-smi,
// rocm-smi; on Apple silicon the GPU shares RAM and needs none), checked
// against what node-llama-cpp finds. A missing tool is looked for again only
// once a minute: a sample every 2 s must not spawn a process that is not there.
import { cpus, freemem, totalmem } from 'node:os';
import type { GpuFact, GpuReport, LlamaCheck } from '../../../shared/machine.js';
import { probeLlama, type LlamaProbeResult } from './llama-probe.js';
import { queryCudaVersion, queryNvidia } from './nvidia-smi.js';
import { queryRocm, rocmVersion } from './rocm-smi.js';
import { runTool, ToolError, type ToolRunner } from './run-tool.js';

const MISSING_RECHECK_MS = 60_000;
const PROBE_DELAY_MS = 2_000;

export interface GpuDetectorOptions {
  run?: ToolRunner;
  probe?: (signal: AbortSignal) => Promise<LlamaProbeResult>;
  platform?: NodeJS.Platform;
  arch?: string;
  rocmVersion?: () => Promise<string | null>;
  now?: () => number;
  /** Wait after the first sample before node-llama-cpp is asked. */
  probeDelayMs?: number;
}

type VendorAnswer = Pick<GpuReport, 'source' | 'gpus' | 'driverVersion' | 'platform'>;

/** One sentence comparing node-llama-cpp's view with the vendor tool's. */
export function crossCheck(gpus: GpuFact[], probe: LlamaProbeResult): string {
  const backend = probe.backend ? { cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' }[probe.backend] : null;
  if (gpus.length === 0 && !backend) return 'node-llama-cpp finds no GPU either: the embedded runtime uses the CPU.';
  if (gpus.length === 0) return `node-llama-cpp uses ${backend} on ${probe.devices.join(', ') || 'a GPU'} that no vendor tool reports.`;
  if (!backend) return `node-llama-cpp cannot use ${gpus.length === 1 ? 'this GPU' : 'these GPUs'} (no GPU build of llama.cpp loads here): the embedded runtime uses the CPU.`;
  const count = probe.devices.length;
  if (gpus[0]!.vendor !== 'apple' && count !== gpus.length) return `node-llama-cpp uses ${backend} but sees ${count} GPU${count === 1 ? '' : 's'} where the driver reports ${gpus.length}.`;
  return `node-llama-cpp uses ${backend} on ${count === 1 ? 'this GPU' : `all ${count} GPUs`}.`;
}

export class GpuDetector {
  private readonly run: ToolRunner;
  private readonly probe: (signal: AbortSignal) => Promise<LlamaProbeResult>;
  private readonly closing = new AbortController();
  private readonly now: () => number;
  private readonly missingSince = new Map<string, number>();
  private cudaVersion: Promise<string | null> | null = null;
  private rocm: Promise<string | null> | null = null;
  private llama: LlamaCheck = { state: 'pending', backend: null, devices: [], vramTotalBytes: null, message: 'Checking what node-llama-cpp finds…' };
  private llamaResult: LlamaProbeResult | null = null;
  private probing: Promise<void> | null = null;
  private probeTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: GpuDetectorOptions = {}) {
    this.run = options.run ?? runTool;
    this.probe = options.probe ?? ((signal) => probeLlama({ signal }));
    this.now = options.now ?? Date.now;
  }

  /** Starts the one node-llama-cpp check (if not started) and resolves when it is done. */
  checkLlama(): Promise<void> {
    this.probing ??= this.probe(this.closing.signal).then(
      (result) => {
        this.llamaResult = result;
        this.llama = { state: 'done', backend: result.backend, devices: result.devices, vramTotalBytes: result.vramTotalBytes || null, message: '' };
      },
      (err: Error) => {
        this.llama = { state: 'failed', backend: null, devices: [], vramTotalBytes: null, message: `Could not ask node-llama-cpp: ${err.message}` };
      },
    );
    return this.probing;
  }

  /** Stops the node-llama-cpp check if it still runs. */
  close(): void {
    this.closing.abort();
    if (this.probeTimer) clearTimeout(this.probeTimer);
  }

  /** `startProbe: false`: a reading that should not set off node-llama-cpp's check (serving asks it only on a GPU box). */
  async sample(options: { startProbe?: boolean } = {}): Promise<GpuReport> {
    // Not before the first answer is out: the check costs seconds of CPU, the page should not wait on it.
    if (options.startProbe !== false && !this.probing && !this.probeTimer && !this.closing.signal.aborted) {
      this.probeTimer = setTimeout(() => void this.checkLlama(), this.options.probeDelayMs ?? PROBE_DELAY_MS);
      this.probeTimer.unref();
    }
    let problem: string | null = null;
    let answer: VendorAnswer | null = null;
    if ((this.options.platform ?? process.platform) === 'darwin' && (this.options.arch ?? process.arch) === 'arm64') {
      answer = this.apple();
    } else {
      for (const ask of [() => this.nvidia(), () => this.amd()]) {
        try {
          answer = await ask();
        } catch (err) {
          if (err instanceof ToolError && err.kind === 'missing') continue;
          problem ??= (err as Error).message;
        }
        if (answer && answer.gpus.length > 0) break;
        answer = null;
      }
    }
    const report: GpuReport = { ...(answer ?? { source: 'none', gpus: [], driverVersion: null, platform: null }), problem, llama: { ...this.llama } };
    if (this.llamaResult) report.llama.message = crossCheck(report.gpus, this.llamaResult);
    return report;
  }

  /** Runs a tool unless it was missing less than a minute ago. */
  private async tool<T>(command: string, ask: () => Promise<T>): Promise<T> {
    const since = this.missingSince.get(command);
    if (since !== undefined && this.now() - since < MISSING_RECHECK_MS) throw new ToolError(command, 'missing', `${command} is not installed`);
    try {
      const result = await ask();
      this.missingSince.delete(command);
      return result;
    } catch (err) {
      if (err instanceof ToolError && err.kind === 'missing') this.missingSince.set(command, this.now());
      throw err;
    }
  }

  private async nvidia(): Promise<VendorAnswer> {
    const { gpus, driverVersion } = await this.tool('nvidia-smi', () => queryNvidia(this.run));
    // Asked once: a failure leaves it unknown rather than asking every 2 s.
    this.cudaVersion ??= queryCudaVersion(this.run).catch(() => null);
    return { source: 'nvidia-smi', gpus, driverVersion, platform: { name: 'CUDA', version: await this.cudaVersion } };
  }

  private async amd(): Promise<VendorAnswer> {
    const { gpus, driverVersion } = await this.tool('rocm-smi', () => queryRocm(this.run));
    this.rocm ??= (this.options.rocmVersion ?? (() => rocmVersion()))();
    return { source: 'rocm-smi', gpus, driverVersion, platform: { name: 'ROCm', version: await this.rocm } };
  }

  private apple(): VendorAnswer {
    const total = totalmem();
    const chip = cpus()[0]?.model.trim() || 'Apple silicon';
    return {
      source: 'apple',
      gpus: [{ index: 0, vendor: 'apple', name: `${chip} GPU`, memoryUsedBytes: total - freemem(), memoryTotalBytes: total, unifiedMemory: true, utilizationPercent: null, temperatureC: null, mig: false }],
      driverVersion: null,
      platform: { name: 'Metal', version: null },
    };
  }
}
