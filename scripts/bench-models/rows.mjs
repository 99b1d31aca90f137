// Models rows for scripts/bench.mjs: a pull from the fake Hub (its own
// process) by the engine (another process), on loopback.
//   big file: 512 MiB pull vs curl -o of the same URL followed by sha256sum (goal ≤ 1.0)
//   resume:   killed half-way, then resumed: share of the file fetched again (goal ≤ 1%)
//   many:     200 files of 10 KB (goal ≤ 2 s)
//   memory:   pulling 2 GiB grows the puller's RSS by (goal ≤ 50 MB)
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const MiB = 1024 * 1024;

// bench.mjs pins itself to one core for its HTTP rows; a pull is hub + puller
// (and curl + sha256sum for the reference), so these rows run on every core.
function unpin() {
  const all = `0-${availableParallelism() - 1}`;
  spawnSync('taskset', ['-p', '-c', all, String(process.pid)], { stdio: 'ignore' });
}

// The hub and the puller are bundled as the backend is (rolldown, minified), so
// what is measured is the code that ships, not a TypeScript loader.
const bundleDir = join(root, 'dist', 'bench-models');
let bundled = null;
function bundle() {
  bundled ??= build({
    input: { hub: join(here, 'hub.ts'), pull: join(here, 'pull.ts') },
    platform: 'node',
    external: ['keytar', /^node:/],
    tsconfig: join(root, 'tsconfig.json'),
    logLevel: 'silent',
    output: {
      dir: bundleDir,
      format: 'esm',
      entryFileNames: '[name].mjs',
      minify: true,
      banner: "import { createRequire as __haloCreateRequire } from 'node:module'; const require = __haloCreateRequire(import.meta.url);",
    },
  });
  return bundled;
}

async function forkTs(file, env) {
  await bundle();
  return fork(join(bundleDir, file.replace(/\.ts$/, '.mjs')), [], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function startHub() {
  const child = await forkTs('hub.ts', { ...process.env });
  const pending = new Map();
  let next = 1;
  const ready = new Promise((resolve) => pending.set(0, resolve));
  child.on('message', (m) => {
    pending.get(m.id)?.(m.result);
    pending.delete(m.id);
  });
  const url = await ready;
  return {
    url,
    call: (message) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        child.send({ id, ...message });
      }),
    close: () => child.disconnect(),
  };
}

async function startPuller(hubUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'halo-forge-bench-models-'));
  const env = { ...process.env, HF_ENDPOINT: hubUrl, HF_HUB_CACHE: join(dir, 'hub'), HALOFORGE_HOME: join(dir, 'home'), HF_TOKEN: '' };
  return { dir, ...attach(await forkTs('pull.ts', env)), again: async () => attach(await forkTs('pull.ts', env)), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function attach(child) {
  const messages = [];
  const waiters = [];
  child.on('message', (m) => {
    messages.push(m);
    for (const w of [...waiters]) if (w.pred(m)) waiters.splice(waiters.indexOf(w), 1), w.resolve(m);
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const until = (pred, ms = 600_000) =>
    new Promise((resolve, reject) => {
      const hit = messages.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error(`puller: no such message in ${ms} ms`)), ms);
      waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      exited.then(() => reject(new Error(`puller exited: ${JSON.stringify(messages.at(-1))}`)));
    });
  return { child, until, exited, go: (request) => child.send({ go: request }) };
}

/** The size of the one partial blob a killed pull left in the cache. */
function partialSize(dir) {
  const hub = join(dir, 'hub');
  for (const repo of readdirSync(hub).filter((n) => n.startsWith('models--'))) {
    for (const name of readdirSync(join(hub, repo, 'blobs'))) if (name.endsWith('.incomplete')) return statSync(join(hub, repo, 'blobs', name)).size;
  }
  return 0;
}

function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function pullOnce(hub, request) {
  const p = await startPuller(hub.url);
  try {
    await p.until((m) => m.loaded);
    p.go(request);
    const done = await p.until((m) => m.done || m.failed);
    if (done.failed) throw new Error(done.failed);
    return done;
  } finally {
    if (p.child.connected) p.child.disconnect();
    await p.exited;
    p.cleanup();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function bigFile({ rounds }) {
  unpin();
  const hub = await startHub();
  const size = 512 * MiB;
  try {
    await hub.call({ addRepo: { id: 'bench/big', files: [{ path: 'big.gguf', size, seed: 1 }] } });
    const url = `${hub.url}/bench/big/resolve/main/big.gguf`;
    const haveCurl = spawnSync('curl', ['--version']).status === 0;
    const ours = [];
    const oursCpu = [];
    const theirs = [];
    for (let i = 0; i < rounds; i++) {
      const pulled = await pullOnce(hub, { repo: 'bench/big' });
      ours.push(pulled.ms);
      oursCpu.push(pulled.cpuMs);
      const dir = mkdtempSync(join(tmpdir(), 'halo-forge-bench-curl-'));
      try {
        const out = join(dir, 'big.gguf');
        const t0 = performance.now();
        const got = haveCurl ? spawnSync('curl', ['-sfL', '-o', out, url]) : spawnSync(process.execPath, ['-e', `fetch(${JSON.stringify(url)}).then(async r=>{const fs=require('node:fs');const {Readable}=require('node:stream');const {pipeline}=require('node:stream/promises');await pipeline(Readable.fromWeb(r.body),fs.createWriteStream(${JSON.stringify(out)}))})`]);
        if (got.status !== 0) throw new Error(`download failed: ${got.stderr}`);
        const sum = spawnSync('sha256sum', [out], { encoding: 'utf8' });
        theirs.push(performance.now() - t0);
        if (!sum.stdout.startsWith(await hub.call({ sha256: ['bench/big', 'big.gguf'] }))) throw new Error('curl got different bytes');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const a = median(ours);
    const b = median(theirs);
    const tool = haveCurl ? 'curl -o + sha256sum' : 'Node fetch → file + sha256sum (no curl here)';
    return {
      measured: `pull ${(a / 1000).toFixed(2)} s (${((size / MiB) / (a / 1000)).toFixed(0)} MiB/s, ${(median(oursCpu) / 1000).toFixed(2)} s CPU) vs ${tool} ${(b / 1000).toFixed(2)} s`,
      ratio: a / b,
      ratioOf: `pull / ${tool}`,
      goal: '≤ 1.0',
      met: a / b <= 1.0,
      values: { bytes: size, pullMs: ours, pullCpuMs: oursCpu, referenceMs: theirs, tool, loadAverage: loadavg() },
    };
  } finally {
    hub.close();
  }
}

export async function resumeAfterKill() {
  unpin();
  const hub = await startHub();
  const size = 512 * MiB;
  try {
    await hub.call({ addRepo: { id: 'bench/resume', files: [{ path: 'big.gguf', size, seed: 2 }] } });
    // The network is the bottleneck, as on a real link (on loopback the hub would otherwise
    // outrun the disk and park up to ~10 MiB in the kernel's socket buffers, lost on a kill).
    await hub.call({ fault: ['bench/resume', 'big.gguf', { kind: 'slow', bytesPerSecond: 48 * MiB }] });
    const p = await startPuller(hub.url);
    try {
      await p.until((m) => m.loaded);
      p.go({ repo: 'bench/resume' });
      const half = await p.until((m) => typeof m.progress === 'number' && m.progress >= size / 2);
      p.child.kill('SIGKILL');
      await p.exited;
      const servedAtKill = await hub.call({ served: ['bench/resume', 'big.gguf'] });
      const onDisk = partialSize(p.dir);
      const second = await p.again();
      await second.until((m) => m.loaded);
      second.go({ repo: 'bench/resume' });
      const done = await second.until((m) => m.done || m.failed);
      if (done.failed) throw new Error(done.failed);
      if (second.child.connected) second.child.disconnect();
      await second.exited;
      const served = await hub.call({ served: ['bench/resume', 'big.gguf'] });
      const refetched = served - size;
      return {
        measured: `killed at ${(half.progress / MiB).toFixed(0)} MiB (served ${(servedAtKill / MiB).toFixed(1)} MiB, ${(onDisk / MiB).toFixed(1)} MiB on disk), fetched again ${(refetched / MiB).toFixed(2)} MiB of ${size / MiB} MiB`,
        ratio: refetched / size,
        ratioOf: 'bytes fetched twice / file size',
        goal: '≤ 0.01',
        met: refetched / size <= 0.01,
        values: { size, killedAtProgress: half.progress, servedAtKill, partialOnDisk: onDisk, servedTotal: served },
      };
    } finally {
      p.cleanup();
    }
  } finally {
    hub.close();
  }
}

export async function manyFiles({ rounds }) {
  unpin();
  const hub = await startHub();
  try {
    const files = Array.from({ length: 200 }, (_, i) => ({ path: `shard-${String(i).padStart(3, '0')}.json`, size: 10 * 1024, seed: i, lfs: false }));
    await hub.call({ addRepo: { id: 'bench/many', files } });
    const runs = [];
    for (let i = 0; i < rounds; i++) runs.push(await pullOnce(hub, { repo: 'bench/many' }));
    const ms = median(runs.map((r) => r.ms));
    const cpu = median(runs.map((r) => r.cpuMs));
    return {
      measured: `200 files of 10 KB in ${(ms / 1000).toFixed(2)} s (${(cpu / 1000).toFixed(2)} s CPU)`,
      ratio: ms / 2000,
      ratioOf: 'time / 2 s',
      goal: '≤ 2 s',
      met: ms <= 2000,
      values: { ms: runs.map((r) => r.ms), cpuMs: runs.map((r) => r.cpuMs), loadAverage: loadavg() },
    };
  } finally {
    hub.close();
  }
}

export async function pullMemory() {
  unpin();
  const hub = await startHub();
  const size = 2048 * MiB;
  try {
    await hub.call({ addRepo: { id: 'bench/2g', files: [{ path: 'big.safetensors', size, seed: 3 }] } });
    await hub.call({ addRepo: { id: 'bench/warm', files: [{ path: 'warm.safetensors', size: 32 * MiB, seed: 4 }] } });
    const p = await startPuller(hub.url);
    try {
      await p.until((m) => m.loaded);
      await new Promise((r) => setTimeout(r, 500));
      const idle = rss(p.child.pid);
      // One small pull first: the code a pull runs is compiled once per process, not per GiB.
      p.go({ repo: 'bench/warm' });
      await p.until((m) => (m.done && m.repo === 'bench/warm') || m.failed);
      await new Promise((r) => setTimeout(r, 500));
      const baseline = rss(p.child.pid);
      let peak = baseline;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rss(p.child.pid));
        } catch {
          // exited
        }
      }, 25);
      p.go({ repo: 'bench/2g' });
      const done = await p.until((m) => (m.done && m.repo === 'bench/2g') || m.failed);
      clearInterval(sampler);
      if (done.failed) throw new Error(done.failed);
      const growth = peak - baseline;
      return {
        measured: `RSS ${(idle / MiB).toFixed(1)} MB idle, ${(baseline / MiB).toFixed(1)} MB after a 32 MiB pull → ${(peak / MiB).toFixed(1)} MB peak while pulling 2 GiB (+${(growth / MiB).toFixed(1)} MB; +${((peak - idle) / MiB).toFixed(1)} MB from idle)`,
        ratio: growth / (50 * MiB),
        ratioOf: 'growth / 50 MB',
        goal: '≤ 50 MB',
        met: growth <= 50 * MiB,
        values: { idle, baseline, peak, growth, seconds: done.ms / 1000, loadAverage: loadavg() },
      };
    } finally {
      if (p.child.connected) p.child.disconnect();
      await p.exited;
      p.cleanup();
    }
  } finally {
    hub.close();
  }
}
