import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaCompletion, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyGguf, TINY_WORD, writeTinyGguf } from './support/tiny-gguf.js';

// The tiny model is what every serving test runs; this proves it is a real model to llama.cpp, and that it
// says exactly what the other tests expect.

let dir: string;
let llama: Llama;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'halo-tiny-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});

afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('the tiny GGUF', () => {
  it('is a few hundred KB and the same bytes every time', () => {
    const a = tinyGguf();
    expect(a.length).toBeGreaterThan(100_000);
    expect(a.length).toBeLessThan(600_000);
    expect(tinyGguf().equals(a)).toBe(true);
    expect(a.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(a.readUInt32LE(4)).toBe(3);
  });

  it('loads in node-llama-cpp in a fraction of a second and answers " hello hello …"', async () => {
    const path = writeTinyGguf(join(dir, 'tiny.gguf'));
    expect(statSync(path).size).toBeLessThan(600_000);
    const started = performance.now();
    const model = await llama.loadModel({ modelPath: path });
    const loadMs = performance.now() - started;
    try {
      expect(model.trainContextSize).toBe(512);
      // One thread: llama.cpp's threads spin while they wait, which a busy 2-core machine punishes hard.
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      const text = await completion.generateCompletion('The weather is', { maxTokens: 6 });
      // llama.cpp drops the SentencePiece space of the first piece it detokenizes.
      expect(text).toBe(Array(6).fill(TINY_WORD).join(' '));
      await context.dispose();
    } finally {
      await model.dispose();
    }
    console.log(`tiny model load: ${loadMs.toFixed(0)} ms`);
    // Typically 0.1–0.5 s here; the bound leaves room for a busy 2-core CI machine, and still catches a model that fails to be tiny.
    expect(loadMs).toBeLessThan(3_000);
  });
});
