// The real desktop app, through Playwright's Electron driver: the window opens
// on the dashboard of the embedded backend, the remote-access switch works and
// shows in the menu, the embedded runtime serves a model from inside the app,
// and quitting leaves no backend and no runtime process behind.
// Runs wherever the Electron runtime is installed; elsewhere it is skipped with
// the reason printed (its binary cannot be downloaded on every machine).
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DesktopBridge } from '../shared/ipc';
import type { ServingStatus } from '../shared/serving';
import { TINY_WORD, writeTinyGguf } from './support/tiny-gguf';

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

/** The pids of the utility processes the main process forked for the backend to run models in. */
function runtimePids(app: ElectronApplication): Promise<number[]> {
  return app.evaluate(({ app }) => app.getAppMetrics().filter((m) => m.type === 'Utility' && (m.name === 'Halo Forge runtime' || m.serviceName === 'Halo Forge runtime')).map((m) => m.pid));
}

/** A home of its own, and the app's environment: no inherited tokens, no keyring, no way out to the Hub. */
function appHome(): { home: string; env: Record<string, string> } {
  const home = mkdtempSync(join(tmpdir(), 'halo-forge-electron-e2e-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['HALOFORGE_API_TOKEN', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'ELECTRON_RUN_AS_NODE'].includes(k)) env[k] = v;
  Object.assign(env, { HALOFORGE_HOME: home, HF_HOME: join(home, 'hf-home'), HALOFORGE_KEYRING: 'off', HF_ENDPOINT: 'http://127.0.0.1:9' });
  return { home, env };
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
  const { home, env } = appHome();

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

test('the desktop app runs the embedded runtime, streams its answer, and leaves no runtime behind when it quits', async () => {
  // Two cores: the app, its backend, the runtime loading a model.
  test.setTimeout(180_000);
  const { home, env } = appHome();
  // The tiny model, as a pull would leave it in the Hugging Face cache; one llama.cpp thread, as in the other model tests.
  const repo = 'halo-test/tiny-llama';
  const commit = 'c0ffee'.padEnd(40, '0');
  const repoDir = join(home, 'hf-home', 'hub', 'models--halo-test--tiny-llama');
  mkdirSync(join(repoDir, 'snapshots', commit), { recursive: true });
  mkdirSync(join(repoDir, 'refs'), { recursive: true });
  writeFileSync(join(repoDir, 'refs', 'main'), commit);
  writeTinyGguf(join(repoDir, 'snapshots', commit, 'tiny.gguf'));
  writeFileSync(join(home, 'config.json'), JSON.stringify({ serving: { threads: 1 } }));
  const model = `${repo}:tiny.gguf`;

  const app = await electron.launch({ args: [ROOT], cwd: ROOT, env, timeout: 60_000 });
  let runtimes: number[] = [];
  let backendPid: number | undefined;
  try {
    const page = await app.firstWindow();
    await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\//, { timeout: 30_000 });
    const origin = new URL(page.url()).origin;
    backendPid = (await backendPids(app))[0];

    // Inside the app the embedded runtime is available (Electron's binary runs no scripts: the main process forks it).
    const before = (await (await fetch(`${origin}/api/public/serving`)).json()) as ServingStatus;
    expect(before.runtimes.find((r) => r.name === 'embedded')).toMatchObject({ installed: true });
    expect(before.available.map((m) => m.model)).toContain(model);

    const run = await fetch(`${origin}/api/public/serving/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model }) });
    const ran = await run.text();
    expect(run.status, ran).toBe(200);
    expect(JSON.parse(ran)).toMatchObject({ model, state: 'ready' });

    // The runtime is a utility process of this app, not a child of the backend.
    runtimes = await runtimePids(app);
    expect(runtimes).toHaveLength(1);
    expect(isAlive(runtimes[0]!)).toBe(true);

    const answer = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something' }], max_tokens: 3, stream: true }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/event-stream');
    const events = (await answer.text()).split('\n').filter((l) => l.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    const text = events
      .slice(0, -1)
      .map((l) => (JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
      .join('');
    expect(text.trim()).toBe([TINY_WORD, TINY_WORD, TINY_WORD].join(' '));
    // A utility process's command line is Chromium's (--type=utility ...; the script comes over Mojo): its key
    // travels in its environment, never there.
    if (process.platform === 'linux') {
      const argv = readFileSync(`/proc/${runtimes[0]}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain('--type=utility');
      expect(argv.join(' ')).not.toMatch(/HALOFORGE_RUNTIME_KEY|hfk_|hf_[A-Za-z0-9]{20}/);
    }
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }

  expect(app.process().exitCode ?? app.process().signalCode).not.toBeNull();
  for (const pid of [...runtimes, ...(backendPid ? [backendPid] : [])]) {
    await expect.poll(() => isAlive(pid), { timeout: 15_000, message: `process ${pid} is still running after the app quit` }).toBe(false);
  }
});
