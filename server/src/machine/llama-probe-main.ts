// `node llama-probe.mjs`: what node-llama-cpp finds (its GPU backend, the devices, their VRAM), printed as one
// JSON line last. The bundled twin of llama-probe.ts's `node -e` source, for the desktop app, where the main
// process forks it (Electron's own binary runs no `-e`). Everything llama.cpp says goes to stderr or is dropped.
import { installLlamaTestFork } from '../children/llama-test-fork.js';

// Inside the desktop app node-llama-cpp's binary test must be forked by the main process (llama-test-fork.ts).
installLlamaTestFork();
const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
const llama = await getLlama({ gpu: 'auto', build: 'never', logLevel: LlamaLogLevel.error, logger: () => {} });
const devices = await llama.getGpuDeviceNames();
const vram = await llama.getVramState();
process.stdout.write(`\n${JSON.stringify({ backend: llama.gpu || null, devices, vramTotalBytes: vram.total })}\n`);
await llama.dispose();
export {};
