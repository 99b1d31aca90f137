import { afterEach, describe, expect, it } from 'vitest';
import type { RunInfo } from '../../shared/runs.js';
import { runCli, workstations } from './support/backend-process.js';
import { TRAIN } from './support/runs.js';

// The CLI asks the running backend (dist/backend), so what it starts is the dashboard's run too.
const w = workstations();
afterEach(w.release);

describe('halo-forge runs', () => {
  it('starts a run through the backend, lists it, follows its log to the end, shows it; refusals are plain sentences', async () => {
    const { home, env } = w.home();
    const backend = await w.backend([], env);
    const cli = { ...env, HALOFORGE_URL: backend.url };

    const started = await runCli(['runs', 'start', '--name', 'cli-sft', '--cwd', home, '--env', 'EXTRA=from-cli', '--json', '--', process.execPath, TRAIN, '--steps', '3', '--interval', '100'], cli);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const run = JSON.parse(started.stdout) as RunInfo;
    expect(run).toMatchObject({ name: 'cli-sft', env: ['EXTRA'], command: [process.execPath, TRAIN, '--steps', '3', '--interval', '100'], startedBy: 'local user (cli)' });

    const followed = await runCli(['runs', 'logs', 'cli-sft', '--follow'], cli);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('EXTRA=from-cli');
    expect(followed.stdout).toContain('training done');
    expect(followed.stderr).toContain(`cli-sft (${run.id}): succeeded, exit code 0.`);

    const listed = await runCli(['runs', 'list'], cli);
    expect(listed.stdout).toMatch(new RegExp(`^ID\\s+NAME\\s+STATE\\s+STARTED\\s+LAST METRIC\\s+COMMAND\\n${run.id}\\s+cli-sft\\s+succeeded\\s`));
    const api = (await (await fetch(`${backend.url}api/public/runs`)).json()) as { runs: RunInfo[] };
    expect(api.runs.map((r) => r.id)).toEqual([run.id]);

    const shown = await runCli(['runs', 'show', run.id], cli);
    expect(shown.stdout).toContain(`cli-sft (${run.id}): succeeded, exit code 0`);
    expect(shown.stdout).toContain('env:      EXTRA');

    const missing = await runCli(['runs', 'start', '--', 'no-such-trainer-xyz'], cli);
    expect(missing).toMatchObject({ code: 1, stderr: 'halo-forge: "no-such-trainer-xyz" was not found on the job\'s PATH; give its full path, or install it.\n' });
    const badEnv = await runCli(['runs', 'start', '--env', 'HF_TOKEN=hf_NotTheWorkstationToken0123456789', '--', 'node'], cli);
    expect(badEnv.code).toBe(1);
    expect(badEnv.stderr).toContain('HF_TOKEN cannot be set here');
    expect(badEnv.stderr).not.toContain('NotTheWorkstationToken');
    expect(await runCli(['runs', 'stop', 'nothing-by-that-name'], cli)).toMatchObject({ code: 3, stderr: 'halo-forge: There is no run with the id or name "nothing-by-that-name".\n' });
  }, 180_000); // seven CLI processes and a backend, on a shared machine

  it('says plainly when no backend answers', async () => {
    const { env } = w.home();
    const res = await runCli(['runs', 'list'], { ...env, HALOFORGE_URL: 'http://127.0.0.1:9/' });
    expect(res).toMatchObject({ code: 2, stderr: 'halo-forge: No Halo Forge backend answers at http://127.0.0.1:9. Start one with "halo-forge serve" (or open the desktop app), or set HALOFORGE_URL to where it listens.\n' });
  });
});
