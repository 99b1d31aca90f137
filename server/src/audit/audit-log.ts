import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { AuditEntry } from '../../../shared/api.js';
import { openPrivateAppend, readTextIfExists } from '../fs/private-file.js';
import { redactSecrets } from '../secrets/redact.js';

const MAX_BYTES = 1024 * 1024;
const TAIL_POLL_MS = 300;

/**
 * JSON lines under HALOFORGE_HOME, appended by the server and the CLI alike,
 * capped at ~1 MiB with one rotated generation. A running server tails the
 * file, so CLI events show up in the dashboard's live activity too.
 */
export class AuditLog {
  private readonly events = new EventEmitter();
  private offset = -1;
  private inode = 0n;
  private timer: NodeJS.Timeout | null = null;

  private lastReported = -Infinity;

  /**
   * `onWriteError` hears of a line the disk refused, at most once a minute, so
   * a full disk under a stream of failed logins is said, not repeated.
   */
  constructor(
    readonly path: string,
    private readonly maxBytes = MAX_BYTES,
    private readonly onWriteError?: (err: Error) => void,
  ) {
    this.events.setMaxListeners(0);
  }

  /**
   * Appends one entry. A disk that refuses the line costs that line, never the
   * request that caused it: the error is returned (and reported), not thrown.
   */
  append(entry: Omit<AuditEntry, 'time'> & { time?: string }): Error | null {
    const line: AuditEntry = { time: entry.time ?? new Date().toISOString(), ...entry } as AuditEntry;
    // Redaction is the last line of defence: no caller should pass a secret, but none can.
    const text = `${redactSecrets(JSON.stringify(line))}\n`;
    try {
      // Never through a link, and a log someone loosened is made private again.
      const fd = openPrivateAppend(this.path);
      try {
        writeSync(fd, text);
        if (fstatSync(fd).size > this.maxBytes) renameSync(this.path, `${this.path}.1`);
      } finally {
        closeSync(fd);
      }
      return null;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (this.onWriteError && Date.now() - this.lastReported >= 60_000) {
        this.lastReported = Date.now();
        this.onWriteError(error);
      }
      return error;
    }
  }

  /** The newest `limit` entries, newest first. */
  recent(limit = 100): AuditEntry[] {
    const lines = [readTextIfExists(`${this.path}.1`) ?? '', readTextIfExists(this.path) ?? ''].join('').split('\n');
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
