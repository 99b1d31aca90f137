import { ApiFailure } from './failure';

/** What a screen shows of a stream it follows: the "live" badge. */
export type LiveState = 'off' | 'connecting' | 'live' | 'reconnecting';

/** The wait before each reconnection in a row; the last one repeats. */
export const RETRY_MS: readonly number[] = [1_000, 2_000, 5_000, 15_000];

export interface KeepFollowingOptions {
  /** Follows the stream once: resolves when it ends, rejects when it fails; calls `opened` once the server accepted it. */
  follow(signal: AbortSignal, opened: () => void): Promise<void>;
  /** The stream's state as it changes. */
  onState(state: Exclude<LiveState, 'off'>): void;
  /** The stream is open (again): time to fetch whatever happened while it was down. */
  onOpen?(): void;
  /** Answers that retrying will not mend (a refused token, too small a scope, a thing that is gone); default 401 and 403. */
  stopOn?: readonly number[];
  /** The stream stopped for good on one of those; it is not retried. */
  onStopped(failure: ApiFailure): void;
  /** Any other failure, before the next attempt. */
  onFailure?(err: unknown): void;
  /** True once the stream has said its last word (a run that ended): then `onFinished`, and no reconnection. */
  finished?(): boolean;
  onFinished?(): void;
  retryMs?: readonly number[];
}

/**
 * Follows a server-sent event stream for as long as a screen shows it:
 * reconnects with a growing wait when it drops (the backend restarting, a
 * network blip, a stream gone silent) and stops for good on an answer that
 * will not change by asking again, such as a token that was revoked or
 * expired (the server ends the stream, and the reconnection is refused).
 * Returns the function that stops it.
 */
export function keepFollowing(opts: KeepFollowingOptions): () => void {
  const controller = new AbortController();
  const stopOn = opts.stopOn ?? [401, 403];
  const retryMs = opts.retryMs ?? RETRY_MS;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const connect = async () => {
    opts.onState(attempt === 0 ? 'connecting' : 'reconnecting');
    try {
      await opts.follow(controller.signal, () => {
        attempt = 0;
        opts.onState('live');
        opts.onOpen?.();
      });
    } catch (err) {
      if (controller.signal.aborted) return;
      if (err instanceof ApiFailure && stopOn.includes(err.status)) return opts.onStopped(err);
      opts.onFailure?.(err);
    }
    if (controller.signal.aborted) return;
    if (opts.finished?.()) return opts.onFinished?.();
    const wait = retryMs[Math.min(attempt, retryMs.length - 1)]!;
    attempt++;
    opts.onState('reconnecting');
    timer = setTimeout(() => void connect(), wait);
  };
  void connect();

  return () => {
    controller.abort();
    if (timer) clearTimeout(timer);
  };
}
