// A Secret Service of the test's own: a private D-Bus daemon and a
// gnome-keyring-daemon on a throwaway data folder, which the test can kill and
// start again on the same data, as a crash and a restart would.
//
// The bus has no service folders on purpose: a session bus would otherwise
// start a new keyring daemon the moment anyone asked for the vanished one,
// and the test could never see the keyring gone.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './backend-process.js';
import { killHard } from './faults.js';

const run = promisify(execFile);
const PASSWORD = 'halo-forge-faults';

/** Why no private keyring can be started here, or null. */
export async function privateKeyringUnavailable(): Promise<string | null> {
  if (process.platform !== 'linux') return `this test drives the Linux Secret Service; platform is ${process.platform}`;
  for (const tool of ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon']) {
    try {
      await run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed (packages dbus, gnome-keyring)`;
    }
  }
  try {
    createRequire(import.meta.url)('keytar');
  } catch (err) {
    return `keytar cannot be loaded: ${(err as Error).message.split('\n')[0]}`;
  }
  return null;
}

export interface PrivateKeyring {
  busAddress: string;
  /** Starts the keyring daemon on the same data as before, unlocked, and waits until it answers on the bus. */
  start(): Promise<void>;
  /** SIGKILLs the keyring daemon and waits until the bus has forgotten it. */
  kill(): Promise<void>;
  /** The fingerprint of what the keyring holds for (service, account), or "none": read by a fresh process, never printed. */
  fingerprint(service: string, account: string): Promise<string>;
  close(): Promise<void>;
}

export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

export async function startPrivateKeyring(): Promise<PrivateKeyring> {
  const root = mkdtempSync(join(tmpdir(), 'halo-forge-keyring-'));
  const dirs = { bus: join(root, 'bus'), data: join(root, 'data'), runtime: join(root, 'run') };
  for (const d of Object.values(dirs)) mkdirSync(d, { mode: 0o700 });
  const config = join(root, 'bus.conf');
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dirs.bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );
  // timeout: should the test runner die, the bus (and with it the keyring daemon) goes within minutes.
  const bus = spawn('timeout', ['300', 'dbus-daemon', '--config-file', config, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let keyring: ChildProcess | null = null;
  const close = async () => {
    if (keyring) await killHard(keyring);
    // SIGTERM: timeout passes it on to dbus-daemon (a SIGKILL would orphan the daemon).
    if (bus.exitCode === null && bus.signalCode === null) {
      const gone = new Promise<void>((resolve) => bus.once('exit', () => resolve()));
      bus.kill('SIGTERM');
      await gone;
    }
    rmSync(root, { recursive: true, force: true });
  };
  let busAddress: string;
  try {
    busAddress = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address within 10 s')), 10_000);
      bus.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0]!.trim());
        }
      });
      bus.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
    });
  } catch (err) {
    await close();
    throw err;
  }

  const env: NodeJS.ProcessEnv = { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress, XDG_DATA_HOME: dirs.data, XDG_RUNTIME_DIR: dirs.runtime, HOME: root };
  delete env.DISPLAY; // a prompt for a password would wait forever
  delete env.WAYLAND_DISPLAY;

  const owned = async () => {
    const { stdout } = await run('dbus-send', ['--bus=' + busAddress, '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets']);
    return /boolean true/.test(stdout);
  };

  const self: PrivateKeyring = {
    busAddress,
    async start() {
      if (keyring) throw new Error('the keyring daemon is already running');
      const daemon = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
      keyring = daemon;
      daemon.stdin!.end(PASSWORD);
      await waitFor(owned, 15_000, 'gnome-keyring-daemon to own org.freedesktop.secrets');
    },
    async kill() {
      if (!keyring) return;
      await killHard(keyring);
      keyring = null;
      await waitFor(async () => !(await owned()), 5_000, 'the bus to drop the killed keyring daemon');
    },
    async fingerprint(service, account) {
      const script = `require(process.argv[1]).getPassword(process.argv[2], process.argv[3]).then((v) => {
        process.stdout.write(v === null ? 'none' : require('node:crypto').createHash('sha256').update(v).digest('hex').slice(0, 16));
      }, (e) => { process.stdout.write('error: ' + e.message); });`;
      const { stdout } = await run(process.execPath, ['-e', script, createRequire(import.meta.url).resolve('keytar'), service, account], { env, timeout: 10_000 });
      return stdout;
    },
    close,
  };
  try {
    await self.start();
  } catch (err) {
    await close();
    throw err;
  }
  return self;
}
