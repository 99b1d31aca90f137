import { expect, screenshotBothSchemes, test } from './support/backend';

test('creating a token shows its secret once, with a pairing link (no QR code while only this computer can open it), and closing the dialog removes it from the page', async ({ page, backend }) => {
  await page.goto(`${backend.url}#/tokens`);
  const create = page.getByRole('button', { name: 'Create token' }).first();
  await create.click();

  const form = page.getByRole('dialog', { name: 'Create an API token' });
  await expect(form.getByLabel('Name')).toBeFocused();
  await form.getByLabel('Name').fill('ci-runner');
  await form.getByLabel('Scope').selectOption('operate');
  await form.getByLabel('Expires').selectOption('30d');
  await form.getByLabel('Note (optional)').fill('nightly evals');
  await form.getByRole('button', { name: 'Create token' }).click();

  const shown = page.getByRole('dialog', { name: 'Token “ci-runner” created' });
  await expect(shown).toContainText('it will not be shown again');
  const secret = await shown.getByTestId('created-token-secret').inputValue();
  expect(secret).toMatch(/^hfk_[A-Za-z0-9_-]{43}$/);
  // Remote access is off: a QR code of a 127.0.0.1 link would be one no phone can open.
  await expect(shown.getByRole('img', { name: /QR code/ })).toHaveCount(0);
  await expect(shown.getByTestId('pairing-no-qr')).toContainText('Remote access is off');
  await expect(shown.getByLabel('Pairing link', { exact: true })).toHaveValue(new RegExp(`#token=${secret}$`));
  await screenshotBothSchemes(page, 'api-tokens-created-once');

  // The secret is real: the workstation accepts it.
  const health = await fetch(new URL('/api/public/health', backend.url), { headers: { authorization: `Bearer ${secret}` } });
  expect(health.status).toBe(200);

  await shown.getByRole('button', { name: 'Done, I have saved it' }).click();
  await expect(shown).toBeHidden();
  expect(await page.content()).not.toContain(secret);
  await expect(create).toBeFocused();

  const row = page.getByTestId('token-row-ci-runner');
  await expect(row).toContainText('operate');
  await expect(row).toContainText('nightly evals');
  await expect(row).toContainText('in 30 days');
  await expect(row).toContainText('Never');
  await screenshotBothSchemes(page, 'api-tokens-list');
});

test('Escape does not throw away a new token shown only once; "Done, I have saved it" closes it', async ({ page, backend }) => {
  await page.goto(`${backend.url}#/tokens`);
  await page.getByRole('button', { name: 'Create token' }).first().click();
  const form = page.getByRole('dialog', { name: 'Create an API token' });
  await form.getByLabel('Name').fill('phone');
  await form.getByRole('button', { name: 'Create token' }).click();

  const shown = page.getByRole('dialog', { name: 'Token “phone” created' });
  const secret = await shown.getByTestId('created-token-secret').inputValue();
  expect(secret).toMatch(/^hfk_/);
  // Twice: Chromium lets a second Escape with no click in between close a dialog whose cancel event was refused.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.evaluate(() => new Promise((painted) => requestAnimationFrame(painted)));
  await expect(shown).toBeVisible();
  await expect(shown.getByTestId('created-token-secret')).toHaveValue(secret);
  // A close the page cannot refuse, as a phone's Back gesture can be: it opens again.
  await shown.evaluate((dialog: HTMLDialogElement) => dialog.close());
  await expect(shown).toBeVisible();
  await expect(shown.getByTestId('created-token-secret')).toHaveValue(secret);

  await shown.getByRole('button', { name: 'Done, I have saved it' }).click();
  await expect(shown).toBeHidden();
  expect(await page.content()).not.toContain(secret);
});

test('the token list shows tokens made elsewhere, refuses a duplicate name, and revokes after confirmation', async ({ page, backend }) => {
  const secret = await backend.createToken('laptop');
  await backend.createToken('reader', { scope: 'read' });
  await page.goto(`${backend.url}#/tokens`);
  await expect(page.getByRole('row')).toHaveCount(3);
  await expect(page.getByTestId('token-row-reader')).toContainText('read');

  await page.getByRole('button', { name: 'Create token' }).first().click();
  const form = page.getByRole('dialog', { name: 'Create an API token' });
  await form.getByLabel('Name').fill('laptop');
  await form.getByRole('button', { name: 'Create token' }).click();
  await expect(form).toContainText('Name already taken');
  await form.press('Escape');
  await expect(form).toBeHidden();

  await page.getByRole('button', { name: 'Revoke laptop' }).click();
  const confirm = page.getByRole('dialog', { name: 'Revoke “laptop”?' });
  await expect(confirm).toContainText('loses access right away');
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await confirm.getByRole('button', { name: 'Revoke token' }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByTestId('token-row-laptop')).toHaveCount(0);
  await expect(page.getByTestId('token-row-reader')).toBeVisible();

  const health = await fetch(new URL('/api/public/health', backend.url), { headers: { authorization: `Bearer ${secret}` } });
  expect(health.status).toBe(401);
  const listed = await backend.cli(['token', 'list', '--json']);
  expect(JSON.parse(listed.stdout).map((t: { name: string }) => t.name)).toEqual(['reader']);
});

test('the device-token offer on Connection creates a token and shows it once; its QR code appears once remote access is on', async ({ page, backend }) => {
  await page.goto(`${backend.url}#/connection`);
  await page.getByLabel('Device name').fill('studio-mac');
  await page.getByRole('button', { name: 'Create token for a device' }).click();

  const shown = page.getByRole('dialog', { name: 'Token “studio-mac” created' });
  await expect(shown.getByRole('img', { name: /QR code/ })).toHaveCount(0);
  await shown.getByRole('button', { name: 'Turn on remote access' }).click();
  await expect(shown.getByRole('img', { name: /QR code/ })).toBeVisible();
  await expect(shown.getByLabel('Pairing link', { exact: true })).not.toHaveValue(/127\.0\.0\.1/);
  const secret = await shown.getByTestId('created-token-secret').inputValue();
  await shown.getByRole('button', { name: 'Done, I have saved it' }).click();
  await expect(shown).toBeHidden();
  expect(await page.content()).not.toContain(secret);
  await expect(page.getByText('No API token exists yet')).toHaveCount(0);
  await expect(page.getByTestId('activity-list')).toContainText('Token “studio-mac” created');
});
