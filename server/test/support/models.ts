// A Models engine against the fake Hub, in a temp cache and a temp home.
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../../e2e/support/fake-hub.js';
import type { PullInfo, PullState } from '../../../shared/models.js';
import { createModelService, type ModelServiceOptions } from '../../src/models/model-service.js';
import type { ModelService } from '../../src/models/service.js';

export interface ModelsRig {
  hub: FakeHub;
  root: string;
  cacheDir: string;
  home: string;
  env: NodeJS.ProcessEnv;
  logs: string[];
  token: { value: string | null };
  service: ModelService;
  make(overrides?: Partial<ModelServiceOptions>): ModelService;
  close(): Promise<void>;
}

export async function modelsRig(options: Partial<ModelServiceOptions> = {}, hub?: FakeHub): Promise<ModelsRig> {
  const theHub = hub ?? (await startFakeHub());
  const root = mkdtempSync(join(tmpdir(), 'halo-forge-models-'));
  const cacheDir = join(root, 'hf', 'hub');
  const home = join(root, 'home');
  const env = { HF_ENDPOINT: theHub.url, HF_HUB_CACHE: cacheDir, HALOFORGE_HOME: home, HOME: root };
  const logs: string[] = [];
  const token = { value: FAKE_HUB_TOKENS.read as string | null };
  const services: ModelService[] = [];
  const make = (overrides: Partial<ModelServiceOptions> = {}) => {
    const s = createModelService({
      env,
      hf: { token: async () => token.value },
      owner: 'server',
      log: (line) => logs.push(line),
      transfer: { backoffMs: 10, retries: 3, stallMs: 2_000 },
      ...options,
      ...overrides,
    });
    services.push(s);
    return s;
  };
  const service = make();
  return {
    hub: theHub,
    root,
    cacheDir,
    home,
    env,
    logs,
    token,
    service,
    make,
    close: async () => {
      for (const s of services) await s.close();
      if (!hub) await theHub.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const FINAL: PullState[] = ['ready', 'failed', 'cancelled', 'paused'];

/** Waits (events, with a deadline) until the pull reaches one of `states`. */
export function waitForPull(service: ModelService, id: string, states: PullState[] = FINAL, timeoutMs = 20_000): Promise<PullInfo> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const pull = service.listPulls().find((p) => p.id === id);
      if (pull && states.includes(pull.state)) {
        finish();
        resolve(pull);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`pull ${id} did not reach ${states.join('/')} in ${timeoutMs} ms: ${JSON.stringify(service.listPulls().find((p) => p.id === id)?.state)}`));
    }, timeoutMs);
    const off = service.onPull((p) => p.id === id && check());
    const poll = setInterval(check, 50);
    function finish() {
      clearTimeout(timer);
      clearInterval(poll);
      off();
    }
    check();
  });
}

/** Every blob in the cache, with whether its content hashes to its name (SHA-256, or git SHA-1). */
export function blobCheck(cacheDir: string): { path: string; ok: boolean }[] {
  const out: { path: string; ok: boolean }[] = [];
  for (const repo of readdirSync(cacheDir).filter((n) => n.includes('--'))) {
    const dir = join(cacheDir, repo, 'blobs');
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const content = readFileSync(join(dir, name));
      const sha256 = createHash('sha256').update(content).digest('hex');
      const sha1 = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
      out.push({ path: join(repo, 'blobs', name), ok: name === sha256 || name === sha1 });
    }
  }
  return out;
}

/** The cache as a sorted listing: `path -> symlink target`, `path (N bytes)`, `path/`. */
export function cacheListing(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(join(dir, rel));
    if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(join(dir, rel))}`);
    else if (st.isDirectory()) out.push(`${rel}/`, ...cacheListing(dir, rel));
    else out.push(`${rel} (${st.size} bytes)`);
  }
  return out;
}

/** Every file under `dir` whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.name.includes(needle)) hits.push(p);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}
