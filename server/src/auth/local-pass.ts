import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { forwardedForChain } from './forwarded.js';

// Pure decisions about who is asking. No I/O, so the tests can table them.

export function normalizeAddress(address: string | undefined | null): string | null {
  if (!address) return null;
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  if (/^::ffff:/i.test(a) && isIP(a.slice(7)) === 4) a = a.slice(7);
  return isIP(a) ? a.toLowerCase() : null;
}

export function isLoopbackAddress(address: string | undefined | null): boolean {
  const a = normalizeAddress(address);
  if (!a) return false;
  return isIP(a) === 4 ? a.startsWith('127.') : a === '::1';
}

export interface HostValue {
  /** Lower-cased; an IPv6 literal keeps its brackets. */
  hostname: string;
  port: number | null;
}

// A DNS name or IPv4 address (labels of letters, digits, "-" and "_"; a final
// dot allowed), or a bracketed IPv6 literal, then an optional numeric port.
const HOST_VALUE = /^(?:([a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)|(\[[0-9a-f:.]+\]))(?::(\d{1,5}))?$/;

/**
 * Reads a Host header (or URL authority) as a whole: a name, an optional
 * port, nothing else. Reading only up to the first ":" would take
 * `127.0.0.1:8000@evil.com`, `localhost:abc` or `127.0.0.1:1,evil.com` for a
 * loopback name, and `[::1]evil` too when stopping at the "]".
 */
export function parseHost(host: string | undefined): HostValue | null {
  if (host === undefined) return null;
  const match = HOST_VALUE.exec(host.trim().toLowerCase());
  if (!match) return null;
  const [, name, literal, port] = match;
  if (literal !== undefined && isIP(literal.slice(1, -1)) !== 6) return null;
  if (port !== undefined && Number(port) > 65535) return null;
  return { hostname: (name ?? literal)!, port: port === undefined ? null : Number(port) };
}

/** The hostname part of a Host header or URL authority, lower-cased, without the port; null when it does not parse. */
export function hostnameOf(host: string | undefined): string | null {
  return parseHost(host)?.hostname ?? null;
}

export function isLoopbackHostname(hostname: string | null): boolean {
  if (!hostname) return false;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  return isLoopbackAddress(hostname);
}

/** Host names a loopback listener answers; anything else is DNS rebinding until said otherwise. */
export function hostAllowed(host: string | undefined, allowedHosts: readonly string[]): boolean {
  const parsed = parseHost(host);
  if (!parsed) return false;
  const { hostname } = parsed;
  if (isLoopbackHostname(hostname)) return true;
  const full = parsed.port === null ? hostname : `${hostname}:${parsed.port}`;
  return allowedHosts.some((entry) => {
    const e = entry.trim().toLowerCase();
    return e === '*' || e === full || e === hostname || (e.endsWith(':*') && e.slice(0, -2) === hostname);
  });
}

export function isLoopbackOrigin(origin: string): boolean {
  if (origin === 'null') return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHostname(hostnameOf(url.host));
  } catch {
    return false;
  }
}

export type TrustedProxies = BlockList;

/** Parses `--trust-proxy 10.0.0.1,192.168.0.0/24,::1`; throws with the entry it cannot read. */
export function parseTrustedProxies(spec: string | readonly string[] | undefined): TrustedProxies {
  const list = new BlockList();
  const entries = (typeof spec === 'string' ? spec.split(',') : (spec ?? [])).map((s) => s.trim()).filter(Boolean);
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const a = normalizeAddress(addr);
    if (!a) throw new Error(`--trust-proxy: "${entry}" is not an IP address or CIDR range`);
    const family = isIP(a) === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(a, family);
    } else {
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 'ipv4' ? 32 : 128)) throw new Error(`--trust-proxy: "${entry}" has a bad prefix length`);
      list.addSubnet(a, prefix, family);
    }
  }
  return list;
}

function isTrusted(address: string, proxies: TrustedProxies): boolean {
  return proxies.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Fetch Metadata says a page from another site sent this. Compared without
 * regard to case, and a header sent twice (Node joins the copies with ", ")
 * or holding a list counts as cross-site when any of its values is.
 */
export function isCrossSiteFetch(headers: IncomingHttpHeaders): boolean {
  const value = header(headers, 'sec-fetch-site');
  return value !== undefined && value.split(',').some((v) => v.trim().toLowerCase() === 'cross-site');
}

export function hasForwardingHeaders(headers: IncomingHttpHeaders): boolean {
  return headers.forwarded !== undefined || headers['x-forwarded-for'] !== undefined || headers['x-real-ip'] !== undefined;
}

/** Each forwarding header present, as its hop list (left = furthest from us). */
function forwardedChains(headers: IncomingHttpHeaders): string[][] {
  const chains: string[][] = [];
  const forwarded = header(headers, 'forwarded');
  // A value that breaks RFC 7239 is one hop nobody can read: the client is unknown.
  if (forwarded !== undefined) chains.push(forwardedForChain(forwarded) ?? ['']);
  const xff = header(headers, 'x-forwarded-for');
  if (xff !== undefined) chains.push(xff.split(',').map((s) => s.trim()));
  const real = header(headers, 'x-real-ip');
  if (real !== undefined) chains.push([real.trim()]);
  return chains;
}

/** The right-most hop that is not one of our proxies; null when a hop cannot be read. */
function clientFromChain(chain: string[], proxies: TrustedProxies): string | null {
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(chain[i]);
    if (!hop) return null;
    if (!isTrusted(hop, proxies)) return hop;
  }
  return normalizeAddress(chain[0]);
}

/**
 * The address to attribute a request to. Forwarding headers count only when
 * the peer is a proxy the operator named; the client is then the right-most
 * address in the chain that is not one of those proxies (left-most entries
 * are whatever the client chose to send). A proxy usually sets one of the
 * three headers and passes the client's copies of the others through, so
 * when several are present they must agree, or the client is unknown (never
 * local): otherwise a remote client could send `Forwarded: for=127.0.0.1`
 * past a proxy that only writes X-Forwarded-For.
 */
export function clientAddress(peer: string | undefined, headers: IncomingHttpHeaders, proxies: TrustedProxies): string | null {
  const direct = normalizeAddress(peer);
  if (!direct || !hasForwardingHeaders(headers) || !isTrusted(direct, proxies)) return direct;
  const candidates = forwardedChains(headers).map((chain) => clientFromChain(chain, proxies));
  const first = candidates[0] ?? null;
  return candidates.every((c) => c !== null && c === first) ? first : null;
}

export interface LocalPassInput {
  peer: string | undefined;
  headers: IncomingHttpHeaders;
  trustedProxies: TrustedProxies;
  /** As Node reports it: '1.0', '1.1' or '2.0'. */
  httpVersion: string;
}

export type LocalPass = { local: true } | { local: false; reason: string };

/**
 * The no-token pass for a user on this machine. Every condition closes a hole
 * a peer left open: a same-host reverse proxy making every caller look local,
 * an unknown peer passing as local, and a web page driving the loopback API
 * through DNS rebinding or a cross-site request.
 */
export function localPass({ peer, headers, trustedProxies, httpVersion }: LocalPassInput): LocalPass {
  const direct = normalizeAddress(peer);
  if (!direct) return { local: false, reason: 'unknown client address' };
  if (hasForwardingHeaders(headers)) {
    if (!isTrusted(direct, trustedProxies)) return { local: false, reason: 'forwarded by an untrusted proxy' };
    if (!isLoopbackAddress(clientAddress(peer, headers, trustedProxies))) return { local: false, reason: 'forwarded client is not on this machine' };
  } else if (!isLoopbackAddress(direct)) {
    return { local: false, reason: 'client is not on this machine' };
  } else if (httpVersion === '1.0' || headers.via !== undefined) {
    // A same-host proxy that does not say who its client is. nginx's bare
    // `proxy_pass` is the common case: it speaks HTTP/1.0 and sends no
    // forwarding header. Browsers, Electron and the CLI speak HTTP/1.1 or later.
    return { local: false, reason: 'proxied (HTTP/1.0 or Via) without saying who the client is' };
  }
  if (!isLoopbackHostname(hostnameOf(header(headers, 'host')))) return { local: false, reason: 'Host is not a loopback name' };
  const origin = header(headers, 'origin');
  if (origin !== undefined && !isLoopbackOrigin(origin)) return { local: false, reason: 'cross-origin request' };
  if (isCrossSiteFetch(headers)) return { local: false, reason: 'cross-site request' };
  return { local: true };
}
