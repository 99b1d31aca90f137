import type { FileHandle } from 'node:fs/promises';

// A download's way to disk: what arrives is written in batches while the
// next batch fills, and synced in the background, so the network, the hash
// and the disk work at the same time.

/**
 * Batches of this size are written while the next one arrives. Small enough
 * that a kill loses little of what arrived and chunks die young (RSS stays
 * flat), large enough to cut the write calls by ~8 on 32 KiB network chunks.
 */
export const WRITE_BATCH = 256 << 10;
/** Written data is flushed to disk in the background every this many bytes, so the final sync has little left to do. */
const SYNC_EVERY = 64 << 20;

/**
 * Writes what arrives in batches, one batch on its way to disk while the next
 * fills, and starts a background fdatasync every SYNC_EVERY bytes: the
 * network, the hash and the disk work at the same time.
 */
export class BatchedWriter {
  buffered = 0;
  private chunks: Uint8Array[] = [];
  private writing: Promise<unknown> = Promise.resolve();
  private syncing: Promise<unknown> = Promise.resolve();
  private sinceSync = 0;

  constructor(private readonly file: FileHandle) {}

  add(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const chunks = this.chunks;
    const bytes = this.buffered;
    this.chunks = [];
    this.buffered = 0;
    await this.writing;
    this.writing = handled(this.file.writev(chunks));
    this.sinceSync += bytes;
    if (this.sinceSync >= SYNC_EVERY) {
      this.sinceSync = 0;
      const written = this.writing;
      await this.syncing;
      this.syncing = handled(written.then(() => this.file.datasync()));
    }
  }

  /** Everything added is on its way to disk, and written. */
  async settle(): Promise<void> {
    await this.flush();
    await this.writing;
  }

  async sync(): Promise<void> {
    await this.settle();
    await this.syncing;
    await this.file.sync();
  }
}

/**
 * A write or sync in flight is awaited by the next flush or by settle(); until then a failure (a
 * full disk) must not count as an unhandled rejection, which would take the process down. The
 * promise is returned as it is, so whoever awaits it still gets the error.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
