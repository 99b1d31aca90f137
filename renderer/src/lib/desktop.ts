import type { DesktopBridge } from '../../../shared/ipc';

declare global {
  interface Window {
    /** Present only in the Electron window (the preload's contextBridge). */
    haloForge?: DesktopBridge;
  }
}

export function desktopBridge(): DesktopBridge | undefined {
  return typeof window === 'undefined' ? undefined : window.haloForge;
}
