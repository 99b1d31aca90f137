// A stand-in for the embedded runtime in connection-handoff tests: the real
// OpenAI server and IPC wiring of serving-runtime (createOpenAiServer, adopt,
// cut), with an engine whose pace the test decides instead of llama.cpp's.
// Bundled by the test (rolldown) and started through the real spawnRuntime.
//   content "tick": a " tick" every 20 ms until the generation is cancelled
//   content "silent": no token at all until it is cancelled (nothing written yet)
//   content "short": three " tick"s, then the end of the answer
// It tells the test how many generations are running ({ type: 'test-generating', count }).
import { createOpenAiServer } from '../../src/serving/embedded/openai-server.js';
import type { Engine, Generation } from '../../src/serving/embedded/engine.js';
import { isConnectionCut, isConnectionOffer, RUNTIME_KEY_ENV } from '../../src/serving/embedded/protocol.js';

const send = process.send!.bind(process);
let generating = 0;

function generation(content: string | undefined, onText: (text: string) => void, signal: AbortSignal): Promise<Generation> {
  generating++;
  send({ type: 'test-generating', count: generating });
  return new Promise((resolve, reject) => {
    let ticks = 0;
    const done = () => {
      if (timer) clearInterval(timer);
      generating--;
      send({ type: 'test-generating', count: generating });
    };
    const timer =
      content === 'silent'
        ? null
        : setInterval(() => {
            onText(' tick');
            if (content === 'short' && ++ticks === 3) {
              done();
              resolve({ text: ' tick tick tick', finishReason: 'stop', promptTokens: 1, completionTokens: 3 });
            }
          }, 20);
    signal.addEventListener('abort', () => {
      done();
      reject(new DOMException('cancelled', 'AbortError'));
    });
  });
}

const engine = {
  device: 'test',
  generateChat: (messages: { content: string }[], _s: unknown, onText: (t: string) => void, signal: AbortSignal) => generation(messages.at(-1)?.content, onText, signal),
  generateCompletion: (prompt: string, _s: unknown, onText: (t: string) => void, signal: AbortSignal) => generation(prompt, onText, signal),
} as unknown as Engine;

const api = createOpenAiServer({ modelId: 'halo-test/handoff', key: process.env[RUNTIME_KEY_ENV]!, launchId: 'test', log: () => {}, tell: (m) => process.connected && send(m) });
api.setEngine(engine);
process.on('message', (message: unknown, handle: unknown) => {
  if (isConnectionOffer(message) && handle) api.adopt(message, handle);
  else if (isConnectionCut(message)) api.cut(message);
});
api.server.listen(0, '127.0.0.1', () => send({ type: 'test-listening', port: (api.server.address() as { port: number }).port }));
process.once('disconnect', () => process.exit(0));
