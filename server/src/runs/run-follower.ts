import { statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { MetricPoint } from '../../../shared/runs.js';
import { parseMetricsFileLine, type MetricReading } from './metric-lines.js';
import { fileSize, readRange, RUN_FILES } from './run-files.js';

const READ_CHUNK = 1 << 20;
const MAX_BEHIND = 4 << 20;
const SKIP_TO = 256 << 10;
const MAX_POINTS = 200_000;

/**
 * Reads what a run's keeper and job write, as it grows: new log text (across
 * a rotation), metric points from the job's output and from the job's own
 * metrics.jsonl. Partial last lines wait for their newline; malformed lines
 * are skipped.
 */
export class RunFollower {
  readonly points: MetricPoint[] = [];
  private logOffset: number;
  private logIno: number | null = null;
  /** Where the text poll() has handed out ends in output.log (a character cut short is not handed out yet). */
  private emittedOffset = 0;
  private outputMetricsOffset = 0;
  private fileMetricsOffset = 0;
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly runDir: string,
    /** Where live log text starts: 0 for a new run, the current size when re-attaching (the backlog is read separately). */
    fromLogEnd: boolean,
  ) {
    const log = join(runDir, RUN_FILES.log);
    this.logOffset = fromLogEnd ? fileSize(log) : 0;
    this.emittedOffset = this.logOffset;
    if (fromLogEnd) this.logIno = statSync(log, { throwIfNoEntry: false })?.ino ?? null;
  }

  /** What arrived since the last call. */
  poll(): { log: string; points: MetricPoint[] } {
    const before = this.points.length;
    this.readOutputMetrics();
    this.readFileMetrics();
    return { log: this.readLog(), points: this.points.slice(before) };
  }

  private readLog(): string {
    const path = join(this.runDir, RUN_FILES.log);
    const parts: Buffer[] = [];
    const ino = statSync(path, { throwIfNoEntry: false })?.ino ?? null;
    if (this.logIno !== null && ino !== this.logIno) {
      // Rotated since the last read: the rest of the old file is output.log.1 now.
      if (statSync(`${path}.1`, { throwIfNoEntry: false })?.ino === this.logIno) parts.push(readRange(`${path}.1`, this.logOffset, READ_CHUNK));
      this.logOffset = 0;
    }
    this.logIno = ino;
    const behind = fileSize(path) - this.logOffset;
    if (behind > MAX_BEHIND) {
      // A job printing faster than anyone reads: watchers get the newest output, the file keeps the rest.
      parts.push(Buffer.from(`\n[halo-forge: ${behind - SKIP_TO} bytes of output skipped in the live view; they are in the log file]\n`));
      this.logOffset += behind - SKIP_TO;
    }
    const fresh = readRange(path, this.logOffset, READ_CHUNK);
    this.logOffset += fresh.length;
    parts.push(fresh);
    // The decoder holds a character cut between two reads until its last bytes arrive.
    const read = Buffer.concat(parts);
    const text = this.decoder.write(read);
    this.emittedOffset = this.logOffset - (read.length - Buffer.byteLength(text));
    return text;
  }

  /**
   * The last `maxBytes` of the log up to what poll() has handed out, so that a
   * watcher who takes this and then the live text sees every line once.
   */
  backlog(maxBytes: number): string {
    const path = join(this.runDir, RUN_FILES.log);
    const end = this.emittedOffset;
    const current = readRange(path, Math.max(0, end - maxBytes), Math.min(end, maxBytes));
    if (current.length >= maxBytes || end > current.length) return current.toString('utf8');
    const older = readRange(`${path}.1`, -(maxBytes - current.length));
    return Buffer.concat([older, current]).toString('utf8');
  }

  private readOutputMetrics(): void {
    this.outputMetricsOffset = this.readLines(RUN_FILES.outputMetrics, this.outputMetricsOffset, (line) => {
      try {
        const p = JSON.parse(line) as MetricReading & { time: string; source: MetricPoint['source'] };
        if (p && typeof p.values === 'object') this.add(p, p.source === 'trainer' ? 'trainer' : 'stdout', p.time);
      } catch {
        // Skipped: a half-written line after a crash.
      }
    });
  }

  private readFileMetrics(): void {
    this.fileMetricsOffset = this.readLines(RUN_FILES.metrics, this.fileMetricsOffset, (line) => {
      const reading = parseMetricsFileLine(line);
      if (reading) this.add(reading, 'file', new Date().toISOString());
    });
  }

  private add(reading: MetricReading, source: MetricPoint['source'], time: string): void {
    // A job that writes metrics without end must not grow the backend without end: the files keep the rest.
    if (this.points.length >= MAX_POINTS) return;
    this.points.push({ seq: this.points.length, step: reading.step, epoch: reading.epoch, time, source, values: reading.values });
  }

  /** Calls `each` for every whole line from `offset`; returns the offset after the last whole line. */
  private readLines(name: string, offset: number, each: (line: string) => void): number {
    const path = join(this.runDir, name);
    for (;;) {
      const chunk = readRange(path, offset, READ_CHUNK);
      const end = chunk.lastIndexOf(0x0a) + 1;
      if (end === 0) {
        // A line longer than a whole chunk is no metric line: skip it.
        if (chunk.length === READ_CHUNK) {
          offset += chunk.length;
          continue;
        }
        return offset;
      }
      for (const line of chunk.subarray(0, end).toString('utf8').split('\n')) if (line.trim()) each(line);
      offset += end;
      if (chunk.length < READ_CHUNK) return offset;
    }
  }
}
