// npm run bench — one report of everything measured across the issues, every
// figure taken in this run:
//   1. authenticated vs unauthenticated throughput on the same route (goal ≥ 0.95)
//   2. token verification at 10 and at 100,000 tokens (goal: within 20%)
//   3. backend spawn → ready vs a bare Fastify hello-world (goal ≤ 1.5x)
//   4. backend idle memory (RSS) after start and after a load run
//   5. dashboard JS gzipped (goal ≤ 120 KB)
//   6. dashboard time to first render in Chromium
//   7. Models: a 512 MiB pull vs curl + sha256sum, resume after a kill, 200 small files, RSS while pulling 2 GiB
//   8. Serving: streaming through the gate vs direct, non-streaming proxy throughput against a
//      runtime-like stub and the proxy's own ceiling against an instant one, backend RSS, cold start
// The table is printed and written as JSON to bench/results/ (latest.json, plus one
// file per run), and the previous run's ratios are shown beside this run's.
// Goals are reported, not asserted: the exit code is non-zero only when a
// measurement could not be taken. All traffic goes to 127.0.0.1.
//   --quick   shorter rounds, for trying the script itself
//   --only X  only the rows whose id starts with X (e.g. --only models)
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { bigFile, manyFiles, pullMemory, resumeAfterKill } from './bench-models/rows.mjs';
import { backendMemory, coldStart, proxyCeiling, proxyThroughput, streamingThroughGate } from './bench-serving/rows.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'server/bin/halo-forge.js');
const resultsDir = join(root, 'bench/results');
const quick = process.argv.includes('--quick');
const DURATION = quick ? 1 : 3;
const ROUNDS = quick ? 1 : 3;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** @type {Array<{ id: string, name: string, measured: string, ratio: number | null, ratioOf: string, goal: string | null, met: boolean | null, values: object, error?: string }>} */
const rows = [];

async function measure(id, name, fn) {
  if (only && !id.startsWith(only)) return;
  // The machine's 1-minute load average before and after: on a shared machine a figure means little without it.
  const loadBefore = loadavg()[0];
  process.stdout.write(`measuring: ${name} … (load average ${loadBefore.toFixed(1)})\n`);
  try {
    rows.push({ id, name, ...(await fn()), loadAverage: [loadBefore, loadavg()[0]] });
  } catch (err) {
    rows.push({ id, name, measured: 'not measured', ratio: null, ratioOf: '', goal: null, met: null, values: {}, error: err instanceof Error ? err.message : String(err) });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function tempHome() {
  const home = mkdtempSync(join(tmpdir(), 'halo-forge-bench-'));
  return { home, env: { ...process.env, HALOFORGE_HOME: home, HOME: home, HALOFORGE_KEYRING: 'off', HALOFORGE_API_TOKEN: '', HF_TOKEN: '' } };
}

// On a multi-core machine the server gets a core of its own and the load generator
// (this process) another, so the runs being compared meet the same conditions.
const taskset = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
if (taskset) spawnSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

/** The real backend on a free loopback port; its own output is shown only if it fails. */
function startBackend(args, env) {
  return new Promise((resolve, reject) => {
    const argv = [cli, 'serve', '--port', '0', '--log-level', 'warn', ...args];
    const stdio = ['ignore', 'ignore', 'pipe', 'ipc'];
    const child = taskset ? spawn('taskset', ['-c', '1', process.execPath, ...argv], { env, stdio }) : fork(argv[0], argv.slice(1), { env, stdio });
    let output = '';
    child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
    child.on('message', (m) => (m.type === 'ready' ? resolve({ child, port: m.port }) : m.type === 'fatal' && reject(new Error(m.message))));
    child.once('exit', (code) => {
      if (code) process.stderr.write(output);
      reject(new Error(`backend exited with ${code}`));
    });
  });
}

const stop = (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM'))));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function runCli(args, env) {
  return new Promise((resolve, reject) => {
    const c = fork(cli, args, { env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`halo-forge ${args[0]} ${args[1]} exited with ${code}`))));
  });
}

const createToken = async (env, name) => JSON.parse(await runCli(['token', 'create', name, '--json'], env)).token;

/** A process's user+system CPU time in clock ticks (Linux), to tell the server's cost from the load generator's. */
function cpuTicks(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

/** A process's resident set size in bytes (Linux). */
function rssBytes(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

// Pipelining keeps the load generator cheap per request, so the server, not the
// generator, is the bottleneck and the comparison measures the server's cost.
function cannon(server, headers, seconds = DURATION) {
  const before = cpuTicks(server.child.pid);
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${server.port}/api/public/health`, connections: 20, pipelining: 10, duration: seconds, headers }, (err, res) => {
      if (err) return reject(err);
      if (res.non2xx || res.errors) return reject(new Error(`${res.non2xx} non-2xx answers, ${res.errors} errors`));
      const cpu = cpuTicks(server.child.pid) - before;
      resolve({ rps: res.requests.average, cpuNsPerRequest: Number.isNaN(cpu) ? null : (cpu * 1e7) / res.requests.total });
    });
  });
}

async function authThroughput() {
  const { home, env } = tempHome();
  const token = await createToken(env, 'bench');
  const offServer = await startBackend(['--auth', 'off'], env);
  const onServer = await startBackend(['--auth', 'on'], env);
  try {
    const auth = { authorization: `Bearer ${token}` };
    await cannon(offServer, {}, 3); // warm up both JITs
    await cannon(onServer, auth, 3);
    // Paired short rounds in ABBA order: drift in the machine's load, and any
    // advantage of running first, hit both sides alike.
    const ratios = [];
    const cpuRatios = [];
    const offRates = [];
    const onRates = [];
    for (let i = 0; i < ROUNDS * 3; i++) {
      let off;
      let on;
      if (i % 2 === 0) {
        off = await cannon(offServer, {});
        on = await cannon(onServer, auth);
      } else {
        on = await cannon(onServer, auth);
        off = await cannon(offServer, {});
      }
      offRates.push(off.rps);
      onRates.push(on.rps);
      ratios.push(on.rps / off.rps);
      if (off.cpuNsPerRequest && on.cpuNsPerRequest) cpuRatios.push(off.cpuNsPerRequest / on.cpuNsPerRequest);
    }
    const ratio = median(ratios);
    const cpuExtra = cpuRatios.length ? 1 / median(cpuRatios) - 1 : null;
    return {
      measured: `${Math.round(median(onRates))} vs ${Math.round(median(offRates))} req/s (median of ${ratios.length} ABBA rounds)` + (cpuExtra === null ? '' : `; server CPU/request +${(cpuExtra * 100).toFixed(1)}%`),
      ratio,
      ratioOf: 'auth on / auth off',
      goal: '≥ 0.95',
      met: ratio >= 0.95,
      values: { onRps: median(onRates), offRps: median(offRates), rounds: ratios.length, serverCpuExtra: cpuExtra },
    };
  } finally {
    await stop(offServer.child);
    await stop(onServer.child);
    rmSync(home, { recursive: true, force: true });
  }
}

async function verificationScaling() {
  const { TokenStore } = await import(join(root, 'dist/server/src/auth/token-store.js'));
  const { generateApiToken, hashApiToken } = await import(join(root, 'dist/server/src/auth/token-format.js'));
  // Both stores hold the same 10 real tokens, and the same 10 secrets are presented:
  // the only difference is how many other tokens the store holds.
  const secrets = Array.from({ length: 10 }, generateApiToken);
  const rate = (count) => {
    const { home } = tempHome();
    const path = join(home, 'tokens.json');
    const tokens = Array.from({ length: count }, (_, i) => ({
      name: `t${i}`,
      hash: i < secrets.length ? hashApiToken(secrets[i]) : hashApiToken(`filler-${i}`),
      scope: 'admin',
      created: '2026-05-07T12:00:00+00:00',
      lastUsed: null,
      expires: null,
      note: '',
    }));
    writeFileSync(path, JSON.stringify({ version: 1, tokens }), { mode: 0o600 });
    const store = new TokenStore(path).load();
    const n = 300_000;
    for (let i = 0; i < 50_000; i++) store.verify(secrets[i % secrets.length]);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (store.verify(secrets[i % secrets.length]).status !== 'ok') throw new Error('verify failed');
    const ns = Number(process.hrtime.bigint() - start) / n;
    rmSync(home, { recursive: true, force: true });
    return ns;
  };
  const small = [];
  const big = [];
  for (let i = 0; i < ROUNDS + 4; i++) {
    small.push(rate(10));
    big.push(rate(100_000));
  }
  const ratio = median(big) / median(small);
  return {
    measured: `${median(big).toFixed(0)} ns at 100,000 tokens vs ${median(small).toFixed(0)} ns at 10`,
    ratio,
    ratioOf: '100,000 / 10 tokens',
    goal: '≤ 1.20',
    met: ratio <= 1.2,
    values: { nsAt10: median(small), nsAt100k: median(big) },
  };
}

async function timeToHealthy(command, args, env) {
  const started = process.hrtime.bigint();
  // The process under test starts on its own core; this one polls from the other.
  const child = taskset
    ? spawn('taskset', ['-c', '1', command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let port = null;
  // The backend says where it serves on stdout, the hello-world on stderr.
  const findPort = (d) => {
    const m = /127\.0\.0\.1:(\d+)/.exec(String(d));
    if (m) port ??= Number(m[1]);
  };
  child.stdout.on('data', findPort);
  child.stderr.on('data', findPort);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited`);
      if (port) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/public/health`);
          if (res.ok) return Number(process.hrtime.bigint() - started) / 1e6;
        } catch {
          /* not yet */
        }
      }
      await sleep(2);
    }
  } finally {
    await stop(child);
  }
}

async function startupSpeed() {
  const { home, env } = tempHome();
  const hello = join(home, 'hello.mjs');
  // The baseline, started the same way: node + Fastify, one route, listening on a free port.
  writeFileSync(
    hello,
    `import Fastify from ${JSON.stringify(join(root, 'node_modules/fastify/fastify.js'))};
const app = Fastify();
app.get('/api/public/health', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write('listening on 127.0.0.1:' + app.server.address().port + '\\n');`,
  );
  const ours = [];
  const base = [];
  try {
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      base.push(await timeToHealthy(process.execPath, [hello], env));
      ours.push(await timeToHealthy(process.execPath, [cli, 'serve', '--port', '0', '--log-level', 'warn'], env));
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const a = median(ours);
  const b = median(base);
  return {
    measured: `${a.toFixed(0)} ms vs ${b.toFixed(0)} ms for a bare Fastify hello-world`,
    ratio: a / b,
    ratioOf: 'backend / bare Fastify',
    goal: '≤ 1.50',
    met: a / b <= 1.5,
    values: { backendMs: a, bareFastifyMs: b, runs: ours.length },
  };
}

/**
 * The backend's resident memory once idle after start, and again once idle
 * after the load the test suite also runs: 100 connections mixing valid,
 * invalid and revoked tokens against `--auth on`. Every answer is checked too.
 */
async function memoryAfterLoad() {
  const { home, env } = tempHome();
  const valid = await createToken(env, 'bench-valid');
  const revoked = await createToken(env, 'bench-revoked');
  await runCli(['token', 'revoke', 'bench-revoked'], env);
  const server = await startBackend(['--auth', 'on'], env);
  try {
    await sleep(2000);
    const atStart = rssBytes(server.child.pid);
    const kinds = [
      { kind: 'valid', token: valid, ok: [200] },
      { kind: 'invalid', token: `hfk_${'x'.repeat(43)}`, ok: [401, 429] },
      { kind: 'revoked', token: revoked, ok: [401, 429] },
    ];
    const wrong = {};
    const seen = { valid: 0, invalid: 0, revoked: 0 };
    const result = await autocannon({
      url: `http://127.0.0.1:${server.port}/api/public/tokens`,
      connections: 100,
      duration: quick ? 2 : 10,
      requests: kinds.map(({ kind, token, ok }) => ({
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
        onResponse: (status) => {
          seen[kind]++;
          if (!ok.includes(status)) wrong[`${kind} → ${status}`] = (wrong[`${kind} → ${status}`] ?? 0) + 1;
        },
      })),
    });
    await sleep(3000);
    const afterLoad = rssBytes(server.child.pid);
    const wrongCount = Object.values(wrong).reduce((a, b) => a + b, 0);
    const problems = [...(wrongCount ? [`${wrongCount} wrong answers (${JSON.stringify(wrong)})`] : []), ...(result.errors ? [`${result.errors} errors`] : []), ...(result.timeouts ? [`${result.timeouts} timeouts`] : [])];
    return {
      measured:
        `${mb(atStart)} idle after start, ${mb(afterLoad)} idle after ${result.requests.total} requests ` +
        `(${Math.round(result.requests.average)} req/s, ${problems.length ? problems.join(', ') : 'every answer as expected'})`,
      ratio: afterLoad / atStart,
      ratioOf: 'after load / after start',
      goal: 'every answer right; memory reported',
      met: problems.length === 0,
      values: { rssAfterStart: atStart, rssAfterLoad: afterLoad, requests: result.requests.total, answers: seen, wrong, errors: result.errors, timeouts: result.timeouts },
    };
  } finally {
    await stop(server.child);
    rmSync(home, { recursive: true, force: true });
  }
}

function dashboardSize() {
  const dir = join(root, 'dist/renderer/assets');
  if (!existsSync(dir)) throw new Error('dist/renderer is not built');
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
  const bytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
  const budget = 120 * 1024;
  return {
    measured: `${(bytes / 1024).toFixed(1)} KB in ${files.length} file(s)`,
    ratio: bytes / budget,
    ratioOf: 'size / 120 KB budget',
    goal: '≤ 1.00',
    met: bytes <= budget,
    values: { gzippedBytes: bytes, files: files.length },
  };
}

/**
 * A cold load of the dashboard in Chromium, from navigation start: the first
 * contentful paint, the moment the session is shown (this computer, no token
 * needed), and the moment the Overview shows live machine facts (the first
 * snapshot from the machine stream). A fresh browser context each time, so
 * nothing is cached.
 */
async function dashboardFirstRender() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const { chromium } = await import('playwright-core');
  const { home, env } = tempHome();
  const server = await startBackend([], env);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  try {
    const paints = [];
    const ready = [];
    const facts = [];
    for (let i = 0; i < (quick ? 3 : 9); i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.port}/`);
      await page.getByTestId('overview-auth').getByText('Not needed').waitFor();
      const session = await page.evaluate(() => performance.now());
      await page.locator('[data-testid="overview-facts"]:not([data-sampled-at=""])').waitFor();
      const t = await page.evaluate(() => ({ fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null, now: performance.now() }));
      if (t.fcp === null) throw new Error('Chromium reported no first-contentful-paint');
      paints.push(t.fcp);
      ready.push(session);
      facts.push(t.now);
      await context.close();
    }
    // The first load also warms the server's file cache; the median is of all of them.
    const fcp = median(paints);
    const shown = median(ready);
    const live = median(facts);
    return {
      measured: `first contentful paint ${fcp.toFixed(0)} ms, session shown ${shown.toFixed(0)} ms, live machine facts ${live.toFixed(0)} ms (median of ${paints.length} cold loads)`,
      ratio: live / fcp,
      ratioOf: 'live machine facts / first paint',
      goal: null,
      met: null,
      values: { firstContentfulPaintMs: fcp, sessionShownMs: shown, machineFactsMs: live, loads: paints.length },
    };
  } finally {
    await browser.close();
    await stop(server.child);
    rmSync(home, { recursive: true, force: true });
  }
}

function previousRun() {
  try {
    return JSON.parse(readFileSync(join(resultsDir, 'latest.json'), 'utf8'));
  } catch {
    return null;
  }
}

function report(previous) {
  const before = new Map((previous?.rows ?? []).map((r) => [r.id, r.ratio]));
  const fmt = (x) => (typeof x === 'number' ? x.toFixed(2) : '—');
  const table = [
    ['measurement', 'this run', 'ratio', 'goal', 'met', 'previous'],
    ...rows.map((r) => [r.name, r.error ? `NOT MEASURED: ${r.error}` : r.measured, r.ratio === null ? '—' : `${fmt(r.ratio)} (${r.ratioOf})`, r.goal ?? 'reported', r.met === null ? '—' : r.met ? 'yes' : 'NO', fmt(before.get(r.id))]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row) => row.map((cell, c) => cell.padEnd(widths[c])).join(' │ ');
  console.log(`\n${line(table[0])}\n${widths.map((w) => '─'.repeat(w)).join('─┼─')}`);
  for (const row of table.slice(1)) console.log(line(row));
}

const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || null;
console.log(`Halo Forge benchmarks (${quick ? 'quick' : 'full'}; loopback only; commit ${commit ?? 'unknown'})\n`);
await measure('auth-throughput', 'authenticated vs unauthenticated throughput', authThroughput);
await measure('verify-scaling', 'token verification, 10 vs 100,000 tokens', verificationScaling);
await measure('startup', 'backend spawn → ready', startupSpeed);
await measure('memory', 'backend idle memory (RSS), after start and after load', memoryAfterLoad);
await measure('dashboard-size', 'dashboard JS, gzipped', dashboardSize);
await measure('first-render', 'dashboard first render in Chromium', dashboardFirstRender);
await measure('models-big-file', 'Models: 512 MiB pull vs curl + sha256sum', () => bigFile({ rounds: ROUNDS }));
await measure('models-resume', 'Models: resume after kill -9 half-way', resumeAfterKill);
await measure('models-many-files', 'Models: 200 files of 10 KB', () => manyFiles({ rounds: ROUNDS }));
await measure('models-memory', 'Models: RSS growth pulling 2 GiB', pullMemory);
const servingCtx = {
  quick,
  rounds: ROUNDS,
  duration: DURATION,
  tempHome,
  startBackend,
  stop,
  sleep,
  rssBytes,
  cpuTicks,
  mb,
  createToken: async (env, name, scope) => JSON.parse(await runCli(['token', 'create', name, '--scope', scope, '--json'], env)).token,
};
await measure('serving-stream', 'Serving: tiny model streamed through the gate vs direct', () => streamingThroughGate(servingCtx));
await measure('serving-slots', 'Serving: non-streaming proxy vs a 4-slot, 20 ms upstream', () => proxyThroughput(servingCtx));
await measure('serving-ceiling', 'Serving: the proxy\'s own ceiling (an upstream answering at once)', () => proxyCeiling(servingCtx));
await measure('serving-memory', 'Serving: backend RSS, no model vs one loaded', () => backendMemory(servingCtx));
await measure('serving-cold-start', 'Serving: tiny model cold start', () => coldStart(servingCtx));

const previous = previousRun();
report(previous);
const run = {
  date: new Date().toISOString(),
  commit,
  mode: `${quick ? 'quick' : 'full'}${only ? ` (only ${only})` : ''}`,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, node: process.version, platform: `${process.platform}-${process.arch}`, pinned: taskset },
  rows,
};
mkdirSync(resultsDir, { recursive: true });
// A partial run (--only) is kept beside the others but does not become the baseline of the next full run.
if (!only) writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(run, null, 2)}\n`);
writeFileSync(join(resultsDir, `${run.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(run, null, 2)}\n`);

const goals = rows.filter((r) => r.met !== null);
const failed = rows.filter((r) => r.error);
console.log(`\n${goals.filter((r) => r.met).length} of ${goals.length} goals met` + (previous ? `; "previous" is the run of ${previous.date} (${previous.commit ?? 'unknown commit'})` : '') + `.`);
console.log(`Written to ${only ? `bench/results/${run.date.replace(/[:.]/g, '-')}.json` : join('bench/results', 'latest.json')}.`);
if (failed.length) {
  console.error(`${failed.length} measurement(s) could not be taken: ${failed.map((r) => r.id).join(', ')}`);
  process.exit(1);
}
