import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '../../shared/api.js';
import { runCli, tempHome, waitFor, workstations } from './support/backend-process.js';
import { createTestHost, netnsUnavailable, type TestHost } from './support/netns.js';
import { caddySite, freePort, nginxSite, proxyUnavailable, serveArgs, startProxy, type ProxyKind, type ProxySite, type RunningProxy } from './support/reverse-proxy.js';
import { selfSignedCertificate, type TestCertificate } from './support/test-certificate.js';
import { openStream, requestOnce, requestThroughProxy, type ProxyEndpoint } from './support/tls-client.js';

// The backend behind real nginx and Caddy terminating TLS on this machine, as
// the spec expects it to be deployed. The laptop is a process in a network
// namespace; the proxy is the only thing that talks to the backend.

const HOSTNAME = 'workstation.test';

/** The values the README's configurations are written with. */
const README_SITE: ProxySite = {
  hostname: 'workstation.example',
  listen: { port: 443 },
  certFile: '/etc/ssl/certs/workstation.example.pem',
  keyFile: '/etc/ssl/private/workstation.example.key',
  backendPort: 8000,
};

function fencedBlock(markdown: string, language: string): string {
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(markdown);
  if (!match) throw new Error(`README.md has no \`\`\`${language} block`);
  return match[1]!;
}

describe('the README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it('shows the nginx and Caddy configurations and the serve flags these tests run', () => {
    expect(fencedBlock(readme, 'nginx')).toBe(nginxSite(README_SITE));
    expect(fencedBlock(readme, 'caddyfile')).toBe(caddySite(README_SITE));
    expect(readme).toContain(`halo-forge serve ${serveArgs(README_SITE.hostname).join(' ')}`);
  });
});

const unavailable = netnsUnavailable();
if (unavailable) console.log(`[reverse-proxy] skipped: ${unavailable}`);

const SITES: Record<ProxyKind, (site: ProxySite) => string> = { nginx: nginxSite, caddy: caddySite };
/** What each configuration negotiates with a browser: the event stream must work over both. */
const PROTOCOL: Record<ProxyKind, string> = { nginx: 'http/1.1', caddy: 'h2' };

describe.skipIf(unavailable !== null)('behind a real reverse proxy', () => {
  let link: TestHost;
  let cert: TestCertificate;
  beforeAll(() => {
    link = createTestHost();
    cert = selfSignedCertificate(HOSTNAME);
  });
  afterAll(() => link?.remove());

  const { home, backend, release } = workstations();
  let proxies: RunningProxy[] = [];
  let folders: (() => void)[] = [];
  afterEach(async () => {
    for (const p of proxies) await p.stop();
    for (const f of folders) f();
    proxies = [];
    folders = [];
    await release();
  });

  interface Stack {
    home: string;
    env: NodeJS.ProcessEnv;
    backendPort: number;
    /** A laptop on the LAN, in the namespace. */
    laptop: ProxyEndpoint;
    /** A client on this machine that reaches the proxy by its link address, so the proxy sees a second, non-loopback address. */
    otherClient: ProxyEndpoint;
    tokens: Record<string, string>;
  }

  /** A workstation with these admin tokens, its backend started with `args`, behind `kind` configured by `site`. */
  async function stack(kind: ProxyKind, opts: { tokens?: string[]; args?: string[]; site?: (s: ProxySite) => string } = {}): Promise<Stack> {
    const { home: h, env } = home();
    const tokens: Record<string, string> = {};
    for (const name of opts.tokens ?? []) tokens[name] = JSON.parse((await runCli(['token', 'create', name, '--json'], env)).stdout).token;
    const b = await backend(opts.args ?? serveArgs(HOSTNAME), env);

    const folder = tempHome('halo-forge-proxy-');
    folders.push(folder.cleanup);
    const certFile = join(folder.home, 'cert.pem');
    const keyFile = join(folder.home, 'key.pem');
    writeFileSync(certFile, cert.certPem);
    writeFileSync(keyFile, cert.keyPem, { mode: 0o600 });
    const port = await freePort(link.hostAddress);
    const site = (opts.site ?? SITES[kind])({ hostname: HOSTNAME, listen: { address: link.hostAddress, port }, certFile, keyFile, backendPort: b.port });
    proxies.push(await startProxy(kind, folder.home, site, link.hostAddress, port));

    const otherClient: ProxyEndpoint = { address: link.hostAddress, port, hostname: HOSTNAME, ca: cert.certPem };
    return { home: h, env, backendPort: b.port, laptop: { ...otherClient, netns: link.namespace }, otherClient, tokens };
  }

  const auditLog = (h: string): AuditEntry[] =>
    readFileSync(join(h, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntry);

  describe.each(['nginx', 'caddy'] as const)('%s', (kind) => {
    const missing = proxyUnavailable(kind);
    if (missing) console.log(`[reverse-proxy] ${kind} skipped: ${missing}`);

    it.skipIf(missing !== null)('a laptop needs a token over HTTPS; the workstation itself still needs none', async () => {
      const s = await stack(kind, { tokens: ['laptop'] });
      const bearer = { authorization: `Bearer ${s.tokens.laptop}` };
      const [session, noToken, withToken, apiKey, dashboard] = await requestThroughProxy(s.laptop, [
        { path: '/api/public/auth/session' },
        { path: '/api/public/tokens' },
        { path: '/api/public/health', headers: bearer },
        { path: '/api/public/auth/session', headers: { 'x-api-key': s.tokens.laptop! } },
        { path: '/' },
      ]);
      expect(session).toMatchObject({ status: 200, protocol: PROTOCOL[kind], body: { local: false, authRequired: true, token: null, proxied: true } });
      expect(noToken).toMatchObject({
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="halo-forge"' },
        body: {
          error: 'auth.required',
          message: 'This workstation needs an API token: send "Authorization: Bearer hfk_...". Create one on the workstation with "halo-forge token create NAME".',
        },
      });
      expect(withToken).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(apiKey).toMatchObject({ status: 200, body: { local: false, authRequired: true, token: { name: 'laptop', scope: 'admin' } } });
      expect(dashboard).toMatchObject({ status: 200, headers: { 'content-type': expect.stringContaining('text/html') } });
      expect(dashboard!.headers['content-security-policy']).toContain("default-src 'self'");

      // The desktop window talks to the backend directly, on loopback.
      const direct = await fetch(`http://127.0.0.1:${s.backendPort}/api/public/auth/session`);
      expect(await direct.json()).toEqual({ local: true, authRequired: false, token: null, proxied: false });
    });

    it.skipIf(missing !== null)('forwarding headers a laptop sends itself change nothing: it is not local, and the audit log names its real address', async () => {
      const s = await stack(kind, { tokens: ['laptop'] });
      const spoofs: Record<string, string>[] = [
        { 'x-forwarded-for': '127.0.0.1' },
        { forwarded: 'for=127.0.0.1' },
        { 'x-real-ip': '127.0.0.1' },
        { 'x-forwarded-for': '127.0.0.1', forwarded: 'for="[::1]"', 'x-real-ip': '::1' },
      ];
      const replies = await requestThroughProxy(
        s.laptop,
        spoofs.flatMap((headers) => [
          { path: '/api/public/auth/session', headers },
          { path: '/api/public/tokens', headers },
          { path: '/api/public/health', headers: { ...headers, authorization: `Bearer ${s.tokens.laptop}` } },
        ]),
      );
      expect(replies).toMatchObject(
        spoofs.flatMap(() => [
          { status: 200, body: { local: false, authRequired: true, token: null } },
          { status: 401, body: { error: 'auth.required' } },
          { status: 200, body: { status: 'ok' } },
        ]),
      );

      // A laptop naming the workstation "localhost": nginx forwards that Host,
      // but its X-Forwarded-For still names the laptop; Caddy serves no site
      // by that name and answers itself, so the backend never sees it.
      const claimsLocalhost = await requestOnce(s.laptop, { path: '/api/public/tokens', headers: { host: 'localhost' } });
      if (kind === 'nginx') expect(claimsLocalhost).toMatchObject({ status: 401, body: { error: 'auth.required' } });
      else expect(claimsLocalhost).toMatchObject({ status: 200, headers: { server: 'Caddy' }, body: '' });

      const entries = auditLog(s.home).filter((e) => e.address !== undefined);
      expect(entries.map((e) => e.event).sort()).toEqual(['auth.failed', 'token.first_use']);
      expect(entries.map((e) => e.address)).toEqual([link.nsAddress, link.nsAddress]);
    });

    it.skipIf(missing !== null)('each client behind the proxy is throttled on its own address, and a valid token still works', async () => {
      const s = await stack(kind, { tokens: ['laptop'] });
      const guess = { authorization: `Bearer hfk_${'A'.repeat(43)}` };
      const replies = await requestThroughProxy(s.laptop, [
        ...Array.from({ length: 11 }, () => ({ path: '/api/public/health', headers: guess })),
        { path: '/api/public/health', headers: { authorization: `Bearer ${s.tokens.laptop}` } },
      ]);
      expect(replies.map((r) => r.status)).toEqual([...Array(10).fill(401), 429, 200]);
      expect(replies[10]).toMatchObject({ body: { error: 'auth.throttled', message: expect.stringContaining(`from ${link.nsAddress};`) } });
      expect(Number(replies[10]!.headers['retry-after'])).toBeGreaterThan(0);

      // Another client reaches the same backend through the same proxy: its own count.
      expect(await requestOnce(s.otherClient, { path: '/api/public/health', headers: guess })).toMatchObject({ status: 401, body: { error: 'auth.invalid' } });
      expect(auditLog(s.home).find((e) => e.event === 'auth.throttled')).toMatchObject({ address: link.nsAddress });
    });

    it.skipIf(missing !== null)('the live activity stream arrives through the proxy as events happen, and ends when its token is revoked', async () => {
      const s = await stack(kind, { tokens: ['laptop'] });
      const bearer = { authorization: `Bearer ${s.tokens.laptop}` };
      const stream = openStream(s.laptop, { path: '/api/public/audit/stream', headers: bearer });
      try {
        await stream.waitForText(': halo-forge audit stream', 10_000, 'the stream to open through the proxy');
        expect([stream.status(), stream.protocol()]).toEqual([200, PROTOCOL[kind]]);

        // An event while the stream is open: a buffering proxy would hold it back until the stream ends.
        await requestOnce(s.otherClient, { path: '/api/public/health', headers: { authorization: `Bearer hfk_${'B'.repeat(43)}` } });
        await stream.waitForText(`"address":"${link.hostAddress}"`, 10_000, 'the auth.failed event to reach the laptop while the stream is open');
        expect(stream.ended()).toBe(false);

        await runCli(['token', 'revoke', 'laptop'], s.env);
        await waitFor(() => stream.ended(), 10_000, 'the proxy to end the stream of a revoked token');
        expect(await requestOnce(s.laptop, { path: '/api/public/health', headers: bearer })).toMatchObject({ status: 401, body: { error: 'auth.invalid' } });
      } finally {
        await stream.close();
      }
    });

    it.skipIf(missing !== null)('without --allowed-hosts, the backend refuses the name the proxy forwards (421)', async () => {
      const s = await stack(kind, { tokens: ['laptop'], args: ['--trust-proxy', '127.0.0.1'] });
      expect(await requestOnce(s.laptop, { path: '/api/public/health', headers: { authorization: `Bearer ${s.tokens.laptop}` } })).toMatchObject({
        status: 421,
        body: { error: 'request.host', message: 'This server answers only to localhost. To reach it under another name, start it with --allowed-hosts.' },
      });
    });
  });

  // What many nginx guides show: nginx then sends no forwarding header and
  // "Host: 127.0.0.1:<port>", so the request looks like a local user's, except
  // that nginx speaks HTTP/1.0 to the backend, which no browser, Electron or the
  // CLI does. The backend refuses the local pass to that.
  const bare =
    (extra: string) =>
    (site: ProxySite) => `server {
    listen ${site.listen.address}:${site.listen.port} ssl;
    server_name ${site.hostname};
    ssl_certificate     ${site.certFile};
    ssl_certificate_key ${site.keyFile};
    location / {
        proxy_pass http://127.0.0.1:${site.backendPort};${extra}
    }
}
`;

  it.skipIf(proxyUnavailable('nginx') !== null)('nginx with a bare proxy_pass (HTTP/1.0, no forwarding header) does not hand its clients the local pass', async () => {
    const s = await stack('nginx', { tokens: ['laptop'], args: [], site: bare('') });
    const [session, tokens, withToken] = await requestThroughProxy(s.laptop, [
      { path: '/api/public/auth/session' },
      { path: '/api/public/tokens' },
      { path: '/api/public/tokens', headers: { authorization: `Bearer ${s.tokens.laptop}` } },
    ]);
    expect(session).toMatchObject({ status: 200, body: { local: false, authRequired: true } });
    expect(tokens).toMatchObject({ status: 401, body: { error: 'auth.required' } });
    expect(withToken).toMatchObject({ status: 200 });
  });

  it.skipIf(proxyUnavailable('nginx') !== null)('nginx forwarding over HTTP/1.1 with no forwarding header still looks local: the hole only X-Forwarded-For closes', async () => {
    // Indistinguishable from a local user at the HTTP level; the README's
    // configuration always sends X-Forwarded-For, and says why.
    const s = await stack('nginx', { tokens: ['laptop'], args: [], site: bare('\n        proxy_http_version 1.1;') });
    const [session, tokens] = await requestThroughProxy(s.laptop, [{ path: '/api/public/auth/session' }, { path: '/api/public/tokens' }]);
    expect(session).toMatchObject({ status: 200, body: { local: true, authRequired: false } });
    expect(tokens).toMatchObject({ status: 200, body: { tokens: [{ name: 'laptop', scope: 'admin' }] } });
  });
});
