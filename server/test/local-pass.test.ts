import { describe, expect, it } from 'vitest';
import { clientAddress, hostAllowed, isCrossSiteFetch, isLoopbackAddress, localPass, parseHost, parseTrustedProxies } from '../src/auth/local-pass.js';
import { forwardedForChain, parseForwarded } from '../src/auth/forwarded.js';

const none = parseTrustedProxies(undefined);
const proxy = parseTrustedProxies('127.0.0.1,10.0.0.0/8');

describe('loopback addresses', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['[::1]', true],
    ['192.168.1.5', false],
    ['::ffff:192.168.1.5', false],
    ['0.0.0.0', false],
    ['', false],
    [undefined, false],
    ['testclient', false],
    ['localhost', false],
  ])('%s → %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });
});

describe('the local pass', () => {
  const local = { host: '127.0.0.1:8000' };
  it.each([
    ['loopback peer, loopback Host', '127.0.0.1', local, true],
    ['IPv6 loopback', '::1', { host: '[::1]:8000' }, true],
    ['localhost Host on any port', '127.0.0.1', { host: 'localhost:1234' }, true],
    ['mapped IPv4 loopback', '::ffff:127.0.0.1', local, true],
    ['unknown peer', undefined, local, false],
    ['empty peer', '', local, false],
    ['LAN peer', '192.168.1.50', local, false],
    ['same-host proxy (X-Forwarded-For)', '127.0.0.1', { ...local, 'x-forwarded-for': '203.0.113.7' }, false],
    ['same-host proxy (Forwarded)', '127.0.0.1', { ...local, forwarded: 'for=203.0.113.7' }, false],
    ['same-host proxy (X-Real-IP)', '127.0.0.1', { ...local, 'x-real-ip': '203.0.113.7' }, false],
    ['forwarded loopback from an untrusted proxy', '127.0.0.1', { ...local, 'x-forwarded-for': '127.0.0.1' }, false],
    ['DNS rebinding: foreign Host', '127.0.0.1', { host: 'evil.example:8000' }, false],
    ['no Host at all', '127.0.0.1', {}, false],
    ['cross-origin page', '127.0.0.1', { ...local, origin: 'https://evil.example' }, false],
    ['null origin (sandboxed frame)', '127.0.0.1', { ...local, origin: 'null' }, false],
    ['same-machine origin', '127.0.0.1', { ...local, origin: 'http://localhost:5173' }, true],
    ['cross-site fetch metadata', '127.0.0.1', { ...local, 'sec-fetch-site': 'cross-site' }, false],
    ['same-origin fetch metadata', '127.0.0.1', { ...local, 'sec-fetch-site': 'same-origin' }, true],
  ])('%s → %s', (_what, peer, headers, expected) => {
    expect(localPass({ peer, headers, trustedProxies: none, httpVersion: '1.1' }).local).toBe(expected);
  });

  it.each([
    ['trusted proxy forwarding a local client', '127.0.0.1', { ...local, 'x-forwarded-for': '127.0.0.1' }, true],
    ['trusted proxy forwarding a remote client', '127.0.0.1', { ...local, 'x-forwarded-for': '203.0.113.7' }, false],
    ['client-chosen left-most entry is ignored', '10.1.2.3', { ...local, 'x-forwarded-for': '127.0.0.1, 203.0.113.7' }, false],
    ['unreadable forwarded entry', '127.0.0.1', { ...local, 'x-forwarded-for': 'garbage' }, false],
    ['client-sent Forwarded past a proxy that writes X-Forwarded-For', '127.0.0.1', { ...local, 'x-forwarded-for': '203.0.113.9', forwarded: 'for=127.0.0.1' }, false],
    ['client-sent X-Forwarded-For past a proxy that writes X-Real-IP', '127.0.0.1', { ...local, 'x-real-ip': '203.0.113.9', 'x-forwarded-for': '127.0.0.1' }, false],
    ['a proxy writing two headers that agree', '127.0.0.1', { ...local, 'x-real-ip': '127.0.0.1', 'x-forwarded-for': '127.0.0.1' }, true],
  ])('with --trust-proxy: %s → %s', (_what, peer, headers, expected) => {
    expect(localPass({ peer, headers, trustedProxies: proxy, httpVersion: '1.1' }).local).toBe(expected);
  });

  // A same-host proxy that forwards without saying who its client is (nginx's
  // bare proxy_pass: HTTP/1.0, no forwarding header) must not make everyone local.
  it.each([
    ['HTTP/1.1 (browsers, Electron, the CLI)', '1.1', local, none, true],
    ['HTTP/2', '2.0', local, none, true],
    ['HTTP/1.0 with no forwarding header', '1.0', local, none, false],
    ['a Via header with no forwarding header', '1.1', { ...local, via: '1.1 proxy' }, none, false],
    ['HTTP/1.0 from a trusted proxy that names a local client', '1.0', { ...local, 'x-forwarded-for': '127.0.0.1' }, proxy, true],
    ['HTTP/1.0 from a trusted proxy that names a remote client', '1.0', { ...local, 'x-forwarded-for': '203.0.113.7' }, proxy, false],
  ])('%s → %s', (_what, httpVersion, headers, trustedProxies, expected) => {
    expect(localPass({ peer: '127.0.0.1', headers, trustedProxies, httpVersion }).local).toBe(expected);
  });
});

describe('client address', () => {
  it('is the peer when it is not a trusted proxy, whatever the headers say', () => {
    expect(clientAddress('192.168.1.9', { 'x-forwarded-for': '1.2.3.4' }, proxy)).toBe('192.168.1.9');
  });
  it('is unknown when forwarding headers disagree', () => {
    expect(clientAddress('10.0.0.2', { 'x-forwarded-for': '203.0.113.9', forwarded: 'for=127.0.0.1' }, proxy)).toBeNull();
  });
  it('is the right-most untrusted hop behind trusted proxies', () => {
    expect(clientAddress('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.0.0.9' }, proxy)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.2', { forwarded: 'for=198.51.100.4;proto=https, for="[2001:db8::1]:4711"' }, proxy)).toBe('2001:db8::1');
  });
});

describe('Host allowlist for loopback listeners', () => {
  it.each([
    ['127.0.0.1:8000', [], true],
    ['localhost', [], true],
    ['[::1]:8000', [], true],
    ['app.localhost:8000', [], true],
    ['evil.example:8000', [], false],
    ['127.0.0.1.evil.example', [], false],
    ['workstation.lan:8000', ['workstation.lan'], true],
    ['workstation.lan:9000', ['workstation.lan:8000'], false],
    ['workstation.lan:8000', ['workstation.lan:*'], true],
    [undefined, [], false],
    // Read as a whole, not up to the first ":" or "]".
    ['127.0.0.1:8000@evil.com', [], false],
    ['localhost:abc', [], false],
    ['127.0.0.1:1,evil.com', [], false],
    ['[::1]evil', [], false],
    ['localhost:', [], false],
    ['localhost:99999', [], false],
    ['workstation.lan:8000@evil.com', ['workstation.lan'], false],
  ])('%s with %j → %s', (host, allowed, ok) => {
    expect(hostAllowed(host, allowed)).toBe(ok);
  });
});

describe('Host values', () => {
  it.each([
    ['127.0.0.1:8000', { hostname: '127.0.0.1', port: 8000 }],
    ['LOCALHOST', { hostname: 'localhost', port: null }],
    ['[::1]:8000', { hostname: '[::1]', port: 8000 }],
    ['[::ffff:127.0.0.1]', { hostname: '[::ffff:127.0.0.1]', port: null }],
    ['workstation.lan.', { hostname: 'workstation.lan.', port: null }],
    ['127.0.0.1:8000@evil.com', null],
    ['localhost:abc', null],
    ['127.0.0.1:1,evil.com', null],
    ['localhost, evil.example', null],
    ['[::1]evil', null],
    ['[::1]:80:80', null],
    ['[evil]', null],
    ['[::1', null],
    ['localhost:', null],
    ['localhost:65536', null],
    ['a..b', null],
    ['', null],
    ['l\u043ecalhost', null],
  ])('%j → %j', (host, parsed) => {
    expect(parseHost(host)).toEqual(parsed);
  });

  it.each(['127.0.0.1:8000@evil.com', 'localhost:abc', '127.0.0.1:1,evil.com', '[::1]evil'])('%s is no loopback name for the local pass', (host) => {
    expect(localPass({ peer: '127.0.0.1', headers: { host }, trustedProxies: none, httpVersion: '1.1' })).toEqual({ local: false, reason: 'Host is not a loopback name' });
  });
});

describe('Sec-Fetch-Site', () => {
  it.each([
    ['cross-site', true],
    ['Cross-Site', true],
    ['CROSS-SITE', true],
    ['same-origin, cross-site', true],
    ['cross-site,same-origin', true],
    ['same-origin', false],
    ['same-site', false],
    ['none', false],
    ['', false],
  ])('%j → cross-site %s, in the local pass and in the gate alike', (value, cross) => {
    expect(isCrossSiteFetch({ 'sec-fetch-site': value })).toBe(cross);
    expect(localPass({ peer: '127.0.0.1', headers: { host: 'localhost', 'sec-fetch-site': value }, trustedProxies: none, httpVersion: '1.1' }).local).toBe(!cross);
  });
});

describe('Forwarded (RFC 7239)', () => {
  it.each([
    ['for=192.0.2.60;proto=http;by=203.0.113.43', ['192.0.2.60']],
    ['For="[2001:db8:cafe::17]:4711"', ['2001:db8:cafe::17']],
    ['for="192.0.2.43:4711"', ['192.0.2.43']],
    ['for=192.0.2.43, for=198.51.100.17', ['192.0.2.43', '198.51.100.17']],
    ['for=192.0.2.43,for=198.51.100.17', ['192.0.2.43', '198.51.100.17']],
    ['for=192.0.2.43 ; proto=https , for=10.0.0.5', ['192.0.2.43', '10.0.0.5']],
    // The attack: "for=" inside another parameter's quoted string is not a parameter.
    ['x="a;for=127.0.0.1";for=10.0.0.5', ['10.0.0.5']],
    ['x="a,for=127.0.0.1", for=10.0.0.5', ['', '10.0.0.5']],
    ['x="a\\";for=127.0.0.1";for=10.0.0.5', ['10.0.0.5']],
    ['x="\\"", for=10.0.0.5', ['', '10.0.0.5']],
    ['for=unknown', ['']],
    ['for=_hidden, for=_SEVKISEK', ['', '']],
    ['for="_gazonk"', ['']],
    ['for="[::1]:_port"', ['::1']],
    ['proto=https', ['']],
    ['for=localhost', ['']],
    ['for="[127.0.0.1]"', ['']],
    ['for="::1"', ['']],
    ['for=10.0.0.300', ['']],
    // Grammar errors: the whole header is unreadable.
    ['for="127.0.0.1', null],
    ['for=127.0.0.1;for=10.0.0.1', null],
    ['for =127.0.0.1', null],
    ['for=', null],
    ['for=[::1]', null],
    ['for=127.0.0.1:80', null],
    ['for=a b', null],
    ['for="a"b', null],
  ])('%s → %j', (value, chain) => {
    expect(forwardedForChain(value)).toEqual(chain);
  });

  it('keeps every parameter, unquoted', () => {
    expect(parseForwarded('for="_a\\\\b";Proto=https;by=unknown')).toEqual([new Map([['for', '_a\\b'], ['proto', 'https'], ['by', 'unknown']])]);
  });

  it.each([
    ['a for= hidden in another parameter', 'x="a;for=127.0.0.1";for=10.0.0.5', null, '10.0.0.5'],
    ['a local client named by the proxy', 'for=127.0.0.1;proto=http', 'local', '127.0.0.1'],
    ['the element the proxy added, not the client’s', 'for=127.0.0.1, for=203.0.113.7', null, '203.0.113.7'],
    ['walking left past trusted proxies', 'for=203.0.113.7, for="10.0.0.9:1234"', null, '203.0.113.7'],
    ['an obfuscated client is unknown', 'for=_hidden', null, null],
    ['an unknown client is unknown', 'for=127.0.0.1, for=unknown', null, null],
    ['an unreadable header is unknown', 'for="127.0.0.1', null, null],
  ])('with --trust-proxy: %s', (_what, forwarded, local, client) => {
    const headers = { host: 'localhost', forwarded };
    expect(clientAddress('127.0.0.1', headers, proxy)).toBe(client);
    expect(localPass({ peer: '127.0.0.1', headers, trustedProxies: proxy, httpVersion: '1.1' }).local).toBe(local === 'local');
  });
});

describe('--trust-proxy parsing', () => {
  it('names the entry it cannot read', () => {
    expect(() => parseTrustedProxies('10.0.0.0/8,nonsense')).toThrow('--trust-proxy: "nonsense" is not an IP address or CIDR range');
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow('--trust-proxy: "10.0.0.0/33" has a bad prefix length');
  });
});
