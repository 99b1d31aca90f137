import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';
import { SCREENSHOT_DIR } from './backend';

export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;

/** The page is no wider than the display: nothing scrolls sideways. */
export async function expectNoHorizontalOverflow(page: Page, where: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, `${where}: the page is ${scrollWidth} px wide on a ${innerWidth} px display`).toBeLessThanOrEqual(innerWidth);
}

/** Wholly inside the visible area: a thumb can reach it without scrolling sideways or zooming. */
export async function expectOnScreen(page: Page, target: Locator, what: string): Promise<void> {
  const box = await target.boundingBox();
  const viewport = page.viewportSize()!;
  expect(box, `${what} has no box`).not.toBeNull();
  const { x, y, width, height } = box!;
  expect(x >= 0 && y >= 0 && x + width <= viewport.width + 0.5 && y + height <= viewport.height + 0.5, `${what} at ${JSON.stringify(box)} is not wholly inside ${viewport.width}×${viewport.height}`).toBe(true);
}

/** The screens the nav offers (however many other branches add), by their accessible names. */
export async function navScreens(page: Page): Promise<string[]> {
  return page.getByRole('navigation', { name: 'Screens' }).getByRole('link').evaluateAll((links) => links.map((l) => l.getAttribute('aria-label') ?? l.textContent ?? ''));
}

/** Every nav item is on screen and tappable, without scrolling the nav. */
export async function expectNavReachable(page: Page): Promise<void> {
  const links = page.getByRole('navigation', { name: 'Screens' }).getByRole('link');
  const count = await links.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    const link = links.nth(i);
    await expectOnScreen(page, link, `nav item ${await link.getAttribute('aria-label')}`);
    const box = (await link.boundingBox())!;
    expect(box.width, 'a nav item at least 40 px wide').toBeGreaterThanOrEqual(40);
    expect(box.height, 'a nav item at least 44 px tall').toBeGreaterThanOrEqual(44);
  }
}

/** axe-core on the page as it is now: no serious or critical violation. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`),
    `${where}: serious or critical accessibility violations`,
  ).toEqual([]);
}

/** One screenshot per colour scheme, of what is visible (the phone's or the desk's screen), under e2e/artifacts/screenshots. */
export async function screenshotSchemes(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-${colorScheme}.png`), animations: 'disabled', caret: 'hide' });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Opens a screen by its nav item, the way a person would, and waits for its heading. */
export async function openByNav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true }).click();
  await expect(page.locator('#screen-title')).toBeVisible();
}

export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
