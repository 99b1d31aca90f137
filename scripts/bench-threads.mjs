// How many llama.cpp threads the embedded runtime should use by default
// (issue 12): tokens/s of the tiny model, and of a bigger model of the same
// shape, with threads = 1, 2, every core, and node-llama-cpp's own default,
// on the CPU, each with the load average when it was taken. The rounds are
// interleaved so that a burst of load from other work spreads over every
// setting instead of landing on one.
//
//   node scripts/bench-threads.mjs [--rounds 3] [--tokens 48] [--threads 1,2,default]
//
// It loads node-llama-cpp in this process (a measurement, not the product).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, tokens: { type: 'string', default: '48' }, threads: { type: 'string' } } });
const rounds = Number(values.rounds);
const tokens = Number(values.tokens);

const dir = mkdtempSync(join(tmpdir(), 'halo-bench-threads-'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  await build({ input: { 'tiny-gguf': join(root, 'e2e/support/tiny-gguf.ts') }, platform: 'node', logLevel: 'silent', output: { dir, format: 'esm', entryFileNames: '[name].mjs' } });
  const { tinyGguf } = await import(join(dir, 'tiny-gguf.mjs'));
  const models = {
    tiny: tinyGguf({ contextLength: 512 }),
    // ~26 MB of F32 weights: the matrix work, not the per-token overhead, sets the pace.
    bigger: tinyGguf({ contextLength: 512, size: { embed: 512, blocks: 6, ffn: 1536 } }),
  };

  const { getLlama, LlamaCompletion, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, logger: () => {} });
  const cores = availableParallelism();
  console.log(`cores: ${cores} logical, llama.cpp math cores: ${llama.cpuMathCores}, node-llama-cpp maxThreads (its CPU default): ${llama.maxThreads}`);
  const asked = values.threads ? values.threads.split(',') : [...new Set(['1', '2', String(cores)]), 'default'];
  const settings = asked.map((t) => (t === 'default' ? { label: `default (${llama.maxThreads})`, threads: undefined } : { label: t, threads: Number(t) }));

  const results = [];
  for (const [name, bytes] of Object.entries(models)) {
    const path = join(dir, `${name}.gguf`);
    writeFileSync(path, bytes);
    const model = await llama.loadModel({ modelPath: path });
    console.log(`${name}: ${(bytes.length / 1024 / 1024).toFixed(1)} MB`);
    for (let round = 0; round < rounds; round++) {
      for (const s of settings) {
        const context = await model.createContext({ contextSize: 512, sequences: 1, ...(s.threads === undefined ? {} : { threads: s.threads }) });
        const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
        // A warm-up token outside the timing: the first evaluation allocates buffers.
        await completion.generateCompletion('hello', { maxTokens: 1 });
        const load = loadavg()[0];
        let count = 0;
        const started = performance.now();
        await completion.generateCompletion('hello world', { maxTokens: tokens, onToken: (t) => (count += t.length) });
        const seconds = (performance.now() - started) / 1000;
        results.push({ model: name, threads: s.label, actual: context.currentThreads, tps: count / seconds, load });
        console.log(`  round ${round + 1} threads ${s.label.padEnd(12)} (used ${context.currentThreads}): ${(count / seconds).toFixed(1).padStart(7)} tokens/s, ${((seconds * 1000) / count).toFixed(1)} ms/token, load ${load.toFixed(2)}`);
        await context.dispose();
      }
    }
    await model.dispose();
  }
  await llama.dispose();

  console.log('\nmedian tokens/s (load average range):');
  for (const name of Object.keys(models)) {
    for (const s of settings) {
      const rows = results.filter((r) => r.model === name && r.threads === s.label);
      const sorted = rows.map((r) => r.tps).sort((a, b) => a - b);
      const loads = rows.map((r) => r.load);
      console.log(`  ${name.padEnd(7)} threads ${s.label.padEnd(12)} ${sorted[Math.floor(sorted.length / 2)].toFixed(1).padStart(7)}  (load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)})`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
