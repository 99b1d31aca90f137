import { defineConfig } from 'rolldown';

// Bundles the backend (Fastify and the rest of its production dependencies) into
// dist/backend/. keytar stays external: it is a native module, loaded if present.
// The other entries are child processes of the backend: the embedded model runtime
// (node-llama-cpp stays external: native, with its prebuilt binaries beside it), and
// the guard that makes an external runtime (llama-server, vllm) die with the backend, and the
// keeper that runs one training or evaluation job (issue 14's runs) and redacts its output, and the GPU probe
// the desktop app runs (llama-probe.ts).
export default defineConfig({
  input: {
    'halo-forge': 'server/src/cli/run.ts',
    'serving-runtime': 'server/src/serving/embedded/runtime-main.ts',
    'runtime-guard': 'server/src/serving/runtime-guard.ts',
    'run-keeper': 'server/src/runs/run-keeper.ts',
    'llama-probe': 'server/src/machine/llama-probe-main.ts',
  },
  platform: 'node',
  external: ['keytar', 'node-llama-cpp', /^node:/],
  tsconfig: 'tsconfig.json',
  output: {
    dir: 'dist/backend',
    cleanDir: true,
    format: 'esm',
    entryFileNames: '[name].mjs',
    chunkFileNames: 'chunks/[name]-[hash].mjs',
    sourcemap: true,
    minify: true,
    // CommonJS dependencies inside an ES module still call require() for Node built-ins.
    banner: "import { createRequire as __haloCreateRequire } from 'node:module'; const require = __haloCreateRequire(import.meta.url);",
  },
});
