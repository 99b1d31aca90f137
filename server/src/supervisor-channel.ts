import type { BackendMessage, SupervisorMessage } from '../../shared/ipc.js';

// The backend's line to whatever started it: Electron's utilityProcess gives
// `process.parentPort`; a Node fork gives `process.send`. Standalone, both are absent.

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

export const hasSupervisor = (): boolean => parentPort !== undefined || typeof process.send === 'function';

export function tellSupervisor(message: BackendMessage): void {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

export function onSupervisorMessage(listener: (message: SupervisorMessage) => void): void {
  if (parentPort) parentPort.on('message', (e) => listener(e.data as SupervisorMessage));
  else process.on('message', (m) => listener(m as SupervisorMessage));
}
