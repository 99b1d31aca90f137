import type { Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { API_TOKEN_STORAGE_KEY } from '../shared/api';
import type { RunInfo } from '../shared/runs';
import { expect, screenshotBothSchemes, test, type Backend } from './support/backend';

// The backend's stand-in training job, run by path (e2e imports no server test code):
// Trainer dict lines, JSON metric lines, metrics.jsonl, and with --print-token its HF_TOKEN split across two writes.
const TRAIN = fileURLToPath(new URL('../server/test/fixtures/runs/train.mjs', import.meta.url));
// The workstation's Hugging Face credential, handed to every job as HF_TOKEN: it must never reach the page.
const CANARY = 'hf_RunsScreenCanaryToken0123456789abcd';

test.use({ backendOptions: { env: { HF_TOKEN: CANARY } } });

const quoted = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
/** A job that prints a step every `interval` ms for long enough to be watched, stopped and compared. */
const trainCommand = (interval: number) => [process.execPath, TRAIN, '--steps', '2000', '--interval', String(interval), '--print-token'];

async function api<T>(backend: Backend, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(new URL(`/api/public${path}`, backend.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Stops whatever is still running, so no job outlives its test (a run survives a backend restart by design). */
async function stopAll(backend: Backend): Promise<void> {
  const { runs } = await api<{ runs: RunInfo[] }>(backend, 'GET', '/runs');
  for (const run of runs) if (run.state === 'running' || run.state === 'queued') await api(backend, 'POST', `/runs/${run.id}/stop`);
}

/** Points of this run's curve (the first one; a compared run's follow). */
const chartPoints = async (page: Page) => Number((await page.getByTestId('loss-chart').getAttribute('data-points'))?.split(',')[0]);
const logLines = async (page: Page) => (await page.getByTestId('run-log').innerText()).split('\n').length;

/** Waits until the chart and the log have both grown past what they show now: drawn live, not on reload. */
async function expectGrowing(page: Page): Promise<void> {
  await expect.poll(() => chartPoints(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
  const [points, lines] = [await chartPoints(page), await logLines(page)];
  await expect.poll(() => chartPoints(page), { timeout: 15_000 }).toBeGreaterThan(points + 2);
  await expect.poll(() => logLines(page), { timeout: 15_000 }).toBeGreaterThan(lines);
}

/** Picks a metric once the run has printed it. */
async function chooseMetric(page: Page, name: string): Promise<void> {
  const select = page.getByRole('combobox', { name: 'Metric' });
  await expect(select.locator(`option[value="${name}"]`)).toHaveCount(1, { timeout: 20_000 });
  await select.selectOption(name);
}

async function expectNoCanary(page: Page): Promise<void> {
  const seen = [await page.content(), await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + location.href)].join('\n');
  expect(seen).not.toContain(CANARY);
  // Not even the half the job wrote second: the log is redacted across the two writes.
  expect(seen).not.toContain(CANARY.slice(9));
}

test.afterEach(async ({ backend }) => {
  await stopAll(backend);
});

test('start a run from the dashboard, watch its log and loss chart grow, read back in the log, save it as a recipe and stop it', async ({ page, backend }) => {
  // A live run and four screenshots: long on two shared cores.
  test.setTimeout(180_000);
  await page.goto(`${backend.url}#/runs`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Runs');
  await page.getByRole('button', { name: 'Start a run' }).click();

  const dialog = page.getByRole('dialog', { name: 'Start a run' });
  await expect(dialog.getByTestId('run-warning')).toContainText('as the workstation’s user');
  await expect(dialog.getByLabel('Command')).toBeFocused();
  await dialog.getByLabel('Command').fill(trainCommand(100).map(quoted).join(' '));
  await dialog.getByLabel('Name').fill('baseline');
  // Refused in the page, before anything is sent.
  await dialog.getByLabel('Environment').fill('HF_TOKEN=mine');
  await dialog.getByRole('button', { name: 'Start run' }).click();
  await expect(dialog.getByTestId('start-problem')).toContainText('HF_TOKEN is set by Halo Forge for every run');
  await dialog.getByLabel('Environment').fill('EXTRA=from-the-dashboard');
  await dialog.getByRole('button', { name: 'Start run' }).click();

  const runPage = page.getByTestId('run-page');
  await expect(runPage.getByRole('heading', { name: 'baseline' })).toBeVisible();
  await expect(page.getByTestId('run-state')).toHaveText('Running');
  await expect(page.getByTestId('run-live')).toHaveText('Live');
  await expect(page.getByTestId('run-log')).toContainText("'loss'");
  await expect(page.getByTestId('run-log')).toContainText('EXTRA=from-the-dashboard');
  await expect(page.getByTestId('run-log')).toContainText('my token is');
  // Trainer's lines come first (loss by epoch); eval_loss comes with a step on every line, so it grows fastest.
  await expect(runPage.getByRole('combobox', { name: 'Metric' })).toHaveValue('loss');
  await expect.poll(() => chartPoints(page)).toBeGreaterThanOrEqual(2);
  await chooseMetric(page, 'eval_loss');
  await expectGrowing(page);
  await screenshotBothSchemes(page, 'runs-live');

  // The log follows new output; a reader who scrolls up to read is left where they are until they jump back.
  const log = page.getByTestId('run-log');
  const fromBottom = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await expect.poll(() => log.evaluate((el) => el.scrollHeight - el.clientHeight)).toBeGreaterThan(300);
  await expect.poll(fromBottom).toBeLessThanOrEqual(24);
  await log.hover();
  await page.mouse.wheel(0, -250);
  const jump = page.getByRole('button', { name: 'Jump to latest' });
  await expect(jump).toBeVisible();
  const readingAt = await log.evaluate((el) => el.scrollTop);
  const linesNow = await logLines(page);
  await expect.poll(() => logLines(page)).toBeGreaterThan(linesNow);
  expect(await log.evaluate((el) => el.scrollTop)).toBe(readingAt);
  await jump.click();
  await expect(jump).toBeHidden();
  await expect.poll(fromBottom).toBeLessThanOrEqual(24);

  await page.getByRole('button', { name: 'Save as recipe' }).click();
  const save = page.getByRole('dialog', { name: 'Save as a recipe' });
  await save.getByLabel('Recipe name').fill('sft');
  await save.getByRole('button', { name: 'Save recipe' }).click();
  await expect(save).toBeHidden();

  await runPage.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('Stopped');
  await expect(page.getByTestId('run-live')).toHaveText('Finished');
  await expectNoCanary(page);

  await page.getByRole('link', { name: 'All runs' }).click();
  await expect(page.getByTestId('run-row-baseline')).toContainText('Stopped');
  await expect(page.getByTestId('recipe-sft')).toContainText('train.mjs');
  expect((await api<{ recipes: { name: string; env: Record<string, string> }[] }>(backend, 'GET', '/runs/recipes')).recipes).toEqual([
    expect.objectContaining({ name: 'sft', env: { EXTRA: 'from-the-dashboard' } }),
  ]);
});

test('start a recipe with one click, watch it grow, compare it with an earlier run on one chart, and stop it', async ({ page, backend }) => {
  test.setTimeout(180_000);
  await api(backend, 'POST', '/runs/recipes', { name: 'sft', command: trainCommand(100) });
  const baseline = await api<RunInfo>(backend, 'POST', '/runs', { name: 'baseline', command: trainCommand(50) });
  await expect
    .poll(async () => (await api<{ points: { values: Record<string, number> }[] }>(backend, 'GET', `/runs/${baseline.id}/metrics`)).points.filter((p) => 'eval_loss' in p.values).length, { timeout: 30_000 })
    .toBeGreaterThanOrEqual(20);
  await api(backend, 'POST', `/runs/${baseline.id}/stop`);

  await page.goto(`${backend.url}#/runs`);
  await expect(page.getByTestId('run-row-baseline')).toContainText('Stopped');
  const recipe = page.getByTestId('recipe-sft');
  await expect(recipe).toContainText('train.mjs');
  await screenshotBothSchemes(page, 'runs-list');
  await recipe.getByRole('button', { name: 'Start the recipe sft' }).click();

  const runPage = page.getByTestId('run-page');

  await expect(runPage.getByRole('heading', { name: 'sft' })).toBeVisible();
  await expect(page.getByTestId('run-state')).toHaveText('Running');
  await chooseMetric(page, 'eval_loss');
  await expectGrowing(page);
  await runPage.getByTestId('compare-select').selectOption({ index: 1 });
  const legend = page.locator('.loss-chart .u-legend');
  await expect(legend).toContainText('sft');
  await expect(legend).toContainText('baseline');
  await expect(page.getByTestId('loss-chart').locator('canvas')).toHaveCount(1);
  // Both curves are drawn: the stopped run's points are all there beside the live one's.
  await expect.poll(async () => Number((await page.getByTestId('loss-chart').getAttribute('data-points'))?.split(',')[1])).toBeGreaterThanOrEqual(3);
  await expectGrowing(page);
  await screenshotBothSchemes(page, 'runs-compare');

  await runPage.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveText('Stopped');
  await expectNoCanary(page);
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  test.setTimeout(120_000);

  test('a run’s page fits the screen: the log wraps, the chart is resized, nothing scrolls sideways', async ({ page, backend }) => {
    const run = await api<RunInfo>(backend, 'POST', '/runs', { name: 'phone-run', command: trainCommand(120) });
    await page.goto(`${backend.url}#/runs/${run.id}`);
    await expect(page.getByTestId('run-page').getByRole('heading', { name: 'phone-run' })).toBeVisible();
    await chooseMetric(page, 'eval_loss');
    await expectGrowing(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const canvasWidth = () => page.getByTestId('loss-chart').evaluate((el) => el.querySelector('canvas')?.getBoundingClientRect().width ?? 0);
    await expect.poll(canvasWidth).toBeGreaterThan(250);
    expect(await canvasWidth()).toBeLessThanOrEqual(390);
    await screenshotBothSchemes(page, 'runs-phone-run');
    await expectNoCanary(page);

    await page.goto(`${backend.url}#/runs`);
    await expect(page.getByTestId('run-row-phone-run')).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await screenshotBothSchemes(page, 'runs-phone-list');
  });
});

test('a read token watches but may not start or stop, and the page says why', async ({ page, backend }) => {
  test.setTimeout(120_000);
  await api(backend, 'POST', '/runs/recipes', { name: 'nightly-eval', command: trainCommand(200) });
  const run = await api<RunInfo>(backend, 'POST', '/runs', { name: 'watched', command: trainCommand(200) });
  const token = await backend.createToken('phone', { scope: 'read' });
  await page.addInitScript(([key, value]) => localStorage.setItem(key!, value!), [API_TOKEN_STORAGE_KEY, token]);

  await page.goto(`${backend.url}#/runs`);
  await expect(page.getByRole('button', { name: 'Start a run' })).toBeDisabled();
  await expect(page.getByTestId('start-why')).toContainText('needs an admin token');
  await expect(page.getByRole('button', { name: 'Start the recipe nightly-eval' })).toBeDisabled();
  await expect(page.getByText('needs a token with the operate or admin scope').first()).toBeVisible();

  await page.getByTestId('run-row-watched').click();
  await expect(page.getByTestId('run-log')).toContainText("'loss'");
  await expect(page.getByRole('button', { name: 'Stop' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Save as recipe' })).toBeDisabled();
  expect(await page.content()).not.toContain(token);
  await api(backend, 'POST', `/runs/${run.id}/stop`);
  await expect(page.getByTestId('run-state')).toHaveText('Stopped');
});
