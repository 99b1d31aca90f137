// `npm start`: the desktop app where the Electron runtime is installed; where it
// is not (its download failed or was skipped), the same backend in browser mode,
// with the dashboard URL printed, so the README's run command always works.
// It first rebuilds what changed since the last build (`npm install` built it all).
//
//   node scripts/start.mjs [--browser] [--port N]
//     --browser  run in browser mode even where Electron is installed
//     --port N   the port to try first in browser mode (default 8000; the next free one if taken)
import { fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { buildStale } from './build-steps.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const forceBrowser = args.includes('--browser');
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? args[portAt + 1] : '8000';
if (!/^\d+$/.test(port ?? '')) {
  process.stderr.write(`start: --port needs a number, got "${port ?? ''}"\n`);
  process.exit(2);
}

/** The Electron executable, or why there is none. */
function electronRuntime() {
  try {
    const path = createRequire(import.meta.url)('electron');
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { missing: `no Electron binary at ${path}` };
  } catch (err) {
    return { missing: err?.code === 'MODULE_NOT_FOUND' ? 'the electron package is not installed' : 'its download failed or was skipped' };
  }
}

if (!buildStale(root)) process.exit(1);

/**
 * Exits with the child's code; a signal to us, or the end of whatever started
 * us, becomes a graceful stop of the child. Nothing may keep serving after that.
 * npm runs this script as `sh -c "exec node scripts/start.mjs"`, so npm is our
 * parent and passes SIGINT and SIGTERM on to us; a signal it does not pass on
 * (SIGHUP, SIGKILL) ends npm, and then our parent changes.
 */
function follow(child, stopChild) {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    stopChild();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 200).unref();
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1)));
}

const electron = forceBrowser ? { missing: 'browser mode requested' } : electronRuntime();

if (electron.path) {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  const app = spawn(electron.path, ['.'], { cwd: root, env, stdio: 'inherit' });
  // Electron quits (and stops its backend gracefully) on SIGTERM.
  follow(app, () => app.kill('SIGTERM'));
} else {
  if (!forceBrowser) process.stdout.write(`Electron runtime not installed (${electron.missing}); running Halo Forge in browser mode.\n`);
  // The backend prints its own startup block, with the dashboard's URL.
  const backend = fork(join(root, 'server', 'bin', 'halo-forge.js'), ['serve', '--port', port, '--port-fallback'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // A terminal's Ctrl+C reaches the backend too; a second SIGINT would cut its
  // graceful stop short, so the word goes over IPC, which it handles once.
  follow(backend, () => (backend.connected ? backend.send({ type: 'shutdown' }) : backend.kill('SIGTERM')));
}
