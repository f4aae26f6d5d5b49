import { expect, test, type Page } from '@playwright/test';
import { EDITOR } from './fixtures';

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

const figures = ['sim-gpus', 'sim-capex', 'sim-power', 'sim-energy', 'sim-flop', 'sim-budget'];

async function values(page: Page): Promise<number[]> {
  return Promise.all(figures.map(async (id) => Number(await page.locator(`#${id}`).getAttribute('data-value'))));
}

test('dragging a slider recomputes in the browser, with no request to the server', async ({ page }) => {
  await page.goto('/simulator');
  await hydrated(page);
  await expect(page.locator('#sim-gpus')).toHaveText('32.77 million');
  const before = await values(page);
  const chartBefore = await page.locator('#chart-gpus path').getAttribute('d');
  const requests: string[] = [];
  // Chromium re-requests the favicon when the URL changes; that is the browser, not the model.
  page.on('request', (r) => { if (!r.url().endsWith('/favicon.svg')) requests.push(r.url()); });

  const slider = page.getByRole('slider', { name: 'Doubling period (months)' });
  await slider.scrollIntoViewIfNeeded();
  const box = (await slider.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.01, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.05, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();

  await expect(page.getByRole('spinbutton', { name: 'Doubling period (months)', exact: true })).not.toHaveValue('2');
  const after = await values(page);
  expect(after[0]).toBeLessThan(before[0]);
  expect(after[1]).toBeLessThan(before[1]);
  expect(await page.locator('#chart-gpus path').getAttribute('d')).not.toBe(chartBefore);
  expect(page.url()).toContain('doubling_months=');
  expect(requests, 'no network request while recomputing').toEqual([]);
  // The whole drag is one step back.
  await page.goBack();
  await expect(page.getByRole('spinbutton', { name: 'Doubling period (months)', exact: true })).toHaveValue('2');
  expect(await values(page)).toEqual(before);
});

test('a shared link shows the same figures as the API', async ({ page }) => {
  const query = 'chip=h100&start_gpus=20000&growth=continuous&horizon_months=18&mode=full&electricity_per_kwh=0.05';
  await page.goto(`/simulator?${query}`);
  await hydrated(page);
  const api = await (await page.request.get(`/api/v1/simulate?${query}`)).json();
  expect(await values(page)).toEqual([
    api.gpus, api.capex, api.power_capacity_mw, api.energy_cost_per_month, api.training_flop, api.months_to_budget ?? -1,
  ]);
  await expect(page.getByRole('spinbutton', { name: 'Starting GPUs', exact: true })).toHaveValue('20000');
  await expect(page.getByRole('radio', { name: 'H100' })).toBeChecked();
});

test('a bad parameter is flagged and the rest still computes; a bad entry keeps the last result', async ({ page }) => {
  await page.goto('/simulator?pue=9&start_gpus=16000');
  await hydrated(page);
  const pue = page.getByRole('spinbutton', { name: 'Power usage effectiveness (PUE)', exact: true });
  await expect(pue).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#err-pue')).toContainText('must be between 1 and 3');
  await expect(page.locator('#sim-gpus')).toHaveText('65.54 million');
  const good = await values(page);
  const gpus = page.getByRole('spinbutton', { name: 'Starting GPUs', exact: true });
  await gpus.fill('-4');
  await gpus.press('Enter');
  await expect(page.locator('#err-start_gpus')).toContainText('must be between');
  expect(await values(page)).toEqual(good);
});

test('the back button walks back through changes', async ({ page }) => {
  await page.goto('/simulator');
  await hydrated(page);
  const gpus = page.getByRole('spinbutton', { name: 'Starting GPUs', exact: true });
  await gpus.fill('1000');
  await gpus.press('Enter');
  await expect(page).toHaveURL(/start_gpus=1000$/);
  await page.getByRole('radio', { name: 'Smoothly' }).check();
  await expect(page).toHaveURL(/growth=continuous/);
  await page.goBack();
  await expect(page.getByRole('radio', { name: 'Doubles in steps' })).toBeChecked();
  await expect(gpus).toHaveValue('1000');
  await page.goBack();
  await expect(gpus).toHaveValue('8000');
  await expect(page.locator('#sim-gpus')).toHaveText('32.77 million');
});

test('without JavaScript the page is complete and the form recomputes on the server', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/simulator?horizon_months=6');
  await expect(page.locator('#sim-gpus')).toHaveText('64,000');
  await expect(page.locator('#sim-capex')).toHaveText('$640 million');
  await expect(page.locator('#sim-power')).toHaveText('65.0 MW');
  await expect(page.locator('#ladder tbody tr')).not.toHaveCount(0);
  await context.close();
});

test('recomputing a 120-month scenario takes under 1 ms in the browser', async ({ page }) => {
  await page.goto('/simulator');
  await hydrated(page);
  const median = await page.evaluate(async () => {
    const wasm = await import('/pkg/polltelligence.js');
    const query = 'horizon_months=120&growth=continuous&chip=h100&mode=full';
    // performance.now() is coarse in browsers, so each sample times a batch of 50 runs.
    const times: number[] = [];
    for (let batch = 0; batch < 60; batch++) {
      const start = performance.now();
      for (let i = 0; i < 50; i++) {
        const capex = wasm.simulate_query(`${query}&start_gpus=${1000 + batch * 50 + i}`);
        if (!(capex > 0)) throw new Error(`no result for run ${batch}/${i}`);
      }
      times.push((performance.now() - start) / 50);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  });
  console.log(`simulator: median recompute of a 120-month scenario = ${median.toFixed(4)} ms (60 batches of 50 runs)`);
  expect(median).toBeLessThan(1);
});

/** The compressed bytes of the JavaScript and WebAssembly a page load uses. */
async function bundleOf(page: Page, path: string) {
  const files: { url: string; bytes: number; coding: string }[] = [];
  page.on('response', (r) => {
    if (/\/pkg\/.*\.(js|wasm)$/.test(new URL(r.url()).pathname)) files.push({ url: r.url(), bytes: Number(r.headers()['content-length'] ?? 0), coding: r.headers()['content-encoding'] ?? 'none' });
  });
  await page.goto(path);
  await hydrated(page);
  await page.waitForLoadState('networkidle');
  return files;
}

test('each page type downloads only its own islands; the bytes per page type', async ({ browser }) => {
  // A fresh context each, so nothing comes from the browser's cache.
  const fresh = async () => (await browser.newContext()).newPage();
  const home = await bundleOf(await fresh(), '/');
  const poll = await bundleOf(await fresh(), '/polls/e2e-with-js');
  const archive = await bundleOf(await fresh(), '/archive');
  const simulator = await bundleOf(await fresh(), '/simulator');
  // Readers' pages hydrate their islands from the main module alone: no lazy chunk at all.
  for (const files of [home, poll, archive]) {
    expect(files.some((f) => f.url.includes('split_')), 'a reader page loads no editor or simulator code').toBe(false);
  }
  expect(simulator.some((f) => f.url.includes('simulator_loader'))).toBe(true);
  // An editor's page (signing in first, so these may come from the cache; sizes are as sent).
  const editor = await fresh();
  await editor.goto('/editor/login');
  await editor.getByLabel('Email').fill(EDITOR.email);
  await editor.getByLabel('Password').fill(EDITOR.password);
  await editor.getByRole('button', { name: 'Sign in' }).click();
  await expect(editor).toHaveURL(/\/editor$/);
  await hydrated(editor);
  const author = await bundleOf(editor, '/editor/polls/new');
  expect(author.some((f) => f.url.includes('poll_editor_loader'))).toBe(true);
  const all = [home, poll, archive, simulator, author].flat();
  // The readers' budget (issue 10): a phone downloads at most 150 KB of code to vote.
  const bytes = (list: { bytes: number }[]) => list.reduce((sum, f) => sum + f.bytes, 0);
  expect(bytes(poll), 'a reader page loads at most 150 KB of JS + WASM').toBeLessThanOrEqual(150 * 1024);
  expect(all.every((f) => f.bytes > 0), 'served compressed, with a length').toBe(true);
  const kb = (list: { bytes: number }[]) => (list.reduce((sum, f) => sum + f.bytes, 0) / 1024).toFixed(1);
  const extra = simulator.filter((f) => !home.some((h) => h.url === f.url));
  const codings = (list: { coding: string }[]) => [...new Set(list.map((f) => f.coding))].join('+');
  console.log(`bundle: a reader page loads ${kb(poll)} KB (${codings(poll)}) in ${poll.length} files; /simulator loads ` +
    `${kb(simulator)} KB in ${simulator.length} files, ${kb(extra)} KB of them for the simulator alone`);
  console.log(`bundle per page type (KB compressed, fresh cache): / ${kb(home)}, /polls/… ${kb(poll)}, ` +
    `/archive ${kb(archive)}, /simulator ${kb(simulator)}; /editor/polls/new ${kb(author)} ` +
    `(sent as ${codings(all)})`);
});
