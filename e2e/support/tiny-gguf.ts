// The tiny test model, for the Playwright tests and (as with the fake Hub beside it) the server tests,
// which import it from here: e2e may not import server test code, the other way round is the custom.
import { writeFileSync } from 'node:fs';

/**
 * A real llama-architecture model, small enough to write in a test: GGUF v3,
 * a byte-level vocabulary (the 256 byte tokens plus a few words), two layers,
 * all F32, about 460 KB. It is deterministic on purpose: every token embeds
 * to the same vector, attention and feed-forward add nothing to it, and only
 * the "▁hello" row of the output matrix is non-zero, so whatever the prompt
 * and whatever the sampler, it answers " hello hello …" (random weights gave
 * random text, which made assertions flaky and tripped output parsers).
 */

export const TINY_WORD = 'hello';

export interface TinyGgufOptions {
  /** llama.context_length, the largest context the model takes (default 512). */
  contextLength?: number;
  /** A chat template to embed (tokenizer.chat_template); none by default. */
  chatTemplate?: string;
  /**
   * A bigger model of the same shape, for measurements that the tiny one's
   * per-token overhead would swamp (thread counts): llama.embedding_length
   * (default 64, a multiple of 4), llama.block_count (2), llama.feed_forward_length (128),
   * llama.attention.head_count_kv (4, of 4 heads; fewer is grouped-query attention).
   */
  size?: { embed?: number; blocks?: number; ffn?: number; kvHeads?: number };
}

const HEADS = 4;
const ALIGN = 32;

/** Token ids: the SentencePiece specials, the 256 bytes, then a few pieces. */
export const TINY_VOCAB = (() => {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  for (const piece of ['▁', `▁${TINY_WORD}`, TINY_WORD, '▁world', '▁the', '▁a', 'e', 'l', 'o', 'h']) {
    tokens.push(piece);
    types.push(1);
  }
  return { tokens, types, hello: tokens.indexOf(`▁${TINY_WORD}`) };
})();

// GGUF value types.
const U32 = 4;
const I32 = 5;
const F32 = 6;
const STRING = 8;
const ARRAY = 9;

type Value =
  | { type: typeof U32 | typeof I32 | typeof F32; value: number }
  | { type: typeof STRING; value: string }
  | { type: typeof ARRAY; of: typeof I32 | typeof F32; values: number[] }
  | { type: typeof ARRAY; of: typeof STRING; values: string[] };

class Writer {
  private chunks: Buffer[] = [];
  length = 0;

  push(buf: Buffer): void {
    this.chunks.push(buf);
    this.length += buf.length;
  }

  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }

  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }

  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }

  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }

  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  pad(): void {
    const rest = this.length % ALIGN;
    if (rest) this.push(Buffer.alloc(ALIGN - rest));
  }

  value(v: Value): void {
    this.u32(v.type);
    if ('of' in v) {
      this.u32(v.of);
      this.u64(v.values.length);
      for (const item of v.values) this.scalar(v.of, item);
    } else {
      this.scalar(v.type, v.value);
    }
  }

  private scalar(type: number, value: number | string): void {
    if (type === STRING) this.str(value as string);
    else if (type === U32) this.u32(value as number);
    else if (type === I32) this.i32(value as number);
    else this.f32(value as number);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface Tensor {
  name: string;
  /** ne[0] first, as GGUF stores them. */
  dims: number[];
  fill: (data: Float32Array) => void;
}

const zeros = () => {};
const ones = (d: Float32Array) => d.fill(1);

function tensors(vocabSize: number, embed: number, blocks: number, ffn: number, kvHeads: number): Tensor[] {
  const kvWidth = (embed / HEADS) * kvHeads;
  const list: Tensor[] = [
    // Every token embeds to the same all-ones vector: the hidden state is constant.
    { name: 'token_embd.weight', dims: [embed, vocabSize], fill: ones },
    { name: 'output_norm.weight', dims: [embed], fill: ones },
    // Only "▁hello" gets a logit (the embedding width against 0 for every other token).
    { name: 'output.weight', dims: [embed, vocabSize], fill: (d) => d.fill(1, TINY_VOCAB.hello * embed, (TINY_VOCAB.hello + 1) * embed) },
  ];
  for (let i = 0; i < blocks; i++) {
    const p = `blk.${i}.`;
    list.push(
      { name: `${p}attn_norm.weight`, dims: [embed], fill: ones },
      { name: `${p}attn_q.weight`, dims: [embed, embed], fill: zeros },
      { name: `${p}attn_k.weight`, dims: [embed, kvWidth], fill: zeros },
      { name: `${p}attn_v.weight`, dims: [embed, kvWidth], fill: zeros },
      // Zero output projections: attention and the feed-forward add nothing to the residual stream.
      { name: `${p}attn_output.weight`, dims: [embed, embed], fill: zeros },
      { name: `${p}ffn_norm.weight`, dims: [embed], fill: ones },
      { name: `${p}ffn_gate.weight`, dims: [embed, ffn], fill: zeros },
      { name: `${p}ffn_down.weight`, dims: [ffn, embed], fill: zeros },
      { name: `${p}ffn_up.weight`, dims: [embed, ffn], fill: zeros },
    );
  }
  return list;
}

/** The file's bytes; the same options always give the same bytes. */
export function tinyGguf(opts: TinyGgufOptions = {}): Buffer {
  const { tokens, types } = TINY_VOCAB;
  const { embed = 64, blocks = 2, ffn = 128, kvHeads = HEADS } = opts.size ?? {};
  const metadata: [string, Value][] = [
    ['general.architecture', { type: STRING, value: 'llama' }],
    ['general.name', { type: STRING, value: 'halo-forge-tiny' }],
    ['general.file_type', { type: U32, value: 0 }],
    ['llama.context_length', { type: U32, value: opts.contextLength ?? 512 }],
    ['llama.embedding_length', { type: U32, value: embed }],
    ['llama.block_count', { type: U32, value: blocks }],
    ['llama.feed_forward_length', { type: U32, value: ffn }],
    ['llama.attention.head_count', { type: U32, value: HEADS }],
    ['llama.attention.head_count_kv', { type: U32, value: kvHeads }],
    ['llama.rope.dimension_count', { type: U32, value: embed / HEADS }],
    ['llama.attention.layer_norm_rms_epsilon', { type: F32, value: 1e-5 }],
    ['tokenizer.ggml.model', { type: STRING, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: ARRAY, of: STRING, values: tokens }],
    ['tokenizer.ggml.scores', { type: ARRAY, of: F32, values: tokens.map((_, i) => (types[i] === 1 ? -i : 0)) }],
    ['tokenizer.ggml.token_type', { type: ARRAY, of: I32, values: types }],
    ['tokenizer.ggml.unknown_token_id', { type: U32, value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: U32, value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: U32, value: 2 }],
  ];
  if (opts.chatTemplate) metadata.push(['tokenizer.chat_template', { type: STRING, value: opts.chatTemplate }]);

  const list = tensors(tokens.length, embed, blocks, ffn, kvHeads);
  const w = new Writer();
  w.push(Buffer.from('GGUF', 'latin1'));
  w.u32(3);
  w.u64(list.length);
  w.u64(metadata.length);
  for (const [key, value] of metadata) {
    w.str(key);
    w.value(value);
  }
  let offset = 0;
  const data: Buffer[] = [];
  for (const t of list) {
    const count = t.dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    t.fill(values);
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    const bytes = Buffer.from(values.buffer);
    const padded = Math.ceil(bytes.length / ALIGN) * ALIGN;
    data.push(bytes, Buffer.alloc(padded - bytes.length));
    offset += padded;
  }
  w.pad();
  for (const d of data) w.push(d);
  return w.bytes();
}

export function writeTinyGguf(path: string, opts: TinyGgufOptions = {}): string {
  writeFileSync(path, tinyGguf(opts));
  return path;
}
