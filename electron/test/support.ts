import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The bundled backend the app ships and forks: needs `npm run build`. */
export const BACKEND_ENTRY = join(ROOT, 'dist', 'backend', 'halo-forge.mjs');
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function requireBuild(): void {
  for (const file of [BACKEND_ENTRY, join(ROOT, 'dist', 'electron', 'supervisor.js')]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" before the electron tests.`);
  }
}

export function tempHome(): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), 'halo-forge-electron-test-'));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** Its own home, no inherited tokens or secrets. */
export function testEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HALOFORGE_HOME: home, HOME: home, HF_HOME: join(home, 'hf-home'), ...extra };
  for (const k of ['HALOFORGE_API_TOKEN', 'HALOFORGE_TOKEN_STORE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH', 'ELECTRON_RUN_AS_NODE']) if (!(k in extra)) delete env[k];
  return env;
}

/** Polls until `check` holds or the deadline passes; tests wait for conditions, never sleep. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Running: it exists and is not a zombie (an exited child nobody has reaped yet still answers kill 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    // Reaped between the two looks (or no /proc: not Linux, where kill 0 is all there is).
    return process.platform !== 'linux';
  }
}

export interface HttpResult {
  status: number;
  body: string;
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
