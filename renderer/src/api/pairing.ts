/**
 * A pairing link is the dashboard's address with `#token=hfk_...`: a QR code
 * or a link is all a second device needs. The fragment never reaches a server
 * log (unlike a query string), and it is removed from the address bar and the
 * history entry before anything renders, so the token is not left on screen.
 * Returns the token, or null when the address is not a pairing link.
 */
export function consumePairingLink(location: Pick<Location, 'hash' | 'pathname' | 'search'>, history: Pick<History, 'replaceState'>): string | null {
  const match = /^#token=([^&]*)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, '', `${location.pathname}${location.search}#/connection`);
  let token: string;
  try {
    token = decodeURIComponent(match[1] ?? '').trim();
  } catch {
    return null;
  }
  return token === '' ? null : token;
}
