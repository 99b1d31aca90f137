import { readdirSync, readFileSync } from 'node:fs';
import { freemem } from 'node:os';

/**
 * Memory, as serving needs it: how much a runtime holds (its whole process
 * group: the guard, vLLM's workers) and how much the machine can still give.
 * Linux reads /proc; elsewhere the answers are null and os.freemem().
 */

const PAGE = 4096;

/** Resident bytes of every process in the group `pgid` (a runtime is its group's leader); null when unknown. */
export function processGroupRss(pgid: number | undefined): number | null {
  if (pgid === undefined || process.platform !== 'linux') return null;
  let total = 0;
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
      if (Number(fields[2]) !== pgid) continue;
      total += Number(fields[21]) * PAGE;
      found = true;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found ? total : null;
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

/**
 * What loading a GGUF file takes, roughly: its weights (mapped and read in
 * whole on a CPU), plus the context's KV cache and llama.cpp's buffers, for
 * which a fifth more and 256 MiB is a fair allowance on the models people run.
 */
export function estimatedLoadBytes(fileSize: number): number {
  return Math.ceil(fileSize * 1.2) + 256 * 1024 * 1024;
}

/** Null when it fits; else the sentence that says why not. */
export function memoryProblem(fileSize: number, available: number): string | null {
  const needed = estimatedLoadBytes(fileSize);
  if (needed <= available) return null;
  return `Loading it needs about ${gib(needed)} of memory and ${gib(available)} is free. Stop a running model (halo-forge ps lists them) or close other programs, then try again.`;
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}
