#!/usr/bin/env node
// The `halo-forge` command. It runs the bundled backend, built by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../../dist/backend/halo-forge.mjs', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('halo-forge: the backend is not built yet; run "npm run build" in the halo-forge checkout.\n');
  process.exit(1);
}
await import(pathToFileURL(entry).href);
