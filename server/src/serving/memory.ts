import { readdirSync, readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import type { GpuReport } from '../../../shared/machine.js';
import type { GpuDetector } from '../machine/gpus.js';

/**
 * Memory readings, as serving needs them: how much a runtime holds (its whole
 * process group: the guard, vLLM's workers) and how much RAM the machine can
 * still give. Linux reads /proc; elsewhere the answers are null and
 * os.freemem(). What a load needs and where it goes is memory-plan.ts.
 */

const PAGE = 4096;

/** Resident bytes of every process in the group `pgid` (a runtime is its group's leader); null when unknown. */
export function processGroupRss(pgid: number | undefined): number | null {
  return processGroupMemory(pgid)?.rss ?? null;
}

/**
 * Resident bytes of the group `pgid`, and how many of them are pages of
 * mapped files. llama.cpp maps a model's weights (mmap): those pages are page
 * cache, which MemAvailable counts as free although the running model reads
 * them for every token. Measured with node-llama-cpp on the CI machine: a
 * 394 MB model loaded and answering raised the process's RssFile by 395 MB
 * and RssAnon by 28 MB, and MemAvailable fell by only 28-61 MB. Null when
 * unknown.
 */
export function processGroupMemory(pgid: number | undefined): { rss: number; fileBacked: number } | null {
  if (pgid === undefined || process.platform !== 'linux') return null;
  let total = 0;
  let fileBacked = 0;
  let found = false;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is field 3 (state): pgrp is field 5, rss (pages) field 24.
      // The process itself counts whether or not it leads a group: in the desktop app a runtime is a utility
      // process of the app's main process, in the main process's group.
      if (Number(fields[2]) !== pgid && Number(name) !== pgid) continue;
      total += Number(fields[21]) * PAGE;
      // statm's third field: resident pages backed by a file (mapped model weights, the executable).
      fileBacked += Number(readFileSync(`/proc/${name}/statm`, 'utf8').split(' ')[2]) * PAGE;
      found = true;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found ? { rss: total, fileBacked } : null;
}

/** Bytes the machine can give without swapping (MemAvailable), else what os.freemem() says. */
export function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return freemem();
}


export interface MachineMemory {
  ramAvailable: number;
  /** The machine module's GPU report; null when it could not be taken. */
  gpus: GpuReport | null;
}

/** A machine without a GPU, or a runtime told not to use one: RAM is all there is. */
export const NO_GPUS: GpuReport = { source: 'none', gpus: [], driverVersion: null, platform: null, problem: null, llama: { state: 'done', backend: null, devices: [], vramTotalBytes: null, message: '' } };

/**
 * RAM and GPUs now, through the machine module's detector (the one the
 * Overview reads: no second nvidia-smi parser). On a machine with a discrete
 * GPU, whether the embedded runtime can use it is node-llama-cpp's answer,
 * checked once in a child process (seconds, once per backend); a machine
 * without one never starts that check.
 */
export async function machineMemory(detector: GpuDetector): Promise<MachineMemory> {
  const ramAvailable = availableMemory();
  try {
    let report = await detector.sample({ startProbe: false });
    if (report.gpus.some((g) => !g.unifiedMemory) && report.llama.state === 'pending') {
      await detector.checkLlama();
      report = await detector.sample({ startProbe: false });
    }
    return { ramAvailable, gpus: report };
  } catch {
    return { ramAvailable, gpus: null };
  }
}
