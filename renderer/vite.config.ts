import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

// The backend serves dist/renderer at `/` with a strict CSP (script-src 'self'):
// everything must be a file, nothing inline, nothing from another origin.
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The gzip budget (120 KB) is checked by renderer/bundle-size.mjs; this is only the warning line.
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `vite` in dev talks to a backend started separately on the default port.
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
});
