import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asar from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appNodeModules } from '../child-relay.js';
import { TEST_FORK_MODULE, testForkModule } from '../test-fork-relay.js';
import { httpGet, isAlive, ROOT, tempHome, testEnv, waitFor } from './support.js';

/**
 * Builds the `dir` target with the real electron-builder.yml, offline: the
 * Electron runtime comes from a stand-in unpacked folder (electronDist)
 * instead of a download, and keytar is not rebuilt against Electron's headers
 * (which would be a download too). What is checked is what the configuration
 * decides: what goes into app.asar, what stays unpacked, which fuses are
 * flipped, and that the packaged backend serves the packaged dashboard.
 */

const ELECTRON_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
const BUILT = ['dist/electron/main.js', 'dist/electron/preload.cjs', 'dist/backend/halo-forge.mjs', 'dist/renderer/index.html'];
const missing = BUILT.filter((f) => !existsSync(join(ROOT, f)));
const skipReason =
  process.platform !== 'linux'
    ? `the stand-in Electron folder is laid out for Linux; this is ${process.platform}`
    : missing.length
      ? `run "npm run build" first (missing: ${missing.join(', ')})`
      : null;
if (skipReason) console.warn(`packaging test skipped: ${skipReason}`);

// The fuse wire as a real Electron 41 binary carries it: a sentinel, version 1, length, one byte per fuse.
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const STOCK_FUSES = '1011000111';
const FUSES = ['RunAsNode', 'EnableCookieEncryption', 'EnableNodeOptionsEnvironmentVariable', 'EnableNodeCliInspectArguments', 'EnableEmbeddedAsarIntegrityValidation', 'OnlyLoadAppFromAsar', 'LoadBrowserProcessSpecificV8Snapshot', 'GrantFileProtocolExtraPrivileges'];

function fakeElectronDist(dir: string): void {
  mkdirSync(join(dir, 'locales'), { recursive: true });
  mkdirSync(join(dir, 'resources'), { recursive: true });
  const binary = Buffer.concat([
    Buffer.from('#!/bin/sh\n# Stand-in for the Electron binary, which cannot be downloaded here.\nexit 0\n# '),
    Buffer.from(FUSE_SENTINEL),
    Buffer.from([1, STOCK_FUSES.length]),
    Buffer.from(`${STOCK_FUSES}\n`),
  ]);
  writeFileSync(join(dir, 'electron'), binary);
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'version'), ELECTRON_VERSION);
  writeFileSync(join(dir, 'LICENSE'), 'MIT (stand-in)\n');
  writeFileSync(join(dir, 'LICENSES.chromium.html'), '<p>stand-in</p>\n');
  writeFileSync(join(dir, 'locales', 'en-US.pak'), 'stand-in');
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('close', (code) => resolve({ code, output })); // close: output fully read
  });
}

describe.skipIf(skipReason !== null)('the packaged app (electron-builder --dir, offline)', () => {
  const work = mkdtempSync(join(tmpdir(), 'halo-forge-packaging-'));
  const appDir = join(work, 'out', 'linux-unpacked');
  const archive = join(appDir, 'resources', 'app.asar');
  let files: string[] = [];
  let buildOutput = '';

  beforeAll(async () => {
    fakeElectronDist(join(work, 'electron-dist'));
    const env: NodeJS.ProcessEnv = { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false', ELECTRON_BUILDER_CACHE: join(work, 'cache') };
    delete env.GH_TOKEN;
    delete env.GITHUB_TOKEN;
    const result = await run(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'electron-builder', 'cli.js'),
        '--config',
        'electron-builder.yml',
        '--linux',
        'dir',
        '--publish',
        'never',
        `-c.electronDist=${join(work, 'electron-dist')}`,
        `-c.electronVersion=${ELECTRON_VERSION}`,
        '-c.npmRebuild=false',
        `-c.directories.output=${join(work, 'out')}`,
      ],
      env,
    );
    buildOutput = result.output;
    if (result.code !== 0) throw new Error(`electron-builder failed (${result.code}):\n${result.output}`);
    files = asar.listPackage(archive, { isPack: false }).map((f) => f.replace(/\\/g, '/').replace(/^\//, ''));
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('contains the main process, the preload, the bundled backend, the shared contract, the dashboard and the icon', () => {
    for (const file of ['package.json', 'dist/electron/main.js', 'dist/electron/preload.cjs', 'dist/electron/supervisor.js', 'dist/backend/halo-forge.mjs', 'dist/shared/ipc.js', 'dist/shared/api.js', 'dist/renderer/index.html', 'electron/assets/icon.png']) {
      expect(files, file).toContain(file);
    }
    expect(files.some((f) => /^dist\/renderer\/assets\/.+\.js$/.test(f))).toBe(true);
  });

  it('contains every file the main process imports', () => {
    const pending = ['dist/electron/main.js'];
    const seen = new Set<string>();
    while (pending.length) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      expect(files, `${file} (imported by the main process)`).toContain(file);
      const source = asar.extractFile(archive, file).toString('utf8');
      for (const [, spec] of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) pending.push(join(file, '..', spec!).replace(/\\/g, '/'));
    }
    expect([...seen]).toEqual(expect.arrayContaining(['dist/electron/supervisor.js', 'dist/electron/utility-backend.js', 'dist/electron/child-relay.js', 'dist/shared/ipc.js']));
  });

  it('ships the production dependencies and none of the development ones', () => {
    for (const dep of ['fastify', '@fastify/static', 'commander', '@sinclair/typebox']) expect(files, dep).toContain(`node_modules/${dep}/package.json`);
    for (const dev of ['electron', 'electron-builder', 'react', 'react-dom', 'vite', 'vitest', 'typescript', '@playwright/test', 'rolldown', 'zustand']) {
      expect(files.filter((f) => f.startsWith(`node_modules/${dev}/`)), dev).toEqual([]);
    }
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8')) as { main: string; devDependencies?: unknown };
    expect(pkg.main).toBe('dist/electron/main.js');
    expect(pkg.devDependencies).toBeUndefined();
  });

  it('leaves out sources, source maps, tests and everything outside the build', () => {
    const own = files.filter((f) => !f.startsWith('node_modules/'));
    expect(own.filter((f) => /\.(ts|tsx|cts|mts|map)$/.test(f))).toEqual([]);
    expect(own.filter((f) => /(^|\/)(test|tests|e2e)(\/|$)|\.(test|spec)\./.test(f))).toEqual([]);
    expect(own.filter((f) => /^(server|renderer|shared|scripts|e2e|electron\/(?!assets))\//.test(f) || f.startsWith('dist/server/'))).toEqual([]);
    expect(own.filter((f) => f.includes('.') && !/^(package\.json|dist\/(backend|electron|shared|renderer)\/|electron\/assets\/icon\.png$)/.test(f))).toEqual([]);
    expect(files).not.toContain('dist/electron/node-backend.js');
  });

  it.skipIf(!existsSync(join(ROOT, 'node_modules', 'keytar', 'build', 'Release', 'keytar.node')))('unpacks keytar, whose native module cannot load from inside an asar', () => {
    expect(asar.statFile(archive, 'node_modules/keytar/build/Release/keytar.node')).toMatchObject({ unpacked: true });
    expect(existsSync(join(appDir, 'resources', 'app.asar.unpacked', 'node_modules', 'keytar', 'build', 'Release', 'keytar.node'))).toBe(true);
    expect(existsSync(join(appDir, 'resources', 'app.asar.unpacked', 'node_modules', 'keytar', 'lib', 'keytar.js'))).toBe(true);
  });

  it('unpacks node-llama-cpp, llama.cpp\'s CPU binaries and the backend\'s child entries; leaves the CUDA and Vulkan builds out', () => {
    const unpackedDir = join(appDir, 'resources', 'app.asar.unpacked');
    expect(asar.statFile(archive, 'node_modules/node-llama-cpp/package.json')).toMatchObject({ unpacked: true });
    expect(existsSync(join(unpackedDir, 'node_modules', 'node-llama-cpp', 'package.json'))).toBe(true);
    const cpu = files.filter((f) => /^node_modules\/@node-llama-cpp\/linux-x64\/bins\/.+\.node$/.test(f));
    expect(cpu.length).toBeGreaterThan(0);
    for (const binary of cpu) expect(existsSync(join(unpackedDir, binary)), binary).toBe(true);
    expect(files.filter((f) => /^node_modules\/@node-llama-cpp\/[^/]*(cuda|vulkan)/.test(f))).toEqual([]);
    expect(existsSync(join(unpackedDir, 'node_modules', '@node-llama-cpp', 'linux-x64-cuda'))).toBe(false);
    expect(existsSync(join(unpackedDir, 'node_modules', '@node-llama-cpp', 'linux-x64-vulkan'))).toBe(false);
    // The backend's child entries (runtime, guard, run keeper, GPU probe) and the chunks they import, readable by a
    // process that cannot read an asar: the main process forks them from here for the backend.
    for (const name of ['serving-runtime.mjs', 'runtime-guard.mjs', 'run-keeper.mjs', 'llama-probe.mjs']) {
      const entry = join(unpackedDir, 'dist', 'backend', name);
      expect(existsSync(entry), name).toBe(true);
      const chunks = [...readFileSync(entry, 'utf8').matchAll(/from\s*"(\.\/chunks\/[^"]+)"/g)].map((m) => m[1]!);
      for (const chunk of chunks) expect(existsSync(join(unpackedDir, 'dist', 'backend', chunk)), `${name}: ${chunk}`).toBe(true);
    }
    // node-llama-cpp's binary test, which the main process forks for the runtime and the probe, found where the relay looks.
    expect(testForkModule(appNodeModules(join(unpackedDir, 'dist', 'backend')))).toBe(join(unpackedDir, 'node_modules', ...TEST_FORK_MODULE));
    // The backend itself stays in the asar: nothing forks it but the main process, which reads the asar.
    expect(existsSync(join(unpackedDir, 'dist', 'backend', 'halo-forge.mjs'))).toBe(false);
  });

  it('names the executable halo-forge and turns off RunAsNode, NODE_OPTIONS and --inspect', () => {
    const binary = readFileSync(join(appDir, 'halo-forge'));
    const at = binary.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    const wire = binary.subarray(at + 2, at + 2 + binary[at + 1]!).toString('latin1');
    const state = Object.fromEntries(FUSES.map((name, i) => [name, wire[i]]));
    expect(state).toEqual({
      RunAsNode: '0',
      EnableCookieEncryption: '1',
      EnableNodeOptionsEnvironmentVariable: '0',
      EnableNodeCliInspectArguments: '0',
      EnableEmbeddedAsarIntegrityValidation: '1',
      OnlyLoadAppFromAsar: '1',
      LoadBrowserProcessSpecificV8Snapshot: '0',
      GrantFileProtocolExtraPrivileges: '0',
    });
    expect(buildOutput).not.toMatch(/download/i);
  });

  it('serves the packaged dashboard from the packaged backend', async () => {
    const extracted = join(work, 'extracted');
    asar.extractAll(archive, extracted);
    const { home, cleanup } = tempHome();
    const backend = spawn(process.execPath, [join(extracted, 'dist', 'backend', 'halo-forge.mjs'), 'serve', '--port', '0', '--port-fallback'], { env: testEnv(home), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    try {
      let output = '';
      backend.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
      backend.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
      let url = '';
      backend.on('message', (m: { type: string; url?: string }) => m.type === 'ready' && (url = m.url!));
      await waitFor(() => url !== '' || backend.exitCode !== null, 'the packaged backend to be ready', 15_000);
      expect(url, output).not.toBe('');
      const page = await httpGet(url);
      expect(page.status).toBe(200);
      expect(page.body).toBe(readFileSync(join(extracted, 'dist', 'renderer', 'index.html'), 'utf8'));
      const health = await httpGet(`${url}api/public/health`);
      expect(JSON.parse(health.body)).toEqual({ status: 'ok', version: expect.any(String) });
    } finally {
      backend.kill('SIGTERM');
      await waitFor(() => backend.exitCode !== null || backend.signalCode !== null, 'the packaged backend to stop');
      if (backend.pid) expect(isAlive(backend.pid)).toBe(false);
      cleanup();
    }
  });
});
