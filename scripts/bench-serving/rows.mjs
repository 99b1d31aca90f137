// Serving rows for scripts/bench.mjs (issue 12), every figure taken through
// the real backend on loopback:
//   stream:     the tiny model streamed through the gate (/v1, inference token)
//               vs the same runtime asked directly: tokens/s ratio (goal ≥ 0.98)
//               and added time to first token at p50 (goal ≤ 5 ms)
//   throughput: non-streaming requests through the proxy vs the same upstream
//               asked directly (goal ≥ 0.9), the upstream a stub that answers
//               like llama-server with 4 slots (--parallel 4) and 20 ms a
//               request: a short completion from a small model on a GPU. Four
//               clients keep the four slots busy, so every millisecond the proxy
//               adds is a millisecond a slot waits.
//   ceiling:    the same with a stub that answers at once and 20 clients: the
//               proxy's own most requests a second and its CPU per request. No
//               goal: that is two loopback hops against one, both processes on
//               the same two cores, which no proxy passes at 0.9.
//   memory:     the backend's RSS with no model loaded, and with one loaded
//               (runtimes live outside it: goal ≤ 1.1)
//   cold start: the tiny model's load and first answer
// The runtime's port comes from its launch_context.json and its key from its
// environment in /proc (Linux, same user): the bench plays the proxy's part.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { build } from 'rolldown';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const TINY = 'halo-bench/tiny-llama-gguf';
const STUB = 'halo-bench/stub-upstream';

let tinyGguf = null;
async function tinyModel() {
  if (!tinyGguf) {
    const dir = join(root, 'dist', 'bench-serving');
    await build({ input: { 'tiny-gguf': join(root, 'server/test/support/tiny-gguf.ts') }, platform: 'node', logLevel: 'silent', output: { dir, format: 'esm', entryFileNames: '[name].mjs' } });
    tinyGguf = (await import(join(dir, 'tiny-gguf.mjs'))).tinyGguf;
  }
  return tinyGguf();
}

/** A Hugging Face cache laid out as a pull leaves it: refs/main and the snapshot. */
function addToCache(cache, repo, file, content) {
  const dir = join(cache, `models--${repo.replace('/', '--')}`);
  mkdirSync(join(dir, 'snapshots', COMMIT), { recursive: true });
  mkdirSync(join(dir, 'refs'), { recursive: true });
  writeFileSync(join(dir, 'refs', 'main'), COMMIT);
  writeFileSync(join(dir, 'snapshots', COMMIT, file), content);
}

/**
 * A home whose cache holds the tiny model and the stub's "model", with llama-server pointing at the stub.
 * `runtimeEnv` reaches the runtimes: the backend passes its environment on (less its secrets).
 */
async function servingHome(ctx, runtimeEnv = {}) {
  const { home, env } = ctx.tempHome();
  const cache = join(home, 'hf-cache');
  addToCache(cache, TINY, 'tiny.gguf', await tinyModel());
  addToCache(cache, STUB, 'stub.gguf', Buffer.alloc(1024));
  // One llama.cpp thread: the same on every machine, and the proxy's cost is what varies.
  writeFileSync(join(home, 'config.json'), JSON.stringify({ serving: { threads: 1, modelTtl: 'never', llamaServer: join(here, 'stub-runtime.mjs') } }), { mode: 0o600 });
  return { home, cache, env: { ...env, HF_HUB_CACHE: cache, HF_ENDPOINT: 'http://127.0.0.1:9', ...runtimeEnv } };
}

async function api(port, path, body, token) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** The running runtime of `model` as the proxy sees it: port (launch_context.json) and key (its environment). */
function runtimeOf(home, model) {
  const runs = join(home, 'runs');
  const launches = readdirSync(runs)
    .map((d) => JSON.parse(readFileSync(join(runs, d, 'launch_context.json'), 'utf8')))
    .filter((c) => c.model === model)
    .sort((a, b) => a.started_at.localeCompare(b.started_at));
  const launch = launches.at(-1);
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      // An external runtime runs under the runtime guard, whose argv and environment are its child's: the child is the runtime.
      if (!argv.includes(launch.file) || argv.includes('runtime-guard')) continue;
      const key = /(?:HALOFORGE_RUNTIME_KEY|LLAMA_API_KEY)=([^\0]+)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))?.[1];
      if (key) return { port: launch.port, key, pid: Number(pid) };
    } catch {
      // Gone, or not ours.
    }
  }
  throw new Error(`the runtime of ${model} was not found`);
}

/** One streamed chat answer: time to the first token, and tokens per second after it. */
function streamOnce(port, key, model, maxTokens) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: maxTokens, stream: true });
    const started = performance.now();
    let first = 0;
    let last = 0;
    let tokens = 0;
    let pending = '';
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        pending += chunk;
        const events = pending.split('\n\n');
        pending = events.pop();
        const now = performance.now();
        for (const event of events) {
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          if (!JSON.parse(event.slice(6)).choices?.[0]?.delta?.content) continue;
          tokens++;
          if (!first) first = now;
          last = now;
        }
      });
      res.on('end', () => resolve({ ttftMs: first - started, tokens, tokensPerSecond: tokens > 1 ? (tokens - 1) / ((last - first) / 1000) : 0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function unpin(pid) {
  spawnSync('taskset', ['-a', '-p', '-c', `0-${availableParallelism() - 1}`, String(pid)], { stdio: 'ignore' });
}

/**
 * bench.mjs pins the backend to one core (and the runtime inherits it), which is right for comparing two
 * backends. Here the proxy is compared with no proxy: in use neither the backend nor the runtime is pinned,
 * and a backend held to one core of two would be measured waiting for that core whenever the machine is
 * busy (each proxied request wakes it twice), or fighting llama.cpp for it, not proxying. The load
 * generator (this process) stays on its core.
 */
function unpinServing(server, runtime) {
  unpin(server.child.pid);
  unpin(runtime.pid);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function streamingThroughGate(ctx) {
  const s = await servingHome(ctx);
  const token = await ctx.createToken(s.env, 'bench-inference', 'inference');
  const server = await ctx.startBackend(['--auth', 'on'], s.env);
  try {
    const loaded = await api(server.port, '/v1/chat/completions', { model: TINY, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }, token);
    const model = loaded.model;
    const direct = runtimeOf(s.home, model);
    unpinServing(server, direct);
    // As long as the tiny model's 512-token context allows: the rate a stream settles at, not its first milliseconds.
    const maxTokens = 400;
    for (let i = 0; i < 3; i++) {
      await streamOnce(direct.port, direct.key, model, maxTokens);
      await streamOnce(server.port, token, model, maxTokens);
    }
    const pairs = [];
    // CPU time per streamed token: the backend's (what the proxy costs), and the runtime's each way
    // (the same figure both ways means the proxy slows no generation, it only competes for the cores).
    const cpu = { backend: 0, runtimeDirect: 0, runtimeProxied: 0, tokensDirect: 0, tokensProxied: 0 };
    const timed = async (proxied) => {
      const b = ctx.cpuTicks(server.child.pid);
      const r = ctx.cpuTicks(direct.pid);
      const x = proxied ? await streamOnce(server.port, token, model, maxTokens) : await streamOnce(direct.port, direct.key, model, maxTokens);
      if (proxied) cpu.backend += ctx.cpuTicks(server.child.pid) - b;
      cpu[proxied ? 'runtimeProxied' : 'runtimeDirect'] += ctx.cpuTicks(direct.pid) - r;
      cpu[proxied ? 'tokensProxied' : 'tokensDirect'] += x.tokens;
      return x;
    };
    for (let i = 0; i < (ctx.quick ? 4 : 25); i++) {
      // Alternating which goes first, so neither always meets a warmer cache.
      const a = i % 2 === 0 ? await timed(false) : null;
      const p = await timed(true);
      const d = a ?? (await timed(false));
      pairs.push({ direct: d, proxied: p });
    }
    const tpsDirect = median(pairs.map((x) => x.direct.tokensPerSecond));
    const tpsProxied = median(pairs.map((x) => x.proxied.tokensPerSecond));
    const added = median(pairs.map((x) => x.proxied.ttftMs - x.direct.ttftMs));
    // Each pair ran back to back, so its ratio is untouched by the machine's load drifting between pairs.
    const ratios = pairs.map((x) => x.proxied.tokensPerSecond / x.direct.tokensPerSecond);
    const ratio = median(ratios);
    const perToken = (ticks, tokens) => (ticks * 1e4) / tokens;
    const backendUs = perToken(cpu.backend, cpu.tokensProxied);
    const runtimeUs = { direct: perToken(cpu.runtimeDirect, cpu.tokensDirect), proxied: perToken(cpu.runtimeProxied, cpu.tokensProxied) };
    const quartiles = (xs) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return `${sorted[Math.floor(sorted.length / 4)].toFixed(2)}–${sorted[Math.floor((sorted.length * 3) / 4)].toFixed(2)}`;
    };
    return {
      measured:
        `${tpsProxied.toFixed(0)} vs ${tpsDirect.toFixed(0)} tokens/s direct (pair ratios ${quartiles(ratios)} between quartiles); time to first token +${added.toFixed(2)} ms at p50 (${median(pairs.map((x) => x.proxied.ttftMs)).toFixed(1)} vs ${median(pairs.map((x) => x.direct.ttftMs)).toFixed(1)} ms), ${pairs.length} pairs of ${pairs[0].proxied.tokens} tokens; ` +
        `CPU per token: backend ${backendUs.toFixed(0)} µs, runtime ${runtimeUs.proxied.toFixed(0)} µs through the gate vs ${runtimeUs.direct.toFixed(0)} µs direct`,
      ratio,
      ratioOf: 'through the gate / direct tokens/s, median of pairs',
      goal: 'tokens/s ≥ 0.98; added TTFT ≤ 5 ms at p50',
      met: ratio >= 0.98 && added <= 5,
      values: { tpsDirect, tpsProxied, pairRatios: ratios, addedTtftMsP50: added, backendCpuUsPerToken: backendUs, runtimeCpuUsPerToken: runtimeUs, pairs },
    };
  } finally {
    await ctx.stop(server.child);
    rmSync(s.home, { recursive: true, force: true });
  }
}

function cannonPost(port, key, model, seconds, connections) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}/v1/chat/completions`,
        method: 'POST',
        connections,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 2 }),
      },
      (err, res) => {
        if (err) return reject(err);
        if (res.non2xx || res.errors) return reject(new Error(`${res.non2xx} non-2xx answers, ${res.errors} errors`));
        resolve({ rps: res.requests.average, total: res.requests.total, p50Ms: res.latency.p50 });
      },
    );
  });
}

const spread = (xs, digits = 0) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

/**
 * The stub upstream run by the backend as llama-server, then paired rounds in
 * ABBA order: direct to the stub, and through /v1 with an inference token.
 * Each proxied round also takes the backend's CPU time per request.
 */
async function stubRounds(ctx, { runtimeEnv, connections, warmupSeconds }) {
  const s = await servingHome(ctx, runtimeEnv);
  const token = await ctx.createToken(s.env, 'bench-inference', 'inference');
  const server = await ctx.startBackend(['--auth', 'on'], s.env);
  try {
    const run = await fetch(`http://127.0.0.1:${server.port}/api/public/serving/run`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await ctx.createToken(s.env, 'bench-operate', 'operate')}` }, body: JSON.stringify({ model: STUB, runtime: 'llama-server' }) });
    if (!run.ok) throw new Error(`run: ${run.status} ${await run.text()}`);
    const model = (await run.json()).model;
    const direct = runtimeOf(s.home, model);
    unpinServing(server, direct);
    // Long enough for V8 to finish optimizing the proxy's path: its compiler threads' CPU is the backend's too.
    await cannonPost(direct.port, direct.key, model, warmupSeconds, connections);
    await cannonPost(server.port, token, model, warmupSeconds, connections);
    const rounds = [];
    const proxiedRound = async () => {
      const before = ctx.cpuTicks(server.child.pid);
      const r = await cannonPost(server.port, token, model, ctx.duration, connections);
      return { ...r, backendCpuUs: ((ctx.cpuTicks(server.child.pid) - before) * 1e4) / r.total };
    };
    for (let i = 0; i < ctx.rounds * 2; i++) {
      const directFirst = i % 2 === 0;
      const d = directFirst ? await cannonPost(direct.port, direct.key, model, ctx.duration, connections) : null;
      const p = await proxiedRound();
      rounds.push({ direct: d ?? (await cannonPost(direct.port, direct.key, model, ctx.duration, connections)), proxied: p });
    }
    return {
      directRps: median(rounds.map((r) => r.direct.rps)),
      proxiedRps: median(rounds.map((r) => r.proxied.rps)),
      ratios: rounds.map((r) => r.proxied.rps / r.direct.rps),
      cpuUs: rounds.map((r) => r.proxied.backendCpuUs),
      addedP50Ms: median(rounds.map((r) => r.proxied.p50Ms - r.direct.p50Ms)),
      rounds,
    };
  } finally {
    await ctx.stop(server.child);
    rmSync(s.home, { recursive: true, force: true });
  }
}

/** The stub's service time and slots (see the header and stub-runtime.mjs). */
export const STUB_SERVICE_MS = 20;
export const STUB_SLOTS = 4;

export async function proxyThroughput(ctx) {
  const r = await stubRounds(ctx, { runtimeEnv: { HALO_STUB_SERVICE_MS: String(STUB_SERVICE_MS), LLAMA_ARG_N_PARALLEL: String(STUB_SLOTS) }, connections: STUB_SLOTS, warmupSeconds: ctx.quick ? 1 : 3 });
  const ratio = median(r.ratios);
  return {
    measured:
      `${r.proxiedRps.toFixed(0)} req/s through the proxy vs ${r.directRps.toFixed(0)} direct (median of ${r.ratios.length} ABBA rounds, ratios ${spread(r.ratios, 3)}); ` +
      `upstream: a stub with ${STUB_SLOTS} slots answering each request in ${STUB_SERVICE_MS} ms without CPU, ${STUB_SLOTS} clients; latency +${r.addedP50Ms.toFixed(1)} ms at p50`,
    ratio,
    ratioOf: 'proxied / direct',
    goal: '≥ 0.9',
    met: ratio >= 0.9,
    values: { directRps: r.directRps, proxiedRps: r.proxiedRps, ratios: r.ratios, addedLatencyMsP50: r.addedP50Ms, backendCpuUsPerRequest: r.cpuUs, serviceMs: STUB_SERVICE_MS, slots: STUB_SLOTS },
  };
}

export async function proxyCeiling(ctx) {
  const r = await stubRounds(ctx, { runtimeEnv: { HALO_STUB_SERVICE_MS: '0' }, connections: 20, warmupSeconds: ctx.quick ? 1 : 4 });
  const cpu = median(r.cpuUs);
  return {
    measured:
      `${r.proxiedRps.toFixed(0)} req/s through the proxy vs ${r.directRps.toFixed(0)} direct to a stub that answers at once (20 clients, median of ${r.ratios.length} rounds); ` +
      `the backend spends ${cpu.toFixed(0)} µs of CPU per proxied request (rounds ${spread(r.cpuUs)})`,
    ratio: median(r.ratios),
    ratioOf: 'proxied / direct',
    goal: null,
    met: null,
    values: { directRps: r.directRps, proxiedRps: r.proxiedRps, ratios: r.ratios, backendCpuUsPerRequest: cpu, backendCpuUsRounds: r.cpuUs },
  };
}

export async function backendMemory(ctx) {
  const s = await servingHome(ctx);
  const server = await ctx.startBackend([], s.env);
  try {
    await ctx.sleep(2000);
    const idle = ctx.rssBytes(server.child.pid);
    const loaded = await api(server.port, '/v1/chat/completions', { model: TINY, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
    await ctx.sleep(2000);
    const withModel = ctx.rssBytes(server.child.pid);
    const runtime = ctx.rssBytes(runtimeOf(s.home, loaded.model).pid);
    return {
      measured: `${ctx.mb(idle)} with no model loaded; ${ctx.mb(withModel)} with the tiny model loaded (its runtime: ${ctx.mb(runtime)}, in its own process)`,
      ratio: withModel / idle,
      ratioOf: 'model loaded / none',
      goal: '≤ 1.1 (runtimes outside the backend)',
      met: withModel / idle <= 1.1,
      values: { idle, withModel, runtime },
    };
  } finally {
    await ctx.stop(server.child);
    rmSync(s.home, { recursive: true, force: true });
  }
}

export async function coldStart(ctx) {
  const s = await servingHome(ctx);
  const server = await ctx.startBackend([], s.env);
  try {
    const loads = [];
    const answers = [];
    for (let i = 0; i < ctx.rounds; i++) {
      const t0 = performance.now();
      const running = await api(server.port, '/api/public/serving/run', { model: TINY });
      const t1 = performance.now();
      await api(server.port, '/v1/chat/completions', { model: running.model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
      const t2 = performance.now();
      loads.push(t1 - t0);
      answers.push(t2 - t1);
      await api(server.port, '/api/public/serving/stop', { model: running.model });
    }
    return {
      measured: `${median(loads).toFixed(0)} ms to load (runtime process, llama.cpp, model, context), then ${median(answers).toFixed(0)} ms to the first answer`,
      ratio: null,
      ratioOf: '',
      goal: null,
      met: null,
      values: { loadMs: loads, firstAnswerMs: answers },
    };
  } finally {
    await ctx.stop(server.child);
    rmSync(s.home, { recursive: true, force: true });
  }
}

