import { DEFAULT_MAX_LOADED, DEFAULT_TTL_MS } from './serving-manager.js';

/**
 * Serving's choices: how long an idle model stays loaded and how many may be
 * loaded at once. From the command line (`serve --model-ttl 30m|never
 * --max-models 2`), else config.json's "serving" section, else the defaults
 * (60 min, 2).
 */

export interface ServingChoices {
  ttlMs: number | null;
  maxLoaded: number;
  /** llama.cpp threads for the embedded runtime (config.json "serving.threads"); default: embedded-threads.ts's rule. */
  threads?: number;
  /** Where llama-server and vllm are, when not on PATH (config.json "serving.llamaServer", "serving.vllm"). */
  executables?: { 'llama-server'?: string; vllm?: string };
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const TTL_FORMAT = '"never", or a number and a unit: s, m, h or d, such as 30m';

/** "30m", "2h", "90s", "never" → milliseconds (null: never); undefined when it is not one. */
export function parseTtl(text: string): number | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'never') return null;
  const match = /^(\d{1,6})\s*([smhd])$/.exec(t);
  if (!match || Number(match[1]) === 0) return undefined;
  return Number(match[1]) * UNITS[match[2]!]!;
}

export function parseMaxLoaded(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 64 ? n : undefined;
}

/**
 * The choices in effect; a bad value anywhere is an error naming where it came
 * from, never silently the default (a typo in "never" must not unload a model
 * someone relies on staying loaded).
 */
export function servingChoices(cli: { modelTtl?: string; maxModels?: string | number }, settings: unknown): ServingChoices {
  const file = (settings && typeof settings === 'object' ? (settings as { serving?: unknown }).serving : undefined) as { modelTtl?: unknown; maxModels?: unknown; threads?: unknown; llamaServer?: unknown; vllm?: unknown } | undefined;
  let ttlMs: number | null = DEFAULT_TTL_MS;
  const ttlText = cli.modelTtl ?? (typeof file?.modelTtl === 'string' ? file.modelTtl : undefined);
  if (file?.modelTtl !== undefined && typeof file.modelTtl !== 'string') throw new Error(`config.json: "serving.modelTtl" must be ${TTL_FORMAT}.`);
  if (ttlText !== undefined) {
    const parsed = parseTtl(ttlText);
    if (parsed === undefined) throw new Error(`${cli.modelTtl !== undefined ? '--model-ttl' : 'config.json "serving.modelTtl"'} "${ttlText.slice(0, 40)}" is not a time to live: use ${TTL_FORMAT}.`);
    ttlMs = parsed;
  }
  let maxLoaded = DEFAULT_MAX_LOADED;
  const maxRaw = cli.maxModels ?? file?.maxModels;
  if (maxRaw !== undefined) {
    const parsed = parseMaxLoaded(maxRaw);
    if (parsed === undefined) throw new Error(`${cli.maxModels !== undefined ? '--max-models' : 'config.json "serving.maxModels"'} must be a whole number from 1 to 64.`);
    maxLoaded = parsed;
  }
  let threads: number | undefined;
  if (file?.threads !== undefined) {
    if (!Number.isInteger(file.threads) || (file.threads as number) < 1 || (file.threads as number) > 1024) throw new Error('config.json: "serving.threads" must be a whole number from 1 to 1024.');
    threads = file.threads as number;
  }
  const executables: NonNullable<ServingChoices['executables']> = {};
  for (const [key, runtime] of [['llamaServer', 'llama-server'], ['vllm', 'vllm']] as const) {
    const value = file?.[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !value.startsWith('/')) throw new Error(`config.json: "serving.${key}" must be the full path of the ${runtime} executable.`);
    executables[runtime] = value;
  }
  return { ttlMs, maxLoaded, ...(threads !== undefined ? { threads } : {}), ...(Object.keys(executables).length ? { executables } : {}) };
}
