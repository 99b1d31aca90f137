import { createWriteStream, renameSync, statSync, type WriteStream } from 'node:fs';
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
  private file: WriteStream | null = null;
  private written = 0;
  private readonly listeners = new Set<(text: string) => void>();
  readonly tail = new OutputTail();

  constructor(
    readonly path: string,
    private readonly maxBytes = 5 * 1024 * 1024,
  ) {}

  /** Pipes a stream of the runtime's output through redaction into the log. */
  follow(stream: Readable): void {
    const redacted = stream.pipe(redactingLines());
    redacted.setEncoding('utf8');
    redacted.on('data', (text: string) => this.append(text));
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
    this.file?.end();
    this.file = null;
  }

  private append(text: string): void {
    this.tail.push(text);
    for (const l of [...this.listeners]) l(text);
    this.open();
    if (!this.file) return;
    this.file.write(text);
    this.written += Buffer.byteLength(text);
    if (this.written > this.maxBytes) {
      // One rotated file: the log of a runtime that talks a lot costs at most twice the cap.
      this.file.end();
      this.file = null;
      try {
        renameSync(this.path, `${this.path}.1`);
      } catch {
        // Someone removed it: the next line starts a new file anyway.
      }
    }
  }

  private open(): void {
    if (this.file) return;
    try {
      ensurePrivateDir(dirname(this.path));
      this.written = statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
      this.file = createWriteStream(this.path, { flags: 'a', mode: 0o600 });
      // A log that cannot be written must not take the runtime (or the backend) down with it.
      this.file.on('error', () => (this.file = null));
    } catch {
      this.file = null;
    }
  }
}
