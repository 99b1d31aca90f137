// AMD GPUs through rocm-smi's JSON. Its keys are sentences that changed over
// ROCm releases ("GPU ID" became "Device ID", "Card series" a bare PCI id on
// older ones), so each fact is looked up under every name it has had.
import { readFile } from 'node:fs/promises';
import type { GpuFact } from '../../../shared/machine.js';
import { runTool, type ToolRunner } from './run-tool.js';

export const ROCM_SMI_ARGS = ['--showproductname', '--showmeminfo', 'vram', '--showuse', '--showtemp', '--showdriverversion', '--json'];

export interface RocmQuery {
  gpus: GpuFact[];
  driverVersion: string | null;
}

function number(value: unknown): number | null {
  if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value.trim())) return null;
  return Number(value);
}

function first(card: Record<string, unknown>, keys: string[]): unknown {
  for (const key of keys) if (card[key] !== undefined && card[key] !== 'N/A') return card[key];
  return undefined;
}

/** A readable name: "Card series" unless it is only a PCI id (older ROCm), then "Card model", then the device id. */
function cardName(card: Record<string, unknown>): string {
  for (const key of ['Card series', 'Card model']) {
    const value = card[key];
    if (typeof value === 'string' && value && !/^0x[0-9a-f]+$/i.test(value) && value !== 'N/A') return value;
  }
  const id = first(card, ['Device ID', 'GPU ID']);
  return typeof id === 'string' ? `AMD GPU ${id}` : 'AMD GPU';
}

export function parseRocmSmi(text: string): RocmQuery {
  const data = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const system = data.system ?? {};
  const driverVersion = typeof system['Driver version'] === 'string' ? system['Driver version'] : null;
  const gpus = Object.keys(data)
    .filter((key) => /^card\d+$/.test(key))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
    .map((key) => {
      const card = data[key]!;
      return {
        index: Number(key.slice(4)),
        vendor: 'amd' as const,
        name: cardName(card),
        memoryUsedBytes: number(card['VRAM Total Used Memory (B)']),
        memoryTotalBytes: number(card['VRAM Total Memory (B)']),
        unifiedMemory: false,
        utilizationPercent: number(card['GPU use (%)']),
        temperatureC: number(first(card, ['Temperature (Sensor edge) (C)', 'Temperature (Sensor junction) (C)', 'Temperature (C)'])),
        mig: false,
      };
    });
  return { gpus, driverVersion };
}

export async function queryRocm(run: ToolRunner = runTool): Promise<RocmQuery> {
  return parseRocmSmi(await run('rocm-smi', ROCM_SMI_ARGS));
}

/** ROCm writes its version here; rocm-smi's JSON has only the kernel driver's. */
export async function rocmVersion(root = process.env.ROCM_PATH ?? '/opt/rocm'): Promise<string | null> {
  try {
    return (await readFile(`${root}/.info/version`, 'utf8')).trim().split('-')[0] || null;
  } catch {
    return null;
  }
}
