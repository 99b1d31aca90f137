import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script with no type declarations
import { staleSteps } from '../../scripts/build-steps.mjs';
import { httpGet, requireBuild, ROOT, tempHome, testEnv, waitFor } from './support.js';

function electronInstalled(): boolean {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path);
  } catch {
    return false;
  }
}

const SERVING = /Halo Forge is serving (http:\/\/127\.0\.0\.1:\d+\/)/;

const cleanups: Array<() => void> = [];
// Last in, first out: the processes go before the home they write to.
afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));
beforeAll(() => {
  requireBuild();
  // npm start would build what is stale first, which takes longer than these tests wait for a URL.
  const stale = (staleSteps(ROOT) as Array<{ script: string; reason: string }>).map((s) => `${s.script}: ${s.reason}`);
  if (stale.length) throw new Error(`The build is out of date; run "npm run build" first.\n${stale.join('\n')}`);
});

describe('npm start', () => {
  it('runs the backend in browser mode where Electron is missing, says so in one line, prints the URL and stops on SIGTERM', async () => {
    const missing = !electronInstalled();
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const start = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--port', '0', ...(missing ? [] : ['--browser'])], { env: testEnv(home), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    cleanups.push(() => killGroup(start.pid!));
    let stdout = '';
    let stderr = '';
    start.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    start.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));

    await waitFor(() => SERVING.test(stdout) || start.exitCode !== null, 'the dashboard URL', 15_000);
    const url = SERVING.exec(stdout)?.[1];
    expect(url, `${stdout}\n${stderr}`).toBeDefined();
    // Said once: the backend's startup block is the only place.
    expect(stdout.split(url!)).toHaveLength(2);
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

/** Whatever is still running in a test's process group (a build it started, say) goes before its home is removed. */
function killGroup(leader: number): void {
  try {
    process.kill(-leader, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

/** Alive and not a zombie: an orphan's zombie stays until its new parent reaps it, and it serves nothing. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Every process below `root`, from /proc (Linux): pid and command line. */
function descendants(root: number): Array<{ pid: number; cmd: string }> {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of stat is the parent pid; the command name (field 2) may hold spaces, so count from its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone while we looked.
    }
  }
  const found: Array<{ pid: number; cmd: string }> = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const [child, parent] of parentOf) {
      if (parent !== pid) continue;
      queue.push(child);
      try {
        found.push({ pid: child, cmd: readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' ').trim() });
      } catch {
        // Gone while we looked.
      }
    }
  }
  return found;
}

describe.runIf(process.platform === 'linux')('stopping npm start', () => {
  // npm, the start script (npm's `sh -c` execs it) and the backend.
  type Target = 'npm' | 'start.mjs' | 'backend' | 'the process group';
  it.each<[NodeJS.Signals, Target]>([
    ['SIGTERM', 'npm'],
    ['SIGINT', 'npm'],
    ['SIGHUP', 'npm'],
    ['SIGINT', 'start.mjs'],
    ['SIGHUP', 'start.mjs'],
    ['SIGTERM', 'start.mjs'],
    ['SIGTERM', 'backend'],
    ['SIGINT', 'the process group'],
    ['SIGHUP', 'the process group'],
  ])('%s to %s stops the backend and leaves no process of the chain behind', async (signal, target) => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    // Its own process group, as a terminal gives a command: Ctrl+C and a closed terminal signal the whole group.
    const npm = spawn('npm', ['start', '--', '--browser', '--port', '0'], {
      cwd: ROOT,
      env: { ...testEnv(home), npm_config_update_notifier: 'false', npm_config_fund: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    npm.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    npm.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    let chain: Array<{ pid: number; cmd: string }> = [];
    cleanups.push(() => {
      killGroup(npm.pid!);
      for (const p of chain) if (running(p.pid)) process.kill(p.pid, 'SIGKILL');
    });

    await waitFor(() => SERVING.test(output) || npm.exitCode !== null, 'the dashboard URL', 30_000);
    const url = SERVING.exec(output)?.[1];
    expect(url, output).toBeDefined();
    expect((await httpGet(`${url}api/public/health`)).status).toBe(200);

    chain = descendants(npm.pid!);
    const find = (pattern: RegExp) => chain.find((p) => pattern.test(p.cmd))?.pid;
    const pids: Record<Target, number | undefined> = {
      npm: npm.pid,
      'start.mjs': find(/^\S*node scripts\/start\.mjs/),
      backend: find(/halo-forge\.js serve/),
      'the process group': -npm.pid!,
    };
    expect(chain.map((p) => p.pid), 'npm, the start script and the backend, nothing else').toEqual([pids['start.mjs'], pids.backend]);
    expect(pids[target], `no ${target} in ${JSON.stringify(chain)}`).toBeDefined();

    process.kill(pids[target]!, signal);

    const everyone = [npm.pid!, ...chain.map((p) => p.pid)];
    await waitFor(() => everyone.every((pid) => !running(pid)), `every process of the chain to exit: ${JSON.stringify(chain)}`, 15_000);
    await expect(httpGet(url!)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
