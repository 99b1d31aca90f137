import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { AccessMissing, ServingStatus } from '../../../shared/serving';
import { api, type ApiClient, type ChatMessage } from '../api/client';
import { ApiFailure, explainFailure, type Explained } from '../api/failure';
import { AnswerClock, parseChatStreamData, type AnswerMetrics } from '../lib/chat-stream';

// The conversation lives in this store only: never in localStorage or
// sessionStorage. A reload starts a new one.

export interface Turn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  /** Assistant turns: waiting for the first token, streaming, or how they ended. */
  state: 'waiting' | 'streaming' | 'done' | 'stopped' | 'failed';
  metrics: AnswerMetrics | null;
  /** The model that wrote it. */
  model: string | null;
}

/** A model the Playground can chat with. */
export interface ModelChoice {
  model: string;
  /** running: loaded and ready; loading; available: downloaded, loaded on the first message (just in time). */
  state: 'running' | 'loading' | 'available';
}

export interface ChatFailure extends Explained {
  access: AccessMissing | null;
}

export interface PlaygroundState {
  model: string | null;
  /** The longest answer asked for (`max_tokens`). */
  maxTokens: number;
  turns: Turn[];
  /** The answer being streamed, if any. */
  streaming: boolean;
  failure: ChatFailure | null;
  choose(model: string): void;
  setMaxTokens(maxTokens: number): void;
  send(text: string): Promise<void>;
  /** Aborts the request: the backend sees the client leave and cancels the generation. */
  stop(): void;
  clear(): void;
}

export const DEFAULT_MAX_TOKENS = 256;
export const MAX_TOKENS_LIMIT = 32_768;

/** A whole number from 1 to MAX_TOKENS_LIMIT; anything else (empty, NaN) is the default. */
export function clampMaxTokens(value: number): number {
  if (!Number.isFinite(value) || value < 1) return DEFAULT_MAX_TOKENS;
  return Math.min(MAX_TOKENS_LIMIT, Math.floor(value));
}

/** The model a link asks for: `#/playground?model=org/name:file.gguf`. */
export function modelFromHash(hash: string): string | null {
  const query = hash.split('?')[1];
  if (!query) return null;
  const model = new URLSearchParams(query).get('model')?.trim();
  return model && model.length <= 500 ? model : null;
}

/** Running models first (they answer at once), then the downloaded ones, each list in name order. */
export function modelChoices(status: ServingStatus | null): ModelChoice[] {
  if (!status) return [];
  const running = status.models
    .filter((m) => m.state === 'ready' || m.state === 'starting')
    .map((m): ModelChoice => ({ model: m.model, state: m.state === 'ready' ? 'running' : 'loading' }))
    .sort((a, b) => a.model.localeCompare(b.model));
  const taken = new Set(running.map((c) => c.model));
  const available = status.available
    .filter((m) => !taken.has(m.model))
    .map((m): ModelChoice => ({ model: m.model, state: 'available' }))
    .sort((a, b) => a.model.localeCompare(b.model));
  return [...running, ...available];
}

export function createPlaygroundStore(client: Pick<ApiClient, 'chatCompletionStream'>, now: () => number = () => performance.now()): UseBoundStore<StoreApi<PlaygroundState>> {
  let nextId = 1;
  let controller: AbortController | null = null;

  return create<PlaygroundState>()((set, get) => {
    const updateAnswer = (id: number, change: Partial<Turn>) => set((s) => ({ turns: s.turns.map((t) => (t.id === id ? { ...t, ...change } : t)) }));

    return {
      model: null,
      maxTokens: DEFAULT_MAX_TOKENS,
      turns: [],
      streaming: false,
      failure: null,

      choose(model) {
        if (model !== get().model) set({ model, failure: null });
      },

      setMaxTokens(maxTokens) {
        set({ maxTokens: clampMaxTokens(maxTokens) });
      },

      async send(text) {
        const { model, streaming, turns, maxTokens } = get();
        const content = text.trim();
        if (!model || streaming || !content) return;
        const history: ChatMessage[] = [...turns.filter((t) => t.state === 'done' || t.role === 'user').map((t) => ({ role: t.role, content: t.content })), { role: 'user', content }];
        const question: Turn = { id: nextId++, role: 'user', content, state: 'done', metrics: null, model };
        const answer: Turn = { id: nextId++, role: 'assistant', content: '', state: 'waiting', metrics: null, model };
        set({ turns: [...turns, question, answer], streaming: true, failure: null });

        const mine = new AbortController();
        controller = mine;
        const clock = new AnswerClock(now());
        let written = '';
        let streamError: ChatFailure | null = null;
        try {
          await client.chatCompletionStream(
            { model, messages: history, max_tokens: maxTokens },
            (data) => {
              if (streamError) return;
              const part = parseChatStreamData(data);
              if (part.kind === 'error') {
                streamError = { title: 'The answer broke off', detail: part.message, access: part.access };
                return;
              }
              if (part.kind !== 'delta') return;
              if (part.completionTokens !== null) clock.reportTokens(part.completionTokens);
              if (!part.content) return;
              clock.content(now());
              written += part.content;
              updateAnswer(answer.id, { content: written, state: 'streaming', metrics: clock.metrics() });
            },
            mine.signal,
          );
          if (mine.signal.aborted) updateAnswer(answer.id, { state: 'stopped', metrics: clock.metrics() });
          else if (streamError) {
            updateAnswer(answer.id, { state: 'failed', metrics: clock.metrics() });
            set({ failure: streamError });
          } else updateAnswer(answer.id, { state: 'done', metrics: clock.metrics() });
        } catch (err) {
          if (mine.signal.aborted) updateAnswer(answer.id, { state: 'stopped', metrics: clock.metrics() });
          else {
            updateAnswer(answer.id, { state: 'failed', metrics: clock.metrics() });
            set({ failure: { ...explainFailure(err), access: err instanceof ApiFailure ? err.access : null } });
          }
        } finally {
          if (controller === mine) controller = null;
          set({ streaming: false });
        }
      },

      stop() {
        controller?.abort();
      },

      clear() {
        controller?.abort();
        set({ turns: [], failure: null });
      },
    };
  });
}

export const usePlayground = createPlaygroundStore(api);
