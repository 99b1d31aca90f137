// A workstation that has pulled the tiny model from the test Hub, for tests
// of serving through the product: the backend (the built CLI), its cache,
// its home, and helpers to find its runtime processes.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../../e2e/support/fake-hub.js';
import { runCli, type workstations } from './backend-process.js';
import { tinyGguf } from './tiny-gguf.js';

export const TINY_REPO = 'halo-test/tiny-llama-gguf';
export const TINY_FILE = 'tiny-llama.Q8_0.gguf';
export const TINY_MODEL = `${TINY_REPO}:${TINY_FILE}`;
/** A second model (its own repo), for the cap. */
export const OTHER_REPO = 'halo-test/other-tiny-gguf';
export const OTHER_MODEL = `${OTHER_REPO}:other.gguf`;
/** The workstation's HF token: a canary that must reach the runtime's environment and nothing else. */
export const HF_CANARY = FAKE_HUB_TOKENS.read;

/** The test Hub with the tiny model (and a second one) as LFS files, as a GGUF repo on the real Hub is. */
export async function tinyModelHub(): Promise<FakeHub> {
  const hub = await startFakeHub();
  hub.addRepo({ id: TINY_REPO, files: [{ path: TINY_FILE, content: tinyGguf(), lfs: true }, { path: 'README.md', content: '# tiny\n' }] });
  hub.addRepo({ id: OTHER_REPO, files: [{ path: 'other.gguf', content: tinyGguf({ contextLength: 256 }), lfs: true }] });
  return hub;
}

export interface ServingHome {
  home: string;
  cache: string;
  env: NodeJS.ProcessEnv;
}

/**
 * A fresh home whose cache holds the pulled tiny model, pulled by Halo Forge
 * itself (`halo-forge models pull`). llama.cpp gets one thread: the test
 * machine is shared.
 */
export async function servingHome(w: ReturnType<typeof workstations>, hub: FakeHub, repos: string[] = [TINY_REPO], settings: object = {}): Promise<ServingHome> {
  const { home, env } = w.home();
  const cache = join(home, 'hf-cache');
  Object.assign(env, { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_TOKEN: HF_CANARY });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.json'), JSON.stringify({ serving: { threads: 1, ...settings } }), { mode: 0o600 });
  for (const repo of repos) {
    const pulled = await runCli(['models', 'pull', repo, '--json'], env);
    expect(pulled.code, pulled.stderr).toBe(0);
  }
  return { home, cache, env };
}

/** Pids of the embedded runtimes serving files under `cache` (their argv names the model file). */
export function runtimePids(cache: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (argv.includes('serving-runtime.mjs') && argv.includes(cache) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${name}/stat`, 'utf8'))) pids.push(Number(name));
    } catch {
      // Gone.
    }
  }
  return pids;
}

/** Every process's argv on this machine, as `ps` shows them. */
export function allArgv(): string {
  const lines: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      lines.push(readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // Gone.
    }
  }
  return lines.join('\n');
}

/** Every file under `dir`, with its text. */
export function filesUnder(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push({ path: p, text: readFileSync(p, 'latin1') });
    }
  };
  walk(dir);
  return out;
}
