import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_TOKEN_STORAGE_KEY } from '../../shared/api';
import { api } from '../src/api/client';
import { redirectRefusedTokens, routeFromHash, useNavigation } from '../src/stores/navigation';
import { authState, canAdminister, useSession } from '../src/stores/session';
import { useApiTokens } from '../src/stores/api-tokens';
import { apiError, fakeBackend, json, unreachableBackend } from './support/fake-backend';
import { ADMIN_SESSION, ANONYMOUS_SESSION, HEALTH, LOCAL_SESSION, TOKEN } from './support/fixtures';

const GOOD = `hfk_${'g'.repeat(43)}`;
const BAD = `hfk_${'b'.repeat(43)}`;
const REFUSED = apiError(401, 'auth.invalid', 'The token is not valid: it is unknown or has been revoked.');

const initial = { navigation: useNavigation.getState(), session: useSession.getState(), tokens: useApiTokens.getState() };

beforeEach(() => {
  localStorage.clear();
  location.hash = '';
  useNavigation.setState(initial.navigation, true);
  useSession.setState(initial.session, true);
  useApiTokens.setState(initial.tokens, true);
  redirectRefusedTokens(api, (failure) => useSession.getState().tokenRefused(failure));
});
afterEach(() => vi.unstubAllGlobals());

describe('routes', () => {
  it.each([
    ['', 'overview'],
    ['#/connection', 'connection'],
    ['#/huggingface', 'huggingface'],
    ['#tokens', 'tokens'],
    ['#/tokens/extra', 'tokens'],
    ['#/nowhere', 'overview'],
    ['#token=hfk_abc', 'overview'],
  ])('"%s" opens %s', (hash, route) => {
    expect(routeFromHash(hash)).toBe(route);
  });

  it('going somewhere updates the address bar, so Back works', () => {
    useNavigation.getState().go('huggingface');
    expect(location.hash).toBe('#/huggingface');
    expect(useNavigation.getState().route).toBe('huggingface');
  });
});

describe('a 401 anywhere', () => {
  it('sends the user to Connection with a note of what they were doing', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, BAD);
    fakeBackend({ 'GET /tokens': REFUSED });
    useNavigation.getState().go('tokens');
    await useApiTokens.getState().load();
    const { route, interruption } = useNavigation.getState();
    expect(route).toBe('connection');
    expect(interruption).toEqual({ from: 'tokens', doing: 'loading the API tokens', reason: { title: 'Invalid or revoked token', detail: 'The token is not valid: it is unknown or has been revoked.' } });
    expect(authState(useSession.getState())).toBe('token-refused');
  });

  it('keeps the first screen when several calls fail at once', () => {
    useNavigation.getState().go('huggingface');
    useNavigation.getState().interrupt('loading Hugging Face access', { title: 'Invalid or revoked token', detail: '' });
    useNavigation.getState().interrupt('loading the connection details', { title: 'Invalid or revoked token', detail: '' });
    expect(useNavigation.getState().interruption).toMatchObject({ from: 'huggingface', doing: 'loading Hugging Face access' });
  });

  it('brings the user back after a token that works is saved', async () => {
    const { calls } = fakeBackend({
      'GET /health': [json(200, HEALTH)],
      'GET /auth/session': json(200, ADMIN_SESSION),
    });
    useNavigation.getState().go('tokens');
    useNavigation.getState().interrupt('loading the API tokens', { title: 'Token needed', detail: '' });
    expect(useNavigation.getState().route).toBe('connection');

    expect(await useSession.getState().save(GOOD)).toBe(true);
    expect(useNavigation.getState()).toMatchObject({ route: 'tokens', interruption: null });
    expect(localStorage.getItem(API_TOKEN_STORAGE_KEY)).toBe(GOOD);
    expect(calls[0]).toMatchObject({ path: '/health', authorization: `Bearer ${GOOD}` });
  });
});

describe('the session', () => {
  it('on this computer needs no token and may administer', async () => {
    fakeBackend({ 'GET /auth/session': json(200, LOCAL_SESSION), 'GET /health': json(200, HEALTH) });
    await useSession.getState().load();
    const state = useSession.getState();
    expect([state.phase, authState(state), canAdminister(state)]).toEqual(['ready', 'not-needed', true]);
    await vi.waitFor(() => expect(useSession.getState().version).toBe('0.1.0'));
  });

  it('that needs a token says so and sends the user to Connection', async () => {
    const { calls } = fakeBackend({ 'GET /auth/session': json(200, ANONYMOUS_SESSION) });
    await useSession.getState().load();
    expect(authState(useSession.getState())).toBe('token-needed');
    expect(canAdminister(useSession.getState())).toBe(false);
    expect(useNavigation.getState()).toMatchObject({ route: 'connection', interruption: { doing: null, reason: { title: 'This workstation needs an API token' } } });
    // Nothing else was asked: every other route would only answer 401.
    expect(calls.map((c) => c.path)).toEqual(['/auth/session']);
  });

  it('with a refused stored token asks again as nobody to learn whether one is needed', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, BAD);
    const { calls } = fakeBackend({ 'GET /auth/session': [REFUSED, json(200, LOCAL_SESSION)] });
    await useSession.getState().load();
    expect(calls.map((c) => c.authorization)).toEqual([`Bearer ${BAD}`, null]);
    expect(useSession.getState().session).toEqual(LOCAL_SESSION);
    expect(authState(useSession.getState())).toBe('token-refused');
  });

  it('of a server that does not answer is "unreachable", not "token needed"', async () => {
    unreachableBackend();
    await useSession.getState().load();
    expect(authState(useSession.getState())).toBe('unreachable');
    expect(useSession.getState().problem?.title).toBe('Workstation unreachable');
    expect(useNavigation.getState().route).toBe('overview');
  });

  it('does not store a token that fails its test, and says why', async () => {
    fakeBackend({ 'GET /health': REFUSED });
    expect(await useSession.getState().save(BAD)).toBe(false);
    expect(localStorage.getItem(API_TOKEN_STORAGE_KEY)).toBeNull();
    expect(useSession.getState().check).toEqual({ phase: 'failed', result: { title: 'Invalid or revoked token', detail: 'The token is not valid: it is unknown or has been revoked.' } });
  });

  it('test reports "Connection verified" with the token’s name and scope, and stores nothing', async () => {
    fakeBackend({ 'GET /health': json(200, HEALTH), 'GET /auth/session': json(200, ADMIN_SESSION) });
    expect(await useSession.getState().test(GOOD)).toBe(true);
    expect(useSession.getState().check.result).toEqual({ title: 'Connection verified', detail: 'The token “laptop” (admin scope) works with Halo Forge 0.1.0.' });
    expect(localStorage.getItem(API_TOKEN_STORAGE_KEY)).toBeNull();
  });

  it('clear forgets the stored token', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, GOOD);
    fakeBackend({ 'GET /auth/session': json(200, LOCAL_SESSION), 'GET /health': json(200, HEALTH) });
    await useSession.getState().clear();
    expect(localStorage.getItem(API_TOKEN_STORAGE_KEY)).toBeNull();
    expect(useSession.getState().hasStoredToken).toBe(false);
  });

  it('opened from a pairing link stores the token, verifies it, and lands on the Overview', async () => {
    fakeBackend({ 'GET /health': json(200, HEALTH), 'GET /auth/session': json(200, ADMIN_SESSION) });
    await useSession.getState().pair(GOOD);
    expect(localStorage.getItem(API_TOKEN_STORAGE_KEY)).toBe(GOOD);
    expect(useNavigation.getState()).toMatchObject({ route: 'overview', notice: { tone: 'ok' } });
    expect(authState(useSession.getState())).toBe('token-stored');
  });

  it('a pairing link with a refused token leaves the stored token alone (any page can link here)', async () => {
    localStorage.setItem(API_TOKEN_STORAGE_KEY, GOOD);
    fakeBackend({ 'GET /health': json(401, { error: 'auth.invalid', message: 'The token is not valid: it is unknown or has been revoked.' }), 'GET /auth/session': json(200, ADMIN_SESSION) });
    await useSession.getState().pair(`hfk_${'y'.repeat(43)}`);
    expect(localStorage.getItem(API_TOKEN_STORAGE_KEY)).toBe(GOOD);
    expect(useNavigation.getState().route).toBe('connection');
    expect(useSession.getState().check.phase).toBe('failed');
  });

  it('opened from a pairing link with something that is not an API token stores nothing', async () => {
    fakeBackend({ 'GET /auth/session': json(200, ANONYMOUS_SESSION) });
    await useSession.getState().pair('hf_abcdefghijklmnopqrstuvwxyz0123');
    expect(localStorage.length).toBe(0);
    expect(useNavigation.getState().route).toBe('connection');
    expect(useSession.getState().check.result?.title).toBe('Not a Halo Forge API token');
  });
});

it('a read token may look but not administer', () => {
  expect(canAdminister({ session: { local: false, authRequired: true, token: { ...TOKEN, scope: 'read' }, proxied: false }, refused: null })).toBe(false);
  expect(canAdminister({ session: ADMIN_SESSION, refused: null })).toBe(true);
});
