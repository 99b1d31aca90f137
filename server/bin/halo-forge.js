#!/usr/bin/env node
// The `halo-forge` command. It runs the compiled backend, built by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../../dist/server/src/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('halo-forge: the backend is not built yet; run "npm run build" in the halo-forge checkout.\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
await main();
