import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateApiToken, hashApiToken } from '../src/auth/token-format.js';
import { tempHome, testEnv, waitFor } from './support/backend-process.js';
import { buildTestApp, type TestApp } from './support/app.js';
import { openAuditStream, streamAgent } from './support/load.js';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('the live audit stream of an expiring token', () => {
  it('ends when the token expires, not at the next keepalive 15 s later', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    // A token that expires in 5–6 s (the store keeps whole seconds): shorter than any `--expires` allows, and
    // long enough for the app to start and the stream to open on a loaded machine.
    const secret = generateApiToken();
    const expires = new Date(Math.ceil((Date.now() + 5_000) / 1000) * 1000);
    const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const record = { name: 'brief', hash: hashApiToken(secret), scope: 'admin', created: iso(new Date()), lastUsed: null, lastUsedFrom: null, expires: iso(expires), note: '' };
    writeFileSync(join(home, 'tokens.json'), JSON.stringify({ version: 1, tokens: [record] }), { mode: 0o600 });

    const test: TestApp = await buildTestApp({ auth: 'on', env: testEnv(home, { HALOFORGE_KEYRING: 'off' }) });
    cleanups.push(() => test.close());
    await test.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (test.app.server.address() as { port: number }).port;
    const agent = streamAgent();
    cleanups.push(() => agent.destroy());

    const stream = await openAuditStream(port, 'brief', secret, agent);
    cleanups.push(() => stream.close());
    expect(stream.status).toBe(200);
    const expiresAt = performance.now() + (expires.getTime() - Date.now());
    await waitFor(() => stream.endedAt !== null, expiresAt - performance.now() + 1_000, 'the stream to end within a second of the expiry');
    expect(stream.error).toBeNull();
    // Not before the expiry (a few ms allowed for mapping one clock onto the other).
    expect(stream.endedAt! - expiresAt).toBeGreaterThan(-10);
  });
});
