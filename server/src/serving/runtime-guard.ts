import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { watchParent } from './parent-watch.js';

/**
 * `node runtime-guard.mjs COMMAND ARGS...`: runs an external runtime
 * (llama-server, vllm) that knows nothing of Halo Forge, and makes sure it
 * dies with the backend. The backend talks to this guard over an IPC
 * channel; when the backend is gone, even by SIGKILL, the channel closes and
 * the guard stops the runtime (SIGTERM, then SIGKILL). The runtime's output
 * goes straight to the guard's stdout and stderr, the backend's pipes, so it
 * is redacted there like the embedded runtime's.
 */

const GRACE_MS = 3_000;
const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('runtime-guard: no command given\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
let stopping = false;

const stop = (signal: NodeJS.Signals) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (stopping) return;
  stopping = true;
  setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref();
};

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
watchParent(() => stop('SIGTERM'));

child.once('error', (err) => {
  process.stderr.write(`runtime-guard: cannot run ${command}: ${err.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => {
  // The supervisor sees the runtime's own exit: its code, or 128 + the signal that ended it.
  process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
});
