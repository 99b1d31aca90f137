// The rules every supervisor here follows (the desktop app's backend, the
// backend's model runtimes, issue 11's runs): how long to wait before a
// restart, when to give up, when earlier crashes stop counting. Pure: no
// timers, no processes, no imports, so Electron and the backend share them.

export interface Backoff {
  initialMs: number;
  factor: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, factor: 2, maxMs: 15_000 };

/** Delay before restart number `attempt` (1-based): exponential, capped. */
export function backoffDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  return Math.min(backoff.maxMs, Math.round(backoff.initialMs * backoff.factor ** Math.max(0, attempt - 1)));
}

export type CrashDecision =
  | { restart: true; attempt: number; maxAttempts: number; delayMs: number }
  | { restart: false; crashes: number };

/**
 * Counts unexpected exits in a row. A process that then stays up for the
 * stable period has its slate wiped (call `stable()`), so a runtime that
 * crashes once a day is never given up on, while a crash loop is.
 */
export class CrashCounter {
  private crashes = 0;
  private readonly backoff: Backoff;

  constructor(
    private readonly maxRestarts: number,
    backoff: Partial<Backoff> = {},
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...backoff };
  }

  /** Unexpected exits since the last stable period or reset. */
  get count(): number {
    return this.crashes;
  }

  /** The attempt number of the next start (1 for a fresh start). */
  get nextAttempt(): number {
    return this.crashes + 1;
  }

  crashed(): CrashDecision {
    this.crashes++;
    if (this.crashes > this.maxRestarts) return { restart: false, crashes: this.crashes };
    return { restart: true, attempt: this.crashes, maxAttempts: this.maxRestarts, delayMs: backoffDelay(this.crashes, this.backoff) };
  }

  stable(): void {
    this.crashes = 0;
  }

  reset(): void {
    this.crashes = 0;
  }
}

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `signal ${signal}`;
  return code === null ? 'no exit code' : `exit code ${code}`;
}

/** Keeps the last `maxChars` of a process's output, for the crash report. */
export class OutputTail {
  private text = '';

  constructor(private readonly maxChars = 4_000) {}

  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.maxChars);
  }

  /** The last `lines` lines, trimmed. */
  lines(lines = 30): string {
    return this.text.split('\n').slice(-lines - 1).join('\n').trim();
  }

  clear(): void {
    this.text = '';
  }
}
