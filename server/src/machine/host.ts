// CPU, memory and disk straight from Node: os.* reads /proc (or the OS's
// equivalent) in-process, and fs.statfs is one system call. Compared with
// systeminformation 5.33 on this machine (Linux, 2 cores): si.mem() gives the
// same figures (its `available` equals os.freemem(), which is MemAvailable)
// but si.cpu() spawned lscpu (1.9 s cold), si.currentLoad() took 1.8 s on
// first call, si.fsSize() spawned df (380 ms) and si.graphics() spawned
// lspci/xdpyinfo and took 0.8-1.0 s on every call without finding a GPU tool's
// figures that nvidia-smi/rocm-smi give directly. Sampling every 2 s, that
// cost is the difference between a free sample and a busy core; the direct
// reads are as accurate, so no library is added.
import { statfs } from 'node:fs/promises';
import { cpus, freemem, hostname, loadavg, platform, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { HostFacts } from '../../../shared/machine.js';

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const sum = times.user + times.nice + times.sys + times.idle + times.irq;
    total += sum;
    busy += sum - times.idle;
  }
  return { busy, total };
}

/** Busy share of all cores between two readings; null when no time passed. */
export function utilization(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total;
  if (total <= 0) return null;
  return Math.min(100, Math.max(0, ((after.busy - before.busy) / total) * 100));
}

/** The disk a path lives on, asked at the nearest folder that exists (the cache may not be created yet). */
export async function diskAt(path: string): Promise<HostFacts['disk']> {
  let at = path;
  for (;;) {
    try {
      const s = await statfs(at);
      return { path, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch (err) {
      const parent = dirname(at);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) return null;
      at = parent;
    }
  }
}

/** Keeps the previous CPU reading so each sample reports the utilisation since the last. */
export class HostSampler {
  private last: CpuTimes = cpuTimes();

  async sample(diskPath: string | null): Promise<HostFacts> {
    const now = cpuTimes();
    const busy = utilization(this.last, now);
    this.last = now;
    const list = cpus();
    const total = totalmem();
    return {
      hostname: hostname(),
      platform: `${platform()} ${release()}`,
      cpu: { model: list[0]?.model.trim() || 'Unknown CPU', cores: list.length, loadAverage: loadavg()[0] ?? 0, utilizationPercent: busy },
      // freemem() is what a new process can still get (MemAvailable on Linux), so used = what is really taken.
      memory: { usedBytes: total - freemem(), totalBytes: total },
      disk: diskPath ? await diskAt(diskPath) : null,
    };
  }
}
