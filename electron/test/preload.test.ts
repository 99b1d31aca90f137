import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { IPC, type DesktopBridge } from '../../shared/ipc.js';
import { requireBuild, ROOT } from './support.js';

const PRELOAD = join(ROOT, 'dist', 'electron', 'preload.cjs');

/**
 * Runs the compiled preload the way Electron runs a sandboxed one: wrapped in
 * a function whose `require` knows 'electron' (and a few builtins) but no
 * files, with a recording stand-in for contextBridge and ipcRenderer.
 */
function loadPreload() {
  const required: string[] = [];
  const exposed: Array<{ key: string; api: unknown }> = [];
  const invoked: Array<{ channel: string; args: unknown[] }> = [];
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]) => {
      invoked.push({ channel, args });
      return Promise.resolve(channel === IPC.openExternal ? true : { version: '0.1.0', platform: 'linux', backendUrl: 'http://127.0.0.1:8000/' });
    },
    on: (channel: string, fn: (...args: unknown[]) => void) => void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(fn),
    removeListener: (channel: string, fn: (...args: unknown[]) => void) => void listeners.get(channel)?.delete(fn),
  };
  const electron = { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push({ key, api }) }, ipcRenderer };
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`a sandboxed preload cannot require "${name}"`);
  };
  const wrapper = `(function (require, process, Buffer, global, setImmediate, clearImmediate, exports, module) {\n${readFileSync(PRELOAD, 'utf8')}\n})`;
  const module = { exports: {} };
  (runInNewContext(wrapper, {}, { filename: PRELOAD }) as (...args: unknown[]) => void)(sandboxRequire, {}, undefined, {}, setImmediate, clearImmediate, module.exports, module);
  const emit = (channel: string, ...args: unknown[]) => listeners.get(channel)?.forEach((fn) => fn(...args));
  return { required, exposed, invoked, listeners, emit, ipcRenderer };
}

beforeAll(requireBuild);

describe('the preload', () => {
  it("needs nothing but 'electron', as a sandboxed renderer requires", () => {
    expect(loadPreload().required).toEqual(['electron']);
  });

  it('exposes three named functions as window.haloForge, and never ipcRenderer', () => {
    const { exposed, ipcRenderer } = loadPreload();
    expect(exposed.map((e) => e.key)).toEqual(['haloForge']);
    const api = exposed[0]!.api as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(['appInfo', 'onRemoteAccessChanged', 'openExternal']);
    for (const value of Object.values(api)) {
      expect(typeof value).toBe('function');
      expect(value).not.toBe(ipcRenderer);
      expect(value).not.toBe(ipcRenderer.invoke);
    }
  });

  it('uses the channel names of shared/ipc.ts', async () => {
    const { exposed, invoked } = loadPreload();
    const bridge = exposed[0]!.api as DesktopBridge;
    await bridge.appInfo();
    await bridge.openExternal('https://huggingface.co/meta-llama');
    expect(invoked).toEqual([
      { channel: IPC.appInfo, args: [] },
      { channel: IPC.openExternal, args: ['https://huggingface.co/meta-llama'] },
    ]);
  });

  it('does not forward a non-string URL', async () => {
    const { exposed, invoked } = loadPreload();
    const bridge = exposed[0]!.api as DesktopBridge;
    expect(await bridge.openExternal({ toString: () => 'file:///etc/passwd' } as unknown as string)).toBe(false);
    expect(invoked).toEqual([]);
  });

  it('hands the page the remote-access state only (not the IPC event), until it unsubscribes', () => {
    const { exposed, emit, listeners } = loadPreload();
    const bridge = exposed[0]!.api as DesktopBridge;
    const seen: unknown[][] = [];
    const off = bridge.onRemoteAccessChanged((...args: unknown[]) => void seen.push(args));
    const fakeEvent = { sender: 'the ipcRenderer a page must never get' };
    emit(IPC.remoteAccessChanged, fakeEvent, { enabled: true, urls: ['http://192.168.1.5:8000/'] });
    expect(seen).toEqual([[{ enabled: true, urls: ['http://192.168.1.5:8000/'] }]]);
    off();
    emit(IPC.remoteAccessChanged, fakeEvent, { enabled: false, urls: [] });
    expect(seen).toHaveLength(1);
    expect(listeners.get(IPC.remoteAccessChanged)?.size).toBe(0);
  });
});
