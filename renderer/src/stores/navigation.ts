import { create } from 'zustand';
import type { ApiClient } from '../api/client';
import { explainFailure, type ApiFailure, type Explained } from '../api/failure';

export const ROUTES = ['overview', 'models', 'playground', 'connection', 'huggingface', 'tokens'] as const;
export type Route = (typeof ROUTES)[number];

export const ROUTE_TITLES: Record<Route, string> = {
  overview: 'Overview',
  models: 'Models',
  playground: 'Playground',
  connection: 'Connection',
  huggingface: 'Hugging Face',
  tokens: 'API tokens',
};

/** Why the user was sent to Connection, and where to take them back. */
export interface Interruption {
  from: Route;
  /** "loading the API tokens"; null when nothing was under way (a token is needed from the start). */
  doing: string | null;
  reason: Explained;
}

export interface Notice {
  tone: 'ok' | 'warn' | 'danger';
  text: string;
}

interface NavigationState {
  route: Route;
  interruption: Interruption | null;
  notice: Notice | null;
  go(route: Route): void;
  /** Follows the address bar (back/forward, typed hash). */
  syncFromHash(hash: string): void;
  /** The token was refused (or is needed): go to Connection and remember what the user was doing. */
  interrupt(doing: string | null, reason: Explained): void;
  /** A token works again: back to where the user was interrupted. */
  resume(): void;
  showNotice(notice: Notice): void;
  dismissNotice(): void;
}

export function routeFromHash(hash: string): Route {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'overview';
}

function writeHash(route: Route): void {
  if (typeof location !== 'undefined' && routeFromHash(location.hash) !== route) location.hash = `/${route}`;
}

export const useNavigation = create<NavigationState>()((set, get) => ({
  route: typeof location === 'undefined' ? 'overview' : routeFromHash(location.hash),
  interruption: null,
  notice: null,
  go(route) {
    set({ route });
    writeHash(route);
  },
  syncFromHash(hash) {
    const route = routeFromHash(hash);
    if (route !== get().route) set({ route });
  },
  interrupt(doing, reason) {
    const { route, interruption } = get();
    // Several calls fail at once when a token is revoked; the first one knows where the user was.
    const from = interruption?.from ?? route;
    set({ interruption: { from, doing: interruption?.doing ?? doing, reason } });
    get().go('connection');
  },
  resume() {
    const { interruption } = get();
    if (!interruption) return;
    set({ interruption: null });
    if (interruption.from !== 'connection') get().go(interruption.from);
  },
  showNotice(notice) {
    set({ notice });
  },
  dismissNotice() {
    set({ notice: null });
  },
}));

/** Wires the client's "token refused" report to the Connection screen. */
export function redirectRefusedTokens(client: ApiClient, onRefused: (failure: ApiFailure) => void = () => undefined): void {
  client.onTokenRefused((failure, doing) => {
    onRefused(failure);
    useNavigation.getState().interrupt(doing, explainFailure(failure));
  });
}
