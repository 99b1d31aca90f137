import type { ChatHistoryItem, Llama, LlamaChat, LlamaCompletion, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { badRequest, OpenAiError } from '../openai-error.js';
import type { ChatMessage, Sampling } from './openai-request.js';

/**
 * One GGUF model in llama.cpp, through node-llama-cpp: loaded once, one
 * context sequence, one generation at a time (the others wait their turn).
 * Only this child process ever loads node-llama-cpp: the backend never does.
 */

export interface EngineOptions {
  modelPath: string;
  contextSize?: number;
  /** 'auto' uses CUDA, Vulkan or Metal where one works, else the CPU. */
  gpu: 'auto' | false;
  /** llama.cpp's threads (the backend passes embedded-threads.ts's default); node-llama-cpp's own is max(4, cores). */
  threads?: number;
  log: (line: string) => void;
}

export interface Generation {
  text: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}

/** A configuration this model cannot run with: the runtime reports it and exits without a restart. */
export class EngineConfigError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly code?: 'context_too_large' | 'bad_model',
  ) {
    super(message);
  }
}

export class Engine {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chat: LlamaChat,
    private readonly completion: LlamaCompletion,
  ) {}

  static async load(opts: EngineOptions): Promise<Engine> {
    const t0 = performance.now();
    const { getLlama, LlamaChat, LlamaCompletion, LlamaLogLevel } = await import('node-llama-cpp');
    const t1 = performance.now();
    let llama: Llama;
    try {
      llama = await getLlama({
        gpu: opts.gpu,
        // Never download or compile llama.cpp at run time: the prebuilt binaries from npm are what runs.
        build: 'never',
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => {
          const line = message.trimEnd();
          if (line) opts.log(`[llama.cpp ${level}] ${line}`);
        },
      });
    } catch (err) {
      // No prebuilt binary works on this machine (node-llama-cpp tested each one): a restart would fail the same way.
      throw new EngineConfigError(
        `llama.cpp could not be started on this machine: ${(err as Error).message}`,
        'None of the llama.cpp builds that came with Halo Forge runs here; its log says why. Install llama-server and run the model with --runtime llama-server.',
      );
    }
    const t2 = performance.now();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: opts.modelPath });
    } catch (err) {
      await llama.dispose();
      throw new EngineConfigError(`The model file could not be loaded: ${(err as Error).message}`, 'Check that the file is a complete GGUF model (pull it again if it was cut short).', 'bad_model');
    }
    const t3 = performance.now();
    const trained = model.trainContextSize;
    if (opts.contextSize !== undefined && opts.contextSize > trained) {
      await model.dispose();
      await llama.dispose();
      throw new EngineConfigError(
        `A context of ${opts.contextSize} tokens is more than this model takes (${trained}).`,
        `Use a context size of ${trained} or less.`,
        'context_too_large',
      );
    }
    let context: LlamaContext;
    try {
      context = await model.createContext({ contextSize: opts.contextSize ?? Math.min(trained, 8192), threads: opts.threads, sequences: 1 });
    } catch (err) {
      await model.dispose();
      await llama.dispose();
      throw new EngineConfigError(`The context could not be created: ${(err as Error).message}`, 'Try a smaller context size; the model and its context must fit in memory.');
    }
    const sequence = context.getSequence();
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    const ms = (a: number, b: number) => `${(b - a).toFixed(0)} ms`;
    opts.log(
      `loaded ${opts.modelPath}: context ${context.contextSize} tokens, ${llama.gpu ? `GPU (${llama.gpu}, ${model.gpuLayers} of ${model.fileInsights.totalLayers} layers)` : 'CPU'}, ${context.idealThreads} threads ` +
        `(import ${ms(t0, t1)}, llama.cpp ${ms(t1, t2)}, model ${ms(t2, t3)}, context ${ms(t3, performance.now())})`,
    );
    return new Engine(llama, model, context, chat, completion);
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  get device(): string {
    return this.llama.gpu || 'cpu';
  }

  async generateChat(messages: ChatMessage[], sampling: Sampling, onText: (text: string) => void, signal: AbortSignal): Promise<Generation> {
    const history: ChatHistoryItem[] = messages.map((m) =>
      m.role === 'assistant' ? { type: 'model', response: [m.content] } : { type: m.role, text: m.content },
    );
    history.push({ type: 'model', response: [] });
    return this.exclusive(signal, async () => {
      const rendered = this.chat.chatWrapper.generateContextState({ chatHistory: history }).contextText;
      const promptTokens = rendered.tokenize(this.model.tokenizer).length;
      const maxTokens = this.budget(promptTokens, sampling, 'messages');
      let completionTokens = 0;
      const result = await this.chat.generateResponse(history, {
        ...this.samplerOptions(sampling),
        maxTokens,
        signal,
        onTextChunk: onText,
        onToken: (tokens) => (completionTokens += tokens.length),
        // A prompt that fits never needs the history shortened behind the client's back.
        contextShift: { strategy: () => { throw badRequest('The conversation no longer fits in the context.', 'messages', 'context_length_exceeded'); } },
      });
      return { text: result.response, finishReason: result.metadata.stopReason === 'maxTokens' ? 'length' : 'stop', promptTokens, completionTokens };
    });
  }

  async generateCompletion(prompt: string, sampling: Sampling, onText: (text: string) => void, signal: AbortSignal): Promise<Generation> {
    return this.exclusive(signal, async () => {
      const promptTokens = this.model.tokenize(prompt).length + 1;
      const maxTokens = this.budget(promptTokens, sampling, 'prompt');
      let completionTokens = 0;
      const result = await this.completion.generateCompletionWithMeta(prompt, {
        ...this.samplerOptions(sampling),
        maxTokens,
        signal,
        onTextChunk: onText,
        onToken: (tokens) => (completionTokens += tokens.length),
        disableContextShift: true,
      });
      return { text: result.response, finishReason: result.metadata.stopReason === 'maxTokens' ? 'length' : 'stop', promptTokens, completionTokens };
    });
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  /** Tokens left for the answer; a prompt that does not leave room for one is refused, never cut. */
  private budget(promptTokens: number, sampling: Sampling, param: string): number {
    const room = this.context.contextSize - promptTokens;
    if (room < 1) {
      throw badRequest(
        `The prompt is ${promptTokens} tokens, and this model's context holds ${this.context.contextSize}: shorten it, or load the model with a larger context.`,
        param,
        'context_length_exceeded',
      );
    }
    return Math.min(room, sampling.maxTokens ?? room);
  }

  private samplerOptions(s: Sampling) {
    return {
      ...(s.temperature !== null ? { temperature: s.temperature } : {}),
      ...(s.topP !== null ? { topP: s.topP } : {}),
      ...(s.seed !== null ? { seed: s.seed } : {}),
      ...(s.stop.length ? { customStopTriggers: s.stop } : {}),
    };
  }

  /** One generation at a time on the one sequence; a request whose client left while waiting never starts. */
  private exclusive<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (signal.aborted) throw new OpenAiError(499, 'invalid_request_error', 'The client closed the request.', 'client_closed');
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
