import { open, type FileHandle } from 'node:fs/promises';

/**
 * The few numbers of a GGUF model that size its KV cache, read from the
 * file's header. Hand-written on purpose: node-llama-cpp's readGgufFileInfo
 * is not exported on its own (its package exports only the whole library,
 * whose import costs ~1.4 s and ~90 MB: see machine/llama-probe.ts, and the
 * backend never loads it), and @huggingface/gguf is not a dependency. This
 * reader walks the metadata key-values only (a few MB at most: the tensor
 * data is never read) and skips the tokenizer's arrays without decoding them.
 */
export interface GgufShape {
  architecture: string;
  layers: number;
  /** Bytes one token takes in the KV cache at llama.cpp's default cache type (f16): keys and values, every layer. */
  kvBytesPerToken: number;
  /** The context the model was trained for (llama.context_length and its kin); null when not given. */
  trainedContext: number | null;
}

// GGUF value types, and the byte size of the fixed-size ones.
const STRING = 8;
const ARRAY = 9;
const FIXED: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
/** A header this long with the keys still missing is not one this reader understands. */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;
const CHUNK = 256 * 1024;

class HeaderReader {
  private buf = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private base = 0;
  pos = 0;

  constructor(private readonly file: FileHandle) {}

  private async need(n: number): Promise<void> {
    if (this.pos + n > MAX_HEADER_BYTES) throw new Error('GGUF header too long');
    if (this.pos + n <= this.base + this.buf.length) return;
    const want = Math.max(n, CHUNK);
    const next = Buffer.alloc(want);
    const { bytesRead } = await this.file.read(next, 0, want, this.pos);
    if (bytesRead < n) throw new Error('GGUF header cut short');
    this.buf = next.subarray(0, bytesRead);
    this.base = this.pos;
  }

  private async view(n: number): Promise<Buffer> {
    await this.need(n);
    const at = this.pos - this.base;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  async u32(): Promise<number> {
    return (await this.view(4)).readUInt32LE(0);
  }

  async u64(): Promise<number> {
    const v = (await this.view(8)).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('GGUF length out of range');
    return Number(v);
  }

  async str(): Promise<string> {
    return (await this.view(await this.u64())).toString('utf8');
  }

  /** A scalar as a number (or string); an array of numbers as its largest value; other arrays skipped (undefined). */
  async value(type: number): Promise<number | string | undefined> {
    if (type === STRING) return this.str();
    if (type === ARRAY) {
      const of = await this.u32();
      const count = await this.u64();
      if (of === STRING) {
        for (let i = 0; i < count; i++) {
          // Read first: `this.pos += await …` would add to the position from before the length was read.
          const length = await this.u64();
          this.pos += length;
        }
        return undefined;
      }
      const size = FIXED[of];
      if (size === undefined) throw new Error(`GGUF array of unknown type ${of}`);
      // Per-layer values (head_count_kv of some architectures) are short: read them; a tokenizer's are skipped.
      if (count > 4096) {
        this.pos += count * size;
        return undefined;
      }
      let max = 0;
      for (let i = 0; i < count; i++) max = Math.max(max, Number(await this.value(of)));
      return max;
    }
    const size = FIXED[type];
    if (size === undefined) throw new Error(`GGUF value of unknown type ${type}`);
    const b = await this.view(size);
    switch (type) {
      case 0: case 7: return b.readUInt8(0);
      case 1: return b.readInt8(0);
      case 2: return b.readUInt16LE(0);
      case 3: return b.readInt16LE(0);
      case 4: return b.readUInt32LE(0);
      case 5: return b.readInt32LE(0);
      case 6: return b.readFloatLE(0);
      case 10: return Number(b.readBigUInt64LE(0));
      case 11: return Number(b.readBigInt64LE(0));
      default: return b.readDoubleLE(0);
    }
  }
}

/** The shape of the model at `path`; null when it is not a GGUF v2/v3 file with the keys a transformer has. */
export async function readGgufShape(path: string): Promise<GgufShape | null> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const r = new HeaderReader(file);
    const magic = await r.u32();
    const version = await r.u32();
    // v1 wrote lengths as 32-bit numbers; nothing made in the last two years is v1.
    if (magic !== 0x46554747 || version < 2 || version > 3) return null;
    await r.u64(); // tensor count
    const keys = await r.u64();
    const meta = new Map<string, number | string>();
    let arch: string | null = null;
    const wanted = (key: string) => key === 'general.architecture' || (arch !== null && key.startsWith(`${arch}.`));
    for (let i = 0; i < keys; i++) {
      const key = await r.str();
      const value = await r.value(await r.u32());
      if (value === undefined || !wanted(key)) continue;
      if (key === 'general.architecture' && typeof value === 'string') arch = value;
      meta.set(key, value);
    }
    if (!arch) return null;
    const num = (key: string) => {
      const v = meta.get(`${arch}.${key}`);
      return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
    };
    const layers = num('block_count');
    const embed = num('embedding_length');
    const heads = num('attention.head_count');
    if (!layers || !embed || !heads) return null;
    const kvHeads = num('attention.head_count_kv') ?? heads;
    const keyLength = num('attention.key_length') ?? embed / heads;
    const valueLength = num('attention.value_length') ?? embed / heads;
    const F16 = 2;
    return { architecture: arch, layers, kvBytesPerToken: layers * kvHeads * (keyLength + valueLength) * F16, trainedContext: num('context_length') };
  } catch {
    return null;
  } finally {
    await file.close();
  }
}
