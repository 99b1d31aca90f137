// A machine where no prebuilt llama.cpp binary works (node-llama-cpp refuses each after testing it): the runtime
// must report a configuration error, which the supervisor does not restart, instead of crashing into a restart loop.
import { describe, expect, it, vi } from 'vitest';

vi.mock('node-llama-cpp', () => ({
  LlamaLogLevel: { warn: 'warn' },
  LlamaChat: class {},
  LlamaCompletion: class {},
  getLlama: async () => {
    throw Object.assign(new Error('NoBinaryFoundError: No binary found that works on this machine'), { name: 'NoBinaryFoundError' });
  },
}));

const { Engine, EngineConfigError } = await import('../src/serving/embedded/engine.js');

describe('the embedded engine on a machine where no llama.cpp binary works', () => {
  it('fails with a configuration error that says why and what to do', async () => {
    const failure = await Engine.load({ modelPath: '/nonexistent.gguf', gpu: 'auto', log: () => {} }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(EngineConfigError);
    expect((failure as Error).message).toBe('llama.cpp could not be started on this machine: NoBinaryFoundError: No binary found that works on this machine');
    expect((failure as InstanceType<typeof EngineConfigError>).hint).toMatch(/--runtime llama-server/);
  });
});
