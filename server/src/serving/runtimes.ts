import { EmbeddedRuntime, type EmbeddedOptions } from './embedded-adapter.js';
import { LlamaServerRuntime, VllmRuntime, type ExternalOptions } from './external-adapters.js';
import type { RuntimeAdapter, RuntimeName } from './runtime-adapter.js';

export const RUNTIME_NAMES: readonly RuntimeName[] = ['embedded', 'llama-server', 'vllm'];

export interface RuntimeSettings {
  embedded?: EmbeddedOptions;
  'llama-server'?: ExternalOptions;
  vllm?: ExternalOptions;
}

export class UnknownRuntimeError extends Error {
  constructor(readonly runtime: string) {
    super(`There is no runtime called "${runtime}". The runtimes are: ${RUNTIME_NAMES.join(', ')}.`);
  }
}

export function isRuntimeName(name: string): name is RuntimeName {
  return (RUNTIME_NAMES as readonly string[]).includes(name);
}

/** The adapter for a runtime name (`--runtime NAME`); an unknown name says which ones exist. */
export function runtimeAdapter(name: string, settings: RuntimeSettings = {}): RuntimeAdapter {
  if (!isRuntimeName(name)) throw new UnknownRuntimeError(name);
  switch (name) {
    case 'embedded':
      return new EmbeddedRuntime(settings.embedded);
    case 'llama-server':
      return new LlamaServerRuntime(settings['llama-server']);
    case 'vllm':
      return new VllmRuntime(settings.vllm);
  }
}
