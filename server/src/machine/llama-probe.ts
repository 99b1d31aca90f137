// What node-llama-cpp finds: the cross-check of the vendor tools, and what
// the embedded runtime will actually use. Loading llama.cpp's native library
// costs ~3-4 s and ~90 MB (measured on the 2-core CI machine: import 1.4 s,
// getLlama 1.9 s, RSS 92 MB), and a broken GPU driver can crash the process
// that loads it. So it runs once, in a child process that loads no model and
// exits, and its answer is kept for the life of the backend.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
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

export function probeLlama(options: { execPath?: string; cwd?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<LlamaProbeResult> {
  return new Promise((resolve, reject) => {
    // Under Electron, execPath is the Electron binary: this makes it a plain Node.
    const env = { ...buildChildEnv(process.env, null), ELECTRON_RUN_AS_NODE: '1' };
    // Bare `node-llama-cpp` resolves from the working directory with -e: the project root, where node_modules is.
    const child = spawn(options.execPath ?? process.execPath, ['--input-type=module', '-e', PROBE_SOURCE], { cwd: options.cwd ?? projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    // A background check: it yields the CPU to the backend answering the dashboard and to the models running.
    try {
      if (child.pid) setPriority(child.pid, 19);
    } catch {
      // Not permitted here (some containers): it runs at normal priority.
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? PROBE_TIMEOUT_MS);
    // The backend closing takes its probe with it: no child outlives the server that started it.
    let aborted = false;
    const abort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('close', () => options.signal?.removeEventListener('abort', abort));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
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
