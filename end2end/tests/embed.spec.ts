import { expect, request, test, type Page } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A newsletter's web page on another origin (another port of the same host, so the same
// site: plain HTTP keeps the voter cookie there) that embeds the widget as editors paste it.
let host: Server;
let hostUrl = '';

test.beforeAll(async ({ baseURL }) => {
  host = createServer((request, response) => {
    const slug = new URL(request.url ?? '/', 'http://host').searchParams.get('poll') ?? 'e2e-embed';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!DOCTYPE html><html lang="en"><head><title>This week's issue</title></head><body>
      <h1>AI Collision, this week</h1><p>Before you go, tell us what you think:</p>
      <iframe id="poll" src="${baseURL}/embed/${slug}" title="Poll" width="600" height="150"
        style="border:0;width:100%;max-width:600px"></iframe>
      <script async src="${baseURL}/embed.js"></script></body></html>`);
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => host.close(resolve));
});

async function totalOf(page: Page, slug: string): Promise<number> {
  const response = await page.request.get(`/api/v1/polls/${slug}/results`);
  return (await response.json()).total_votes;
}

test('a reader votes in a widget on another site; the frame resizes; the poll page follows live', async ({ page, context }) => {
  // The poll page, open in another tab, hydrated and following live results.
  const pollPage = await context.newPage();
  await pollPage.goto('/polls/e2e-embed');
  await expect(pollPage.locator('body[data-hydrated]')).toHaveCount(1);
  const before = await totalOf(pollPage, 'e2e-embed');
  await expect(pollPage.locator('.total')).toHaveText(`${before} vote${before === 1 ? '' : 's'} in total`);

  // Everything the widget's frame fetches, with the bytes that travelled.
  const fetched: { url: string; type: string; bytes: number }[] = [];
  page.on('requestfinished', async (request) => {
    if (!request.url().includes('/embed') || request.url().includes(hostUrl)) return;
    const sizes = await request.sizes();
    fetched.push({ url: request.url(), type: request.resourceType(), bytes: sizes.responseBodySize });
  });

  await page.goto(hostUrl);
  const frame = page.frameLocator('#poll');
  await expect(frame.getByRole('heading', { name: 'Would you vote inside a newsletter?' })).toBeVisible();
  // embed.js sets the frame to the height the widget reports (it starts at 150 px).
  const iframe = page.locator('#poll');
  await expect.poll(async () => (await iframe.boundingBox())?.height ?? 0).toBeGreaterThan(250);
  const contentHeight = await frame.locator('body').evaluate((body) => Math.ceil(body.getBoundingClientRect().height));
  expect(Math.abs(((await iframe.boundingBox())?.height ?? 0) - contentHeight)).toBeLessThanOrEqual(2);

  await frame.getByLabel('Maybe').check();
  await frame.getByRole('button', { name: 'Vote' }).click();
  await expect(frame.getByRole('status')).toHaveText('You voted: Maybe.');
  await expect(frame.locator('.total')).toHaveText(`${before + 1} vote${before === 0 ? '' : 's'} in total`);
  // The frame grew with the results, and the host page followed.
  await expect.poll(async () => {
    const height = await frame.locator('body').evaluate((body) => Math.ceil(body.getBoundingClientRect().height));
    return Math.abs(((await iframe.boundingBox())?.height ?? 0) - height);
  }).toBeLessThanOrEqual(2);

  // The other tab's count moved without a reload.
  await expect(pollPage.locator('.total')).toHaveText(`${before + 1} vote${before === 0 ? '' : 's'} in total`);
  expect(await totalOf(page, 'e2e-embed')).toBe(before + 1);

  // Another vote (another reader) reaches the open widget live too.
  const stranger = await request.newContext({ baseURL: new URL(pollPage.url()).origin });
  const other = await stranger.post('/api/v1/polls/e2e-embed/votes', { data: { choices: ['yes'] } });
  expect(other.status()).toBe(201);
  await stranger.dispose();
  await expect(frame.locator('.total')).toHaveText(`${before + 2} votes in total`);

  const wasm = fetched.filter((f) => f.url.endsWith('.wasm'));
  const scripts = fetched.filter((f) => f.type === 'script');
  const scriptBytes = scripts.reduce((sum, f) => sum + f.bytes, 0);
  console.log(`widget: ${fetched.length} requests, ${scripts.length} script(s), ${scriptBytes} bytes of JavaScript as sent, ` +
    `${wasm.length} .wasm`);
  expect(wasm).toEqual([]);
  expect(scripts.length).toBeGreaterThan(0);
  expect(scriptBytes).toBeLessThanOrEqual(10 * 1024);
});

test('over plain HTTP on another site, the widget sends the reader to vote in a new tab', async ({ page, context }) => {
  // localhost and 127.0.0.1 are different sites: the browser keeps no cookie in this frame.
  await page.goto(hostUrl.replace('127.0.0.1', 'localhost') + '/?poll=e2e-embed-cross');
  const frame = page.frameLocator('#poll');
  await expect(frame.getByRole('heading', { name: 'Would you vote from another site?' })).toBeVisible();
  await expect(frame.locator('form')).toHaveCount(0);
  const [tab] = await Promise.all([
    context.waitForEvent('page'),
    frame.getByRole('link', { name: /^Vote on / }).click(),
  ]);
  await tab.waitForLoadState();
  expect(new URL(tab.url()).pathname).toBe('/polls/e2e-embed-cross');
  await tab.getByLabel('Yes').check();
  await tab.getByRole('button', { name: 'Vote' }).click();
  await expect(tab.getByText(/Your vote for Yes is in|You voted: Yes/)).toBeVisible();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the widget still votes with a form inside the frame', async ({ page }) => {
    const before = await totalOf(page, 'e2e-embed-nojs');
    await page.goto(`${hostUrl}/?poll=e2e-embed-nojs`);
    const frame = page.frameLocator('#poll');
    await frame.getByLabel('No').check();
    await frame.getByRole('button', { name: 'Vote' }).click();
    await expect(frame.getByText('You voted: No.')).toBeVisible();
    await expect(frame.getByRole('region', { name: 'Results so far' })).toContainText('No');
    expect(await totalOf(page, 'e2e-embed-nojs')).toBe(before + 1);
  });
});
