// The desktop window's preload: the whole surface the dashboard gets from the
// desktop shell, `window.haloForge`. It runs in a sandboxed renderer, where
// `require` reaches only 'electron' and a few Node builtins, so the channel
// names are written out here; a test checks they equal IPC in shared/ipc.ts.
// The page never sees ipcRenderer: only these three functions, whose
// arguments are checked before they cross to the main process.
import electron = require('electron');
import type { AppInfo, DesktopBridge } from '../shared/ipc.js' with { 'resolution-mode': 'import' };

const { contextBridge, ipcRenderer } = electron;

const CHANNELS = {
  appInfo: 'halo-forge:app-info',
  openExternal: 'halo-forge:open-external',
  remoteAccessChanged: 'halo-forge:remote-access-changed',
} as const;

type RemoteAccessListener = Parameters<DesktopBridge['onRemoteAccessChanged']>[0];

const bridge: DesktopBridge = {
  appInfo: () => ipcRenderer.invoke(CHANNELS.appInfo) as Promise<AppInfo>,
  openExternal: (url: string) => (typeof url === 'string' ? (ipcRenderer.invoke(CHANNELS.openExternal, url) as Promise<boolean>) : Promise.resolve(false)),
  onRemoteAccessChanged(listener: RemoteAccessListener) {
    if (typeof listener !== 'function') return () => undefined;
    // The page's callback gets the state only, never the IPC event (whose `sender` reaches ipcRenderer).
    const relay = (_event: unknown, state: { enabled: boolean; urls: string[] }) => listener({ enabled: Boolean(state?.enabled), urls: Array.isArray(state?.urls) ? state.urls.map(String) : [] });
    ipcRenderer.on(CHANNELS.remoteAccessChanged, relay);
    return () => {
      ipcRenderer.removeListener(CHANNELS.remoteAccessChanged, relay);
    };
  },
};

contextBridge.exposeInMainWorld('haloForge', bridge);
