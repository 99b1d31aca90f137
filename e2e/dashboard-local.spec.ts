import { networkInterfaces } from 'node:os';
import { expect, openScreen, screenshotBothSchemes, test } from './support/backend';

function hasExternalAddress(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => !i.internal && !(i.family === 'IPv6' && /^fe80:/i.test(i.address))));
}

test('on this computer the dashboard works with no token at all', async ({ page, backend }) => {
  // A CSP violation or a React error would show up here.
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' || m.type() === 'warning' ? problems.push(m.text()) : undefined));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(backend.url);

  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await expect(page.getByTestId('overview-auth')).toHaveText('Not needed');
  await expect(page.getByTestId('status-pill')).toContainText('This computer');
  await expect(page.getByTestId('status-pill')).toContainText('no token needed');
  await expect(page.getByTestId('overview-connection')).toContainText(`Listening on ${new URL(backend.url).host}`);
  await expect(page.getByTestId('overview-connection')).toContainText('Remote access off');
  await expect(page.getByTestId('overview-hf')).toHaveText('Not connected');
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
  await screenshotBothSchemes(page, 'overview-local');

  await openScreen(page, 'Connection');
  await expect(page.getByText('This computer uses the dashboard without a token')).toBeVisible();
  await expect(page.getByRole('switch', { name: 'Allow other devices on the network' })).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByText('No API token exists yet, so no other device can sign in.')).toBeVisible();
  await expect(page.getByTestId('activity-live')).toHaveText('Live');
  await screenshotBothSchemes(page, 'connection-local');

  await openScreen(page, 'API tokens');
  await expect(page.getByText('No API tokens yet')).toBeVisible();
  await screenshotBothSchemes(page, 'api-tokens-empty');

  await openScreen(page, 'Hugging Face');
  await expect(page.getByTestId('hf-status-badge')).toHaveText('Not connected');
  expect(problems).toEqual([]);
});

test('the keyboard reaches every screen, and each new screen puts focus on its heading', async ({ page, backend }) => {
  await page.goto(backend.url);
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  for (const name of ['Overview', 'Models', 'Playground', 'Runs', 'Connection']) {
    await page.keyboard.press('Tab');
    await expect(page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true })).toBeFocused();
  }
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Connection' })).toBeFocused();
  // The main action comes first: the remote-access switch, then the device-token offer.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('switch', { name: 'Allow other devices on the network' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Device name')).toBeFocused();
});

test('recent activity updates live over the stream when the CLI creates and revokes a token', async ({ page, backend }) => {
  await page.goto(`${backend.url}#/connection`);
  await expect(page.getByTestId('activity-live')).toHaveText('Live');
  await expect(page.getByText('Nothing has happened yet')).toBeVisible();

  await backend.createToken('build-box');
  const list = page.getByTestId('activity-list');
  await expect(list).toContainText('Token “build-box” created');

  await backend.revokeToken('build-box');
  await expect(list).toContainText('Token “build-box” revoked');
});

test('the remote access switch opens and closes the network listener and shows its addresses', async ({ page, backend }) => {
  test.skip(!hasExternalAddress(), 'this machine has no network interface besides loopback');
  await page.goto(`${backend.url}#/connection`);
  const toggle = page.getByRole('switch', { name: 'Allow other devices on the network' });
  await expect(page.getByText('Turning this on opens port')).toBeVisible();

  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('remote-urls')).toContainText(`:${backend.port}/`);
  await expect(page.getByRole('link', { name: 'Remote access on' })).toBeVisible();
  await expect(page.getByTestId('activity-list')).toContainText('Remote access turned on');
  await screenshotBothSchemes(page, 'connection-remote-on');

  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByTestId('remote-urls')).toHaveCount(0);
  await expect(page.getByTestId('activity-list')).toContainText('Remote access turned off');
});
