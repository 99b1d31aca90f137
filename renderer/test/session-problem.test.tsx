import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_TOKEN_STORAGE_KEY } from '../../shared/api';
import { api } from '../src/api/client';
import { ApiFailure } from '../src/api/failure';
import { SessionProblemBanner } from '../src/components/session-problem-banner';
import { redirectRefusedTokens, useNavigation } from '../src/stores/navigation';
import { authState, retryDelayMs, useSession } from '../src/stores/session';
import { apiError, fakeBackend, json } from './support/fake-backend';
import { HEALTH, LOCAL_SESSION } from './support/fixtures';

const STALE = `hfk_${'s'.repeat(43)}`;
const initial = { navigation: useNavigation.getState(), session: useSession.getState() };
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let root: Root;
let host: HTMLElement;

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
  useNavigation.setState(initial.navigation, true);
  useSession.setState(initial.session, true);
  redirectRefusedTokens(api, (failure) => useSession.getState().tokenRefused(failure));
  host = document.body.appendChild(document.createElement('div'));
  root = createRoot(host);
  act(() => root.render(<SessionProblemBanner />));
});
afterEach(() => {
  act(() => root.unmount());
  host.remove();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** Lets timers run and React render what they changed. */
async function elapse(ms: number): Promise<void> {
  await act(() => vi.advanceTimersByTimeAsync(ms));
}

const banner = () => host.querySelector('[data-testid="session-problem"]')?.textContent ?? null;
const sessionChecks = (fetch: ReturnType<typeof fakeBackend>['fetch']) => fetch.mock.calls.filter(([url]) => String(url).endsWith('/auth/session')).length;

describe('a session check that fails', () => {
  it('because a stale token got this address throttled says so, counts down Retry-After, then checks again by itself', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, STALE);
    const { fetch } = fakeBackend({
      'GET /auth/session': [
        apiError(429, 'auth.throttled', 'Too many failed attempts from 127.0.0.1; try again in 30 s.', { 'retry-after': '30' }),
        apiError(401, 'auth.invalid', 'The token is not valid: it is unknown or has been revoked.'),
        json(200, LOCAL_SESSION),
      ],
    });
    await act(() => useSession.getState().load());

    expect(authState(useSession.getState())).toBe('failed');
    expect(banner()).toContain('Too many failed attempts from this address');
    expect(banner()).toContain('Retrying in 30 s.');
    await elapse(10_000);
    expect(banner()).toContain('Retrying in 20 s.');
    expect(sessionChecks(fetch)).toBe(1);

    await elapse(20_000);
    // The throttle has passed: the stale token is refused in plain words and the banner is gone.
    expect(authState(useSession.getState())).toBe('token-refused');
    expect(useNavigation.getState().route).toBe('connection');
    expect(banner()).toBeNull();
  });

  it('with a server error shows its message and retries with a growing backoff until it answers', async () => {
    const { fetch } = fakeBackend({
      'GET /auth/session': [apiError(500, 'internal', 'The token store could not be read.'), apiError(503, 'internal', 'The token store could not be read.'), json(200, LOCAL_SESSION)],
      'GET /health': json(200, HEALTH),
    });
    await act(() => useSession.getState().load());

    expect(authState(useSession.getState())).toBe('failed');
    expect(banner()).toContain('The workstation hit an error');
    expect(banner()).toContain('The token store could not be read.');
    expect(banner()).toContain('Retrying in 2 s.');
    await elapse(2_000);
    expect(sessionChecks(fetch)).toBe(2);
    expect(banner()).toContain('Retrying in 5 s.');
    await elapse(5_000);
    expect(sessionChecks(fetch)).toBe(3);
    expect(authState(useSession.getState())).toBe('not-needed');
    expect(banner()).toBeNull();
  });

  it('can be tried again at once with "Try again", which replaces the pending retry', async () => {
    const { fetch } = fakeBackend({ 'GET /auth/session': [apiError(502, 'http', 'Bad gateway'), json(200, LOCAL_SESSION)], 'GET /health': json(200, HEALTH) });
    await act(() => useSession.getState().load());
    const tryAgain = [...host.querySelectorAll('button')].find((b) => b.textContent === 'Try again')!;
    await act(async () => tryAgain.click());
    await elapse(0);
    expect(banner()).toBeNull();
    await elapse(60_000);
    expect(sessionChecks(fetch)).toBe(2);
  });

  it('that only a person can fix is shown without retrying', async () => {
    const { fetch } = fakeBackend({ 'GET /auth/session': apiError(421, 'request.host', 'This server answers only to localhost.') });
    await act(() => useSession.getState().load());
    expect(banner()).toContain('Refused by the workstation');
    expect(banner()).not.toContain('Retrying');
    await elapse(60_000);
    expect(sessionChecks(fetch)).toBe(1);
  });
});

describe('when to check the session again by itself', () => {
  it.each<[string, ApiFailure, number, number | null]>([
    ['throttled: what Retry-After says', new ApiFailure('auth.throttled', '', 429, 30), 1, 30_000],
    ['throttled without Retry-After: the backoff', new ApiFailure('auth.throttled', '', 429), 1, 2_000],
    ['a server error: the backoff', new ApiFailure('internal', '', 500), 1, 2_000],
    ['the third server error in a row: longer', new ApiFailure('http', '', 502), 3, 15_000],
    ['the tenth: capped', new ApiFailure('http', '', 503), 10, 30_000],
    ['nothing answered: the backoff', new ApiFailure('network', ''), 2, 5_000],
    ['a refused Host: never, a person must fix it', new ApiFailure('request.host', '', 421), 1, null],
  ])('%s', (_name, failure, failures, ms) => {
    expect(retryDelayMs(failure, failures)).toBe(ms);
  });
});
