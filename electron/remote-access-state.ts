import type { ConnectionInfo } from '../shared/api.js';

/**
 * Whether this workstation is reachable from the network, as the tray and the
 * menu show it. An exposed port must never be invisible, so "unknown" (the
 * backend is down or has not answered) is shown as such, never as "off".
 */
export type RemoteAccessView = { known: true; enabled: boolean; urls: string[] } | { known: false };

export const UNKNOWN: RemoteAccessView = { known: false };

export function fromConnection(info: Pick<ConnectionInfo, 'remote'>): RemoteAccessView {
  return { known: true, enabled: info.remote.enabled, urls: [...info.remote.urls] };
}

export function fromMessage(message: { enabled: boolean; urls: string[] }): RemoteAccessView {
  return { known: true, enabled: message.enabled, urls: [...message.urls] };
}

export function sameView(a: RemoteAccessView, b: RemoteAccessView): boolean {
  if (!a.known || !b.known) return a.known === b.known;
  return a.enabled === b.enabled && a.urls.length === b.urls.length && a.urls.every((u, i) => u === b.urls[i]);
}

/** The menu entry's label. */
export function remoteAccessLabel(view: RemoteAccessView): string {
  if (!view.known) return 'Remote access: unknown (backend not running)';
  return view.enabled ? 'Remote access: ON' : 'Remote access: off';
}

/** The tray tooltip: says where the workstation is reachable, not just that it is. */
export function remoteAccessTooltip(view: RemoteAccessView): string {
  if (!view.known) return 'Halo Forge: backend not running';
  if (!view.enabled) return 'Halo Forge: local only (remote access off)';
  return `Halo Forge: reachable from the network${view.urls.length ? ` at ${view.urls.join(', ')}` : ''} (API token required)`;
}

/** The window title carries the state too, so an exposed workstation is visible in the task switcher. */
export function windowTitle(pageTitle: string, view: RemoteAccessView): string {
  const base = pageTitle.trim() || 'Halo Forge';
  return view.known && view.enabled ? `${base} — remote access ON` : base;
}
