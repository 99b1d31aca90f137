import { build } from 'rolldown';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/**
 * Bundles the fuzz driver into one plain .mjs that `node` runs as is (Node 20
 * cannot run TypeScript). rolldown already builds the backend; this takes a
 * fraction of a second.
 */
export async function bundleDriver(dir: string): Promise<string> {
  const file = join(dir, 'fuzz-driver.mjs');
  await build({
    input: fileURLToPath(new URL('./main.ts', import.meta.url)),
    platform: 'node',
    external: [/^node:/],
    logLevel: 'silent',
    output: { file, format: 'esm' },
    write: true,
  });
  return file;
}
