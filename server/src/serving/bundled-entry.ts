import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unpackedPath } from '../../../shared/asar.js';

/**
 * A second entry of the bundled backend (dist/backend/NAME.mjs), found the
 * way server/bin/halo-forge.js finds the bundle: relative to this module,
 * whether it runs from source (server/src/serving/), from the bundle
 * (dist/backend/) or from one of the bundle's chunks (dist/backend/chunks/).
 */
export function bundledEntry(name: 'serving-runtime' | 'runtime-guard' | 'run-keeper' | 'llama-probe'): string | null {
  for (const relative of [`./${name}.mjs`, `../${name}.mjs`, `../../../dist/backend/${name}.mjs`]) {
    // In the packaged desktop app a child process gets the unpacked copy of the entry (only Electron's own Node
    // reads inside app.asar).
    const candidate = unpackedPath(fileURLToPath(new URL(relative, import.meta.url)));
    if (existsSync(candidate)) return candidate;
  }
  return null;
}
