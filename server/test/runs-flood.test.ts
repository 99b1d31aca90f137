import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestApp, type TestApp } from './support/app.js';
import { FLOOD, LOCAL, startRun, waitForState } from './support/runs.js';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

describe('a job that prints 100 MB', () => {
  it('leaves the backend answering, the log capped with one rotation, and the live view bounded', async () => {
    const cap = 4 * 1024 * 1024;
    t = await buildTestApp({ envExtra: { HALOFORGE_RUNS_LOG_MAX_BYTES: String(cap) } });
    const a = t.app;
    await a.listen({ host: '127.0.0.1', port: 0 });
    const port = (a.server.address() as { port: number }).port;
    const run = (await startRun(a, { name: 'flood', command: [process.execPath, FLOOD, '100'], cwd: t.home })).body;
    // A watcher of the live stream all along: it must not make the backend buffer the whole output.
    const stream = fetch(`http://127.0.0.1:${port}/api/public/runs/${run.id}/events`).then((r) => r.text());
    let answered = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    while ((await a.inject({ url: `/api/public/runs/${run.id}`, ...LOCAL })).json().state === 'running') {
      const health = await fetch(`http://127.0.0.1:${port}/api/public/health`);
      expect(health.status).toBe(200);
      answered++;
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = await waitForState(a, run.id, ['succeeded', 'failed'], 120_000);
    expect(done.state).toBe('succeeded');
    expect(answered).toBeGreaterThan(0);
    const files = readdirSync(done.runDir).filter((n) => n.startsWith('output.log'));
    expect(files.sort()).toEqual(['output.log', 'output.log.1']);
    for (const f of files) expect(statSync(join(done.runDir, f)).size).toBeLessThanOrEqual(cap + 128 * 1024);
    const live = await stream;
    // The live view never held 100 MB (it skips ahead, saying so, when it falls more than 4 MiB behind).
    expect(live.length).toBeLessThan(40 * 1024 * 1024);
    expect(heapPeak - heapBefore).toBeLessThan(200 * 1024 * 1024);
    console.log(`flood: ${answered} health answers while it ran, live stream ${(live.length / 1e6).toFixed(1)} MB, heap growth ${((heapPeak - heapBefore) / 1e6).toFixed(0)} MB`);
  }, 180_000);
});
