// Runs after `npm install`. Fetches what can be fetched and says plainly what could not,
// so the install never fails just because a machine is offline.
//
// - Electron's binary: its own install script is blocked in package.json ("allowScripts"),
//   because it fails the whole install where the download is impossible. We run it here
//   and report a failure as a notice: `npm start` then runs in browser mode.
// - keytar: an optional dependency built from source when no prebuilt binary can be had.
//   If it is missing, Hugging Face tokens are stored in a 0600 file instead of the keyring.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const notices = [];

// `npx halo-forge` and `npm link` link this checkout somewhere else (npm's npx cache,
// the global folder) and run its install scripts once more: the checkout's own
// install already fetched what it could, and a second try costs an offline machine
// the Electron download's timeout.
if (process.env.npm_command === 'exec' || process.env.npm_command === 'link') process.exit(0);

function electronRuntime() {
  try {
    const pkgDir = dirname(require.resolve('electron/package.json'));
    const pathFile = join(pkgDir, 'path.txt');
    if (existsSync(pathFile)) return { pkgDir, installed: true };
    return { pkgDir, installed: false };
  } catch {
    return null;
  }
}

const electron = electronRuntime();
if (electron && !electron.installed && process.env.ELECTRON_SKIP_BINARY_DOWNLOAD !== '1') {
  const result = spawnSync(process.execPath, [join(electron.pkgDir, 'install.js')], { stdio: 'pipe', timeout: 180_000, encoding: 'utf8' });
  if (result.status !== 0 || !existsSync(join(electron.pkgDir, 'path.txt'))) {
    const why = (result.stderr || result.stdout || '').split('\n').find((l) => /Error|ENOTFOUND|EAI_AGAIN|ECONN/.test(l))?.trim() ?? 'download failed';
    notices.push(`Electron runtime: could not be downloaded (${why.slice(0, 120)}). "npm start" will run Halo Forge in browser mode.`);
  }
} else if (electron && !electron.installed) {
  notices.push('Electron runtime: skipped (ELECTRON_SKIP_BINARY_DOWNLOAD=1). "npm start" will run Halo Forge in browser mode.');
}

try {
  require('keytar');
} catch (err) {
  notices.push(
    `keytar (OS keyring): not available (${String(err.message).split('\n')[0].slice(0, 120)}). ` +
      'Hugging Face tokens will be kept in ~/.halo-forge/secrets (0600). To build it: install libsecret-1-dev and pkg-config, then "npm rebuild keytar".',
  );
}

if (notices.length) {
  process.stdout.write(`\nHalo Forge install notices:\n${notices.map((n) => `  - ${n}`).join('\n')}\n\n`);
}
