// Messages between the Electron main process, its preload, and the backend
// child process. Imports nothing.

/** What the backend child sends its supervisor (over the IPC channel, never via log text). */
export type BackendMessage =
  | { type: 'ready'; port: number; url: string; pid: number }
  | { type: 'fatal'; message: string; hint: string }
  | { type: 'remote-access'; enabled: boolean; urls: string[] }
  | ChildRequest;

/** What the supervisor sends the backend child. */
export type SupervisorMessage = { type: 'shutdown' } | ChildEvent;

/**
 * Inside the desktop app the backend cannot start a Node script itself (its
 * executable is Electron's, which runs none): it asks the main process to
 * fork one of its own bundled entries (the embedded runtime, the runtime
 * guard, a run keeper) as a utility process, and hears back about it.
 * `id` is the backend's name for the child. `env` holds secrets (HF_TOKEN,
 * the runtime key): the main process passes it on and never prints it.
 */
export type ChildRequest =
  | { type: 'child-spawn'; id: number; entry: string; args: string[]; env: Record<string, string>; serviceName: string }
  | { type: 'child-kill'; id: number; signal: ChildSignal };

export type ChildSignal = 'SIGTERM' | 'SIGINT' | 'SIGKILL';

export type ChildEvent =
  | { type: 'child-spawned'; id: number; pid: number }
  | { type: 'child-output'; id: number; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'child-message'; id: number; message: unknown }
  /** Sent once, after the child's last output; `error` when it could not be started (or was refused). */
  | { type: 'child-exit'; id: number; code: number | null; signal: string | null; error?: string };

/**
 * node-llama-cpp tests each llama.cpp binary in a forked copy of its own
 * `testBindingBinary.js` before loading it. Inside the desktop app the
 * runtime (a utility process) cannot fork: `child_process.fork` would start
 * Electron's binary, a second app, and utility processes only exist for the
 * main process to create. So the runtime asks the main process, over its own
 * parentPort, to fork that one file as a utility process, and the two relay
 * the test's messages. `id` is the runtime's name for the test process; `env`
 * is the test's whole environment, passed on and never printed.
 */
export type TestForkRequest =
  | { type: 'test-fork'; id: number; module: string; env: Record<string, string> }
  | { type: 'test-fork-send'; id: number; message: unknown }
  | { type: 'test-fork-kill'; id: number };

export type TestForkEvent =
  | { type: 'test-fork-spawned'; id: number; pid: number }
  | { type: 'test-fork-message'; id: number; message: unknown }
  /** Sent once; `error` when it was refused or could not be started. */
  | { type: 'test-fork-exit'; id: number; code: number | null; signal: string | null; error?: string };

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
