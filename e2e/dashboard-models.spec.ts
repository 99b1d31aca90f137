import type { Page } from '@playwright/test';
import { expect, screenshotBothSchemes, test as backendTest } from './support/backend';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from './support/fake-hub';

const REPO = 'halo-test/tiny-gguf';
const GATED = 'halo-test/gated-gguf';
const TOKEN_KEY = 'halo-forge:api-token';
const PHONE = { width: 390, height: 844 };

// Every backend here talks to the test Hub with the workstation's read token; nothing leaves loopback.
const test = backendTest.extend<{ hub: FakeHub }>({
  hub: async ({}, use) => {
    const hub = await startFakeHub();
    hub.addRepo({
      id: REPO,
      files: [
        { path: 'config.json', content: JSON.stringify({ model_type: 'llama' }) },
        { path: 'README.md', content: '# tiny\n' },
        { path: 'tiny.Q4_K_M.gguf', size: 2 * 1024 * 1024 + 5, seed: 1 },
        { path: 'tiny.Q8_0.gguf', size: 6 * 1024 * 1024 + 7, seed: 2 },
      ],
    });
    hub.addRepo({ id: GATED, gated: 'manual', files: [{ path: 'model.Q4_0.gguf', size: 4096, seed: 3 }] });
    await use(hub);
    await hub.close();
  },
  backendOptions: async ({ hub }, use) => use({ env: { HF_ENDPOINT: hub.url, HF_TOKEN: FAKE_HUB_TOKENS.read } }),
});

async function openModels(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Models' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Models');
}

/** A phone must never scroll sideways. */
async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, 'page width').toBeLessThanOrEqual(innerWidth);
}

for (const device of ['desktop', 'phone'] as const) {
  test.describe(`on a ${device}`, () => {
    if (device === 'phone') test.use({ viewport: PHONE });

    test('search → a model’s page → pull with live progress → ready → delete', async ({ page, backend, hub }) => {
      // Two cores, a backend, a browser and light and dark screenshots of five states.
      test.setTimeout(120_000);
      const requests: string[] = [];
      page.on('request', (request) => requests.push(`${request.url()} ${JSON.stringify(request.headers())} ${request.postData() ?? ''}`));
      const streamed: string[] = [];
      page.on('response', (response) => void response.text().then((text) => streamed.push(text), () => undefined));
      const shot = (name: string) => screenshotBothSchemes(page, `models-${name}${device === 'phone' ? '-phone' : ''}`);
      await openModels(page, backend.url);
      await expect(page.getByText('No models yet')).toBeVisible();

      await page.getByLabel('Model', { exact: true }).fill('tiny');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByTestId(`result-${REPO}`).click();

      const modelPage = page.locator('.model-page');
      await expect(modelPage.getByRole('heading', { name: REPO })).toBeVisible();
      await expect(page.getByTestId('model-access')).toContainText('Access granted');
      await expect(page.getByTestId('hub-link')).toHaveAttribute('href', new RegExp(`/${REPO}$`));
      await expect(page.getByTestId('group-Q4_K_M')).toContainText('2.10 MB · 1 file');
      await expect(page.getByTestId('group-Q8_0')).toContainText('6.29 MB · 1 file');
      await expectNoHorizontalOverflow(page);
      await shot('details');

      // Slow enough to watch, pause and resume: about 8 s for the 6 MB quantization, the resumed request too.
      hub.files.fault(REPO, 'tiny.Q8_0.gguf', { kind: 'slow', bytesPerSecond: 768 * 1024, times: 2 });
      await page.getByRole('button', { name: 'Pull Q8_0' }).click();
      const pull = page.getByTestId(`pull-${REPO}`);
      await expect(pull).toContainText('Downloading');
      await expect(pull.getByRole('button', { name: 'Pause' })).toBeVisible();

      // Pause keeps what arrived; Resume continues from there.
      await pull.getByRole('button', { name: 'Pause' }).click();
      await expect(pull).toContainText('Paused');
      await expect(pull.getByRole('button', { name: 'Pause' })).toHaveCount(0);
      // The paused partial is on the workstation, shown unfinished (never as ready to serve), with Resume.
      const unfinished = page.getByTestId(`local-${REPO}`);
      await expect(unfinished).toContainText('Unfinished');
      await expect(unfinished.getByTestId('local-unfinished')).toContainText('not offered for serving');
      await expect(unfinished.getByRole('button', { name: `Resume the pull of ${REPO}` })).toBeVisible();
      await expect(page.getByText('No models yet')).toHaveCount(0);
      await shot('paused');
      await pull.getByRole('button', { name: 'Resume' }).click();

      // Live numbers from the event stream: bytes moving, a rate and a time left.
      await expect(pull).toContainText('Downloading');
      await expect(pull.getByTestId('pull-numbers')).toContainText(/[1-9][\d.]* MB of 6\.29 MB/);
      await expect(pull.getByTestId('pull-numbers')).toContainText(/\/s/);
      await expect(pull.getByTestId('pull-numbers')).toContainText(/s left/);
      await expectNoHorizontalOverflow(page);
      await shot('pulling');

      await expect(pull).toContainText('Ready', { timeout: 20_000 });
      await expect(pull).toContainText('Every chosen file is on disk and verified.');
      await expect(pull.getByTestId('pull-numbers')).toContainText('1 of 1 file verified');
      const local = page.getByTestId(`local-${REPO}`);
      await expect(local).toContainText('6.29 MB');
      await expect(local).toContainText('main');
      await expect(local).toContainText('just now');
      await local.getByText('1 file', { exact: true }).click();
      await expect(local).toContainText('tiny.Q8_0.gguf');
      await expectNoHorizontalOverflow(page);
      await shot('ready');

      await local.getByRole('button', { name: `Delete ${REPO}` }).click();
      const dialog = page.getByRole('dialog', { name: `Delete ${REPO}?` });
      await expect(dialog).toContainText('6.29 MB');
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      await expect(dialog).toBeHidden();
      await expect(page.getByTestId(`local-${REPO}`)).toHaveCount(0);
      await expect(page.getByText('No models yet')).toBeVisible();
      await expectNoHorizontalOverflow(page);

      // The workstation's Hugging Face token was used for all of this and reached the browser nowhere.
      const secret = FAKE_HUB_TOKENS.read;
      expect(await page.content()).not.toContain(secret);
      expect(requests.join('\n')).not.toContain(secret);
      expect(streamed.join('\n')).not.toContain(secret);
      expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie)).not.toContain(secret);
      expect(backend.output()).not.toContain(secret);
    });

    test('a file that fails verification ends Failed, with the reason and Pull again', async ({ page, backend, hub }) => {
      hub.files.fault(REPO, 'tiny.Q4_K_M.gguf', { kind: 'corrupt', times: 100 });
      await openModels(page, backend.url);
      await page.getByLabel('Model', { exact: true }).fill(REPO);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByTestId(`result-${REPO}`).click();
      await page.getByRole('button', { name: 'Pull Q4_K_M' }).click();
      const pull = page.getByTestId(`pull-${REPO}`);
      await expect(pull).toContainText('Failed', { timeout: 20_000 });
      await expect(pull.getByRole('alert')).toContainText('tiny.Q4_K_M.gguf');
      await expect(pull.getByTestId('failure-action')).toBeVisible();
      // The failed blob was deleted: the bar says so, and the model is listed unfinished with the way on.
      await expect(pull.getByTestId('pull-numbers')).toContainText('0 of 1 file verified');
      await expect(pull.getByTestId('pull-numbers')).toContainText('(0%)');
      const unfinished = page.getByTestId(`local-${REPO}`);
      await expect(unfinished).toContainText('Unfinished');
      await expect(unfinished.getByRole('button', { name: `Pull ${REPO} again` })).toBeVisible();
      await expectNoHorizontalOverflow(page);
      await screenshotBothSchemes(page, `models-failed${device === 'phone' ? '-phone' : ''}`);

      // Once the Hub serves the right bytes, the offered fix finishes the pull.
      hub.files.clearFaults();
      await pull.getByTestId('failure-action').click();
      await expect(page.getByTestId(`pull-${REPO}`)).toContainText('Ready', { timeout: 20_000 });
    });

    test('a gated model shows the license action with its link, before and after a pull is tried', async ({ page, backend }) => {
      await openModels(page, backend.url);
      // A pasted model page link opens that model.
      await page.getByLabel('Model', { exact: true }).fill(`https://huggingface.co/${GATED}`);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const access = page.getByTestId('model-access');
      await expect(access).toContainText('Gated: license not accepted');
      const license = access.getByRole('link', { name: 'Accept the license on the model page' });
      await expect(license).toHaveAttribute('href', new RegExp(`/${GATED}$`));

      await page.getByRole('button', { name: /^Pull all/ }).click();
      const refused = page.getByTestId('pull-refused');
      await expect(refused).toContainText('License not accepted');
      await expect(refused.getByRole('link', { name: /license/i })).toHaveAttribute('href', new RegExp(`/${GATED}$`));
      await expectNoHorizontalOverflow(page);
      await screenshotBothSchemes(page, `models-gated${device === 'phone' ? '-phone' : ''}`);
    });

    test('a gated model’s pull, refused for access, shows the fix the workstation named and the other way out', async ({ page, backend }) => {
      await openModels(page, backend.url);
      await page.getByLabel('Model', { exact: true }).fill(GATED);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByTestId(`result-${GATED}`).click();
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/public/models/pulls') && r.request().method() === 'POST');
      await page.getByRole('button', { name: /^Pull all/ }).click();
      const body = (await (await answer).json()) as { error: string; action: { kind: string; label: string; url: string } };
      expect(body.error).toBe('model.gated');
      expect(body.action.kind).toBe('accept-license');

      // The action in the refusal is the one shown: its words and its model page, first and primary.
      const refused = page.getByTestId('pull-refused');
      const ways = refused.getByRole('group', { name: 'Ways to get access' });
      const fix = ways.getByTestId('failure-action');
      await expect(fix).toHaveText(body.action.label);
      await expect(fix).toHaveAttribute('href', body.action.url);
      await expect(fix).toHaveAttribute('target', '_blank');
      // The other way out, as the Playground offers it: another account's token.
      const connect = ways.getByTestId('failure-action-connect-hf');
      await expect(connect).toHaveText('Connect Hugging Face');
      await expectNoHorizontalOverflow(page);
      await screenshotBothSchemes(page, `models-access-refused${device === 'phone' ? '-phone' : ''}`);

      await connect.click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hugging Face access');
    });
  });
}

test('a pattern pulls only the files it matches', async ({ page, backend }) => {
  await openModels(page, backend.url);
  await page.getByLabel('Model', { exact: true }).fill(REPO);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByTestId(`result-${REPO}`).click();
  await page.getByLabel('Or only files matching').fill('*.md, config.json');
  await page.getByRole('button', { name: 'Pull matching' }).click();
  const pull = page.getByTestId(`pull-${REPO}`);
  await expect(pull).toContainText('Ready');
  await expect(pull.getByTestId('pull-numbers')).toContainText('2 of 2 files verified');
  await page.getByTestId(`local-${REPO}`).getByText('2 files', { exact: true }).click();
  await expect(page.getByTestId(`local-${REPO}`)).toContainText('README.md');
  await expect(page.getByTestId(`local-${REPO}`)).not.toContainText('.gguf');
});

test.describe('with a read token', () => {
  test.use({ backendOptions: async ({ hub }, use) => use({ args: ['--auth', 'on'], env: { HF_ENDPOINT: hub.url, HF_TOKEN: FAKE_HUB_TOKENS.read } }) });

  test('sees models and what is in the cache, but cannot pull or delete', async ({ page, backend }) => {
    // Something already in the cache, pulled from the CLI.
    const pulled = await backend.cli(['models', 'pull', REPO, '--include', 'tiny.Q4_K_M.gguf']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const reader = await backend.createToken('viewer', { scope: 'read' });
    await page.addInitScript(([key, value]) => localStorage.setItem(key!, value!), [TOKEN_KEY, reader]);
    await openModels(page, backend.url);

    const local = page.getByTestId(`local-${REPO}`);
    await expect(local).toContainText('2.10 MB');
    await expect(local.getByRole('button', { name: /Delete/ })).toHaveCount(0);

    await page.getByLabel('Model', { exact: true }).fill(REPO);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByTestId(`result-${REPO}`).click();
    await expect(page.getByTestId('no-operate')).toContainText('operate scope');
    await expect(page.getByRole('button', { name: /^Pull all/ })).toBeDisabled();
    await expect(page.getByRole('button', { name: 'Pull Q8_0' })).toBeDisabled();
    await screenshotBothSchemes(page, 'models-read-token');
  });
});
