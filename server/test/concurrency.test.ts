import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, waitFor, workstations } from './support/backend-process.js';

const { home: newHome, backend, release } = workstations();
afterEach(release);

describe('CLI processes and a running server sharing the store', () => {
  it('lose nothing and resurrect nothing, and the file is valid JSON throughout', async () => {
    const { home, env } = newHome();
    const server = await backend(['--auth', 'on'], env);
    const storePath = join(home, 'tokens.json');

    // Tokens that will be revoked while the server is using them (and flushing last-used).
    const doomed: Record<string, string> = {};
    for (const name of ['r1', 'r2', 'r3', 'r4']) doomed[name] = JSON.parse((await runCli(['token', 'create', name, '--json'], env)).stdout).token;

    let invalidSeen = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const text = readFileSync(storePath, 'utf8');
        try {
          JSON.parse(text);
        } catch {
          invalidSeen++;
        }
        await Promise.all(
          Object.values(doomed).map((secret) => fetch(`http://127.0.0.1:${server.port}/api/public/health`, { headers: { authorization: `Bearer ${secret}` } })),
        );
      }
    })();
    // Should the test time out, the loop meets a stopped server: that ends it, and is no unhandled rejection.
    watcher.catch(() => {});

    const creators = Array.from({ length: 8 }, (_, i) => runCli(['token', 'create', `c${i}`, '--json'], env));
    const revokers = Object.keys(doomed).map((name) => runCli(['token', 'revoke', name], env));
    const results = await Promise.all([...creators, ...revokers]);
    expect(results.map((r) => [r.code, r.stderr])).toEqual(results.map(() => [0, '']));

    // Keep verifying until the server's next last-used flush (the only writer left) has rewritten the file. A use
    // of a token the CLI just created gives it something to flush: the doomed tokens' uses may all have been
    // flushed before they were revoked, and a revoked token's use records nothing.
    const afterCli = statSync(storePath, { bigint: true }).mtimeNs;
    const fresh = JSON.parse(results[0]!.stdout).token as string;
    expect((await fetch(`http://127.0.0.1:${server.port}/api/public/health`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
    await waitFor(() => statSync(storePath, { bigint: true }).mtimeNs !== afterCli, 15_000, "the server's last-used flush");
    watching = false;
    await watcher;
    await server.stop();

    expect(invalidSeen).toBe(0);
    const names = (JSON.parse(readFileSync(storePath, 'utf8')).tokens as { name: string }[]).map((t) => t.name).sort();
    expect(names).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']);
    const created = results.slice(0, 8).map((r) => JSON.parse(r.stdout).token as string);
    const again = await backend(['--auth', 'on'], env);
    for (const secret of created) expect((await fetch(`http://127.0.0.1:${again.port}/api/public/health`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
    for (const secret of Object.values(doomed)) expect((await fetch(`http://127.0.0.1:${again.port}/api/public/health`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
    // Twelve CLI processes at once (each a Node start-up): a loaded CI machine needs more than the default 30 s.
  }, 120_000);
});
