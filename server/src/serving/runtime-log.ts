import { closeSync, fstatSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { OutputTail } from '../../../shared/supervision.js';
import { ensurePrivateDir } from '../fs/private-file.js';
import { redactingLines } from '../secrets/redact-stream.js';

/**
 * One runtime's log: its stdout and stderr, redacted line by line (the HF
 * token, API tokens, the runtime key), appended to a 0600 file that is
 * rotated once it passes its cap, kept as a tail for crash reports, and
 * handed to live listeners (the dashboard's stream). Nothing reaches the file
 * or a listener before redaction.
 */
export class RuntimeLog {
  /** Appended synchronously: a rotation must never race a write still in flight. */
  private fd: number | null = null;
  private written = 0;
  private readonly listeners = new Set<(text: string) => void>();
  readonly tail = new OutputTail();

  constructor(
    readonly path: string,
    private readonly maxBytes = 5 * 1024 * 1024,
  ) {}

  /** Pipes a stream of the runtime's output through redaction into the log; returns the redacted stream (text), for other readers. */
  follow(stream: Readable): Readable {
    const redacted = stream.pipe(redactingLines());
    redacted.setEncoding('utf8');
    redacted.on('data', (text: string) => this.append(text));
    return redacted;
  }

  /** A supervisor's own line (already free of secrets: it never quotes one). */
  note(line: string): void {
    this.append(`[supervisor ${new Date().toISOString()}] ${line}\n`);
  }

  /** Live output; returns the unsubscribe. */
  onText(listener: (text: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }

  private append(text: string): void {
    this.tail.push(text);
    for (const l of [...this.listeners]) l(text);
    try {
      this.fd ??= this.open();
      this.written += writeSync(this.fd, text);
      if (this.written > this.maxBytes) {
        // One rotated file: the log of a runtime that talks a lot costs at most twice the cap.
        this.close();
        renameSync(this.path, `${this.path}.1`);
      }
    } catch {
      // A log that cannot be written (disk full, folder removed) must not take the runtime or the backend down.
      this.close();
    }
  }

  private open(): number {
    ensurePrivateDir(dirname(this.path));
    const fd = openSync(this.path, 'a', 0o600);
    this.written = fstatSync(fd).size;
    return fd;
  }
}
