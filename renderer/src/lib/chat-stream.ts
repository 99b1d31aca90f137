// Reading an OpenAI chat stream (`data: {choices:[{delta:{content}}]}` lines
// ending in `data: [DONE]`) and timing an answer. Pure: no fetch, no clock.

import type { AccessMissing } from '../../../shared/serving';

/** What one `data:` line of a chat completion stream says. */
export type ChatStreamPart =
  | { kind: 'delta'; content: string; finishReason: string | null; completionTokens: number | null }
  | { kind: 'done' }
  /** A runtime that fails mid-stream sends an error event instead of `[DONE]`. */
  | { kind: 'error'; message: string; code: string | null; access: AccessMissing | null }
  /** Not JSON, or JSON of another shape: skipped, the stream goes on. */
  | { kind: 'ignored' };

interface ChunkShape {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  usage?: { completion_tokens?: unknown } | null;
  error?: { message?: unknown; code?: unknown; access?: AccessMissing } | string;
}

export function parseChatStreamData(data: string): ChatStreamPart {
  if (data.trim() === '[DONE]') return { kind: 'done' };
  let chunk: ChunkShape;
  try {
    chunk = JSON.parse(data) as ChunkShape;
  } catch {
    return { kind: 'ignored' };
  }
  if (!chunk || typeof chunk !== 'object') return { kind: 'ignored' };
  if (chunk.error !== undefined) {
    const error = typeof chunk.error === 'string' ? { message: chunk.error } : chunk.error;
    return {
      kind: 'error',
      message: typeof error.message === 'string' && error.message ? error.message : 'The model stopped answering.',
      code: typeof error.code === 'string' ? error.code : null,
      access: error.access ?? null,
    };
  }
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  const content = typeof choice?.delta?.content === 'string' ? choice.delta.content : '';
  const finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : null;
  const completionTokens = typeof chunk.usage?.completion_tokens === 'number' ? chunk.usage.completion_tokens : null;
  if (!choice && completionTokens === null) return { kind: 'ignored' };
  return { kind: 'delta', content, finishReason, completionTokens };
}

/** Time to first token and tokens per second of one answer. */
export interface AnswerMetrics {
  /** From sending the request to the first content; null before it. */
  ttftMs: number | null;
  /** Generation speed after the first token; null until two tokens arrived. */
  tokensPerSecond: number | null;
  tokens: number;
}

/**
 * Times an answer from the moments its tokens arrive (milliseconds from any
 * monotonic clock). Each content chunk counts as one token, as llama.cpp
 * streams them, unless the stream's `usage` says how many there were.
 *
 * Tokens per second is measured from the first token to the last, over the
 * tokens after the first: the first one's wait is the time to first token
 * (prompt processing), and counting it twice would flatter a slow prompt.
 */
export class AnswerClock {
  private firstAt: number | null = null;
  private lastAt: number | null = null;
  private chunks = 0;
  private reported: number | null = null;

  constructor(private readonly sentAt: number) {}

  content(at: number): void {
    if (this.firstAt === null) this.firstAt = at;
    this.lastAt = at;
    this.chunks += 1;
  }

  /** The stream's own count (`usage.completion_tokens`), more exact than counting chunks. */
  reportTokens(count: number): void {
    if (Number.isFinite(count) && count >= 0) this.reported = count;
  }

  metrics(): AnswerMetrics {
    const tokens = this.reported ?? this.chunks;
    const ttftMs = this.firstAt === null ? null : Math.max(0, this.firstAt - this.sentAt);
    let tokensPerSecond: number | null = null;
    if (this.firstAt !== null && this.lastAt !== null && tokens >= 2 && this.lastAt > this.firstAt) {
      tokensPerSecond = (tokens - 1) / ((this.lastAt - this.firstAt) / 1000);
    }
    return { ttftMs, tokensPerSecond, tokens };
  }
}

export function formatTtft(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatTokensPerSecond(rate: number | null): string {
  if (rate === null) return '—';
  return `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)} tok/s`;
}
