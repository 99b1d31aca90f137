import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bundledEntry } from './bundled-entry.js';
import { cpuFacts, defaultThreads, type CpuFacts } from './embedded-threads.js';
import { RUNTIME_KEY_ENV, RUNTIME_LAUNCH_ENV } from './embedded/protocol.js';
import type { RuntimeAdapter, RuntimeAvailability, RuntimeCommand, RuntimeHealth, RuntimeLaunch } from './runtime-adapter.js';

/**
 * The default runtime: llama.cpp through node-llama-cpp, in a child Node
 * process running dist/backend/serving-runtime.mjs (in the desktop app, a
 * utility process that the main process forks for the backend). Needs
 * nothing installed beyond Halo Forge's own npm dependencies.
 */

export interface EmbeddedOptions {
  /** The child entry; found next to the bundled backend by default. */
  entry?: string;
  /** The Node executable (default: this process's). */
  nodePath?: string;
  /** llama.cpp threads (default: defaultThreads, decided at each launch). */
  threads?: number;
  /** The CPU facts the default is decided from (tests). */
  cpu?: () => CpuFacts;
  /** 'auto' (default) uses a GPU where one works; false forces the CPU. */
  gpu?: 'auto' | false;
}

export class EmbeddedRuntime implements RuntimeAdapter {
  readonly name = 'embedded' as const;
  readonly stopSignal = 'SIGTERM' as const;

  constructor(private readonly opts: EmbeddedOptions = {}) {}

  async availability(): Promise<RuntimeAvailability> {
    const entry = this.opts.entry ?? bundledEntry('serving-runtime');
    if (!entry || !existsSync(entry)) {
      return { installed: false, message: 'The embedded runtime is not built.', install: 'Run "npm run build" in the Halo Forge folder.' };
    }
    try {
      // Resolved, not loaded: loading llama.cpp is the child's job, never the backend's.
      const main = createRequire(import.meta.url).resolve('node-llama-cpp');
      return { installed: true, detail: `node-llama-cpp at ${main}` };
    } catch {
      return { installed: false, message: 'node-llama-cpp is not installed.', install: 'Run "npm install" in the Halo Forge folder (it installs node-llama-cpp 3.21.1 from npm).' };
    }
  }

  command(launch: RuntimeLaunch): RuntimeCommand {
    const entry = this.opts.entry ?? bundledEntry('serving-runtime');
    if (!entry) throw new Error('The embedded runtime is not built: run "npm run build".');
    const args = [entry, '--model', launch.model.path, '--model-id', launch.model.id, '--port', String(launch.port)];
    if (launch.contextSize !== undefined) args.push('--ctx', String(launch.contextSize));
    args.push('--threads', String(this.opts.threads ?? defaultThreads((this.opts.cpu ?? cpuFacts)())));
    if (this.opts.gpu === false) args.push('--gpu', 'false');
    args.push(...(launch.extraArgs ?? []));
    return {
      command: this.opts.nodePath ?? process.execPath,
      args,
      env: { ...launch.env, [RUNTIME_KEY_ENV]: launch.key, [RUNTIME_LAUNCH_ENV]: launch.launchId },
      addedEnv: [RUNTIME_KEY_ENV, RUNTIME_LAUNCH_ENV],
      watchesParent: true,
      // Inside the desktop app the main process forks it (see spawnRuntime); a chosen Node is spawned as it is.
      nodeEntry: this.opts.nodePath === undefined,
      takesConnections: true,
    };
  }

  async health(launch: RuntimeLaunch, signal: AbortSignal): Promise<RuntimeHealth> {
    try {
      const res = await fetch(`http://127.0.0.1:${launch.port}/health`, { signal });
      await res.body?.cancel();
      // Someone else's server on this port is not our runtime, however healthy it is.
      if (res.headers.get('x-halo-launch') !== launch.launchId) return 'down';
      return res.status === 200 ? 'ready' : res.status === 503 ? 'loading' : 'down';
    } catch {
      return 'down';
    }
  }
}
