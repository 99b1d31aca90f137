import type { Page } from '@playwright/test';
import { expect, test, type Backend } from './support/backend';
import { DESKTOP, expectAccessible, expectNavReachable, expectNoHorizontalOverflow, expectOnScreen, navScreens, openByNav, PHONE, screenshotSchemes, slug } from './support/layout';

// The remote-access use case is a phone: every screen, every state, every dialog at 390×844.
// Each walk runs axe and takes two screenshots per screen, with remote access off and on: 1.6 min on a quiet
// 2-core machine, and past 150 s on a busy one.
test.describe.configure({ timeout: 300_000 });

const remoteSwitch = (page: Page) => page.getByRole('switch', { name: 'Allow other devices on the network' });

async function settle(page: Page): Promise<void> {
  // Nothing still loading: spinners name what they wait for.
  await expect(page.locator('.spinner[role="status"]')).toHaveCount(0);
}

async function setRemote(page: Page, on: boolean): Promise<void> {
  await openByNav(page, 'Connection');
  const toggle = remoteSwitch(page);
  if ((await toggle.getAttribute('aria-checked')) !== String(on)) await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', String(on));
  await expect(toggle).not.toHaveAttribute('aria-busy', 'true');
}

/** Visits every screen the nav offers and checks it as a person on this device would meet it. */
async function walkScreens(page: Page, device: 'phone' | 'desktop', state: string): Promise<string[]> {
  const screens = await navScreens(page);
  for (const screen of screens) {
    await openByNav(page, screen);
    await settle(page);
    const where = `${device} · ${screen} · ${state}`;
    await expectNoHorizontalOverflow(page, where);
    if (device === 'phone') await expectNavReachable(page);
    await expectAccessible(page, where);
    await screenshotSchemes(page, `${device}-${slug(screen)}-${state}`);
  }
  return screens;
}

/** Tokens made through the API, as a script would: a long list with long names and notes. */
async function createTokens(backend: Backend, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(new URL('/api/public/tokens', backend.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `evaluation-runner-${String(i).padStart(2, '0')}-nightly`, scope: i % 3 === 0 ? 'admin' : 'read', expires: '30d', note: 'Runs the nightly evaluation suite against the workstation and posts results' }),
    });
    expect(response.status).toBe(201);
  }
}

test.describe('on a phone (390×844)', () => {
  test.use({ viewport: PHONE });

  test('every screen fits, every nav item is on screen, and axe finds nothing serious, with remote access off and on', async ({ page, backend }) => {
    await page.goto(backend.url);
    await expect(page.getByTestId('status-pill')).toContainText('no token needed');
    const screens = await walkScreens(page, 'phone', 'remote-off');
    expect(screens).toEqual(expect.arrayContaining(['Overview', 'Connection', 'Hugging Face', 'API tokens']));

    // Turning remote access on once made every screen 454–586 px wide (the header pills).
    await setRemote(page, true);
    await expect(page.getByRole('link', { name: 'Remote access on. Open Connection.' })).toBeVisible();
    await walkScreens(page, 'phone', 'remote-on');
    await setRemote(page, false);
  });

  test('a long token list becomes cards with Revoke on screen, and every dialog fits with its buttons in reach', async ({ page, backend }) => {
    await createTokens(backend, 14);
    await page.goto(`${backend.url}#/tokens`);
    const rows = page.locator('[data-testid^="token-row-"]');
    await expect(rows).toHaveCount(14);
    await expectNoHorizontalOverflow(page, 'long token list');
    for (const name of ['evaluation-runner-00-nightly', 'evaluation-runner-13-nightly']) {
      const revoke = page.getByRole('button', { name: `Revoke ${name}` });
      await revoke.scrollIntoViewIfNeeded();
      await expectOnScreen(page, revoke, `Revoke ${name}`);
    }
    await expect(page.getByTestId('token-from-evaluation-runner-00-nightly')).toBeVisible();
    await page.evaluate(() => window.scrollTo(0, 0));
    await expectAccessible(page, 'phone · long token list');
    await screenshotSchemes(page, 'phone-api-tokens-long-list');

    // Create: the form and its buttons on screen.
    await page.getByRole('button', { name: 'Create token' }).first().click();
    const form = page.getByRole('dialog', { name: 'Create an API token' });
    await expectOnScreen(page, form, 'the create dialog');
    await expectOnScreen(page, form.getByRole('button', { name: 'Create token' }), 'its Create button');
    await expectNoHorizontalOverflow(page, 'create dialog');
    await expectAccessible(page, 'phone · create dialog');
    await screenshotSchemes(page, 'phone-dialog-create-token');
    await form.getByLabel('Name').fill('pixel-phone');
    await form.getByRole('button', { name: 'Create token' }).click();

    // The copy-once dialog: the one that must work. Remote access is off, so no QR code of a loopback link.
    const shown = page.getByRole('dialog', { name: 'Token “pixel-phone” created' });
    const done = shown.getByRole('button', { name: 'Done, I have saved it' });
    await expectOnScreen(page, shown, 'the copy-once dialog');
    await expectOnScreen(page, done, '"Done, I have saved it"');
    await expect(shown.getByRole('img', { name: /QR code/ })).toHaveCount(0);
    await expect(shown.getByTestId('pairing-no-qr')).toBeVisible();
    await expectNoHorizontalOverflow(page, 'copy-once dialog, remote off');
    await expectAccessible(page, 'phone · copy-once dialog, remote off');
    await screenshotSchemes(page, 'phone-dialog-created-remote-off');

    await shown.getByRole('button', { name: 'Turn on remote access' }).click();
    await expect(shown.getByRole('img', { name: /QR code of the pairing link/ })).toBeVisible();
    await expect(shown.getByLabel('Pairing link', { exact: true })).not.toHaveValue(/127\.0\.0\.1/);
    await expectOnScreen(page, done, '"Done, I have saved it" with the QR code');
    await expectNoHorizontalOverflow(page, 'copy-once dialog, remote on');
    await expectAccessible(page, 'phone · copy-once dialog, remote on');
    await screenshotSchemes(page, 'phone-dialog-created-remote-on');
    await done.tap().catch(() => done.click());
    await expect(shown).toBeHidden();

    // Revoke: the confirmation and both its buttons on screen.
    await page.getByRole('button', { name: 'Revoke evaluation-runner-05-nightly' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke “evaluation-runner-05-nightly”?' });
    await expectOnScreen(page, confirm, 'the revoke dialog');
    await expectOnScreen(page, confirm.getByRole('button', { name: 'Revoke token' }), 'Revoke token');
    await expectOnScreen(page, confirm.getByRole('button', { name: 'Cancel' }), 'Cancel');
    await expectNoHorizontalOverflow(page, 'revoke dialog');
    await screenshotSchemes(page, 'phone-dialog-revoke');
    await confirm.getByRole('button', { name: 'Revoke token' }).click();
    await expect(page.getByTestId('token-row-evaluation-runner-05-nightly')).toHaveCount(0);
  });
});

test.describe('on a desk (1280×800)', () => {
  test.use({ viewport: DESKTOP });

  test('every screen passes axe with remote access off and on; the switch and the device-token offer sit above the fold', async ({ page, backend }) => {
    await page.goto(backend.url);
    await expect(page.getByTestId('status-pill')).toContainText('no token needed');
    await walkScreens(page, 'desktop', 'remote-off');

    await setRemote(page, true);
    await page.evaluate(() => window.scrollTo(0, 0));
    await expectOnScreen(page, remoteSwitch(page), 'the remote-access switch');
    await expectOnScreen(page, page.getByRole('button', { name: 'Create token for a device' }), 'the device-token offer');
    // The exposed state carries the warning tone.
    await expect(page.locator('.callout--warn', { hasText: 'anyone on the same network can reach the sign-in' })).toBeVisible();
    await walkScreens(page, 'desktop', 'remote-on');
  });
});
