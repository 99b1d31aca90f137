import type { Page } from '@playwright/test';
import { expect, test } from './support/backend';
import { expectOnScreen, openByNav, PHONE, screenshotSchemes } from './support/layout';
import { FAKE_HUB_MODELS, FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from './support/fake-hub';

// The dashboard never shows green for something that is no longer true, and
// never offers what the caller's token cannot do.
// Outages, heartbeats and restarts take a while on two shared cores: more time than the default.
test.describe.configure({ timeout: 120_000 });

const TOKEN_KEY = 'halo-forge:api-token';
const remoteSwitch = (page: Page) => page.getByRole('switch', { name: 'Allow other devices on the network' });
/** Everything on screen that is styled as a success. */
const greens = (page: Page) => page.locator('.screen .badge--ok, .screen .result--ok, .pill--ok').filter({ visible: true });
async function okTone(page: Page): Promise<number> {
  // An "ok" badge drawn in the neutral tone while offline is not green: compare the colour a person sees.
  return page.evaluate(() => {
    const ok = getComputedStyle(document.documentElement).getPropertyValue('--ok').trim();
    const probe = document.createElement('span');
    probe.style.color = ok;
    document.body.append(probe);
    const okColour = getComputedStyle(probe).color;
    probe.remove();
    return [...document.querySelectorAll<HTMLElement>('.screen .badge, .pill')].filter((el) => el.offsetParent !== null && getComputedStyle(el).color === okColour).length;
  });
}

test('when the server stops, every screen says "Workstation unreachable" and shows no green; it recovers by itself', async ({ page, backend }) => {
  await page.goto(`${backend.url}#/connection`);
  await expect(page.getByTestId('status-pill')).toContainText('no token needed');
  await expect(greens(page).first()).toBeVisible();
  expect(await okTone(page)).toBeGreaterThan(0);

  await backend.kill();
  const banner = page.getByTestId('session-problem');
  await expect(banner).toContainText('Workstation unreachable');
  await expect(page.getByTestId('status-pill')).toContainText('unreachable');
  await expect(page.getByTestId('status-pill')).not.toHaveClass(/pill--ok/);
  for (const screen of ['Overview', 'Connection', 'Hugging Face', 'API tokens']) {
    await openByNav(page, screen);
    await expect(banner).toBeVisible();
    expect(await okTone(page), `${screen}: nothing drawn green while the workstation is unreachable`).toBe(0);
  }
  await openByNav(page, 'Connection');
  await expect(page.getByText('Not needed')).toHaveCount(0);
  await screenshotSchemes(page, 'desktop-connection-unreachable');

  await backend.restart();
  await expect(banner).toBeHidden({ timeout: 20_000 });
  await expect(page.getByTestId('status-pill')).toContainText('no token needed');
  await expect(remoteSwitch(page)).toBeEnabled();
  expect(await okTone(page)).toBeGreaterThan(0);
});

test.describe('with --auth on', () => {
  test.use({ backendOptions: { args: ['--auth', 'on'] } });

  test('a revoked token gives one clear message: the "Paired" banner and "Connection verified" go away', async ({ page, backend }) => {
    const secret = await backend.createToken('tablet');
    await page.goto(`${backend.url}#/connection`);
    await page.getByLabel('API token', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await expect(page.getByTestId('token-check-result')).toContainText('Connection verified');
    // Paired through a link as well: the green banner of a success.
    await page.goto('about:blank');
    await page.goto(`${backend.url}#token=${secret}`);
    await expect(page.getByTestId('notice')).toContainText('Paired');
    await openByNav(page, 'Connection');
    await page.getByLabel('API token', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await expect(page.getByTestId('token-check-result')).toContainText('Connection verified');

    await backend.revokeToken('tablet', secret);
    // Nobody clicks anything: the heartbeat finds out.
    await expect(page.getByTestId('interruption-note')).toContainText('Invalid or revoked token');
    await expect(page.getByTestId('notice')).toHaveCount(0);
    await expect(page.getByTestId('token-check-result')).toHaveCount(0);
    await expect(page.getByText('Token stored', { exact: true })).toHaveCount(0);
    await expect(page.getByText('Connection verified')).toHaveCount(0);
    expect(await okTone(page)).toBe(0);
    await screenshotSchemes(page, 'desktop-connection-token-revoked');
  });

  test('no token: the tokens screen asks for an admin token and never mentions a "local session"', async ({ page, backend }) => {
    await page.goto(`${backend.url}#/connection`);
    await expect(page.getByTestId('interruption-note')).toBeVisible();
    await openByNav(page, 'API tokens');
    await expect(page.getByTestId('tokens-locked')).toContainText('admin scope');
    await expect(page.getByText(/local session/)).toHaveCount(0);
    await openByNav(page, 'Connection');
    await expect(page.getByText(/local session/)).toHaveCount(0);
  });

  test('a read token is not offered the switch, token creation or the Hugging Face save form, and is told why first', async ({ page, backend }) => {
    const secret = await backend.createToken('viewer', { scope: 'read' });
    await page.addInitScript(([key, token]) => localStorage.setItem(key!, token!), [TOKEN_KEY, secret]);
    await page.goto(`${backend.url}#/connection`);
    await expect(page.getByTestId('status-pill')).toContainText('token “viewer”');
    await expect(page.getByTestId('remote-locked')).toContainText('“viewer”, a read token');
    await expect(remoteSwitch(page)).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Create token for a device' })).toHaveCount(0);

    await openByNav(page, 'Hugging Face');
    await expect(page.getByTestId('hf-save-locked')).toContainText('admin scope');
    await expect(page.getByLabel('Hugging Face token', { exact: true })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Save and verify' })).toHaveCount(0);

    await openByNav(page, 'API tokens');
    await expect(page.getByRole('button', { name: 'Create token' })).toHaveCount(0);
    await expect(page.getByTestId('tokens-locked')).toContainText('read token');
    await expect(page.getByText(/local session/)).toHaveCount(0);
    await screenshotSchemes(page, 'desktop-api-tokens-read-token');
  });
});

test.describe('a remote client through a reverse proxy on the workstation', () => {
  test.use({ viewport: PHONE });

  test('is told it is a remote client behind a proxy, and turning remote access off asks first', async ({ page, backend }) => {
    const secret = await backend.createToken('phone-admin');
    // What nginx on the workstation adds: the socket is loopback, the client is not.
    await page.setExtraHTTPHeaders({ 'x-forwarded-for': '203.0.113.7' });
    await page.addInitScript(([key, token]) => localStorage.setItem(key!, token!), [TOKEN_KEY, secret]);
    await page.goto(`${backend.url}#/connection`);
    await expect(page.getByTestId('proxied-note')).toContainText('remote client, connected through a proxy');
    await expect(page.getByText('Only this computer can reach Halo Forge.')).toHaveCount(0);

    await remoteSwitch(page).click();
    await expect(remoteSwitch(page)).toHaveAttribute('aria-checked', 'true');
    await expect(remoteSwitch(page)).toBeFocused();

    await remoteSwitch(page).click();
    const confirm = page.getByRole('dialog', { name: 'Turn off remote access?' });
    await expect(confirm).toContainText('comes through the proxy');
    await expectOnScreen(page, confirm.getByRole('button', { name: 'Turn off' }), 'Turn off');
    await screenshotSchemes(page, 'phone-dialog-remote-off-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(remoteSwitch(page)).toHaveAttribute('aria-checked', 'true');

    await remoteSwitch(page).click();
    await confirm.getByRole('button', { name: 'Turn off' }).click();
    await expect(remoteSwitch(page)).toHaveAttribute('aria-checked', 'false');
    await expect(remoteSwitch(page)).toBeFocused();
  });
});

test('a local user toggles remote access without a confirmation, and focus stays on the switch', async ({ page, backend }) => {
  await page.goto(`${backend.url}#/connection`);
  await remoteSwitch(page).focus();
  await page.keyboard.press('Space');
  await expect(remoteSwitch(page)).toHaveAttribute('aria-checked', 'true');
  await expect(remoteSwitch(page)).toBeFocused();
  await expect(page.getByTestId('remote-urls').locator('[data-kind]').first()).toHaveAttribute('data-kind', 'hostname');
  await page.keyboard.press('Space');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(remoteSwitch(page)).toHaveAttribute('aria-checked', 'false');
  await expect(remoteSwitch(page)).toBeFocused();
});

test('new tokens default to the operate scope and 90 days; the list says where each was last used from', async ({ page, backend }) => {
  await page.goto(`${backend.url}#/connection`);
  await expect(page.getByLabel('Scope')).toHaveValue('operate');
  await expect(page.getByLabel('Expires')).toHaveValue('90d');

  await openByNav(page, 'API tokens');
  await page.getByRole('button', { name: 'Create token' }).first().click();
  const form = page.getByRole('dialog', { name: 'Create an API token' });
  await expect(form.getByLabel('Scope')).toHaveValue('operate');
  await expect(form.getByLabel('Expires')).toHaveValue('90d');
  await form.getByLabel('Name').fill('script');
  await form.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByRole('dialog', { name: 'Token “script” created' });
  const secret = await shown.getByTestId('created-token-secret').inputValue();
  await shown.getByRole('button', { name: 'Done, I have saved it' }).click();
  await expect(page.getByTestId('token-row-script')).toContainText('in 3 months');

  const used = await fetch(new URL('/api/public/health', backend.url), { headers: { authorization: `Bearer ${secret}` } });
  expect(used.status).toBe(200);
  await page.reload();
  await expect(page.getByTestId('token-from-script')).toHaveText('127.0.0.1');
});

test.describe('Hugging Face', () => {
  const hfTest = test.extend<{ hub: FakeHub }>({
    hub: async ({}, use) => {
      const hub = await startFakeHub();
      await use(hub);
      await hub.close();
    },
    backendOptions: async ({ hub }, use) => use({ env: { HF_ENDPOINT: hub.url } }),
  });

  hfTest('the paste form comes first; focus goes to the result; a pasted URL, "Request pending" and "Not found" read right', async ({ page, backend, hub }) => {
    await page.goto(`${backend.url}#/huggingface`);
    const cards = page.locator('.screen .card .card__title');
    await expect(cards.first()).toHaveText('Save a token');

    await page.getByLabel('Hugging Face token', { exact: true }).fill(FAKE_HUB_TOKENS.read);
    await page.getByRole('button', { name: 'Save and verify' }).click();
    await expect(page.getByTestId('hf-outcome')).toContainText('Connected as');
    await expect(page.getByTestId('hf-outcome-region')).toBeFocused();

    const model = page.getByLabel('Model', { exact: true });
    const result = page.getByTestId('model-check-result');
    // Pasted from the browser's address bar.
    await model.fill(`https://huggingface.co/${FAKE_HUB_MODELS.open}/tree/main`);
    await page.getByRole('button', { name: 'Check access' }).click();
    await expect(result.locator('code')).toHaveText(FAKE_HUB_MODELS.open);
    await expect(result).toContainText('Access granted');

    await model.fill(FAKE_HUB_MODELS.gatedPending);
    await page.getByRole('button', { name: 'Check access' }).click();
    await expect(result).toContainText('Request pending');
    await expect(result).not.toContainText('license not accepted');
    await expect(result).not.toContainText(hub.url);

    await model.fill(FAKE_HUB_MODELS.missing);
    await page.getByRole('button', { name: 'Check access' }).click();
    await expect(result).toContainText('Not found');
    await expect(result.getByRole('link', { name: 'Open model page' })).toHaveCount(0);

    hub.setOffline(true);
    await page.getByLabel('Hugging Face token', { exact: true }).fill(FAKE_HUB_TOKENS.read);
    await page.getByRole('button', { name: 'Save and verify' }).click();
    const outcome = page.getByTestId('hf-outcome');
    await expect(outcome).toContainText('Nothing was saved');
    await expect(outcome).not.toContainText('CLI');
    await expect(outcome).not.toContainText('"verify"');
    await expect(page.getByTestId('hf-outcome-region')).toBeFocused();
  });
});
