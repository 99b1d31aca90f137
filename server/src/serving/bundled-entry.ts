import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A second entry of the bundled backend (dist/backend/NAME.mjs), found the
 * way server/bin/halo-forge.js finds the bundle: relative to this module,
 * whether it runs from source (server/src/serving/), from the bundle
 * (dist/backend/) or from one of the bundle's chunks (dist/backend/chunks/).
 */
export function bundledEntry(name: 'serving-runtime' | 'runtime-guard' | 'run-keeper' | 'llama-probe'): string | null {
  for (const relative of [`./${name}.mjs`, `../${name}.mjs`, `../../../dist/backend/${name}.mjs`]) {
    const candidate = unpacked(fileURLToPath(new URL(relative, import.meta.url)));
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * In the packaged desktop app the backend runs from inside app.asar, which
 * only Electron's own Node can read: a child process gets the unpacked copy
 * (electron-builder.yml's asarUnpack lists these entries).
 */
export function unpacked(path: string): string {
  return path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}
