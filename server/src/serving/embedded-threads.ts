import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

/**
 * How many threads llama.cpp gets in the embedded runtime when config.json's
 * "serving.threads" does not say.
 *
 * ggml's worker threads meet at a barrier after every operation and spin
 * while they wait, so one thread that the OS takes off its core stalls all
 * the others. Too many threads is therefore far worse than too few. Measured
 * on the 2-core CI machine (AMD EPYC, no SMT; scripts/bench-threads.mjs, the
 * tiny model and a 79 MB one of the same shape, CPU only, load average 6-17
 * from the other work on the machine):
 *
 *   threads                  tiny model        79 MB model
 *   1                        432-737 tokens/s  134-201 tokens/s
 *   2 (every core)           3.3-6.0           2.8-8.2
 *   4 (node-llama-cpp's)     0.4-0.5           0.2
 *
 * and in a second run at load 16-20, medians of 3: one thread 2506 and 108
 * tokens/s, two threads 2.3 and 2.0. (An idle machine was not to be had:
 * there two threads would likely beat one, by less than 2x; the rule gives
 * up that much on a 2-core machine to never lose 50-100x.)
 *
 * node-llama-cpp's CPU default is max(4, physical cores) (Llama.js,
 * defaultCPUMinThreadSplitterThreads), which oversubscribes any machine with
 * fewer than 4 cores. llama.cpp's own default, and Ollama's, is the physical
 * cores (SMT siblings share a core's math units and only add contention).
 * The rule here starts from the physical cores and keeps one for the
 * runtime's own JavaScript thread and the backend that proxies each token,
 * plus as many as the load average says other work is using: a thread short
 * costs a share of speed, a thread over costs all of it. With the model on a
 * GPU the CPU threads hardly matter, so the same rule holds. It is decided at
 * each launch; `serving.threads` overrides it.
 */
export interface CpuFacts {
  /** Physical cores (SMT siblings counted once), within the CPUs this process may use. */
  physicalCores: number;
  /** The 1-minute load average (0 where the OS has none: Windows). */
  loadAverage: number;
}

export function defaultThreads(cpu: CpuFacts): number {
  const busy = Math.max(1, Math.round(cpu.loadAverage));
  return Math.max(1, Math.floor(cpu.physicalCores) - busy);
}

/** This machine's facts: /sys's CPU topology and the cgroup's CPU quota on Linux, the logical CPUs elsewhere. */
export function cpuFacts(): CpuFacts {
  const logical = availableParallelism();
  return { physicalCores: Math.min(logical, physicalCores() ?? logical, cgroupCpuLimit() ?? logical), loadAverage: loadavg()[0] ?? 0 };
}

/** Distinct cores among the online CPUs (thread_siblings_list names a core's logical CPUs); null when /sys does not say. */
function physicalCores(): number | null {
  try {
    const cores = new Set<string>();
    for (const name of readdirSync('/sys/devices/system/cpu')) {
      if (!/^cpu\d+$/.test(name)) continue;
      try {
        cores.add(readFileSync(`/sys/devices/system/cpu/${name}/topology/thread_siblings_list`, 'utf8').trim());
      } catch {
        // Offline CPUs have no topology.
      }
    }
    return cores.size || null;
  } catch {
    return null;
  }
}

/** A container's CPU limit (cgroup v2 cpu.max "quota period"), rounded up; null when there is none. */
function cgroupCpuLimit(): number | null {
  try {
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (!quota || quota === 'max' || !period) return null;
    return Math.max(1, Math.ceil(Number(quota) / Number(period)));
  } catch {
    return null;
  }
}
