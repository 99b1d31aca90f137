import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalModelList } from '../../shared/models.js';
import { ServingManager, USAGE_NOTICE_MS } from '../src/serving/serving-manager.js';
import { tempHome, testEnv, waitFor } from './support/backend-process.js';
import { FIXTURES, requireRuntimeBuild } from './support/serving.js';

// Every notice of the serving manager makes each open Models screen recompute
// the whole status. A burst of /v1 requests must not turn into a burst of
// notices, and what they changed must still reach the screen soon after.

const COMMIT = 'abc123abc123abc123abc123abc123abc123abcd';
const cache: LocalModelList = {
  cacheDir: '/cache',
  freeBytes: null,
  models: [
    {
      id: 'org/tiny',
      kind: 'model',
      path: '/cache/models--org--tiny',
      size: 1000,
      revisions: [{ commit: COMMIT, refs: ['main'], files: [{ path: 'tiny.gguf', size: 1000 }], size: 1000, lastModified: '2026-01-01T00:00:00Z' }],
      lastPulled: null,
      incomplete: false,
    },
  ],
};

describe('serving notices under a burst of requests', { timeout: 60_000 }, () => {
  let home: { home: string; cleanup(): void };
  let serving: ServingManager;
  let model: string;

  beforeAll(async () => {
    requireRuntimeBuild();
    home = tempHome('halo-usage-');
    serving = new ServingManager({
      home: home.home,
      env: testEnv(home.home),
      localModels: async () => cache,
      hfToken: async () => null,
      availableMemory: () => 64 * 1024 ** 3,
      ttlMs: null,
      runtimes: { 'llama-server': { executable: join(FIXTURES, 'fake-runtime.mjs') } },
    });
    model = (await serving.run({ model: 'org/tiny', runtime: 'llama-server' })).model;
  });
  afterAll(async () => {
    await serving?.close();
    home?.cleanup();
  });

  it('500 answered requests make at most two notices, and the last one carries all 500', async () => {
    await new Promise((r) => setTimeout(r, USAGE_NOTICE_MS)); // the load's own notices are a second old
    const seen: number[] = [];
    const off = serving.onChange(() => seen.push(serving.running()[0]!.requests));
    try {
      for (let i = 0; i < 500; i++) (await serving.acquire(model)).release({ tokens: 10, seconds: 0.1 });
      // The first answer is told at once; the rest wait for the next notice.
      expect(seen).toEqual([1]);
      await waitFor(() => seen.length === 2, USAGE_NOTICE_MS + 5_000, 'the trailing notice');
      expect(seen).toEqual([1, 500]);
      expect(serving.running()[0]).toMatchObject({ requests: 500, tokensPerSecond: 100, lastUsedAt: expect.any(String) });
    } finally {
      off();
    }
  });

  it('a change of state is told at once, even right after a request', async () => {
    let notices = 0;
    const off = serving.onChange(() => notices++);
    try {
      (await serving.acquire(model)).release();
      const before = notices;
      const stopping = serving.stop(model);
      expect(notices).toBeGreaterThan(before);
      await stopping;
    } finally {
      off();
    }
  });
});
