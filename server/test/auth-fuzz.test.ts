// Hostile input against the auth path of the real backend, over raw sockets.
//
// Three targets, each a real backend process: --auth on from loopback; --auth
// auto behind a trusted same-host proxy that appends X-Forwarded-For; --auth
// auto reached from a network namespace through the remote-access switch (the
// driver runs inside the namespace). Each gets a fixed-seed run of
// HALOFORGE_FUZZ_CASES cases (default 20,000), aimed at every route the app
// registers (support/fuzz/route-table.ts reads its route table): random and mutated
// Authorization / X-API-Key / Host / Origin / Forwarded / X-Forwarded-For
// headers, header sections up to and over the server's limit, invalid UTF-8,
// tokens one character off a valid one, wrong prefixes and schemes, revoked
// and expired tokens, pipelined on keep-alive connections, with a token
// revoked halfway while connections hold it. The oracle
// (support/fuzz/oracle.ts) requires: no 5xx, no protected route reached
// without a valid token of enough scope presented verbatim, every interleaved
// control request passing, and the server alive, deciding correctly, with no
// error logged and no token in its output or files at the end.
//
// Longer runs:   npm run test:fuzz                 (200,000 cases a target, a fresh random seed)
//                HALOFORGE_FUZZ_CASES=50000 HALOFORGE_FUZZ_SEED=1234 npx vitest run server/test/auth-fuzz.test.ts
// A failure prints its seed; the same seed and case count replay the same requests.
// HALOFORGE_FUZZ_REPORT sets how many violations are described in full (default 25).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { maxHeaderSize } from 'node:http';
import { join } from 'node:path';
import { TokenStore } from '../src/auth/token-store.js';
import { tokenStorePath } from '../src/paths.js';
import { tempHome, waitFor, workstations, type BackendProcess } from './support/backend-process.js';
import { createTestHost, netnsUnavailable, type TestHost } from './support/netns.js';
import { bundleDriver } from './support/fuzz/bundle.js';
import type { FuzzOptions, FuzzSummary } from './support/fuzz/driver.js';
import type { FuzzTokens } from './support/fuzz/presentations.js';
import type { Route, Target } from './support/fuzz/requests.js';
import { fuzzRoutes, registeredRoutes, ungatedProblems } from './support/fuzz/route-table.js';
import type { RegisteredRoute } from '../src/app.js';

const CASES = Number(process.env.HALOFORGE_FUZZ_CASES ?? 20_000);
const SEED = process.env.HALOFORGE_FUZZ_SEED === 'random' ? (Math.random() * 2 ** 32) >>> 0 : Number(process.env.HALOFORGE_FUZZ_SEED ?? 0x5eed_2026) >>> 0;
const REPORTED = Number(process.env.HALOFORGE_FUZZ_REPORT ?? 25);
const LANES = 8;
/** Generous: the machine running this may be shared and slow. */
const RUN_TIMEOUT_MS = 120_000 + CASES * 5;

console.log(`[auth-fuzz] seed ${SEED}, ${CASES} cases a target (replay: HALOFORGE_FUZZ_SEED=${SEED} HALOFORGE_FUZZ_CASES=${CASES})`);

const { home: newHome, backend, release } = workstations();
afterEach(release);
let driverFile = '';
let bundleDir: { home: string; cleanup(): void };
let registered: RegisteredRoute[] = [];
let routes: Route[] = [];
beforeAll(async () => {
  bundleDir = tempHome('halo-forge-fuzz-driver-');
  driverFile = await bundleDriver(bundleDir.home);
  registered = await registeredRoutes();
  routes = fuzzRoutes(registered);
});
afterAll(() => bundleDir?.cleanup());

/** The tokens a run uses, written with the product's own store before the server starts. */
async function createTokens(env: NodeJS.ProcessEnv): Promise<FuzzTokens> {
  const store = new TokenStore(tokenStorePath(env)).load();
  const make = async (name: string, scope: 'admin' | 'operate' | 'read', expires?: string, now?: Date) => ({ name, scope, secret: (await store.create({ name, scope, expires }, now)).token });
  const tokens: FuzzTokens = {
    admin: await make('fuzz-admin', 'admin'),
    read: await make('fuzz-read', 'read'),
    operate: await make('fuzz-operate', 'operate'),
    revoked: await make('fuzz-revoked', 'admin'),
    // Created two minutes ago with a one-minute life.
    expired: await make('fuzz-expired', 'admin', '1m', new Date(Date.now() - 120_000)),
  };
  await store.revoke('fuzz-revoked');
  await store.close();
  return tokens;
}

/** Runs the bundled driver (inside a namespace when given one) and returns its summary. */
function runDriver(options: FuzzOptions, namespace?: string): Promise<FuzzSummary> {
  const [command, args] = namespace ? ['ip', ['netns', 'exec', namespace, process.execPath, driverFile]] : [process.execPath, [driverFile]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS - 10_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`fuzz driver exited with ${code} (seed ${options.seed}):\n${stderr}`));
      resolve(JSON.parse(stdout) as FuzzSummary);
    });
    child.stdin.end(JSON.stringify(options));
  });
}

/** Everything a failing run needs to be understood and replayed. */
function report(name: string, s: FuzzSummary): string {
  const lines = [`${name}: ${s.violationCount} violation(s); seed ${s.seed}, ${s.cases} cases (replay: HALOFORGE_FUZZ_SEED=${s.seed} HALOFORGE_FUZZ_CASES=${s.cases})`];
  for (const v of s.violations) lines.push(`  case ${v.id}: ${v.problem}\n    built as: ${v.recipe}\n    request: ${v.request.replace(/\n/g, '\n             ')}`);
  return lines.join('\n');
}

/** Files under `dir` (token store aside: it holds hashes, by design), as text. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return entry === 'tokens.json' ? [] : [readFileSync(path, 'latin1')];
  });
}

/** Any 12-character stretch of any secret found in the text (the leak check of hf-leak.test.ts, for API tokens). */
function leakedPiece(text: string, tokens: FuzzTokens): string | null {
  for (const [role, { secret }] of Object.entries(tokens)) {
    const body = secret.slice('hfk_'.length);
    for (let i = 0; i + 12 <= body.length; i++) if (text.includes(body.slice(i, i + 12))) return `${role} token, characters ${i}-${i + 11}`;
  }
  return null;
}

async function fuzzAndCheck(name: string, b: BackendProcess, home: string, tokens: FuzzTokens, options: Pick<FuzzOptions, 'host' | 'port' | 'target' | 'remoteClient'>, namespace?: string) {
  const summary = await runDriver({ ...options, seed: SEED, cases: CASES, lanes: LANES, tokens, answerTimeoutMs: 20_000, maxReported: REPORTED, routes }, namespace);
  console.log(
    `[auth-fuzz] ${name}: ${summary.cases} cases in ${(summary.elapsedMs / 1000).toFixed(1)} s (${summary.casesPerSecond}/s); reached ${summary.reached}, scope too low ${summary.scopeTooLow}, ` +
      `controls ${summary.controls.passed}/${summary.controls.sent}, parser drops ${summary.dropped.closed} closed + ${summary.dropped.reset} reset, over-limit refused ${summary.overLimitRefused}, ` +
      `near-limit answered ${summary.nearLimitAnswered}; outcomes ${JSON.stringify(summary.outcomes)}`,
  );
  expect(summary.violations, report(name, summary)).toEqual([]);
  expect(summary.violationCount).toBe(0);
  // The oracle must have had something to hold the server to, on both sides of the line.
  expect(summary.controls.sent).toBeGreaterThanOrEqual(Math.floor(CASES / 8));
  expect(summary.controls.passed).toBe(summary.controls.sent);
  expect(summary.reached).toBeGreaterThan(summary.controls.sent);
  expect(summary.scopeTooLow).toBeGreaterThan(CASES / 100);
  expect(summary.overLimitRefused).toBeGreaterThan(0);
  expect(summary.nearLimitAnswered).toBeGreaterThan(0);
  // Revoked halfway: each connection that had just proved the token is refused on its very next use.
  expect(summary.revocation.proved).toEqual(Array(LANES).fill(200));
  expect(summary.revocation.revoke).toBe(200);
  for (const status of summary.revocation.afterRevoke) expect([401, 429]).toContain(status);
  expect(summary.revocation.afterRevoke).toHaveLength(LANES);
  expect(summary.final).toEqual({ health: 200, withoutToken: 401 });

  // Alive, and nothing leaked: not in its output, not in any file it wrote.
  expect(b.child.exitCode).toBeNull();
  expect(b.child.signalCode).toBeNull();
  // No error line, in JSON (level 50, 60) or in the plain lines a default serve prints.
  expect(b.output().split('\n').filter((line) => /"level":[56]0|^\[[\d:]+\] (ERROR|FATAL):/.test(line))).toEqual([]);
  expect(leakedPiece(b.output(), tokens)).toBeNull();
  expect(filesUnder(home).map((text) => leakedPiece(text, tokens)).filter(Boolean)).toEqual([]);
}

/** A raw request on a fresh connection; the status line of the answer, or "no answer" after 3 s. */
function rawStatus(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      answer += d;
      if (answer.includes('\r\n')) socket.destroy();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer ? answer.split('\r\n')[0]! : 'no answer');
    });
    socket.on('error', reject);
    socket.write(Buffer.from(request, 'latin1'));
  });
}

describe("the fuzzer's targets: the app's own route table", () => {
  it('every route the app registers is behind the gate, and only the session route is public', () => {
    expect(ungatedProblems(registered)).toEqual([]);
  });

  it('every gated route is a fuzz target, the OpenAI API and the Models, Serving, Runs and Machine routes among them', () => {
    const ids = routes.map((r) => r.id);
    expect(routes.length).toBe(registered.filter((r) => r.url.startsWith('/api/public') || r.url.startsWith('/v1')).length);
    for (const id of ['GET /v1/models', 'POST /v1/chat/completions', 'POST /v1/completions', 'GET /api/public/models/local', 'DELETE /api/public/models/local/:org/:name', 'POST /api/public/serving/run', 'GET /api/public/serving', 'POST /api/public/runs', 'GET /api/public/runs/:run/events', 'GET /api/public/machine', 'HEAD /api/public/machine']) {
      expect(ids).toContain(id);
    }
    // Each path parameter is filled with a name that exists nowhere, so a mutating route that is reached changes nothing.
    expect(routes.find((r) => r.id === 'DELETE /api/public/models/local/:org/:name')?.path).toBe('/api/public/models/local/fuzz-nobody/fuzz-nobody');
  });
});

describe('fuzzing the auth path with --auth on, from loopback', () => {
  it(`${CASES} hostile requests: nothing accepted without a valid token, no 5xx, alive at the end`, async () => {
    const { home, env } = newHome();
    const tokens = await createTokens(env);
    // A trusted same-host proxy makes the forwarding headers count, so their parsing is under fire too.
    const b = await backend(['--auth', 'on', '--trust-proxy', '127.0.0.1'], env);
    const target: Target = { host: `127.0.0.1:${b.port}`, maxHeaderSize, appendHeader: null };
    await fuzzAndCheck('auth on', b, home, tokens, { host: '127.0.0.1', port: b.port, target, remoteClient: false });
  }, RUN_TIMEOUT_MS);

  it('a second credential behind a thousand headers is refused, not overlooked', async () => {
    const { env } = newHome();
    const tokens = await createTokens(env);
    const b = await backend(['--auth', 'on'], env);
    const filler = Array.from({ length: 1100 }, (_, i) => `x-f${i}: 1\r\n`).join('');
    const request = (pad: string) => `GET /api/public/tokens HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\nAuthorization: Bearer ${tokens.admin.secret}\r\n${pad}X-API-Key: ${tokens.read.secret}\r\n\r\n`;
    expect(await rawStatus(b.port, request(''))).toBe('HTTP/1.1 401 Unauthorized');
    // Node drops header lines past about a thousand: the conflicting X-API-Key was never seen, and the admin token passed.
    expect(await rawStatus(b.port, request(filler))).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });

  it('a token put in the query string reaches no log line, however it is spelled', async () => {
    const { env } = newHome();
    const tokens = await createTokens(env);
    // Request lines are written at debug; JSON, so the test can count them.
    const b = await backend(['--auth', 'on', '--log-level', 'debug', '--log-format', 'json'], env);
    const body = tokens.admin.secret.slice('hfk_'.length);
    for (const query of [`token=${tokens.admin.secret}`, `api_key=hfk%5F${body}`, `key=${tokens.admin.secret.toUpperCase()}`]) {
      expect(await rawStatus(b.port, `GET /api/public/health?${query} HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\n\r\n`)).toBe('HTTP/1.1 401 Unauthorized');
    }
    await waitFor(() => b.output().split('"msg":"request completed"').length > 3, 5000, 'the three requests in the log');
    expect(leakedPiece(b.output(), tokens)).toBeNull();
  });

  it('HEAD on the audit stream answers at once instead of hanging', async () => {
    const { env } = newHome();
    const tokens = await createTokens(env);
    const b = await backend(['--auth', 'on'], env);
    const head = `HEAD /api/public/audit/stream HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\nAuthorization: Bearer ${tokens.admin.secret}\r\n\r\n`;
    expect(await rawStatus(b.port, head)).toBe('HTTP/1.1 200 OK');
  });

  it('the fuzzer knows where the header limit is: the last byte Node allows, and one more', async () => {
    const { env } = newHome();
    const b = await backend(['--auth', 'on'], env);
    // Node counts the request target, header names and values against maxHeaderSize.
    const request = (bytes: number) => {
      const target = '/api/public/health';
      const host = `127.0.0.1:${b.port}`;
      const pad = bytes - target.length - 'Host'.length - host.length - 'X-Pad'.length;
      return `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nX-Pad: ${'p'.repeat(pad)}\r\n\r\n`;
    };
    expect(await rawStatus(b.port, request(maxHeaderSize - 1))).toBe('HTTP/1.1 401 Unauthorized');
    expect(await rawStatus(b.port, request(maxHeaderSize))).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });
});

describe('fuzzing --auth auto behind a trusted same-host proxy that appends X-Forwarded-For', () => {
  // HAProxy's `option forwardfor` adds its header after the client's. Every
  // request here comes from a remote client (203.0.113.7) through that proxy,
  // so nothing may pass without a token, whatever the client writes before it.
  const appendHeader: [string, string] = ['X-Forwarded-For', '203.0.113.7'];

  it(`${CASES} hostile requests: nothing accepted without a valid token, no 5xx, alive at the end`, async () => {
    const { home, env } = newHome();
    const tokens = await createTokens(env);
    const b = await backend(['--auth', 'auto', '--trust-proxy', '127.0.0.1'], env);
    const target: Target = { host: `127.0.0.1:${b.port}`, maxHeaderSize, appendHeader };
    await fuzzAndCheck('auth auto behind a proxy', b, home, tokens, { host: '127.0.0.1', port: b.port, target, remoteClient: true });
  }, RUN_TIMEOUT_MS);

  it('a client that buries the proxy\'s header behind a thousand of its own stays remote', async () => {
    const { env } = newHome();
    const b = await backend(['--auth', 'auto', '--trust-proxy', '127.0.0.1'], env);
    const filler = Array.from({ length: 1100 }, (_, i) => `x-f${i}: 1\r\n`).join('');
    const request = (pad: string) => `GET /api/public/tokens HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\nX-Forwarded-For: 127.0.0.1\r\n${pad}X-Forwarded-For: 203.0.113.7\r\n\r\n`;
    expect(await rawStatus(b.port, request(''))).toBe('HTTP/1.1 401 Unauthorized');
    // Node keeps only the first ~1000 header lines; the proxy's header, past them, was silently dropped.
    expect(await rawStatus(b.port, request(filler))).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });
});

const unavailable = netnsUnavailable();
if (unavailable) console.log(`[auth-fuzz] remote target skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('fuzzing --auth auto from a remote client in a network namespace', () => {
  let remote: TestHost;
  beforeAll(() => {
    remote = createTestHost();
  });
  afterAll(() => remote?.remove());

  it(`${CASES} hostile requests: nothing accepted without a valid token, no 5xx, alive at the end`, async () => {
    const { home, env } = newHome();
    const tokens = await createTokens(env);
    const b = await backend(['--auth', 'auto'], env);
    // The remote-access switch, on the namespace's link only, as the desktop app turns it on.
    const on = await fetch(`http://127.0.0.1:${b.port}/api/public/connection/remote`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true, interface: remote.hostAddress }),
    });
    expect(on.status).toBe(200);
    const target: Target = { host: `${remote.hostAddress}:${b.port}`, maxHeaderSize, appendHeader: null };
    await fuzzAndCheck('auth auto, remote', b, home, tokens, { host: remote.hostAddress, port: b.port, target, remoteClient: true }, remote.namespace);
    // The local window still works through loopback, without a token.
    expect((await fetch(`http://127.0.0.1:${b.port}/api/public/health`)).status).toBe(200);
  }, RUN_TIMEOUT_MS);
});
