import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { API_PREFIX } from '../../../../shared/api.js';
import { buildApp, type RegisteredRoute } from '../../../src/app.js';
import { OPENAI_PREFIX } from '../../../src/plugins/auth-gate.js';
import { tempHome, testEnv } from '../backend-process.js';
import type { Route } from './requests.js';

// The fuzzer's targets come from the app's own route table, so a route added
// later is under fire the day it is registered, not the day someone remembers
// to list it.

/** Stands in for every path parameter: names nothing that exists, so a mutating route that is reached changes nothing. */
export const NOBODY = 'fuzz-nobody';

/** The only routes the spec lets anyone reach without credentials. */
const PUBLIC_ROUTES = new Set([`GET ${API_PREFIX}/auth/session`, `HEAD ${API_PREFIX}/auth/session`]);

/** Every route the app registers, as built with an empty dashboard folder (so the only page route is its placeholder). */
export async function registeredRoutes(): Promise<RegisteredRoute[]> {
  const { home, cleanup } = tempHome('halo-forge-route-table-');
  const routes: RegisteredRoute[] = [];
  try {
    const dashboardDir = join(home, 'no-dashboard');
    mkdirSync(dashboardDir);
    const env = testEnv(home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: 'http://127.0.0.1:9' });
    const app = await buildApp({ env, logLevel: 'silent', dashboardDir, onRoute: (route) => routes.push(route) });
    await app.ready();
    await app.close();
  } finally {
    cleanup();
  }
  return routes;
}

const under = (url: string, prefix: string) => url === prefix || url.startsWith(`${prefix}/`);
export const isGated = (url: string) => under(url, API_PREFIX) || under(url, OPENAI_PREFIX);

/**
 * The least scope the gate asks of a route (null: public), by the same rule
 * the gate applies to the route's config: an explicit scope, else read for
 * GET/HEAD and operate otherwise.
 */
export function neededScope(route: RegisteredRoute): Route['scope'] {
  if (route.config.public) return null;
  return route.config.scope ?? (route.method === 'GET' || route.method === 'HEAD' ? 'read' : 'operate');
}

/** A fuzz target for each gated route: its pattern with every parameter (and wildcard) filled with NOBODY. */
export function fuzzRoutes(routes: readonly RegisteredRoute[]): Route[] {
  return routes
    .filter((r) => isGated(r.url))
    .map((r) => ({
      id: `${r.method} ${r.url}`,
      method: r.method,
      path: r.url.replace(/:[^/]+/g, NOBODY).replace(/\*/g, NOBODY),
      scope: neededScope(r),
    }));
}

/** What in the table the gate would not cover, in words: a route outside the gated prefixes (the dashboard aside), or an unlisted public one. */
export function ungatedProblems(routes: readonly RegisteredRoute[]): string[] {
  const problems: string[] = [];
  for (const r of routes) {
    const key = `${r.method} ${r.url}`;
    if (!isGated(r.url) && !(r.url === '/' && (r.method === 'GET' || r.method === 'HEAD'))) problems.push(`${key} is outside ${API_PREFIX} and ${OPENAI_PREFIX}`);
    if (r.config.public && !PUBLIC_ROUTES.has(key)) problems.push(`${key} is public, and only the session route may be`);
  }
  return problems;
}
