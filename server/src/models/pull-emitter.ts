import type { PullInfo } from '../../../shared/models.js';

// A pull's progress, paced: listeners hear of it at most every interval (a
// change of state at once), and its record on disk, which other processes
// read, is rewritten at most once a second.

export interface PullEmitterOptions {
  /** Progress to listeners at most this often (ms). */
  intervalMs: number;
  /** The pull's record on disk; may throw (a full disk), which costs only a log line. */
  write: (info: PullInfo) => void;
  /** A copy of the pull, to every listener. */
  send: (pull: PullInfo, stateChanged: boolean) => void;
  log?: (line: string) => void;
}

const RECORD_EVERY_MS = 1_000;

export class PullEmitter {
  private readonly last = new Map<string, { at: number; timer: NodeJS.Timeout | null; wroteAt: number }>();

  constructor(private readonly o: PullEmitterOptions) {}

  emit(info: PullInfo, stateChanged: boolean): void {
    const entry = this.last.get(info.id) ?? { at: 0, timer: null, wroteAt: 0 };
    this.last.set(info.id, entry);
    const now = Date.now();
    const send = () => {
      entry.at = Date.now();
      entry.timer = null;
      if (stateChanged || entry.at - entry.wroteAt >= RECORD_EVERY_MS) {
        entry.wroteAt = entry.at;
        try {
          this.o.write(info);
        } catch (err) {
          this.o.log?.(`could not write the record of pull ${info.id}: ${(err as Error).message}`);
        }
      }
      this.o.send({ ...info, files: info.files.map((f) => ({ ...f })) }, stateChanged);
    };
    if (stateChanged || now - entry.at >= this.o.intervalMs) {
      if (entry.timer) clearTimeout(entry.timer);
      return send();
    }
    entry.timer ??= setTimeout(send, this.o.intervalMs - (now - entry.at));
  }

  close(): void {
    for (const entry of this.last.values()) if (entry.timer) clearTimeout(entry.timer);
  }
}
