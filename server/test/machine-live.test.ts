// The CPU-only path, live on this machine (no GPU, no nvidia-smi or rocm-smi),
// and the rule that nothing is sampled while no one listens.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, LAN, type TestApp } from './support/app.js';
import { GpuDetector } from '../src/machine/gpus.js';
import { MachineMonitor } from '../src/machine/machine-monitor.js';
import { runTool, ToolError } from '../src/machine/run-tool.js';
import type { MachineSnapshot } from '../../shared/machine.js';

async function until<T>(read: () => T | undefined | null | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const noProbe = { probe: () => Promise.resolve({ backend: null, devices: [], vramTotalBytes: 0 }) };

describe('the machine, live (CPU-only path on this machine)', () => {
  it('GET /machine: real CPU, memory and the disk of the cache; no GPU, said in words', async () => {
    t = await buildTestApp();
    const res = await t.app.inject({ method: 'GET', url: '/api/public/machine' });
    expect(res.statusCode).toBe(200);
    const body = res.json<MachineSnapshot>();
    expect(body.host.cpu.cores).toBeGreaterThan(0);
    expect(body.host.cpu.model.length).toBeGreaterThan(0);
    expect(body.host.memory.totalBytes).toBeGreaterThan(body.host.memory.usedBytes);
    expect(body.host.disk?.freeBytes).toBeGreaterThan(0);
    // The test home sets HF_HOME: the cache (not created yet) is under it, and its disk is the one measured.
    expect(body.host.disk?.path).toBe(join(t.home, 'hf-home', 'hub'));
    expect(body.gpus).toMatchObject({ source: 'none', gpus: [], platform: null, problem: null });
    expect(body.connection).toMatchObject({ bind: '127.0.0.1:8000', remote: false, authMode: 'auto' });
    expect(body.connection.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a LAN client needs a token (read scope), like every other route', async () => {
    t = await buildTestApp();
    const res = await t.app.inject({ method: 'GET', url: '/api/public/machine', ...LAN });
    expect(res.statusCode).toBe(401);
  });

  it('the missing tools are asked once, then not again within a minute', async () => {
    const calls: string[] = [];
    const detector = new GpuDetector({
      ...noProbe,
      run: (command, args) => {
        calls.push(command);
        return runTool(command, args);
      },
    });
    await detector.sample();
    await detector.sample();
    await detector.sample();
    expect(calls).toEqual(['nvidia-smi', 'rocm-smi']);
  });

  it('a tool that exists but fails is reported as a problem, never as "no GPU" in silence', async () => {
    const detector = new GpuDetector({
      ...noProbe,
      run: (command) => Promise.reject(command === 'nvidia-smi' ? new ToolError(command, 'failed', "nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.") : new ToolError(command, 'missing', 'x')),
    });
    const report = await detector.sample();
    expect(report.gpus).toEqual([]);
    expect(report.problem).toMatch(/couldn't communicate with the NVIDIA driver/);
  });

  it('node-llama-cpp, asked in a child process, agrees: no GPU here', { timeout: 90_000 }, async () => {
    const detector = new GpuDetector();
    await detector.checkLlama();
    const report = await detector.sample();
    expect(report.llama).toMatchObject({ state: 'done', backend: null, devices: [], message: 'node-llama-cpp finds no GPU either: the embedded runtime uses the CPU.' });
  });

  it('closing the detector (the server closing) kills a node-llama-cpp check still running', { timeout: 30_000 }, async () => {
    const detector = new GpuDetector();
    const done = detector.checkLlama();
    detector.close();
    await done;
    const report = await detector.sample();
    expect(report.llama.state).toBe('failed');
    expect(report.llama.message).toBe('Could not ask node-llama-cpp: node-llama-cpp was stopped: the server is closing');
  });
});

describe('sampling only while someone listens', () => {
  it('no listener: no samples; a listener: a sample at once and every interval; the last one leaving stops it', async () => {
    const monitor = new MachineMonitor({
      connection: () => ({ bind: '127.0.0.1:8000', remote: false, authMode: 'auto', version: '0' }),
      cacheDir: () => '/',
      gpus: new GpuDetector(noProbe),
      sampleMs: 50,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(monitor.samples).toBe(0);
    const seen: string[] = [];
    const leave = monitor.subscribe((event) => seen.push(event.type));
    await until(() => seen.length >= 3);
    leave();
    const after = monitor.samples;
    await new Promise((r) => setTimeout(r, 300));
    // At most the sample in flight when it stopped.
    expect(monitor.samples - after).toBeLessThanOrEqual(1);
    expect(monitor.listening).toBe(0);
    monitor.close();
  });

  it('the event stream sends a snapshot at once, then again, and ends when the server closes', async () => {
    t = await buildTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/api/public/machine/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const events = () => [...text.matchAll(/event: machine\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!) as MachineSnapshot);
    while (events().length < 2) text += new TextDecoder().decode((await reader.read()).value);
    const [first, second] = events();
    expect(first!.host.cpu.cores).toBeGreaterThan(0);
    expect(Date.parse(second!.sampledAt)).toBeGreaterThan(Date.parse(first!.sampledAt));
    expect(t.app.halo.machine.listening).toBe(1);
    await reader.cancel();
    await until(() => t!.app.halo.machine.listening === 0);
  });
});
