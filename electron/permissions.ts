import { isBackendUrl } from './navigation-policy.js';

/**
 * What the dashboard may ask the browser for. Default deny: a permission is
 * granted only if this table says so, with a reason, and only to the
 * backend's own origin. Anything Chromium adds later is denied until someone
 * writes a line here.
 */
export const PERMISSIONS: Readonly<Record<string, { allow: boolean; reason: string }>> = {
  'clipboard-sanitized-write': { allow: true, reason: 'the Copy buttons for a new API token and the remote URL write plain text' },
  'clipboard-read': { allow: false, reason: 'the dashboard never reads the clipboard; it may hold secrets from other apps' },
  'deprecated-sync-clipboard-read': { allow: false, reason: 'the dashboard never reads the clipboard' },
  media: { allow: false, reason: 'no camera or microphone: nothing on the dashboard records' },
  'display-capture': { allow: false, reason: 'no screen capture' },
  notifications: { allow: false, reason: 'the tray shows remote access; no web notifications' },
  geolocation: { allow: false, reason: 'a workstation dashboard has no use for location' },
  openExternal: { allow: false, reason: 'external links go through the https:-only policy, never a page-triggered protocol handler' },
  fullscreen: { allow: false, reason: 'no element of the dashboard goes fullscreen' },
  pointerLock: { allow: false, reason: 'no games here' },
  keyboardLock: { allow: false, reason: 'the app keeps system shortcuts' },
  midi: { allow: false, reason: 'no MIDI devices' },
  midiSysex: { allow: false, reason: 'no MIDI devices' },
  hid: { allow: false, reason: 'no USB/HID devices' },
  serial: { allow: false, reason: 'no serial ports' },
  usb: { allow: false, reason: 'no USB devices' },
  fileSystem: { allow: false, reason: 'the backend owns the files; the page gets no direct file access' },
  'idle-detection': { allow: false, reason: 'no idle tracking' },
  'window-management': { allow: false, reason: 'a single window' },
  mediaKeySystem: { allow: false, reason: 'no DRM media' },
  'speaker-selection': { allow: false, reason: 'no audio output choice' },
  'storage-access': { allow: false, reason: 'no third-party content to share storage with' },
  'top-level-storage-access': { allow: false, reason: 'no third-party content to share storage with' },
};

export interface PermissionDecision {
  allow: boolean;
  reason: string;
}

export function decidePermission(permission: string, requestingUrl: string, backendOrigin: string | null): PermissionDecision {
  const entry = Object.hasOwn(PERMISSIONS, permission) ? PERMISSIONS[permission] : undefined;
  if (!entry) return { allow: false, reason: `"${permission}" is not in the permission table (default deny)` };
  if (!entry.allow) return entry;
  if (!isBackendUrl(requestingUrl, backendOrigin)) return { allow: false, reason: `only the dashboard may use "${permission}"` };
  return entry;
}
