import type { Page } from '@playwright/test';
import { expect, openScreen, screenshotBothSchemes, test } from './support/backend';

// `--auth on`: tokens are required from everyone, loopback included, which is
// exactly what a browser on another machine meets.
test.use({ backendOptions: { args: ['--auth', 'on'] } });

const TOKEN_KEY = 'halo-forge:api-token';
const storedToken = (page: Page) => page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);
const tokenField = (page: Page) => page.getByLabel('API token', { exact: true });

test('a workstation that needs a token says so, refuses a wrong one with its reason, and works once a valid one is saved', async ({ page, backend }) => {
  const secret = await backend.createToken('laptop');
  await page.goto(`${backend.url}#/tokens`);

  await expect(page.getByRole('heading', { level: 1, name: 'Connection' })).toBeVisible();
  await expect(page.getByTestId('status-pill')).toContainText('token needed');
  const note = page.getByTestId('interruption-note');
  await expect(note).toContainText('This workstation needs an API token');
  await expect(note).toContainText('you will go back to API tokens');
  await screenshotBothSchemes(page, 'connection-token-needed');

  await tokenField(page).fill(`hfk_${'x'.repeat(43)}`);
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  const result = page.getByTestId('token-check-result');
  await expect(result).toContainText('Invalid or revoked token');
  await expect(result).toContainText('unknown or has been revoked');

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(result).toContainText('Invalid or revoked token');
  expect(await storedToken(page)).toBeNull();

  await tokenField(page).fill(secret);
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await expect(result).toContainText('Connection verified');
  expect(await storedToken(page)).toBeNull();

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  // Back where the user was going, now with data.
  await expect(page.getByRole('heading', { level: 1, name: 'API tokens' })).toBeVisible();
  await expect(page.getByTestId('token-row-laptop')).toContainText('this browser');
  expect(await storedToken(page)).toBe(secret);
  await expect(page.getByTestId('status-pill')).toContainText('token “laptop”');

  await openScreen(page, 'Overview');
  await expect(page.getByTestId('overview-auth')).toHaveText('Token stored');
  await expect(page.getByTestId('overview-connection')).toContainText('Remote access off');
  await openScreen(page, 'Connection');
  await expect(page.getByTestId('activity-live')).toHaveText('Live');
  await expect(page.getByTestId('activity-list')).toContainText('Failed attempt from 127.0.0.1');
});

test('a Hugging Face token pasted into the API token field is refused before it is sent or stored', async ({ page, backend }) => {
  const requests: string[] = [];
  page.on('request', (r) => requests.push(`${r.url()} ${r.headers().authorization ?? ''}`));
  await page.goto(`${backend.url}#/connection`);
  const hfToken = 'hf_ThisIsNotAHaloForgeTokenAtAll000000000';
  await tokenField(page).fill(hfToken);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('token-check-result')).toContainText('This is a Hugging Face token');
  expect(await storedToken(page)).toBeNull();
  expect(requests.join('\n')).not.toContain(hfToken);
});

test('a revoked token sends the user back to Connection with a note, and a new token brings them back', async ({ page, backend }) => {
  const first = await backend.createToken('old-laptop');
  await page.addInitScript(([key, value]) => localStorage.setItem(key!, value!), [TOKEN_KEY, first]);
  await page.goto(`${backend.url}#/tokens`);
  await expect(page.getByTestId('token-row-old-laptop')).toBeVisible();

  await backend.revokeToken('old-laptop', first);
  await page.goto(`${backend.url}#/huggingface`);

  await expect(page.getByRole('heading', { level: 1, name: 'Connection' })).toBeVisible();
  await expect(page.getByTestId('status-pill')).toContainText('token refused');
  const note = page.getByTestId('interruption-note');
  await expect(note).toContainText('Invalid or revoked token while');
  await expect(note).toContainText('you will go back to Hugging Face');
  await screenshotBothSchemes(page, 'connection-token-refused');

  const second = await backend.createToken('new-laptop');
  await tokenField(page).fill(second);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Hugging Face access' })).toBeVisible();
  await expect(page.getByTestId('hf-status-badge')).toHaveText('Not connected');
  await expect(page.getByTestId('status-pill')).toContainText('token “new-laptop”');
});

test('a pairing link stores the token, removes it from the address bar at once, and verifies it', async ({ page, backend }) => {
  const secret = await backend.createToken('phone');
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));

  await page.goto(`${backend.url}#token=${secret}`);

  await expect(page.getByTestId('notice')).toContainText('Paired');
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  expect(page.url()).not.toContain(secret);
  expect(page.url()).not.toContain('token=');
  expect(await storedToken(page)).toBe(secret);
  await expect(page.getByTestId('overview-auth')).toHaveText('Token stored');
  // The entry the link opened was replaced, so Back does not bring the token back either.
  await page.goBack();
  await expect(page.getByRole('heading', { level: 1, name: 'Connection' })).toBeVisible();
  expect(page.url()).not.toContain('token=');
  // The fragment never reaches the server, and no request carries the token in its URL.
  expect(requested.filter((u) => u.includes(secret))).toEqual([]);
});

test('a pairing link with a dead token lands on Connection with the reason', async ({ page, backend }) => {
  await page.goto(`${backend.url}#token=hfk_${'y'.repeat(43)}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Connection' })).toBeVisible();
  await expect(page.getByTestId('token-check-result')).toContainText('Invalid or revoked token');
  expect(page.url()).not.toContain('token=');
});
