// What a blob is checked against while it streams in: an LFS (or Xet) file's
// SHA-256, which is also its name in blobs/; a plain git file's blob SHA-1,
// the hash of `blob <size>\0<content>`. Python's huggingface_hub checks only
// the size; a corrupt CDN answer or a flipped bit on disk would pass there.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface Expected {
  /** Hex digest the content must have; also the blob's name in the cache. */
  etag: string;
  algorithm: 'sha256' | 'git-sha1';
  size: number;
}

export function startHash(expected: Expected): Hash {
  if (expected.algorithm === 'sha256') return createHash('sha256');
  return createHash('sha1').update(`blob ${expected.size}\0`);
}

/** Feeds the first `bytes` of a partial file to `hash`: a resumed download's digest covers the whole file. */
export async function hashPrefix(hash: Hash, path: string, bytes: number): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}

/** The hex digest of a whole file under the expected algorithm. */
export async function hashFile(path: string, expected: Expected): Promise<string> {
  const hash = startHash(expected);
  await hashPrefix(hash, path, expected.size);
  return hash.digest('hex');
}
