import { join } from 'node:path';
import { haloHome } from '../paths.js';
import type { HfAccess } from '../secrets/hf-access.js';
import { resolveHubCache } from '../models/cache-dir.js';
import { RecipeStore } from './recipe-store.js';
import { RunManager } from './run-manager.js';

/**
 * The runs service for one backend. Settings from the environment:
 * HALOFORGE_RUNS_GPU_SLOTS (GPU jobs at once, default 1, 0 = no limit),
 * HALOFORGE_RUNS_STOP_GRACE_MS (SIGTERM to SIGKILL, default 10000),
 * HALOFORGE_RUNS_LOG_MAX_BYTES (log cap before rotation, default 50 MiB).
 */
export function createRuns(env: NodeJS.ProcessEnv, hf: HfAccess, log: (message: string) => void): { runs: RunManager; recipes: RecipeStore } {
  const home = haloHome(env);
  const number = (name: string, fallback: number) => {
    const value = env[name];
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : fallback;
  };
  const recipes = new RecipeStore(join(home, 'recipes.json'));
  for (const warning of recipes.warnings) log(warning);
  const runs = new RunManager({
    home,
    env,
    childEnv: () => hf.childEnv(env),
    // The cache Models pulls into, resolved as huggingface_hub does, so the job's own downloads share it.
    hubCache: resolveHubCache(env),
    gpuSlots: number('HALOFORGE_RUNS_GPU_SLOTS', 1),
    stopGraceMs: number('HALOFORGE_RUNS_STOP_GRACE_MS', 10_000),
    logMaxBytes: number('HALOFORGE_RUNS_LOG_MAX_BYTES', 50 * 1024 * 1024),
    log,
  });
  return { runs, recipes };
}
