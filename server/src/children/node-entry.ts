import { isChildEvent, MainProcessBridge } from './main-bridge.js';

/**
 * Who starts the backend's Node children (the embedded runtime, the runtime
 * guard, run keepers). Under Node, the backend itself:
 * `spawn(process.execPath, [entry, ...args])`. Inside the desktop app,
 * `process.execPath` is Electron's binary, which (RunAsNode fused off) would
 * start a second app, not a script: there the main process forks them, asked
 * over the backend's parentPort. null means "spawn it yourself".
 */

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

let appBridge: MainProcessBridge | null | undefined;

export function nodeEntryBridge(): MainProcessBridge | null {
  if (appBridge === undefined) {
    const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
    appBridge =
      process.versions.electron && parentPort
        ? new MainProcessBridge({
            post: (request) => parentPort.postMessage(request),
            onEvent: (listener) => parentPort.on('message', (e) => isChildEvent(e.data) && listener(e.data)),
          })
        : null;
  }
  return appBridge;
}
