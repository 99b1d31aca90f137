import { afterEach, describe, expect, it } from 'vitest';
import { tellParent } from '../src/serving/parent-watch.js';

// A runtime's last word (its fatal report) reaches whoever started it: a Node parent over process.send, or,
// inside the desktop app, the main process over the utility process's parentPort, which has no callback.

const proc = process as unknown as { parentPort?: { postMessage(message: unknown): void } };
afterEach(() => {
  delete proc.parentPort;
});

describe('tellParent', () => {
  it('posts on a utility process\'s parentPort, then lets the caller exit', async () => {
    const posted: unknown[] = [];
    proc.parentPort = { postMessage: (m) => posted.push(m) };
    const report = { type: 'runtime-fatal', message: 'bad file', hint: 'pull it again' };
    await new Promise<void>((resolve) => tellParent(report, resolve));
    expect(posted).toEqual([report]);
  });

});
