import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, requireBuild, ROOT, tempHome, testEnv, waitFor } from './support.js';

function electronInstalled(): boolean {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path);
  } catch {
    return false;
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
beforeAll(requireBuild);

describe('npm start', () => {
  it('runs the backend in browser mode where Electron is missing, says so in one line, prints the URL and stops on SIGTERM', async () => {
    const missing = !electronInstalled();
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const start = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--port', '0', ...(missing ? [] : ['--browser'])], { env: testEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => start.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    start.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    start.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));

    await waitFor(() => /Halo Forge dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.test(stdout) || start.exitCode !== null, 'the dashboard URL', 15_000);
    const url = /Halo Forge dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
    expect(url, `${stdout}\n${stderr}`).toBeDefined();
    if (missing) {
      const notices = stdout.split('\n').filter((l) => l.includes('Electron'));
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^Electron runtime not installed \(.+\); running Halo Forge in browser mode\.$/);
    }
    const page = await httpGet(url!);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<html/i);

    const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
    start.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The backend went with it: its port no longer answers.
    await expect(httpGet(url!)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
