// What a file of the fake Hub is: its bytes (given by the test, or generated
// deterministically in 1 MiB blocks, so a 2 GiB file is never held in
// memory) and the hashes the real Hub lists for it (the SHA-256 of an LFS
// file, the git blob SHA-1 of a plain one or of an LFS pointer).
// Imports only node: modules (the Playwright tests load it too).
import { createHash } from 'node:crypto';

export type FakeFileSpec =
  | { path: string; content: Buffer | string; lfs?: boolean; xet?: boolean }
  | { path: string; size: number; seed?: number; lfs?: boolean; xet?: boolean };

export interface FakeFile {
  path: string;
  size: number;
  lfs: boolean;
  xet: boolean;
  sha256: string;
  gitOid: string;
  read: (start: number, end: number) => Generator<Buffer>;
}

const BLOCK = 1 << 20;

function generator(size: number, seed: number): (start: number, end: number) => Generator<Buffer> {
  // One pseudo-random block per file (only as long as the file needs), each 1 MiB of the file
  // being that block with its index in the first 4 bytes: distinct, cheap, never held whole.
  const base = Buffer.alloc(Math.min(BLOCK, Math.max(size, 32)));
  for (let i = 0, h = createHash('sha256').update(String(seed)).digest(); i < base.length; i += 32) {
    h.copy(base, i);
    h = createHash('sha256').update(h).digest();
  }
  return function* (start, end) {
    for (let pos = start; pos < end; ) {
      const n = Math.floor(pos / BLOCK);
      const offset = pos - n * BLOCK;
      const take = Math.min(BLOCK - offset, end - pos);
      const piece = Buffer.from(base.subarray(offset, offset + take));
      for (let i = offset; i < 4 && i < offset + take; i++) piece[i - offset] = (n >>> (8 * (3 - i))) & 0xff;
      yield piece;
      pos += take;
    }
  };
}

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function makeFile(spec: FakeFileSpec): FakeFile {
  let size: number;
  let read: FakeFile['read'];
  if ('content' in spec) {
    const content = Buffer.from(spec.content);
    size = content.length;
    read = function* (start, end) {
      yield content.subarray(start, end);
    };
  } else {
    size = spec.size;
    read = generator(spec.size, spec.seed ?? 1);
  }
  const lfs = spec.lfs ?? !('content' in spec);
  const sha = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${size}\0`);
  for (const chunk of read(0, size)) {
    sha.update(chunk);
    sha1.update(chunk);
  }
  const sha256 = sha.digest('hex');
  // An LFS file's git blob is its pointer file.
  const gitOid = lfs ? gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`)) : sha1.digest('hex');
  return { path: spec.path, size, lfs, xet: spec.xet ?? false, sha256, gitOid, read };
}
