import type { TokenAuthority } from './env-token.js';
import type { TokenStore } from './token-store.js';

/** setTimeout's longest delay (~24.8 days); a later expiry re-arms the timer when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type TokenLoss = 'revoked' | 'expired';

export interface TokenWatch {
  /** True while the token is good; once it is not, stops the watch, calls `onLost` (once) and returns false. */
  check(): boolean;
  stop(): void;
}

const NOTHING_TO_WATCH: TokenWatch = { check: () => true, stop: () => {} };

/**
 * Watches the token behind something that outlives its request (an event
 * stream, a streamed answer): the gate checked it once, at the start. `onLost`
 * is called when the token is revoked (the store tells its listeners at once,
 * and of another process's change within a second) or expires (a timer set
 * for the expiry, not a poll). A caller without a token (`hash` null: a local
 * user, an open server) has nothing to lose: no timer, no subscription.
 */
export function watchToken(hash: string | null, authority: TokenAuthority, store: Pick<TokenStore, 'onChange'>, onLost: (why: TokenLoss) => void): TokenWatch {
  if (hash === null) return NOTHING_TO_WATCH;
  let stopped = false;
  let expiry: NodeJS.Timeout | undefined;
  const expires = () => authority.current(hash)?.expires ?? null;
  const knownExpiry = expires();
  const stop = () => {
    stopped = true;
    clearTimeout(expiry);
    unsubscribe();
  };
  const check = () => {
    if (authority.current(hash) !== null) return true;
    if (!stopped) {
      stop();
      onLost(knownExpiry !== null && Date.parse(knownExpiry) <= Date.now() ? 'expired' : 'revoked');
    }
    return false;
  };
  const unsubscribe = store.onChange(check);
  // An expiring token's stream ends when the token does, not up to a keepalive later.
  const endAtExpiry = () => {
    const at = expires();
    if (!at) return;
    const wait = Math.min(Math.max(Date.parse(at) - Date.now(), 0) + 1, MAX_TIMER_MS);
    expiry = setTimeout(() => check() && endAtExpiry(), wait).unref();
  };
  endAtExpiry();
  return { check, stop };
}
