// The OS keyring, behind one small interface. The rest of the backend never
// learns which library talks to the keyring (keytar-keyring.ts is the only
// file that does), and tests hand in a fake or switch it off.

export const KEYRING_SERVICE = 'halo-forge';

/** What a keyring library has to offer; keytar-keyring.ts adapts keytar to it. */
export interface KeyringBackend {
  get(service: string, account: string): Promise<string | null>;
  set(service: string, account: string, value: string): Promise<void>;
  delete(service: string, account: string): Promise<boolean>;
}

export interface KeyringState {
  available: boolean;
  /** Why the keyring is not used, for a person; null when it answered. */
  reason: string | null;
  /** There is no keyring to ask (turned off, or its library is missing), as opposed to one that did not answer: nothing can be saved in it. */
  absent?: boolean;
  /**
   * No Secret Service can be reached at all (no D-Bus session: the usual
   * headless server over SSH), as opposed to a keyring that stopped answering.
   * A token saved from a desktop session may still be in it.
   */
  noService?: boolean;
  /** The library's own words (D-Bus errors): for the log, never for a person. */
  detail?: string;
}

/** What a person is told when no Secret Service can be reached; hf-status.ts adds where the token is kept instead. */
export const NO_KEYRING_REASON = 'No system keyring on this machine (normal on servers).';

/**
 * libsecret's ways of saying there is no session bus to find a Secret
 * Service on: no DBUS_SESSION_BUS_ADDRESS and no display to autolaunch one,
 * or an address whose socket is gone.
 */
const NO_SESSION_BUS = [/Cannot autolaunch D-Bus/i, /Unable to autolaunch/i, /Could not connect: (No such file or directory|Connection refused)/i, /DBUS_SESSION_BUS_ADDRESS/];

export function isNoSecretService(message: string): boolean {
  return NO_SESSION_BUS.some((p) => p.test(message));
}

export interface Keyring {
  /** What the last call learnt about the keyring. */
  state(): KeyringState;
  /** These throw KeyringUnavailableError, never hang longer than the timeout. */
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

export class KeyringUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'KeyringUnavailableError';
  }
}

/**
 * There is no keyring to ask here (turned off, or its library could not be
 * loaded), as opposed to one that was asked and did not answer: nothing this
 * process saved can be in it.
 */
export class KeyringAbsentError extends KeyringUnavailableError {}

/** A call outlived its timeout: it may still run (a keyring unlocked later carries out the save it was waiting on). */
export class KeyringTimeoutError extends KeyringUnavailableError {}

/** The keyring was turned off on purpose: nothing can have been saved in it. */
export class KeyringDisabledError extends KeyringAbsentError {}

export function disabledKeyring(reason: string): Keyring {
  const fail = async (): Promise<never> => {
    throw new KeyringDisabledError(reason);
  };
  return { state: () => ({ available: false, reason, absent: true }), get: fail, set: fail, delete: fail };
}

export interface GuardOptions {
  service?: string;
  /** A locked keyring under a display can wait for a password prompt forever. */
  timeoutMs?: number;
  /** How long to leave the keyring alone after it failed to answer in time. */
  cooldownMs?: number;
  now?: () => number;
}

interface Outstanding {
  overdue: boolean;
  freed: Promise<void>;
  free(): void;
}

const STUCK =
  'A previous keyring call has not returned yet (the keyring may be locked and waiting for a password); using the file instead until it does.';

/**
 * Wraps a backend so that no call can hang a request: each call races a
 * timeout, and after a timeout the keyring counts as unavailable for a while.
 *
 * A native keyring call that never returns keeps a libuv thread-pool worker
 * blocked for good, and there are four of them: a few such calls would stall
 * every asynchronous fs and dns call of the server. So at most one backend
 * call is ever outstanding. Calls that arrive meanwhile wait for it; once it
 * has outlived its timeout they are refused at once, cooldown or not, until
 * it returns.
 */
export function guardedKeyring(load: () => KeyringBackend, options: GuardOptions = {}): Keyring {
  const service = options.service ?? KEYRING_SERVICE;
  const timeoutMs = options.timeoutMs ?? 3_000;
  const cooldownMs = options.cooldownMs ?? 60_000;
  const now = options.now ?? Date.now;
  let backend: KeyringBackend | null = null;
  let loadError: string | null = null;
  let state: KeyringState = { available: true, reason: null };
  // A locked collection still answers reads (with nothing) but refuses writes:
  // a refused save stays the reason until a save succeeds.
  let writeProblem: { reason: string; detail: string } | null = null;
  let quietUntil = 0;
  // The backend call in progress; `freed` resolves when it returns or outlives its timeout, whichever comes first.
  let outstanding: Outstanding | null = null;

  function open(): KeyringBackend {
    if (backend) return backend;
    if (loadError === null) {
      try {
        backend = load();
        return backend;
      } catch (err) {
        loadError = (err as Error).message;
      }
    }
    state = { available: false, reason: loadError, absent: true };
    throw new KeyringAbsentError(loadError);
  }

  /** Why a call must not reach the backend now, or null. */
  function refusal(): KeyringUnavailableError | null {
    if (now() < quietUntil) return new KeyringUnavailableError(state.reason ?? 'The keyring is unavailable.');
    if (outstanding?.overdue) {
      state = { available: false, reason: STUCK };
      return new KeyringUnavailableError(STUCK);
    }
    return null;
  }

  /** Marks `running` as the outstanding backend call until it settles. */
  function track(running: Promise<unknown>): Outstanding {
    let free!: () => void;
    const entry: Outstanding = { overdue: false, freed: new Promise<void>((resolve) => (free = resolve)), free: () => free() };
    outstanding = entry;
    const settle = () => {
      if (outstanding === entry) outstanding = null;
      entry.free();
    };
    running.then(settle, settle);
    return entry;
  }

  async function call<T>(fn: (b: KeyringBackend) => Promise<T>, writing = false): Promise<T> {
    const b = open();
    const refused = refusal();
    if (refused) throw refused;
    let mine: Outstanding | null = null;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        quietUntil = now() + cooldownMs;
        const reason = `The keyring did not answer within ${seconds(timeoutMs)} (it may be locked and waiting for a password); using the file instead, and not asking the keyring again for ${seconds(cooldownMs)}.`;
        state = { available: false, reason };
        if (mine && outstanding === mine) {
          mine.overdue = true;
          mine.free();
        }
        reject(new KeyringTimeoutError(reason));
      }, timeoutMs);
    });
    const attempt = (async () => {
      while (outstanding) {
        await outstanding.freed;
        const refused = refusal();
        if (refused) throw refused;
      }
      // Never start a call nobody waits for any more.
      if (timedOut) throw new KeyringUnavailableError(state.reason ?? 'The keyring is unavailable.');
      const running = fn(b);
      mine = track(running);
      return running;
    })();
    try {
      const result = await Promise.race([attempt, timeout]);
      state = { available: true, reason: null };
      if (writing) writeProblem = null;
      return result;
    } catch (err) {
      if (err instanceof KeyringUnavailableError) throw err;
      const detail = (err as Error)?.message ?? String(err);
      // D-Bus's words go to the log (state.detail); a person reads what they mean.
      if (isNoSecretService(detail)) {
        state = { available: false, reason: NO_KEYRING_REASON, noService: true, detail };
        throw new KeyringUnavailableError(NO_KEYRING_REASON);
      }
      const reason = writing ? 'The keyring refused to save the token; it may be locked.' : 'The system keyring did not answer.';
      if (writing) writeProblem = { reason, detail };
      state = { available: false, reason, detail };
      throw new KeyringUnavailableError(reason);
    } finally {
      clearTimeout(timer);
    }
  }

  // Concurrent status reads share one keyring call rather than queueing one each.
  const reading = new Map<string, Promise<string | null>>();
  function get(account: string): Promise<string | null> {
    let pending = reading.get(account);
    if (!pending) {
      pending = call((b) => b.get(service, account)).finally(() => reading.delete(account));
      reading.set(account, pending);
    }
    return pending;
  }

  return {
    state: () => (state.available && writeProblem ? { available: false, ...writeProblem } : state),
    get,
    set: (account, value) => call((b) => b.set(service, account, value), true),
    delete: (account) => call((b) => b.delete(service, account)),
  };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
