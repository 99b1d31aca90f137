import { defineConfig } from 'rolldown';

// Bundles the backend (Fastify and the rest of its production dependencies) into
// dist/backend/. keytar stays external: it is a native module, loaded if present.
export default defineConfig({
  input: { 'halo-forge': 'server/src/cli/run.ts' },
  platform: 'node',
  external: ['keytar', /^node:/],
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
