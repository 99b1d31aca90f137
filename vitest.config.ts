import { defineConfig } from 'vitest/config';

// No test may ever reach huggingface.co: every test process starts with HF_ENDPOINT on a port that
// refuses (9, discard), so a test that forgets to point it at its own test Hub fails instead of going out.
const offlineHub = { HF_ENDPOINT: 'http://127.0.0.1:9' };

// One runner, three rooms: each project runs in the environment its code runs in.
export default defineConfig({
  test: {
    // Fails the run when a test leaves files in the temp folder or writes to the home folder.
    globalSetup: ['server/test/support/no-leftovers.ts'],
    projects: [
      {
        test: {
          name: 'server',
          include: ['server/test/**/*.test.ts'],
          environment: 'node',
          env: offlineHub,
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'electron',
          include: ['electron/test/**/*.test.ts'],
          environment: 'node',
          env: offlineHub,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'renderer',
          include: ['renderer/test/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          env: offlineHub,
        },
      },
    ],
  },
});
