/**
 * Where the window may go. The only page it shows is the dashboard served by
 * the embedded backend on loopback; anything else is either opened in the
 * system browser (https: only) or refused. Pure functions: the tests table them.
 */

export function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** The origin of the embedded backend, only ever http on loopback: `http://127.0.0.1:8000`. */
export function backendOriginOf(backendUrl: string): string | null {
  const u = parseUrl(backendUrl);
  if (!u || u.protocol !== 'http:' || u.hostname !== '127.0.0.1' || u.username || u.password) return null;
  return u.origin;
}

/** Is `url` a page of the embedded backend? Compares whole origins, so `http://127.0.0.1:8000@evil.example/` is not. */
export function isBackendUrl(url: string, backendOrigin: string | null): boolean {
  if (!backendOrigin) return false;
  const u = parseUrl(url);
  return u !== null && u.origin === backendOrigin;
}

const MAX_EXTERNAL_URL_LENGTH = 2048;

/**
 * May this URL go to `shell.openExternal`? Only https: with a host and no
 * credentials: file:, smb:, custom schemes and friends can run programs or
 * leak NTLM hashes when handed to the OS.
 */
export function mayOpenExternally(url: string): boolean {
  if (typeof url !== 'string' || url.length > MAX_EXTERNAL_URL_LENGTH) return false;
  const u = parseUrl(url);
  return u !== null && u.protocol === 'https:' && u.hostname !== '' && !u.username && !u.password;
}

export interface Refusal {
  allow: false;
  /** Hand this URL to the system browser instead; null: just refuse. */
  openExternally: string | null;
  reason: string;
}

export type NavigationDecision = { allow: true } | Refusal;

/** `will-navigate` / `will-redirect`: stay on the backend's origin. A link elsewhere goes to the browser if it is https:. */
export function decideNavigation(url: string, backendOrigin: string | null): NavigationDecision {
  if (isBackendUrl(url, backendOrigin)) return { allow: true };
  if (mayOpenExternally(url)) return { allow: false, openExternally: url, reason: 'external https: page: opened in the system browser' };
  return { allow: false, openExternally: null, reason: 'not the dashboard and not an https: page' };
}

/** `setWindowOpenHandler`: the app never opens a second window; https: links go to the browser. */
export function decideWindowOpen(url: string): Refusal {
  if (mayOpenExternally(url)) return { allow: false, openExternally: url, reason: 'new window: opened in the system browser instead' };
  return { allow: false, openExternally: null, reason: 'new windows are not allowed' };
}
