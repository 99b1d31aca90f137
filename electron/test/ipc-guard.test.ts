import { describe, expect, it } from 'vitest';
import { isTrustedSender, type IpcSenderInfo } from '../ipc-guard.js';

const trusted = { backendOrigin: 'http://127.0.0.1:8000', webContentsId: 7 };
const top = { parent: null };

function event(id: number, frame: IpcSenderInfo['senderFrame']): IpcSenderInfo {
  return { sender: { id }, senderFrame: frame };
}

describe('the IPC sender check', () => {
  it.each([
    ['the dashboard in the main window', event(7, { url: 'http://127.0.0.1:8000/connection', ...top }), trusted, true],
    ['another window', event(8, { url: 'http://127.0.0.1:8000/', ...top }), trusted, false],
    ['an iframe inside the dashboard', event(7, { url: 'http://127.0.0.1:8000/', parent: {} }), trusted, false],
    ['a page from another origin', event(7, { url: 'https://huggingface.co/', ...top }), trusted, false],
    ['another loopback port', event(7, { url: 'http://127.0.0.1:8001/', ...top }), trusted, false],
    ['the splash page', event(7, { url: 'data:text/html,<p>Starting', ...top }), trusted, false],
    ['a frame already gone', event(7, null), trusted, false],
    ['any page while the backend is down', event(7, { url: 'http://127.0.0.1:8000/', ...top }), { ...trusted, backendOrigin: null }, false],
    ['any sender when there is no window', event(7, { url: 'http://127.0.0.1:8000/', ...top }), { ...trusted, webContentsId: null }, false],
  ])('%s → %s', (_what, e, t, expected) => {
    expect(isTrustedSender(e, t)).toBe(expected);
  });
});
