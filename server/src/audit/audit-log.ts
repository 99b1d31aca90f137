import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { AuditEntry } from '../../../shared/api.js';
import { openPrivateAppend, readTextIfExists, writePrivateFileAtomic } from '../fs/private-file.js';
import { redactSecrets } from '../secrets/redact.js';

const MAX_BYTES = 1024 * 1024;
const TAIL_POLL_MS = 300;

/**
 * Failures anyone can cause without a token. They share one budget across all
 * addresses: about 20k IPv6 /64s, each worth a line a minute, used to push
 * every `token.created` and `remote.enabled` out of the log and its rotation.
 */
const UNAUTHENTICATED: ReadonlySet<string> = new Set(['auth.failed', 'auth.throttled']);

export interface AuditBudget {
  /** Unauthenticated lines written per window, across all addresses; the rest become one summary line. */
  unauthenticatedPerWindow: number;
  windowMs: number;
  now: () => number;
}

const DEFAULT_BUDGET: AuditBudget = { unauthenticatedPerWindow: 100, windowMs: 60_000, now: Date.now };
/** Distinct addresses counted for a summary; past this the summary says "at least". */
const MAX_COUNTED_ADDRESSES = 100_000;

/**
 * JSON lines under HALOFORGE_HOME, appended by the server and the CLI alike,
 * capped at ~1 MiB with one rotated generation. A running server tails the
 * file, so CLI events show up in the dashboard's live activity too.
 *
 * Unauthenticated noise cannot roll the trail off: failed attempts are capped
 * per minute across all addresses (the rest are counted in one summary line),
 * and when a generation is dropped, the events of authenticated callers in it
 * move to `audit.log.kept`, which has a budget of its own (half the cap).
 */
export class AuditLog {
  private readonly events = new EventEmitter();
  private offset = -1;
  private inode = 0n;
  private timer: NodeJS.Timeout | null = null;

  private lastReported = -Infinity;
  private readonly budget: AuditBudget;
  private window = { start: -Infinity, written: 0, suppressed: 0, addresses: new Set<string>() };
  private summaryTimer: NodeJS.Timeout | null = null;

  /**
   * `onWriteError` hears of a line the disk refused, at most once a minute, so
   * a full disk under a stream of failed logins is said, not repeated.
   */
  constructor(
    readonly path: string,
    private readonly maxBytes = MAX_BYTES,
    private readonly onWriteError?: (err: Error) => void,
    budget: Partial<AuditBudget> = {},
  ) {
    this.events.setMaxListeners(0);
    this.budget = { ...DEFAULT_BUDGET, ...budget };
  }

  get keptPath(): string {
    return `${this.path}.kept`;
  }

  /**
   * Appends one entry. A disk that refuses the line costs that line, never the
   * request that caused it: the error is returned (and reported), not thrown.
   */
  append(entry: Omit<AuditEntry, 'time'> & { time?: string }): Error | null {
    if (UNAUTHENTICATED.has(entry.event) && !this.withinBudget(entry.address)) return null;
    return this.write(entry);
  }

  /** Counts an unauthenticated line against this window's budget; false when it goes into the summary instead. */
  private withinBudget(address: string | undefined): boolean {
    const now = this.budget.now();
    if (now - this.window.start >= this.budget.windowMs) {
      this.writeSummary();
      this.window = { start: now, written: 0, suppressed: 0, addresses: new Set() };
    }
    if (this.window.written < this.budget.unauthenticatedPerWindow) {
      this.window.written++;
      return true;
    }
    this.window.suppressed++;
    if (this.window.addresses.size < MAX_COUNTED_ADDRESSES) this.window.addresses.add(address ?? 'unknown');
    // The summary is written when the window ends, even if nothing else fails after it.
    this.summaryTimer ??= setTimeout(() => {
      this.summaryTimer = null;
      this.writeSummary();
    }, Math.max(0, this.window.start + this.budget.windowMs - now)).unref();
    return false;
  }

  private writeSummary(): void {
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    this.summaryTimer = null;
    const { suppressed, addresses } = this.window;
    if (suppressed === 0) return;
    this.window.suppressed = 0;
    this.window.addresses = new Set();
    const from = `${addresses.size >= MAX_COUNTED_ADDRESSES ? 'at least ' : ''}${addresses.size} address${addresses.size === 1 ? '' : 'es'}`;
    const minutes = Math.round(this.budget.windowMs / 60_000);
    const period = minutes <= 1 ? 'the last minute' : `the last ${minutes} minutes`;
    this.write({ event: 'auth.failed', detail: `${suppressed} more failed attempt${suppressed === 1 ? '' : 's'} from ${from} in ${period}` });
  }

  private write(entry: Omit<AuditEntry, 'time'> & { time?: string }): Error | null {
    const line: AuditEntry = { time: entry.time ?? new Date(this.budget.now()).toISOString(), ...entry } as AuditEntry;
    // Redaction is the last line of defence: no caller should pass a secret, but none can.
    const text = `${redactSecrets(JSON.stringify(line))}\n`;
    try {
      // Never through a link, and a log someone loosened is made private again.
      const fd = openPrivateAppend(this.path);
      try {
        writeSync(fd, text);
        if (fstatSync(fd).size > this.maxBytes) {
          this.keepAuthenticated();
          renameSync(this.path, `${this.path}.1`);
        }
      } finally {
        closeSync(fd);
      }
      return null;
    } catch (err) {
      return this.report(err);
    }
  }

  private report(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.onWriteError && Date.now() - this.lastReported >= 60_000) {
      this.lastReported = Date.now();
      this.onWriteError(error);
    }
    return error;
  }

  /**
   * Before the rotated generation is dropped, its lines from authenticated
   * callers move to the kept file, oldest going first once that file is over
   * half the cap. Everything there is older than the rotated file, so reading
   * kept, rotated, current in that order stays in time order.
   */
  private keepAuthenticated(): void {
    try {
      const dropped = readTextIfExists(`${this.path}.1`);
      if (!dropped) return;
      const keep = dropped.split('\n').filter((line) => {
        const entry = parseLine(line);
        return entry !== null && !UNAUTHENTICATED.has(entry.event);
      });
      if (keep.length === 0) return;
      const lines = [...(readTextIfExists(this.keptPath) ?? '').split('\n').filter(Boolean), ...keep];
      let bytes = lines.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
      let first = 0;
      while (bytes > this.maxBytes / 2 && first < lines.length) bytes -= Buffer.byteLength(lines[first++]!) + 1;
      writePrivateFileAtomic(this.keptPath, lines.slice(first).map((line) => `${line}\n`).join(''));
    } catch (err) {
      // The rotation goes ahead regardless: a log that never rotates would fill the disk.
      this.report(err);
    }
  }

  /** The newest `limit` entries, newest first. */
  recent(limit = 100): AuditEntry[] {
    const files = [this.keptPath, `${this.path}.1`, this.path];
    const lines = files.map((file) => readTextIfExists(file) ?? '').join('').split('\n');
    const out: AuditEntry[] = [];
    for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = parseLine(lines[i]!);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Live entries from any process that appends to the log. Returns an unsubscribe function. */
  subscribe(listener: (entry: AuditEntry) => void): () => void {
    this.events.on('entry', listener);
    this.startTail();
    return () => {
      this.events.off('entry', listener);
      if (this.events.listenerCount('entry') === 0) this.stopTail();
    };
  }

  close(): void {
    this.writeSummary();
    this.stopTail();
    this.events.removeAllListeners();
  }

  private startTail(): void {
    if (this.timer) return;
    this.seekToEnd();
    this.timer = setInterval(() => this.poll(), TAIL_POLL_MS).unref();
  }

  private stopTail(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private seekToEnd(): void {
    try {
      const s = statSync(this.path, { bigint: true });
      this.offset = Number(s.size);
      this.inode = s.ino;
    } catch {
      this.offset = 0;
      this.inode = 0n;
    }
  }

  private poll(): void {
    let s;
    try {
      s = statSync(this.path, { bigint: true });
    } catch {
      return;
    }
    if (s.ino !== this.inode) {
      this.inode = s.ino;
      this.offset = 0;
    }
    const size = Number(s.size);
    if (size <= this.offset) {
      if (size < this.offset) this.offset = size;
      return;
    }
    const fd = openSync(this.path, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      const text = buf.toString('utf8');
      const complete = text.lastIndexOf('\n') + 1;
      this.offset += Buffer.byteLength(text.slice(0, complete));
      for (const line of text.slice(0, complete).split('\n')) {
        const entry = parseLine(line);
        if (entry) this.events.emit('entry', entry);
      }
    } finally {
      closeSync(fd);
    }
  }
}

function parseLine(line: string): AuditEntry | null {
  if (!line.trim()) return null;
  try {
    const entry = JSON.parse(line) as AuditEntry;
    return typeof entry.time === 'string' && typeof entry.event === 'string' ? entry : null;
  } catch {
    return null;
  }
}
