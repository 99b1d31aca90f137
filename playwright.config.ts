import { defineConfig } from '@playwright/test';
import { fileURLToPath } from 'node:url';

// No test may ever reach huggingface.co: a backend that is not given a test Hub finds a port that refuses.
process.env.HF_ENDPOINT ??= 'http://127.0.0.1:9';

export const SCREENSHOT_DIR = fileURLToPath(new URL('./e2e/artifacts/screenshots', import.meta.url));

// Printed once, by the runner (workers load this file too, with TEST_WORKER_INDEX set).
if (!process.env.TEST_WORKER_INDEX && !process.argv.includes('--list')) {
  process.stdout.write(`Dashboard screenshots (light and dark): ${SCREENSHOT_DIR}\n`);
}

// A system Chromium where Playwright's own browser is not installed (Debian: /usr/bin/chromium).
const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
};

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // Two cores: each test runs a backend and a browser.
  workers: 2,
  retries: 0,
  reporter: 'list',
  timeout: 45_000,
  expect: { timeout: 10_000 },
  use: {
    launchOptions: chromium,
    viewport: { width: 1280, height: 860 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'browser', testMatch: 'e2e/**/*.spec.ts', testIgnore: 'e2e/electron.spec.ts' },
    { name: 'electron', testMatch: 'e2e/electron.spec.ts' },
  ],
});
