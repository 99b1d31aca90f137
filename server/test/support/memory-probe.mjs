// Test-only: preloaded into a backend under test with
//   node --expose-gc --import <this file> server/bin/halo-forge.js serve ...
// It answers one IPC message, { type: 'halo-test:probe', id }, with the
// process's memory after full garbage collections (in total and per V8 heap
// space) and the kinds of resources keeping its event loop alive (open sockets
// show up there). The backend's own IPC handler acts only on
// { type: 'shutdown' }, so the two never collide; the product never loads
// this file.
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';

const PROBE = 'halo-test:probe';

/** Several rounds: objects freed by one collection can release others (weak maps, finalizers) in the next. */
async function settledMemory() {
  for (let round = 0; round < 4; round++) {
    globalThis.gc();
    await sleep(50);
  }
  return process.memoryUsage();
}

if (typeof globalThis.gc === 'function' && typeof process.send === 'function') {
  process.on('message', (message) => {
    if (message?.type !== PROBE) return;
    void settledMemory().then((memory) => {
      const resources = {};
      for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
      const spaces = {};
      for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = space.space_used_size;
      process.send({ type: PROBE, id: message.id, memory, resources, spaces });
    });
  });
}
