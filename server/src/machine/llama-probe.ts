// What node-llama-cpp finds: the cross-check of the vendor tools, and what
// the embedded runtime will actually use. Loading llama.cpp's native library
// costs ~3-4 s and ~90 MB (measured on the 2-core CI machine: import 1.4 s,
// getLlama 1.9 s, RSS 92 MB), and a broken GPU driver can crash the process
// that loads it. So it runs once, in a child process that loads no model and
// exits, and its answer is kept for the life of the backend.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { Readable } from 'node:stream';
import type { MainProcessBridge } from '../children/main-bridge.js';
import { nodeEntryBridge } from '../children/node-entry.js';
import { bundledEntry } from '../serving/bundled-entry.js';
import { buildChildEnv } from '../secrets/child-env.js';
import { projectRoot } from '../version.js';

export interface LlamaProbeResult {
  backend: 'cuda' | 'vulkan' | 'metal' | null;
  devices: string[];
  vramTotalBytes: number;
}

const PROBE_TIMEOUT_MS = 60_000;

// Printed as the last line; everything llama.cpp says goes to stderr or is dropped.
// node-llama-cpp tests its binary in a fork that inherits execArgv, and
// `--input-type=module -e` there would make that fork fail: the list is cleared first.
const PROBE_SOURCE = `
process.execArgv.splice(0);
const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
const llama = await getLlama({ gpu: 'auto', build: 'never', logLevel: LlamaLogLevel.error, logger: () => {} });
const devices = await llama.getGpuDeviceNames();
const vram = await llama.getVramState();
process.stdout.write('\\n' + JSON.stringify({ backend: llama.gpu || null, devices, vramTotalBytes: vram.total }) + '\\n');
await llama.dispose();
`;

export function parseProbeOutput(stdout: string): LlamaProbeResult {
  const last = stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(last) as Partial<LlamaProbeResult>;
  const backend = parsed.backend === 'cuda' || parsed.backend === 'vulkan' || parsed.backend === 'metal' ? parsed.backend : null;
  return {
    backend,
    devices: Array.isArray(parsed.devices) ? parsed.devices.filter((d): d is string => typeof d === 'string') : [],
    vramTotalBytes: typeof parsed.vramTotalBytes === 'number' ? parsed.vramTotalBytes : 0,
  };
}

export function probeLlama(options: { execPath?: string; cwd?: string; timeoutMs?: number; signal?: AbortSignal; bridge?: MainProcessBridge | null } = {}): Promise<LlamaProbeResult> {
  return new Promise((resolve, reject) => {
    let child: ProbeProcess;
    try {
      child = startProbe(options);
    } catch (err) {
      return reject(err as Error);
    }
    // A background check: it yields the CPU to the backend answering the dashboard and to the models running.
    void child.spawned.then((pid) => {
      try {
        if (pid) setPriority(pid, 19);
      } catch {
        // Not permitted here (some containers): it runs at normal priority.
      }
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer | string) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer | string) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? PROBE_TIMEOUT_MS);
    // The backend closing takes its probe with it: no child outlives the server that started it.
    let aborted = false;
    const abort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    void child.closed.then(({ code, signal, error }) => {
      options.signal?.removeEventListener('abort', abort);
      clearTimeout(timer);
      if (error && code === null && signal === null) return reject(error);
      if (code === 0) {
        try {
          return resolve(parseProbeOutput(stdout));
        } catch {
          return reject(new Error('node-llama-cpp gave no answer'));
        }
      }
      const why = aborted ? 'was stopped: the server is closing' : signal === 'SIGKILL' ? `did not answer within ${(options.timeoutMs ?? PROBE_TIMEOUT_MS) / 1000} s` : `stopped (${signal ?? `exit ${code}`})`;
      const line = stderr.trim().split('\n').filter(Boolean).pop();
      reject(new Error(`node-llama-cpp ${why}${line ? `: ${line.slice(0, 200)}` : ''}`));
    });
  });
}

interface ProbeProcess {
  spawned: Promise<number | undefined>;
  stdout: Readable;
  stderr: Readable;
  kill(signal: NodeJS.Signals): void;
  closed: Promise<{ code: number | null; signal: string | null; error?: Error }>;
}

/**
 * Under Node, `node -e` with the probe's source. Inside the desktop app Electron's binary runs no scripts (with
 * RunAsNode fused off it would start a second app): the main process forks the bundled probe entry instead.
 */
function startProbe(options: { execPath?: string; cwd?: string; bridge?: MainProcessBridge | null }): ProbeProcess {
  const env = buildChildEnv(process.env, null);
  const bridge = options.bridge === undefined ? nodeEntryBridge() : options.bridge;
  if (bridge && !options.execPath) {
    const entry = bundledEntry('llama-probe');
    if (!entry) throw new Error('the GPU probe is not built: run "npm run build"');
    const child = bridge.spawn(entry, [], env, 'Halo Forge GPU probe');
    return { spawned: child.spawned, stdout: child.stdout, stderr: child.stderr, kill: (signal) => child.kill(signal), closed: child.exited };
  }
  // Bare `node-llama-cpp` resolves from the working directory with -e: the project root, where node_modules is.
  const child = spawn(options.execPath ?? process.execPath, ['--input-type=module', '-e', PROBE_SOURCE], { cwd: options.cwd ?? projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const closed = new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { spawned: Promise.resolve(child.pid), stdout: child.stdout, stderr: child.stderr, kill: (signal) => child.kill(signal), closed };
}
