import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { RuntimeAdapter, RuntimeAvailability, RuntimeCommand, RuntimeHealth, RuntimeLaunch, RuntimeName } from './runtime-adapter.js';

/**
 * Runtimes the user installed themselves: llama.cpp's `llama-server` and
 * vLLM's `vllm serve`. Both listen on 127.0.0.1 only, on the port the
 * supervisor chose, take their key from the environment (never `--api-key`,
 * which `ps` would show), and find models in the shared Hugging Face cache.
 * Neither watches for the backend's death, so the supervisor runs them under
 * the runtime guard.
 */

export interface ExternalOptions {
  /** The executable: a path, or a name looked up on PATH (the default). */
  executable?: string;
  /** PATH to search (default: the launch environment's). */
  path?: string;
}

/** The executable's full path, or null when it is not there (or not executable). */
export function findExecutable(name: string, searchPath: string | undefined): string | null {
  const candidates = isAbsolute(name) || name.includes('/') ? [name] : (searchPath ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; try the next folder.
    }
  }
  return null;
}

/**
 * GET /health on the launch's port: 503 loading, 200 ready. A 200 counts
 * only once /v1/models, asked with this launch's key, lists this launch's
 * model: a stranger that took the port answers /health too. (Should it be a
 * stranger, it saw a key that dies with this failed launch.)
 */
async function probeHealth(launch: RuntimeLaunch, signal: AbortSignal): Promise<RuntimeHealth> {
  try {
    const base = `http://127.0.0.1:${launch.port}`;
    const res = await fetch(`${base}/health`, { signal });
    await res.body?.cancel();
    if (res.status === 503) return 'loading';
    if (res.status !== 200) return 'down';
    const models = await fetch(`${base}/v1/models`, { signal, headers: { authorization: `Bearer ${launch.key}` } });
    if (models.status !== 200) {
      await models.body?.cancel();
      return 'down';
    }
    const list = (await models.json()) as { data?: { id?: unknown }[] };
    return Array.isArray(list.data) && list.data.some((m) => m.id === launch.model.id) ? 'ready' : 'down';
  } catch {
    return 'down';
  }
}

abstract class ExternalRuntime implements RuntimeAdapter {
  abstract readonly name: RuntimeName;
  readonly stopSignal = 'SIGTERM' as const;
  protected abstract readonly defaultExecutable: string;
  protected abstract readonly installHint: string;

  constructor(protected readonly opts: ExternalOptions = {}) {}

  protected executable(env: NodeJS.ProcessEnv = process.env): string | null {
    return findExecutable(this.opts.executable ?? this.defaultExecutable, this.opts.path ?? env.PATH);
  }

  async availability(): Promise<RuntimeAvailability> {
    const found = this.executable();
    if (found) return { installed: true, detail: found };
    const wanted = this.opts.executable ?? this.defaultExecutable;
    return { installed: false, message: `${this.name} is not installed: ${wanted} was not found${wanted.includes('/') ? '' : ' on PATH'}.`, install: this.installHint };
  }

  health(launch: RuntimeLaunch, signal: AbortSignal): Promise<RuntimeHealth> {
    return probeHealth(launch, signal);
  }

  abstract command(launch: RuntimeLaunch): RuntimeCommand;

  protected resolved(launch: RuntimeLaunch): string {
    const exe = this.executable(launch.env);
    if (!exe) throw new Error(`${this.name} is not installed (${this.opts.executable ?? this.defaultExecutable} was not found). ${this.installHint}`);
    return exe;
  }

  protected cacheEnv(launch: RuntimeLaunch): NodeJS.ProcessEnv {
    return launch.hfHubCache ? { HF_HUB_CACHE: launch.hfHubCache } : {};
  }
}

export class LlamaServerRuntime extends ExternalRuntime {
  readonly name = 'llama-server' as const;
  protected readonly defaultExecutable = 'llama-server';
  protected readonly installHint =
    'Build llama.cpp (cmake -B build && cmake --build build --target llama-server) or install it with your package manager, then put llama-server on PATH.';

  command(launch: RuntimeLaunch): RuntimeCommand {
    const args = ['--host', '127.0.0.1', '--port', String(launch.port), '--model', launch.model.path, '--alias', launch.model.id];
    if (launch.contextSize !== undefined) args.push('--ctx-size', String(launch.contextSize));
    args.push(...(launch.extraArgs ?? []));
    const added = { LLAMA_API_KEY: launch.key, ...this.cacheEnv(launch) };
    return { command: this.resolved(launch), args, env: { ...launch.env, ...added }, addedEnv: Object.keys(added), watchesParent: false };
  }
}

export class VllmRuntime extends ExternalRuntime {
  readonly name = 'vllm' as const;
  protected readonly defaultExecutable = 'vllm';
  protected readonly installHint = 'Install vLLM in a Python environment (pip install vllm) and put its "vllm" command on PATH.';

  command(launch: RuntimeLaunch): RuntimeCommand {
    // By repository and pinned commit, resolved in the shared cache: vLLM reads the same snapshot Halo Forge pulled.
    const byRepo = launch.model.repo !== undefined && launch.model.commit !== undefined;
    const args = ['serve', byRepo ? launch.model.repo! : launch.model.path, '--host', '127.0.0.1', '--port', String(launch.port), '--served-model-name', launch.model.id];
    if (byRepo) args.push('--revision', launch.model.commit!);
    if (launch.contextSize !== undefined) args.push('--max-model-len', String(launch.contextSize));
    args.push(...(launch.extraArgs ?? []));
    const added = { VLLM_API_KEY: launch.key, ...this.cacheEnv(launch) };
    return { command: this.resolved(launch), args, env: { ...launch.env, ...added }, addedEnv: Object.keys(added), watchesParent: false };
  }
}
