// `halo-forge models` as a person or a script runs it: the built CLI in its
// own process, the real engine, the test Hub over real HTTP (needs `npm run build`).
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import type { LocalModelList, ModelSearchResult, PullInfo } from '../../shared/models.js';
import { CLI, runCli, waitFor, workstations } from './support/backend-process.js';
import { blobCheck, filesContaining } from './support/models.js';

const REPO = 'halo-test/cli-gguf';
const BIG = 'big.Q4_K_M.gguf';
const BIG_SIZE = 8 * 1024 * 1024 + 11;

let hub: FakeHub;
const w = workstations();
let children: ChildProcess[] = [];

beforeAll(async () => {
  hub = await startFakeHub();
  hub.addRepo({
    id: REPO,
    files: [
      { path: 'config.json', content: JSON.stringify({ model_type: 'llama' }) },
      { path: 'small.Q8_0.gguf', size: 300 * 1024, seed: 7 },
      { path: BIG, size: BIG_SIZE, seed: 8 },
    ],
  });
});
afterAll(() => hub.close());
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children = [];
  hub.files.clearFaults();
  hub.files.resetCounters();
  hub.reset();
  await w.release();
});

/** A home with its own cache, pointed at the test Hub, with the read token in HF_TOKEN unless told otherwise. */
function workstation(extra: NodeJS.ProcessEnv = { HF_TOKEN: FAKE_HUB_TOKENS.read }) {
  const { home, env } = w.home();
  const cacheDir = join(home, 'hf-home', 'hub');
  return { home, cacheDir, env: { ...env, HF_ENDPOINT: hub.url, ...extra } };
}

const models = (env: NodeJS.ProcessEnv, ...args: string[]) => runCli(['models', ...args], env);

/** The CLI started, not awaited: for Ctrl-C and for running beside a server. */
function startCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = fork(CLI, ['models', ...args], { env, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null }>((resolve) => child.on('close', (code) => resolve({ code })));
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Bytes of partial files (`.incomplete`) in a repo's blobs. */
function partialBytes(cacheDir: string, repo: string): number {
  const dir = join(cacheDir, `models--${repo.replace('/', '--')}`, 'blobs');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((n) => n.endsWith('.incomplete'))
    .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
}

describe('halo-forge models search', () => {
  it('lists matching models for people, and as JSON for scripts', async () => {
    const { env } = workstation();
    const people = await models(env, 'search', 'cli-gguf');
    expect(people.code, people.stderr).toBe(0);
    expect(people.stdout).toMatch(/^MODEL\s+DOWNLOADS\s+LIKES\s+ACCESS\s+UPDATED\n/);
    expect(people.stdout).toContain(REPO);
    const script = await models(env, 'search', 'cli-gguf', '--json');
    expect(script.code).toBe(0);
    expect((JSON.parse(script.stdout) as ModelSearchResult).models.map((m) => m.id)).toContain(REPO);
  });

  it('refuses a pasted token without sending it anywhere', async () => {
    const { env } = workstation();
    const before = hub.requests.length;
    const result = await models(env, 'search', FAKE_HUB_TOKENS.write);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('looks like a Hugging Face token');
    expect(result.stderr).not.toContain(FAKE_HUB_TOKENS.write);
    expect(hub.requests.slice(before).some((r) => r.path.includes(FAKE_HUB_TOKENS.write))).toBe(false);
  });
});

describe('halo-forge models pull', () => {
  it('prints plain progress lines when not on a terminal, exits 0 once every file verified, and list shows it', async () => {
    const { env, cacheDir, home } = workstation();
    const result = await models(env, 'pull', `https://huggingface.co/${REPO}`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Ready: ${REPO} at [0-9a-f]{12}, 3 files \\(8\\.\\d+ MiB\\) verified\\.\\n$`));
    // Plain lines, no terminal control characters, a few at most for a quick pull.
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(result.stderr).not.toMatch(/\x1b\[/);
    for (const line of lines) expect(line).toMatch(new RegExp(`^${REPO}: (queued|checking|downloading|verifying|ready) .* \\(\\d+%\\), \\d+/3 files`));
    expect(blobCheck(cacheDir).every((b) => b.ok)).toBe(true);
    // The HF token was sent (the pull needed it) and is written nowhere: not the cache, the pull records, the output.
    expect(hub.requests.some((r) => r.token === FAKE_HUB_TOKENS.read)).toBe(true);
    expect(filesContaining(cacheDir, FAKE_HUB_TOKENS.read)).toEqual([]);
    expect(filesContaining(home, FAKE_HUB_TOKENS.read)).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain(FAKE_HUB_TOKENS.read);

    const list = await models(env, 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^MODEL\\s+SIZE\\s+REVISIONS\\s+FILES\\s+PULLED\\n${REPO}\\s+8\\.\\d+ MiB\\s+main\\s+3\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\n`));
    expect(list.stdout).toContain(`Cache: ${cacheDir}`);
    const json = JSON.parse((await models(env, 'list', '--json')).stdout) as LocalModelList;
    expect(json.models).toEqual([expect.objectContaining({ id: REPO, incomplete: false, size: BIG_SIZE + 300 * 1024 + JSON.stringify({ model_type: 'llama' }).length })]);
  });

  it('pulls only what --include chooses, and says so when a pattern matches nothing', async () => {
    const { env } = workstation();
    const chosen = await models(env, 'pull', REPO, '--include', '*Q8_0.gguf', '--include', 'config.json', '--json');
    expect(chosen.code, chosen.stderr).toBe(0);
    const pull = JSON.parse(chosen.stdout) as PullInfo;
    expect(pull.state).toBe('ready');
    expect(pull.files.map((f) => f.path).sort()).toEqual(['config.json', 'small.Q8_0.gguf']);
    expect(chosen.stderr).toBe('');

    const none = await models(env, 'pull', REPO, '--include', '*.safetensors');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/^halo-forge: .*\*\.safetensors/);
  });

  it('exits non-zero with the reason when a file does not verify', async () => {
    const { env, cacheDir } = workstation();
    hub.files.fault(REPO, 'small.Q8_0.gguf', { kind: 'corrupt', times: 100 });
    const result = await models(env, 'pull', REPO, '--include', 'small.Q8_0.gguf');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/halo-forge: .*small\.Q8_0\.gguf.*\(model\.verify_failed\)/s);
    expect(blobCheck(cacheDir).filter((b) => !b.ok)).toEqual([]);
  });

  it('names the action for a gated model: accept the license, with the link', async () => {
    const { env } = workstation();
    hub.addRepo({ id: 'halo-test/cli-gated', gated: 'manual', files: [{ path: 'config.json', content: '{}' }] });
    const result = await models(env, 'pull', 'halo-test/cli-gated');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/license/i);
    expect(result.stderr).toContain('/halo-test/cli-gated');
  });

  it('Ctrl-C leaves a partial that the same command resumes, fetching nothing twice', async () => {
    const { env, cacheDir } = workstation();
    hub.files.fault(REPO, BIG, { kind: 'slow', bytesPerSecond: 2 * 1024 * 1024, times: 1 });
    const first = startCli(['pull', REPO, '--include', BIG], env);
    await waitFor(() => partialBytes(cacheDir, REPO) > 1024 * 1024, 20_000, 'a partial file of more than 1 MiB');
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code, first.stderr()).toBe(130);
    expect(first.stderr()).toContain('Run the same command to resume');
    const kept = partialBytes(cacheDir, REPO);
    expect(kept).toBeGreaterThan(1024 * 1024);
    expect(kept).toBeLessThan(BIG_SIZE);

    const servedBefore = hub.files.bytesServed(REPO, BIG);
    const second = await models(env, 'pull', REPO, '--include', BIG);
    expect(second.code, second.stderr).toBe(0);
    // The resumed pull asked only for what was missing (a little slack for bytes in flight at the stop).
    const servedAgain = hub.files.bytesServed(REPO, BIG) - servedBefore;
    expect(servedAgain).toBeLessThanOrEqual(BIG_SIZE - kept + 64 * 1024);
    expect(partialBytes(cacheDir, REPO)).toBe(0);
    expect(blobCheck(cacheDir).every((b) => b.ok)).toBe(true);
  });

  it('pulls while a running server lists the same cache', async () => {
    const { env } = workstation();
    const server = await w.backend([], env);
    hub.files.fault(REPO, BIG, { kind: 'slow', bytesPerSecond: 4 * 1024 * 1024, times: 1 });
    const cli = startCli(['pull', REPO], env);
    const local = async () => (await (await fetch(`${server.url}api/public/models/local`)).json()) as LocalModelList;
    // While the CLI pulls, the server sees the model, unfinished.
    await waitFor(async () => (await local()).models.some((m) => m.id === REPO && m.incomplete), 20_000, 'the server to list the unfinished model');
    expect((await cli.done).code, cli.stderr()).toBe(0);
    await waitFor(async () => (await local()).models.some((m) => m.id === REPO && !m.incomplete), 10_000, 'the server to list it ready');
  });
});

/** Runs the CLI on a pseudo-terminal (util-linux `script`), feeding `input` to it as typed. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const command = [process.execPath, CLI, 'models', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdin.end(input);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)('on a terminal (needs util-linux script)', () => {
  it('pull draws a progress bar, and rm asks before deleting', async () => {
    const { env, cacheDir } = workstation();
    hub.files.fault(REPO, 'small.Q8_0.gguf', { kind: 'slow', bytesPerSecond: 400 * 1024, times: 1 });
    const pulled = await onTerminal(['pull', REPO, '--include', 'small.Q8_0.gguf'], env);
    expect(pulled.code, pulled.output).toBe(0);
    expect(pulled.output).toMatch(new RegExp(`${REPO} \\[[█░]{24}\\] \\d+% \\| [\\d.]+ (B|KiB) / 300 KiB \\|`));
    expect(pulled.output).toContain(`Ready: ${REPO}`);

    const declined = await onTerminal(['rm', REPO], env, 'n\n');
    expect(declined.output).toContain(`Delete ${REPO} (1 revision: main; 300 KiB)? [y/N]`);
    expect(declined.code).toBe(1);
    expect(existsSync(join(cacheDir, 'models--halo-test--cli-gguf'))).toBe(true);
    const confirmed = await onTerminal(['rm', REPO], env, 'y\n');
    expect(confirmed.code, confirmed.output).toBe(0);
    expect(confirmed.output).toContain(`Removed 1 revision of ${REPO}`);
  });
});

describe('halo-forge models rm', () => {
  it('refuses without --yes when standard input is not a terminal, and deletes with it', async () => {
    const { env, cacheDir } = workstation();
    expect((await models(env, 'pull', REPO, '--include', 'config.json')).code).toBe(0);
    const refused = await models(env, 'rm', REPO);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('halo-forge: Refusing to delete without --yes: standard input is not a terminal to confirm on.\n');
    expect(existsSync(join(cacheDir, 'models--halo-test--cli-gguf'))).toBe(true);

    const removed = await models(env, 'rm', REPO, '--yes');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(new RegExp(`^Removed 1 revision of ${REPO}; freed \\d+ B\\.\\n$`));
    expect((JSON.parse((await models(env, 'list', '--json')).stdout) as LocalModelList).models).toEqual([]);
  });

  it('says a model that is not in the cache is not there', async () => {
    const { env } = workstation();
    const result = await models(env, 'rm', 'halo-test/absent', '--yes');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^halo-forge: halo-test\/absent is not in the Hugging Face cache/);
  });
});

