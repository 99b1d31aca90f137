import { parseArgs } from 'node:util';
import { installLlamaTestFork } from '../../children/llama-test-fork.js';
import { tellParent, watchParent } from '../parent-watch.js';
import { Engine, EngineConfigError } from './engine.js';
import { createOpenAiServer } from './openai-server.js';
import { EXIT_CONFIG, EXIT_PORT_IN_USE, isConnectionCut, isConnectionOffer, RUNTIME_KEY_ENV, RUNTIME_LAUNCH_ENV, type RuntimeFatalMessage } from './protocol.js';

/**
 * The embedded runtime: a child process of the backend that serves one GGUF
 * model over OpenAI's /v1 on 127.0.0.1. Started by the runtime supervisor as
 * `node serving-runtime.mjs --model PATH --model-id ID --port N ...`, with
 * its key in HALOFORGE_RUNTIME_KEY: never in argv, where `ps` shows it to
 * every user of the machine. A native crash in llama.cpp ends this process,
 * not the backend.
 */

const log = (line: string) => process.stdout.write(`${line}\n`);

/** Reports why this start cannot succeed and exits once the report is sent; the promise never settles. */
function fatal(message: string, hint: string, code: number, kind?: string): Promise<never> {
  process.stderr.write(`${message} ${hint}\n`);
  const report: RuntimeFatalMessage = { type: 'runtime-fatal', message, hint, ...(kind ? { code: kind } : {}) };
  tellParent(report, () => process.exit(code));
  return new Promise<never>(() => {});
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      'model-id': { type: 'string' },
      port: { type: 'string' },
      ctx: { type: 'string' },
      threads: { type: 'string' },
      gpu: { type: 'string', default: 'auto' },
    },
    strict: true,
  });
  const key = process.env[RUNTIME_KEY_ENV];
  const launchId = process.env[RUNTIME_LAUNCH_ENV] ?? '';
  // Gone from this process's environment, so nothing it spawns or prints can carry it on.
  delete process.env[RUNTIME_KEY_ENV];
  if (!key) return fatal(`${RUNTIME_KEY_ENV} is not set.`, 'The embedded runtime is started by Halo Forge, which passes it a key.', EXIT_CONFIG);
  if (!values.model || !values['model-id'] || !values.port) return fatal('--model, --model-id and --port are required.', 'The embedded runtime is started by Halo Forge.', EXIT_CONFIG);
  const port = Number(values.port);
  const contextSize = values.ctx === undefined ? undefined : Number(values.ctx);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (contextSize !== undefined && (!Number.isInteger(contextSize) || contextSize < 16)) return fatal(`--ctx ${values.ctx} is not a context size.`, 'Use a whole number of tokens, 16 or more.', EXIT_CONFIG);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) return fatal(`--threads ${values.threads} is not a thread count.`, 'Use a whole number, 1 or more.', EXIT_CONFIG);

  // Inside the desktop app node-llama-cpp's binary test must be forked by the main process (llama-test-fork.ts).
  installLlamaTestFork();
  // Under Node the backend may hand a client's connection over its IPC channel (connection-handoff.ts).
  const send = process.send?.bind(process);
  const api = createOpenAiServer({ modelId: values['model-id'], key, launchId, log, ...(send ? { tell: (m) => process.connected && send(m) } : {}) });
  if (send) {
    process.on('message', (message: unknown, handle: unknown) => {
      if (isConnectionOffer(message) && handle) api.adopt(message, handle);
      else if (isConnectionCut(message)) api.cut(message);
    });
  }
  let engine: Engine | null = null;
  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    // A generation in flight would hold the close; llama.cpp's memory goes with the process anyway.
    setTimeout(() => process.exit(code), 2_000).unref();
    api.server.close();
    api.server.closeAllConnections();
    void (engine?.dispose() ?? Promise.resolve()).finally(() => process.exit(code));
  };
  process.once('SIGTERM', () => shutdown(0));
  process.once('SIGINT', () => shutdown(0));
  watchParent(() => {
    log('the backend is gone; stopping');
    shutdown(0);
  });

  await new Promise<void>((resolve) => {
    api.server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        // Not fatal: the supervisor reads the exit code, picks another port and starts again.
        process.stderr.write(`Port ${port} on 127.0.0.1 is already in use.\n`);
        process.exit(EXIT_PORT_IN_USE);
      }
      void fatal(`Cannot listen on 127.0.0.1:${port}: ${err.message}`, 'Check that nothing blocks loopback ports.', EXIT_CONFIG);
    });
    api.server.listen(port, '127.0.0.1', resolve);
  });
  log(`listening on 127.0.0.1:${port}; loading ${values.model}`);

  const started = performance.now();
  try {
    engine = await Engine.load({ modelPath: values.model, contextSize, threads, gpu: values.gpu === 'auto' ? 'auto' : false, log });
  } catch (err) {
    if (err instanceof EngineConfigError) return fatal(err.message, err.hint, EXIT_CONFIG, err.code);
    throw err;
  }
  if (stopping) return;
  api.setEngine(engine);
  log(`ready in ${(performance.now() - started).toFixed(0)} ms on ${engine.device}, serving "${values['model-id']}"`);
}

main().catch((err: unknown) => {
  process.stderr.write(`the embedded runtime failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
