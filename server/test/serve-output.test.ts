// What `halo-forge serve` prints: one readable startup block for a person, then
// warnings and errors only; every request at debug; JSON lines on request; and
// no token in any of it. The server runs as a real process; its output is read
// in full after it has stopped, so "nothing else was printed" is a fact, not a wait.
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, workstations, type BackendProcess } from './support/backend-process.js';

const { home, release } = workstations();
afterEach(release);

// Canaries: an environment token (registered for redaction) and a well-formed one the server has never seen.
const ENV_TOKEN = `hfk_${'C'.repeat(20)}anaryEnvToken0123456789`;
const STRANGER = `hfk_${'S'.repeat(20)}trangerToken9876543210`;

/** Stops the backend and returns all it printed (after 'close': the pipes are drained). */
async function everythingPrinted(b: BackendProcess): Promise<string> {
  const closed = new Promise<void>((resolve) => (b.child.stdout!.readableEnded && b.child.stderr!.readableEnded ? resolve() : b.child.once('close', () => resolve())));
  expect(await b.stop()).toBe(0);
  await closed;
  return b.output();
}

/** Requests that would each print lines in Fastify's default logging, with tokens where a careless client puts them. */
async function traffic(b: BackendProcess): Promise<void> {
  const api = `${b.url}api/public`;
  expect((await fetch(`${api}/health`)).status).toBe(200);
  expect((await fetch(`${api}/tokens`, { headers: { authorization: `Bearer ${STRANGER}` } })).status).toBe(401);
  expect((await fetch(`${api}/tokens?token=${STRANGER}`, { headers: { 'x-api-key': ENV_TOKEN } })).status).toBe(200);
  expect((await fetch(`${api}/no-such-route`)).status).toBe(404);
  // The dashboard's fallback page where it is built, a 404 where not: a line at debug either way.
  expect([200, 404]).toContain((await fetch(`${b.url}no/such/page`)).status);
}

function expectNoToken(output: string): void {
  for (const secret of [ENV_TOKEN, STRANGER]) {
    expect(output).not.toContain(secret);
    expect(output).not.toContain(secret.slice(4, 24));
  }
}

describe('serve output', () => {
  it('by default prints one startup block (the URL once, who may connect, where the logs are) and no line per request', async () => {
    const { env } = home();
    const b = await startBackend([], { ...env, HALOFORGE_API_TOKEN: ENV_TOKEN });
    await traffic(b);
    const output = await everythingPrinted(b);

    expect(output).toBe(
      [
        `Halo Forge is serving ${b.url}`,
        '  API tokens: using HALOFORGE_API_TOKEN from the environment (the token file is ignored).',
        `  Audit log: ${env.HALOFORGE_HOME}/audit.log`,
        '  Below: warnings and errors (--log-level debug shows every request). Ctrl+C stops the server.',
        '',
      ].join('\n'),
    );
    expect(output.split(String(b.port))).toHaveLength(2);
    expectNoToken(output);
  });

  it('at --log-level debug prints a plain line for each request, without its query string or any token', async () => {
    const { env } = home();
    const b = await startBackend(['--log-level', 'debug'], { ...env, HALOFORGE_API_TOKEN: ENV_TOKEN });
    await traffic(b);
    const output = await everythingPrinted(b);

    const lines = output.trimEnd().split('\n');
    expect(lines[0]).toBe(`Halo Forge is serving ${b.url}`);
    expect(lines.at(3)).toBe('  Below: warnings and errors, and every request. Ctrl+C stops the server.');
    const logLines = lines.slice(4);
    expect(logLines.every((line) => /^\[\d\d:\d\d:\d\d\] [A-Z]+: /.test(line)), logLines.join('\n')).toBe(true);
    expect(logLines.some((line) => line.includes('DEBUG: req-') && line.includes('GET /api/public/health incoming request'))).toBe(true);
    expect(logLines.some((line) => /DEBUG: req-\S+ 401 request completed/.test(line))).toBe(true);
    expect(logLines.some((line) => line.includes('GET /api/public/tokens incoming request'))).toBe(true);
    expect(output).not.toContain('token=');
    expectNoToken(output);
  });

  it('with --log-format json prints only JSON lines: the startup block as records, each request at debug', async () => {
    const { env } = home();
    const b = await startBackend(['--log-format', 'json', '--log-level', 'debug'], { ...env, HALOFORGE_API_TOKEN: ENV_TOKEN });
    await traffic(b);
    const output = await everythingPrinted(b);

    const records = output
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; url?: string; req?: { url: string }; res?: { statusCode: number } });
    expect(records[0]).toMatchObject({ level: 30, msg: `Halo Forge is serving ${b.url}`, url: b.url, port: b.port });
    expect(records.filter((r) => r.msg === 'incoming request').map((r) => r.req!.url)).toEqual([
      '/api/public/health',
      '/api/public/tokens',
      '/api/public/tokens',
      '/api/public/no-such-route',
      '/no/such/page',
    ]);
    expect(records.filter((r) => r.msg === 'request completed').map((r) => [r.level, r.res!.statusCode])).toEqual([
      [20, 200],
      [20, 401],
      [20, 200],
      [20, 404],
      [20, expect.any(Number)],
    ]);
    expectNoToken(output);
  });

  it('with --log-format json at info prints the startup records and nothing per request', async () => {
    const { env } = home();
    const b = await startBackend(['--log-format', 'json'], { ...env, HALOFORGE_API_TOKEN: ENV_TOKEN });
    await traffic(b);
    const records = (await everythingPrinted(b))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(records.map((r) => r.msg)).toEqual([`Halo Forge is serving ${b.url}`, 'API tokens: using HALOFORGE_API_TOKEN from the environment (the token file is ignored).', `Audit log: ${env.HALOFORGE_HOME}/audit.log`]);
  });
});
