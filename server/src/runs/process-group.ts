import { readFileSync } from 'node:fs';

// A run's processes: the keeper leads a process group, and the job and
// whatever it starts (a data loader's workers) are in it. Signals go to the
// whole group, so none of them outlives a stop.

/**
 * The kernel's start time of a process (clock ticks since boot, field 22 of
 * /proc/PID/stat), so a recorded pid is not mistaken for another process that
 * got the same number after a reboot or a wrap. null where /proc is missing.
 */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or ")": count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** The process is alive, and it is the one recorded (same start time, where the system tells). */
export function sameProcessAlive(pid: number, startTicks: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStartTicks(pid);
  if (process.platform !== 'linux') return true;
  // Linux: a zombie (null) is dead; another start time is another process.
  return now !== null && (startTicks === null || now === startTicks);
}

/** Some process of the group `pgid` is still there (zombies included, until reaped). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops whole groups: SIGTERM now, SIGKILL to whatever of the group is left after the grace period. */
export class GroupStopper {
  // Not unref'd: a backend that is closing still sends a pending SIGKILL (it waits at most the grace period).
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly graceMs: number) {}

  /** `group`: the group, or how to find it again when the SIGKILL is due (it may change meanwhile). */
  stop(group: number | (() => number)): void {
    const pgid = typeof group === 'number' ? () => group : group;
    signalGroup(pgid(), 'SIGTERM');
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const now = pgid();
      if (groupAlive(now)) signalGroup(now, 'SIGKILL');
    }, this.graceMs);
    this.timers.add(timer);
  }
}
