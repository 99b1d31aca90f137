// The real desktop app, through Playwright's Electron driver: the window opens
// on the dashboard of the embedded backend, the remote-access switch works and
// shows in the menu, and quitting leaves no backend process behind.
// Runs wherever the Electron runtime is installed; elsewhere it is skipped with
// the reason printed (its binary cannot be downloaded on every machine).
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DesktopBridge } from '../shared/ipc';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function electronRuntime(): { path: string; missing?: undefined } | { path?: undefined; missing: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { missing: `no Electron binary at ${String(path)}` };
  } catch {
    // Electron's own message ("delete node_modules/electron and try again") would mislead
    // where the binary simply cannot be downloaded.
    return { missing: 'its binary was not downloaded (no internet access at install time, or ELECTRON_SKIP_BINARY_DOWNLOAD)' };
  }
}

const runtime = electronRuntime();
const built = existsSync(join(ROOT, 'dist', 'electron', 'main.js')) && existsSync(join(ROOT, 'dist', 'backend', 'halo-forge.mjs'));
const skipReason = runtime.missing ? `Electron runtime not installed: ${runtime.missing}` : !built ? 'the app is not built: run "npm run build"' : null;
if (skipReason) process.stdout.write(`e2e/electron.spec.ts skipped: ${skipReason}\n`);
test.skip(skipReason !== null, skipReason ?? '');

function hasExternalAddress(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => !i.internal && !(i.family === 'IPv6' && /^fe80:/i.test(i.address))));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function get(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The pids of the utility processes running the backend, from Electron's own process list. */
function backendPids(app: ElectronApplication): Promise<number[]> {
  return app.evaluate(({ app }) => app.getAppMetrics().filter((m) => m.type === 'Utility' && (m.name === 'Halo Forge backend' || m.serviceName === 'Halo Forge backend')).map((m) => m.pid));
}

/** Every label in the application menu, submenus included. */
function menuLabels(app: ElectronApplication): Promise<string[]> {
  return app.evaluate(({ Menu }) => {
    const labels: string[] = [];
    const walk = (menu: Electron.Menu | null | undefined) => {
      for (const item of menu?.items ?? []) {
        labels.push(item.label);
        walk(item.submenu);
      }
    };
    walk(Menu.getApplicationMenu());
    return labels;
  });
}

test('the desktop app opens the dashboard from its embedded backend, flips remote access, and leaves no backend behind', async () => {
  test.setTimeout(120_000);
  const home = mkdtempSync(join(tmpdir(), 'halo-forge-electron-e2e-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['HALOFORGE_API_TOKEN', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'ELECTRON_RUN_AS_NODE'].includes(k)) env[k] = v;
  Object.assign(env, { HALOFORGE_HOME: home, HF_HOME: join(home, 'hf-home'), HALOFORGE_KEYRING: 'off', HF_ENDPOINT: 'http://127.0.0.1:9' });

  const app = await electron.launch({ args: [ROOT], cwd: ROOT, env, timeout: 60_000 });
  let backendPid: number | undefined;
  try {
    const page = await app.firstWindow();

    // The splash gives way to the dashboard once the backend reports ready.
    await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\//, { timeout: 30_000 });
    const origin = new URL(page.url()).origin;
    await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();

    // It is our backend: a utility process of this app, serving this origin with a CSP.
    const pids = await backendPids(app);
    expect(pids).toHaveLength(1);
    backendPid = pids[0]!;
    expect(isAlive(backendPid)).toBe(true);
    const dashboard = await get(`${origin}/`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers['content-security-policy']).toContain("default-src 'self'");

    // The page gets the bridge and nothing of Node.
    const info = await page.evaluate(() => (window as unknown as { haloForge?: DesktopBridge }).haloForge?.appInfo());
    expect(info).toMatchObject({ backendUrl: `${origin}/`, platform: process.platform });
    expect(await page.evaluate(() => [typeof (window as unknown as { require?: unknown }).require, typeof (window as unknown as { process?: unknown }).process])).toEqual(['undefined', 'undefined']);

    // Navigation away from the backend and new windows are refused.
    await page.evaluate(() => void (window.location.href = 'http://halo-forge-navigation-test.invalid/'));
    expect(await page.evaluate(() => window.open('about:blank'))).toBeNull();
    await expect(page).toHaveURL(new RegExp(`^${origin}/`));

    await expect.poll(() => menuLabels(app), { timeout: 15_000 }).toContain('Remote access: off');

    if (hasExternalAddress()) {
      await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Connection' }).click();
      const toggle = page.getByRole('switch', { name: /remote access|other devices on the network/i });
      await expect(toggle).toHaveAttribute('aria-checked', 'false');
      await toggle.click();
      await expect(toggle).toHaveAttribute('aria-checked', 'true');
      // The exposed port shows in the menu, and the choice is saved for the next launch.
      await expect.poll(() => menuLabels(app), { timeout: 15_000 }).toContain('Remote access: ON');
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.getTitle())).toMatch(/remote access ON$/);
      const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { remoteAccess: { enabled: boolean } };
      expect(config.remoteAccess.enabled).toBe(true);
    } else {
      test.info().annotations.push({ type: 'note', description: 'no network interface besides loopback: the remote-access switch was not flipped' });
    }
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }

  expect(app.process().exitCode ?? app.process().signalCode).not.toBeNull();
  const pid = backendPid!;
  await expect.poll(() => isAlive(pid), { timeout: 15_000, message: `backend ${pid} is still running after the app quit` }).toBe(false);
});
