import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { runCli, waitFor, workstations } from './support/backend-process.js';

// A script runs `halo-forge token create ci` and calls the API at once. The
// running server learns of the new token from the file; it used to poll it
// every 200 ms, so that first call could get 401. Contract: once the CLI has
// exited, the very next request with the token is accepted; a miss costs a
// stat, never a read of the file.

const { home, backend, release } = workstations();
afterEach(release);

function status(port: number, secret: string, agent?: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: '127.0.0.1', port, path: '/api/public/tokens', headers: { authorization: `Bearer ${secret}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Bytes the process has read through read()/pread() so far (files and sockets alike). */
function bytesRead(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

describe('a token the CLI creates', () => {
  it('is accepted by a running server on the very next request, every time', async () => {
    const { env } = home();
    const b = await backend(['--auth', 'on'], env);
    const agent = new Agent({ keepAlive: true });
    try {
      for (let i = 0; i < 12; i++) {
        const created = await runCli(['token', 'create', `ci-${i}`, '--json'], env);
        expect(created.code).toBe(0);
        const { token } = JSON.parse(created.stdout) as { token: string };
        // No wait of any kind between the CLI's exit and this request.
        expect(await status(b.port, token, agent)).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });

  it('stops working within a second of a CLI revoke', async () => {
    const { env } = home();
    const b = await backend(['--auth', 'on'], env);
    const { token } = JSON.parse((await runCli(['token', 'create', 'laptop', '--json'], env)).stdout) as { token: string };
    expect(await status(b.port, token)).toBe(200);
    expect((await runCli(['token', 'revoke', 'laptop'], env)).code).toBe(0);
    const took = await waitFor(async () => (await status(b.port, token)) === 401, 1000, 'the revoked token to fail');
    expect(took).toBeLessThan(1000);
  });
});

describe.skipIf(!existsSync('/proc/self/io'))('a flood of unknown tokens', () => {
  it('does not read the token store for each one', async () => {
    const { home: h, env } = home();
    // A store of 500 tokens (about 100 KB): reading it per request would show in the byte count at once.
    const tokens = Array.from({ length: 500 }, (_, i) => ({
      name: `t${i}`,
      hash: randomBytes(32).toString('hex'),
      scope: 'read',
      created: '2026-01-01T00:00:00+00:00',
      lastUsed: null,
      expires: null,
      note: 'x'.repeat(50),
    }));
    const file = join(h, 'tokens.json');
    writeFileSync(file, `${JSON.stringify({ version: 1, tokens }, null, 2)}\n`, { mode: 0o600 });
    const size = readFileSync(file).length;
    expect(size).toBeGreaterThan(80_000);
    const b = await backend(['--auth', 'on'], env);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const before = bytesRead(b.child.pid!);
      const flood = 400;
      const answers = await Promise.all(Array.from({ length: flood }, () => status(b.port, `hfk_${randomBytes(32).toString('base64url')}`, agent)));
      expect(answers.every((s) => s === 401 || s === 429)).toBe(true);
      const read = bytesRead(b.child.pid!) - before;
      // The requests themselves are a few hundred bytes each; one read of the store per request would be 400 × 100 KB.
      expect(read).toBeLessThan(size * 10);
    } finally {
      agent.destroy();
    }
  });
});
