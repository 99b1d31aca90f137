import { create } from 'zustand';
import type { AuthSession } from '../../../shared/api';
import { api } from '../api/client';
import { ApiFailure, explainFailure, type Explained } from '../api/failure';
import { useNavigation } from './navigation';

/** `unreachable`: nothing answered; `failed`: an answer that was neither a session nor a refused token. */
export type SessionPhase = 'loading' | 'ready' | 'unreachable' | 'failed';

export interface TokenCheck {
  phase: 'idle' | 'testing' | 'passed' | 'failed';
  result: Explained | null;
}

/** The auth line of the Overview and the header pill. */
export type AuthState = 'checking' | 'not-needed' | 'token-stored' | 'token-needed' | 'token-refused' | 'unreachable' | 'failed';

interface SessionState {
  phase: SessionPhase;
  session: AuthSession | null;
  version: string | null;
  hasStoredToken: boolean;
  /** The stored token was refused: why. */
  refused: Explained | null;
  /** Why the last session check failed, shown until one succeeds. */
  problem: Explained | null;
  /** When the session is checked again by itself (epoch ms), or null if only "Try again" will. */
  retryAt: number | null;
  /** Failed checks in a row, for the backoff. */
  failures: number;
  check: TokenCheck;
  /** Times the workstation came back after it could not be reached: screens reload their data on each. */
  recoveries: number;
  load(): Promise<void>;
  /**
   * The periodic "are you still there?": notices a stopped server or a
   * revoked token on any screen, without waiting for the user to click.
   */
  heartbeat(): Promise<void>;
  /** Checks a pasted token against the backend without storing it. */
  test(token: string): Promise<boolean>;
  /** Tests, and stores only a token that works; then takes the user back to where a 401 interrupted them. */
  save(token: string): Promise<boolean>;
  clear(): Promise<void>;
  /** Opened through a pairing link: store, test, and land somewhere useful. */
  pair(token: string): Promise<void>;
  tokenRefused(failure: ApiFailure): void;
}

// Only a failing token is throttled, so a working one pasted on Connection gets in at once.
const THROTTLED: Explained = {
  title: 'Too many failed attempts from this address',
  detail: 'The workstation turns away failed sign-ins from this address for a while. A stored API token that no longer works is the usual cause: a working one pasted on the Connection screen is accepted right away.',
};

const RETRY_BACKOFF_MS = [2_000, 5_000, 15_000, 30_000];

/**
 * How long to wait before checking the session again by itself after the
 * `failures`-th failure in a row: what Retry-After says, a backoff for what
 * may pass (a restarting or overloaded server), null for what only a person can fix.
 */
export function retryDelayMs(failure: unknown, failures: number): number | null {
  if (!(failure instanceof ApiFailure)) return null;
  if (failure.status === 429 && failure.retryAfter) return failure.retryAfter * 1_000;
  if (failure.code === 'network' || failure.status === 429 || failure.status >= 500) {
    return RETRY_BACKOFF_MS[Math.min(Math.max(failures, 1), RETRY_BACKOFF_MS.length) - 1]!;
  }
  return null;
}

let retryTimer: ReturnType<typeof setTimeout> | undefined;

const UNREACHABLE: Explained = {
  title: 'Workstation unreachable',
  detail: 'Nothing answers at this address: Halo Forge may have stopped, or the network between here and the workstation is down. What this page shows may be out of date.',
};

/** A banner that reported a success (paired, saved) stops being true when the session goes bad. */
function withdrawSuccessNotice(): void {
  const navigation = useNavigation.getState();
  if (navigation.notice?.tone === 'ok') navigation.dismissNotice();
}

const TOKEN_NEEDED: Explained = {
  title: 'This workstation needs an API token',
  detail: 'This workstation asks for a Halo Forge API token (hfk_…). Paste one below, or open a pairing link from the workstation.',
};

export const useSession = create<SessionState>()((set, get) => ({
  phase: 'loading',
  session: null,
  version: null,
  hasStoredToken: api.hasStoredToken(),
  refused: null,
  problem: null,
  retryAt: null,
  failures: 0,
  check: { phase: 'idle', result: null },
  recoveries: 0,

  async load() {
    clearTimeout(retryTimer);
    set({ hasStoredToken: api.hasStoredToken() });
    // Any failure is shown and, if it may pass, tried again: never a silent "Checking…".
    const fail = (err: unknown) => {
      const failures = get().failures + 1;
      const delay = retryDelayMs(err, failures);
      const retryAt = delay === null ? null : Date.now() + delay;
      const unreachable = err instanceof ApiFailure && err.code === 'network';
      const throttled = err instanceof ApiFailure && err.code === 'auth.throttled';
      set({ phase: unreachable ? 'unreachable' : 'failed', problem: unreachable ? UNREACHABLE : throttled ? THROTTLED : explainFailure(err), failures, retryAt });
      withdrawSuccessNotice();
      if (delay === null) return;
      // A check started meanwhile (Try again, a saved token) makes this one moot.
      retryTimer = setTimeout(() => {
        if (get().retryAt === retryAt) void get().load();
      }, delay);
    };
    let session: AuthSession;
    try {
      session = await api.session();
      set({ refused: null });
    } catch (err) {
      if (!(err instanceof ApiFailure && err.tokenRefused)) return fail(err);
      // The stored token is bad; ask as nobody whether one is needed at all.
      try {
        session = await api.session(null);
      } catch (again) {
        return fail(again);
      }
    }
    const recovered = get().phase === 'unreachable' || get().phase === 'failed';
    set({ phase: 'ready', session, problem: null, retryAt: null, failures: 0, recoveries: get().recoveries + (recovered ? 1 : 0) });
    // A refused token would only be refused again; the interruption already says why.
    if (get().refused) return;
    if (session.authRequired && !session.token) {
      useNavigation.getState().interrupt(null, TOKEN_NEEDED);
      return;
    }
    api.health().then(
      (health) => set({ version: health.version }),
      () => undefined,
    );
  },

  async heartbeat() {
    // While a check is failing, its own retry timer is in charge.
    if (get().phase !== 'ready') return;
    try {
      // A refused token is not sent again: each try would count as a failed sign-in.
      const session = await api.session(get().refused ? null : undefined);
      const before = get().session;
      if (JSON.stringify(before) !== JSON.stringify(session)) set({ session });
    } catch (err) {
      if (err instanceof ApiFailure && err.tokenRefused) {
        // The client already reported it (tokenRefused, the interruption); learn what an anonymous caller gets.
        try {
          set({ session: await api.session(null) });
        } catch {
          await get().load();
        }
        return;
      }
      await get().load();
    }
  },

  async test(token) {
    set({ check: { phase: 'testing', result: null } });
    try {
      const { health, session } = await api.testToken(token);
      const who = session.token ? `The token “${session.token.name}” (${session.token.scope} scope) works` : 'The token works';
      set({ version: health.version, check: { phase: 'passed', result: { title: 'Connection verified', detail: `${who} with Halo Forge ${health.version}.` } } });
      return true;
    } catch (err) {
      set({ check: { phase: 'failed', result: explainFailure(err) } });
      return false;
    }
  },

  async save(token) {
    if (!(await get().test(token))) return false;
    api.storeToken(token);
    set({ hasStoredToken: true, refused: null });
    await get().load();
    useNavigation.getState().resume();
    return true;
  },

  async clear() {
    api.forgetToken();
    set({ hasStoredToken: false, refused: null, check: { phase: 'idle', result: null } });
    await get().load();
  },

  async pair(token) {
    const navigation = useNavigation.getState();
    // Test before storing: any web page can link to this dashboard with a
    // #token=, and a bad token stored here would lock the user out (a bad token
    // is always rejected, even locally). A refused link leaves the stored token alone.
    const works = await get().test(token);
    if (works) {
      api.storeToken(token);
      set({ hasStoredToken: true, refused: null });
    }
    await get().load();
    if (works) {
      navigation.showNotice({ tone: 'ok', text: 'Paired: this browser now has a working API token for the workstation.' });
      navigation.go('overview');
    } else {
      navigation.go('connection');
    }
  },

  tokenRefused(failure) {
    // One message: the interruption says why. A "Connection verified" or "Paired" from before is no longer true.
    set({ refused: explainFailure(failure), check: { phase: 'idle', result: null } });
    withdrawSuccessNotice();
  },
}));

export function authState(state: Pick<SessionState, 'phase' | 'session' | 'refused'>): AuthState {
  if (state.phase === 'unreachable') return 'unreachable';
  if (state.phase === 'failed') return 'failed';
  if (state.refused) return 'token-refused';
  if (!state.session) return 'checking';
  if (state.session.token) return 'token-stored';
  return state.session.authRequired ? 'token-needed' : 'not-needed';
}

/** The workstation did not answer the last check: every status on screen is stale. */
export function isOffline(state: Pick<SessionState, 'phase'>): boolean {
  return state.phase === 'unreachable';
}

/**
 * Why this browser may not administer, in words that fit the mode: with
 * `--auth on` (or from another device) no "local session" exists, so only
 * an admin token is offered. Null when it may.
 */
export function adminNeed(state: Pick<SessionState, 'session' | 'refused'>): string | null {
  if (canAdminister(state)) return null;
  const session = state.session;
  const token = session?.token;
  if (token) return `This browser signs in with “${token.name}”, ${token.scope === 'read' ? 'a' : 'an'} ${token.scope} token: this needs a token with the admin scope.`;
  if (session && !session.authRequired) return null;
  if (session?.local) return 'This workstation asks every browser for an API token, this computer’s too: this needs one with the admin scope.';
  return 'This needs an API token with the admin scope. Paste one on the Connection screen.';
}

/** A local user (or an open server) or an admin token may manage remote access and tokens. */
export function canAdminister(state: Pick<SessionState, 'session' | 'refused'>): boolean {
  const session = state.session;
  if (!session || state.refused) return false;
  return session.token ? session.token.scope === 'admin' : !session.authRequired;
}
