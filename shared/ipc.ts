// Messages between the Electron main process, its preload, and the backend
// child process. Imports nothing.

/** What the backend child sends its supervisor (over the IPC channel, never via log text). */
export type BackendMessage =
  | { type: 'ready'; port: number; url: string; pid: number }
  | { type: 'fatal'; message: string; hint: string }
  | { type: 'remote-access'; enabled: boolean; urls: string[] };

/** What the supervisor sends the backend child. */
export type SupervisorMessage = { type: 'shutdown' };

/** Channels the preload exposes through contextBridge. */
export const IPC = {
  appInfo: 'halo-forge:app-info',
  openExternal: 'halo-forge:open-external',
  remoteAccessChanged: 'halo-forge:remote-access-changed',
} as const;

export interface AppInfo {
  version: string;
  platform: string;
  backendUrl: string;
}

/** The whole surface the desktop window gets: `window.haloForge`. */
export interface DesktopBridge {
  appInfo(): Promise<AppInfo>;
  /** Opens an https: URL in the system browser; anything else is refused. */
  openExternal(url: string): Promise<boolean>;
  /** Returns a function that cancels the subscription. */
  onRemoteAccessChanged(listener: (state: { enabled: boolean; urls: string[] }) => void): () => void;
}
