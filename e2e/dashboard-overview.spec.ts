import type { Page } from '@playwright/test';
import { expect, screenshotBothSchemes, test as backendTest } from './support/backend';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from './support/fake-hub';

const REPO = 'halo-test/overview-gguf';
const PHONE = { width: 390, height: 844 };

// The backend talks to the test Hub with the workstation's read token; nothing leaves loopback.
const test = backendTest.extend<{ hub: FakeHub }>({
  hub: async ({}, use) => {
    const hub = await startFakeHub();
    hub.addRepo({ id: REPO, files: [{ path: 'config.json', content: '{}' }, { path: 'model.Q8_0.gguf', size: 6 * 1024 * 1024 + 7, seed: 7 }] });
    await use(hub);
    await hub.close();
  },
  backendOptions: async ({ hub }, use) => use({ env: { HF_ENDPOINT: hub.url, HF_TOKEN: FAKE_HUB_TOKENS.read } }),
});

async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, 'page width').toBeLessThanOrEqual(innerWidth);
}

/** When the figures on the page were sampled on the workstation. */
async function sampledAt(page: Page): Promise<string> {
  return (await page.getByTestId('overview-facts').getAttribute('data-sampled-at')) ?? '';
}

// Each test starts a backend, a browser and the node-llama-cpp check: on a shared 2-core machine that is slow.
test.describe.configure({ timeout: 150_000 });

for (const device of ['desktop', 'phone'] as const) {
  test.describe(`on a ${device}`, () => {
    if (device === 'phone') test.use({ viewport: PHONE });

    test('the Overview shows this machine, live: no GPU said in words, CPU, memory, disk, connection once', async ({ page, backend }) => {
      await page.goto(backend.url);
      await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
      // This machine has no GPU: the page says so and what it means, never a blank.
      await expect(page.getByTestId('overview-no-gpu')).toHaveText('No GPU found: models run on the CPU');
      await expect(page.getByTestId('overview-live')).toHaveText('Live');
      await expect(page.getByTestId('overview-cpu')).not.toBeEmpty();
      await expect(page.getByTestId('overview-memory')).toContainText(/\d+(\.\d)? GiB of \d+(\.\d)? GiB/);
      await expect(page.getByTestId('overview-disk')).toContainText(/free of/);
      await expect(page.getByTestId('overview-model-count')).toHaveText('No models yet');
      await expect(page.getByTestId('overview-connection')).toContainText(`Listening on ${new URL(backend.url).host}`);
      await expect(page.getByTestId('overview-connection')).toContainText('Remote access off');
      // The version appears once on the page's content.
      const main = page.locator('main');
      expect((await main.innerText()).match(/Halo Forge \d+\.\d+\.\d+/g)).toHaveLength(1);
      // node-llama-cpp's own check, done in a child process a moment after the first sample, agrees (on a busy machine it takes a while).
      await expect(page.getByTestId('overview-llama')).toHaveText('node-llama-cpp finds no GPU either: the embedded runtime uses the CPU.', { timeout: 60_000 });

      // Live: a new sample replaces the figures without a reload (the stream's snapshots carry a new CPU reading).
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const before = await page.evaluate(() => performance.getEntriesByType('navigation').length);
      const first = await sampledAt(page);
      await expect.poll(() => sampledAt(page), { timeout: 15_000 }).not.toBe(first);
      expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(before);
      expect(requests.filter((url) => url.endsWith('/api/public/machine'))).toEqual([]);

      await expectNoHorizontalOverflow(page);
      await screenshotBothSchemes(page, `overview-machine-${device}`);
    });

    test('a pull started through the API shows its progress on the open Overview', async ({ page, backend, hub }) => {
      await page.goto(backend.url);
      await expect(page.getByTestId('overview-live')).toHaveText('Live');
      await expect(page.getByTestId('overview-model-count')).toHaveText('No models yet');

      // Slow enough to watch and to take both screenshots on a busy machine: about 16 s for the 6 MB file.
      hub.files.fault(REPO, 'model.Q8_0.gguf', { kind: 'slow', bytesPerSecond: 384 * 1024, times: 1 });
      const started = await fetch(new URL('/api/public/models/pulls', backend.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repo: REPO }) });
      expect(started.status).toBe(202);

      const pull = page.getByTestId('overview-pull');
      await expect(pull).toContainText(REPO);
      await expect(pull).toContainText(/Downloading[\s\S]*\d+ (B|KiB|MiB) of 6 MiB/);
      await expectNoHorizontalOverflow(page);
      await screenshotBothSchemes(page, `overview-pull-${device}`);
      // It finishes: the pull leaves the list and the model is counted.
      await expect(page.getByTestId('overview-model-count')).toHaveText('1 model · 6 MiB', { timeout: 60_000 });
      await expect(pull).toHaveCount(0);
    });
  });
}
