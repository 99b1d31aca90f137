import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, screenshotBothSchemes, test as backendTest } from './support/backend';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from './support/fake-hub';
import { tinyGguf } from './support/tiny-gguf';

// The real thing end to end: the test Hub serves a tiny llama GGUF, the CLI
// pulls it into the backend's cache, the Models screen runs it in the
// embedded runtime, and the Playground chats with it through /v1.
const REPO = 'halo-test/tiny-llama';
const FILE = 'tiny.gguf';
const MODEL = `${REPO}:${FILE}`;
const GATED = 'halo-test/gated-llama';
const TOKEN_KEY = 'halo-forge:api-token';
const PHONE = { width: 390, height: 844 };

const test = backendTest.extend<{ hub: FakeHub }>({
  hub: async ({}, use) => {
    const hub = await startFakeHub();
    // A context of 4096 leaves room for an answer long enough to stop part-way.
    hub.addRepo({ id: REPO, files: [{ path: FILE, content: tinyGguf({ contextLength: 4096 }) }] });
    hub.addRepo({ id: GATED, gated: 'manual', files: [{ path: 'model.Q4_0.gguf', size: 4096, seed: 3 }] });
    await use(hub);
    await hub.close();
  },
  backendOptions: async ({ hub }, use) => use({ env: { HF_ENDPOINT: hub.url, HF_TOKEN: FAKE_HUB_TOKENS.read }, setup: oneThread }),
});

/**
 * llama.cpp's threads wait for each other spinning: on a loaded two-core test
 * machine, one thread per core made the tiny model crawl (0.3 tokens/s).
 */
function oneThread(home: string): void {
  writeFileSync(join(home, 'config.json'), JSON.stringify({ serving: { threads: 1 } }));
}

async function open(page: Page, url: string, screen: 'Models' | 'Playground'): Promise<void> {
  await page.goto(url);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(screen);
}

/** A phone must never scroll sideways. */
async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, 'page width').toBeLessThanOrEqual(innerWidth);
}

/** The element is on screen, or can be scrolled to, and nothing covers it. */
async function expectReachable(page: Page, testId: string): Promise<void> {
  const target = page.getByTestId(testId);
  await target.scrollIntoViewIfNeeded();
  await expect(target).toBeInViewport();
  const box = (await target.boundingBox())!;
  expect(box.x + box.width, `${testId} right edge`).toBeLessThanOrEqual(page.viewportSize()!.width);
}

for (const device of ['desktop', 'phone'] as const) {
  test.describe(`on a ${device}`, () => {
    if (device === 'phone') test.use({ viewport: PHONE });

    test('run a pulled model → a streamed answer with time to first token and tokens/s → Stop → stop the model', async ({ page, backend }) => {
      // Two cores: a backend, its runtime, a browser, and light and dark screenshots of each state.
      test.setTimeout(150_000);
      const shot = (name: string) => screenshotBothSchemes(page, `playground-${name}${device === 'phone' ? '-phone' : ''}`);
      // Canary: the workstation's HF token goes into the runtime's environment only, never to this page.
      const seen: string[] = [];
      page.on('request', (request) => seen.push(`${request.url()} ${JSON.stringify(request.headers())} ${request.postData() ?? ''}`));
      page.on('response', (response) => void response.text().then((text) => seen.push(text), () => undefined));
      const pulled = await backend.cli(['models', 'pull', REPO, '--json']);
      expect(pulled.code, pulled.stderr).toBe(0);

      await open(page, backend.url, 'Models');
      const running = page.getByRole('region', { name: 'Running' });
      await expect(running).toContainText('Nothing is running');
      await page.getByRole('button', { name: `Run ${MODEL}` }).click();
      const item = page.getByTestId(`running-${MODEL}`);
      await expect(item).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
      await expect(item).toContainText('Ready');
      await expect(item).toContainText('embedded');

      // The runtime's live log, redacted by the backend.
      await item.getByTestId('log-toggle').click();
      const log = item.getByTestId('runtime-log');
      await expect(log).toContainText('Live log');
      await expect(log.locator('pre')).not.toBeEmpty();
      await expectNoHorizontalOverflow(page);
      await shot('model-running');

      // Chat: the running model is chosen, the answer streams in.
      await item.getByRole('link', { name: 'Chat' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Playground');
      await expect(page.getByTestId('playground-model')).toHaveValue(MODEL);
      await page.getByTestId('playground-max-tokens').fill('24');
      await page.getByTestId('playground-input').fill('Say hello');
      await page.getByTestId('playground-input').press('Enter');
      const answer = page.getByTestId('answer').last();
      await expect(answer).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
      await expect(answer).toContainText(' hello hello hello');
      await expect(answer.getByTestId('ttft')).toHaveText(/^\d+(\.\d+)? (ms|s)$/);
      await expect(answer.getByTestId('tokens-per-second')).toHaveText(/^\d+(\.\d+)? tok\/s$/);
      await expect(answer).toContainText('24 tokens');
      await expectNoHorizontalOverflow(page);
      await expectReachable(page, 'playground-input');
      await shot('answer');

      // Stop part-way through a long answer. A slow link keeps the answer streaming long
      // enough to press Stop whatever the speed of this machine.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 4 * 1024, uploadThroughput: -1 });
      await page.getByTestId('playground-max-tokens').fill('4000');
      await page.getByTestId('playground-input').fill('Now say it many times');
      await page.getByTestId('playground-input').press('Enter');
      const long = page.getByTestId('answer').last();
      await expect(long).toHaveAttribute('data-state', 'streaming', { timeout: 30_000 });
      await expectReachable(page, 'playground-stop');
      await expectNoHorizontalOverflow(page);
      await shot('streaming');
      await page.getByTestId('playground-stop').click();
      await expect(long).toHaveAttribute('data-state', 'stopped');
      await expect(long).toContainText('Stopped');
      await expect(page.getByTestId('playground-send')).toBeVisible();
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      const stoppedAt = await long.locator('.turn__text').textContent();
      expect(stoppedAt!.length).toBeLessThan(4000 * ' hello'.length);
      await shot('stopped');

      // Stop the model.
      await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Models' }).click();
      await page.getByRole('button', { name: `Stop ${MODEL}` }).click();
      await expect(page.getByRole('region', { name: 'Running' })).toContainText('Nothing is running', { timeout: 30_000 });
      await expect(page.getByRole('button', { name: `Run ${MODEL}` })).toBeVisible();
      await shot('model-stopped');

      // Nothing of the conversation is kept in the browser.
      const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
      expect(stored).not.toContain('hello');
      expect(stored).not.toMatch(/hf_/);
      seen.push(await page.content());
      expect(seen.join('\n')).not.toContain(FAKE_HUB_TOKENS.read);
    });

    test('a gated model that is not downloaded offers the three actions', async ({ page, backend }) => {
      test.setTimeout(60_000);
      await page.goto(`${backend.url}#/playground?model=${encodeURIComponent(GATED)}`);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Playground');
      await expect(page.getByTestId('playground-model')).toHaveValue(GATED);
      await page.getByTestId('playground-input').fill('hi');
      await page.getByTestId('playground-send').click();
      const missing = page.getByTestId('access-missing');
      await expect(missing).toBeVisible({ timeout: 20_000 });
      await expect(missing).toContainText(GATED);
      await expect(page.getByTestId('access-connect-hf')).toHaveAttribute('href', '#/huggingface');
      await expect(page.getByTestId('access-choose-open-model')).toHaveAttribute('href', '#/models');
      await expect(page.getByTestId('access-open-model-page')).toHaveAttribute('href', new RegExp(`/${GATED}$`));
      await expect(page.getByTestId('access-open-model-page')).toHaveAttribute('target', '_blank');
      await expectNoHorizontalOverflow(page);
      await screenshotBothSchemes(page, `playground-access-missing${device === 'phone' ? '-phone' : ''}`);

      await page.getByTestId('access-connect-hf').click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hugging Face access');
      await page.goBack();
      await page.getByTestId('access-choose-open-model').click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Models');
    });
  });
}

test.describe('with a token of a narrower scope', () => {
  test.use({ backendOptions: async ({ hub }, use) => use({ args: ['--auth', 'on'], env: { HF_ENDPOINT: hub.url, HF_TOKEN: FAKE_HUB_TOKENS.read }, setup: oneThread }) });

  test('there is no Run or Stop, and the Playground says why it cannot chat', async ({ page, backend }) => {
    const pulled = await backend.cli(['models', 'pull', REPO, '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const reader = await backend.createToken('viewer', { scope: 'read' });
    await page.addInitScript(([key, value]) => localStorage.setItem(key!, value!), [TOKEN_KEY, reader]);
    await open(page, backend.url, 'Models');
    await expect(page.getByTestId(`local-${REPO}`)).toBeVisible();
    await expect(page.getByTestId('run-refused')).toContainText('read scope');
    await expect(page.getByRole('button', { name: `Run ${MODEL}` })).toHaveCount(0);
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Playground' }).click();
    await expect(page.getByTestId('playground-refused')).toContainText('read scope');
    await expect(page.getByTestId('playground-input')).toBeDisabled();
    await screenshotBothSchemes(page, 'playground-read-token');
  });

  test('an inference token chats (its model loaded just in time) but has no Run or Stop', async ({ page, backend }) => {
    test.setTimeout(90_000);
    const pulled = await backend.cli(['models', 'pull', REPO, '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const created = await backend.cli(['token', 'create', 'laptop', '--scope', 'inference', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    // The running server reads the CLI's new token from the token file: wait until /v1 takes it.
    await expect.poll(async () => (await fetch(`${backend.url}v1/models`, { headers: { authorization: `Bearer ${token}` } })).status, { timeout: 10_000 }).toBe(200);
    await page.addInitScript(([key, value]) => localStorage.setItem(key!, value!), [TOKEN_KEY, token]);

    await open(page, backend.url, 'Playground');
    await expect(page.getByTestId('playground-refused')).toHaveCount(0);
    await expect(page.getByTestId('playground-model')).toHaveValue(MODEL);
    await page.getByTestId('playground-max-tokens').fill('8');
    await page.getByTestId('playground-input').fill('hi');
    await page.getByTestId('playground-send').click();
    const answer = page.getByTestId('answer').last();
    await expect(answer).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
    await expect(answer).toContainText('hello hello');
    await expect(answer).toContainText('8 tokens');

    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Models' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Models');
    await expect(page.getByRole('button', { name: `Run ${MODEL}` })).toHaveCount(0);
    await expect(page.getByRole('button', { name: `Stop ${MODEL}` })).toHaveCount(0);
  });
});
