import { isBackendUrl } from './navigation-policy.js';

/** The parts of an IpcMainInvokeEvent the check reads (structurally compatible with Electron's). */
export interface IpcSenderInfo {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

export interface TrustedSender {
  /** `http://127.0.0.1:<port>` while the backend is up; null while the splash shows. */
  backendOrigin: string | null;
  /** The main window's webContents id. */
  webContentsId: number | null;
}

/**
 * Every IPC handler asks this first. The message must come from the main
 * window, from its top frame (not an iframe a page might embed), showing the
 * dashboard of our own backend: a page that got into the window some other
 * way gets nothing from the main process.
 */
export function isTrustedSender(event: IpcSenderInfo, trusted: TrustedSender): boolean {
  if (trusted.webContentsId === null || event.sender.id !== trusted.webContentsId) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent) return false;
  return isBackendUrl(frame.url, trusted.backendOrigin);
}
