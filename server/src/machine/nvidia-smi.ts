// NVIDIA GPUs through nvidia-smi. The query is asked with a header and
// parsed by column name, so a field's position never decides what it means
// and recorded outputs with any field list (and with units) parse the same.
import type { GpuFact } from '../../../shared/machine.js';
import { runTool, type ToolRunner } from './run-tool.js';

export const NVIDIA_QUERY_FIELDS = ['index', 'name', 'memory.used', 'memory.total', 'utilization.gpu', 'temperature.gpu', 'driver_version', 'mig.mode.current'] as const;

const MIB = 1024 * 1024;

/** "[N/A]", "[Not Supported]", "N/A", "" and the like: the driver has no value. */
function missing(value: string | undefined): boolean {
  return value === undefined || value === '' || /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|Requested functionality has been deprecated)\]?$/i.test(value);
}

/** A number with or without its unit ("11125 MiB", "0 %", "53"). */
function number(value: string | undefined): number | null {
  if (missing(value)) return null;
  const match = /^(-?\d+(?:\.\d+)?)(?:\s*[A-Za-z%]+)?$/.exec(value!.trim());
  return match ? Number(match[1]) : null;
}

/** One CSV line of nvidia-smi: values are separated by ", " and never quoted (names hold no commas). */
function cells(line: string): string[] {
  return line.split(',').map((cell) => cell.trim());
}

export interface NvidiaQuery {
  gpus: GpuFact[];
  driverVersion: string | null;
}

/** Output of `nvidia-smi --query-gpu=... --format=csv[,nounits]` (with its header line). */
export function parseNvidiaQuery(text: string): NvidiaQuery {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) return { gpus: [], driverVersion: null };
  // "memory.used [MiB]" → "memory.used"
  const header = cells(lines[0]!).map((name) => name.replace(/\s*\[.*\]$/, ''));
  if (!header.includes('name')) throw new Error(`nvidia-smi answered without a header line: ${lines[0]!.slice(0, 120)}`);
  let driverVersion: string | null = null;
  const gpus = lines.slice(1).map((line, row) => {
    const values = cells(line);
    const field = (name: string) => values[header.indexOf(name)];
    const driver = field('driver_version');
    if (!missing(driver)) driverVersion ??= driver!;
    const used = number(field('memory.used'));
    const total = number(field('memory.total'));
    return {
      index: number(field('index')) ?? row,
      vendor: 'nvidia' as const,
      name: field('name') ?? 'NVIDIA GPU',
      memoryUsedBytes: used === null ? null : used * MIB,
      memoryTotalBytes: total === null ? null : total * MIB,
      unifiedMemory: false,
      utilizationPercent: number(field('utilization.gpu')),
      temperatureC: number(field('temperature.gpu')),
      mig: field('mig.mode.current') === 'Enabled',
    };
  });
  return { gpus, driverVersion };
}

/** "CUDA Version: 12.4" from plain `nvidia-smi`'s header (the query interface has no such field before driver 550). */
export function parseCudaVersion(table: string): string | null {
  return /CUDA Version\s*:\s*([0-9][0-9.]*)/.exec(table)?.[1] ?? null;
}

export async function queryNvidia(run: ToolRunner = runTool): Promise<NvidiaQuery> {
  return parseNvidiaQuery(await run('nvidia-smi', [`--query-gpu=${NVIDIA_QUERY_FIELDS.join(',')}`, '--format=csv,nounits']));
}

/** The CUDA version does not change while the driver is loaded: asked once, then kept. */
export async function queryCudaVersion(run: ToolRunner = runTool): Promise<string | null> {
  return parseCudaVersion(await run('nvidia-smi', []));
}
