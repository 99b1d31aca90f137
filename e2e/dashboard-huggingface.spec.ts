import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, screenshotBothSchemes, test as backendTest } from './support/backend';
import { FAKE_HUB_MODELS, FAKE_HUB_TOKENS, FAKE_HUB_USER, startFakeHub, type FakeHub } from './support/fake-hub';

// Every backend here talks to the fake Hub; nothing leaves loopback.
const test = backendTest.extend<{ hub: FakeHub }>({
  hub: async ({}, use) => {
    const hub = await startFakeHub();
    await use(hub);
    await hub.close();
  },
  backendOptions: async ({ hub }, use) => use({ env: { HF_ENDPOINT: hub.url } }),
});

/** Everything the page printed to its console, and its uncaught errors. */
function recordConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => lines.push(`${message.type()}: ${message.text()} ${message.args().length}`));
  page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}\n${error.stack ?? ''}`));
  return lines;
}

/** Every place in the browser a token could be left behind. */
async function browserStorage(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const dump = (s: Storage) => Object.keys(s).map((k) => `${k}=${s.getItem(k)}`).join('\n');
    const databases = 'databases' in indexedDB ? (await indexedDB.databases()).map((d) => d.name).join(',') : '';
    return [dump(localStorage), dump(sessionStorage), document.cookie, databases, location.href, history.length].join('\n');
  });
}

const tokenInput = (page: Page) => page.getByLabel('Hugging Face token', { exact: true });

test('a saved Hugging Face token is verified, shows the username, is never kept in the browser, and can be cleared', async ({ page, backend, hub }) => {
  const canary = `hf_HaloForgeCanary${randomBytes(12).toString('hex')}`;
  hub.addToken(canary, { user: FAKE_HUB_USER, displayName: 'canary-read', role: 'read' });
  const consoleLines = recordConsole(page);
  const requestUrls: string[] = [];
  page.on('request', (request) => requestUrls.push(request.url()));

  await page.goto(`${backend.url}#/huggingface`);
  await expect(page.getByTestId('hf-status-badge')).toHaveText('Not connected');
  await expect(tokenInput(page)).toHaveAttribute('autocomplete', 'off');
  await expect(tokenInput(page)).toHaveAttribute('type', 'password');

  await tokenInput(page).fill(canary);
  await page.getByRole('button', { name: 'Save and verify' }).click();

  await expect(page.getByTestId('hf-outcome')).toContainText(`Connected as ${FAKE_HUB_USER} (read token)`);
  await expect(page.getByTestId('hf-status-badge')).toHaveText(`Connected as ${FAKE_HUB_USER} (read token)`);
  await expect(page.getByRole('definition').filter({ hasText: FAKE_HUB_USER })).toBeVisible();
  await expect(tokenInput(page)).toHaveValue('');
  await screenshotBothSchemes(page, 'huggingface-connected');

  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByTestId('overview-hf')).toHaveText(`Connected as ${FAKE_HUB_USER} (read token)`);

  expect(await browserStorage(page)).not.toContain(canary);
  expect(page.url()).not.toContain(canary);
  expect(requestUrls.join('\n')).not.toContain(canary);
  expect(await page.content()).not.toContain(canary);
  expect(consoleLines.join('\n')).not.toContain(canary);
  expect(backend.output()).not.toContain(canary);

  await page.getByRole('link', { name: 'Hugging Face', exact: true }).click();
  await page.getByRole('button', { name: 'Clear stored token' }).click();
  const dialog = page.getByRole('dialog', { name: 'Clear the Hugging Face token?' });
  await dialog.getByRole('button', { name: 'Clear token' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('hf-status-badge')).toHaveText('Not connected');
  await expect(page.getByRole('button', { name: 'Clear stored token' })).toHaveCount(0);
});

test('a token the Hub refuses is reported in the Hub’s words and nothing is saved', async ({ page, backend }) => {
  await page.goto(`${backend.url}#/huggingface`);
  await tokenInput(page).fill(FAKE_HUB_TOKENS.unknown);
  await page.getByRole('button', { name: 'Save and verify' }).click();

  const outcome = page.getByTestId('hf-outcome');
  await expect(outcome).toContainText('The Hub refused the token');
  await expect(outcome).toContainText('Invalid credentials');
  await expect(page.getByRole('button', { name: 'Save without verifying' })).toHaveCount(0);
  await expect(page.getByTestId('hf-status-badge')).toHaveText('Not connected');
});

test('when the Hub is unreachable the dashboard offers to save without verifying, and says so after', async ({ page, backend, hub }) => {
  hub.setOffline(true);
  await page.goto(`${backend.url}#/huggingface`);
  await tokenInput(page).fill(FAKE_HUB_TOKENS.read);
  await page.getByRole('button', { name: 'Save and verify' }).click();

  await expect(page.getByTestId('hf-outcome')).toContainText('Hugging Face is unreachable');
  await page.getByRole('button', { name: 'Save without verifying' }).click();

  await expect(page.getByTestId('hf-outcome')).toContainText('Saved without verifying');
  await expect(page.getByTestId('hf-status-badge')).toHaveText('Needs attention');
  await expect(tokenInput(page)).toHaveValue('');
});

test.describe('with HF_TOKEN in the backend’s environment', () => {
  test.use({ backendOptions: async ({ hub }, use) => use({ env: { HF_ENDPOINT: hub.url, HF_TOKEN: FAKE_HUB_TOKENS.read } }) });

  test('the dashboard uses the environment token and explains that it cannot clear it', async ({ page, backend }) => {
    await page.goto(`${backend.url}#/huggingface`);
    await expect(page.getByTestId('hf-status-badge')).toHaveText('Using HF_TOKEN from the environment');
    await expect(page.getByTestId('hf-env-note')).toContainText('cannot clear it');
    await expect(page.getByRole('button', { name: 'Clear stored token' })).toHaveCount(0);
    await screenshotBothSchemes(page, 'huggingface-env-token');
  });
});

test.describe('with a token the Hugging Face tools saved', () => {
  test.use({
    backendOptions: async ({ hub }, use) =>
      use({
        env: { HF_ENDPOINT: hub.url },
        setup: (_home, env) => {
          const path = `${env.HF_HOME}/token`;
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, `${FAKE_HUB_TOKENS.read}\n`, { mode: 0o600 });
        },
      }),
  });

  test('one click adopts it and verifies it', async ({ page, backend }) => {
    await page.goto(`${backend.url}#/huggingface`);
    await page.getByRole('button', { name: 'Use the token your Hugging Face tools saved' }).click();
    await expect(page.getByTestId('hf-outcome')).toContainText(`Connected as ${FAKE_HUB_USER} (read token)`);
    await expect(page.getByRole('button', { name: 'Use the token your Hugging Face tools saved' })).toHaveCount(0);
  });
});

test('checking model access says each outcome the Hub can give, in words, with the model page', async ({ page, backend, hub }) => {
  await page.goto(`${backend.url}#/huggingface`);
  const modelId = page.getByLabel('Model', { exact: true });
  const result = page.getByTestId('model-check-result');
  const check = async (model: string) => {
    await modelId.fill(model);
    await page.getByRole('button', { name: 'Check access' }).click();
    await expect(result.locator('code')).toHaveText(model);
  };

  // No token yet: a gated model needs one.
  await check(FAKE_HUB_MODELS.gatedManual);
  await expect(result).toContainText('Token not accepted');
  await expect(result).toContainText('save a Hugging Face read token');

  await tokenInput(page).fill(FAKE_HUB_TOKENS.read);
  await page.getByRole('button', { name: 'Save and verify' }).click();
  await expect(page.getByTestId('hf-status-badge')).toHaveText(`Connected as ${FAKE_HUB_USER} (read token)`);

  await check(FAKE_HUB_MODELS.gatedManual);
  await expect(result).toContainText('Gated: license not accepted');
  await expect(result).toContainText('accept it, then check again');
  const modelPage = result.getByRole('link', { name: 'Open model page' });
  await expect(modelPage).toHaveAttribute('href', `${hub.url}/${FAKE_HUB_MODELS.gatedManual}`);
  await expect(modelPage).toHaveAttribute('target', '_blank');
  await expect(modelPage).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(page.getByTestId('gated-flow')).toContainText('Accept the license on Hugging Face');
  await screenshotBothSchemes(page, 'huggingface-gated');

  hub.grant(FAKE_HUB_MODELS.gatedManual);
  await check(FAKE_HUB_MODELS.gatedManual);
  await expect(result).toContainText('Access granted');

  await check(FAKE_HUB_MODELS.open);
  await expect(result).toContainText('Access granted');

  await check(FAKE_HUB_MODELS.missing);
  await expect(result).toContainText('Not found');

  hub.setOffline(true);
  await check(FAKE_HUB_MODELS.gatedAuto);
  await expect(result).toContainText('Hub unreachable');
});
