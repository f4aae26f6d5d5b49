import { expect, request as http, test, type Page } from '@playwright/test';
import { EDITOR } from './fixtures';

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

const COMMENTS: [string, string][] = [
  ['yes', 'Power is the bottleneck: the grid cannot deliver new gigawatts in time.'],
  ['yes', 'Grid connections take years, so power will limit the next clusters.'],
  ['yes', 'Transformers and substations are sold out; power is the real limit.'],
  ['yes', 'Utilities cannot build power plants as fast as labs want them.'],
  ['no', 'Money keeps pouring in and investors will fund every new cluster.'],
  ['no', 'The hyperscalers have the cash; capital spending keeps doubling.'],
  ['no', 'Investors are betting trillions, money is not the constraint.'],
  ['maybe', 'Write to me at reader@example.com about the <b>grid</b>.'],
];

test('an editor summarises a closed poll, watches it run, approves it, and readers see it', async ({ page, browser, baseURL }) => {
  const slug = 'e2e-summary';
  // Readers vote with their reasons.
  for (const [choice, comment] of COMMENTS) {
    const reader = await http.newContext({ baseURL });
    const answer = await reader.post(`/api/v1/polls/${slug}/votes`, { data: { choices: [choice], comment } });
    expect(answer.status()).toBe(201);
    await reader.dispose();
  }

  await page.goto('/editor/login');
  await page.getByLabel('Email').fill(EDITOR.email);
  await page.getByLabel('Password').fill(EDITOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/editor$/);
  await page.getByRole('link', { name: 'Will power stall the compute boom?' }).click();
  await expect(page).toHaveURL(/\/editor\/polls\/\d+$/);
  await page.getByRole('link', { name: 'Close now…' }).click();
  await page.getByRole('button', { name: 'Yes, close now' }).click();
  await expect(page.locator('.page-head .stage')).toHaveText('closed');
  await hydrated(page);

  // Summarise: the panel shows the job's progress, then the finished summary.
  const panel = page.getByRole('region', { name: 'Summary of comments' });
  await panel.getByRole('button', { name: 'Summarise comments' }).click();
  await expect(panel.locator('.summary-progress, .checks')).not.toHaveCount(0);
  await expect(panel.getByRole('list', { name: 'Checks' })).toBeVisible({ timeout: 30_000 });
  // Quotes, figures, citations, plain text: every check passed.
  await expect(panel.locator('.check-ok')).toHaveCount(4);
  await expect(panel.locator('.check-failed')).toHaveCount(0);
  await expect(panel.locator('fieldset.summary-theme').first()).toContainText('comments');
  // Each quote links to its comment on this page; a comment with an email address is never quoted.
  const quoteLink = panel.locator('.quotes a').first();
  const target = await quoteLink.getAttribute('href');
  expect(target).toMatch(/^#comment-\d+$/);
  await expect(page.locator(target!)).toHaveCount(1);
  const quotes = await panel.locator('.quotes blockquote').allTextContents();
  expect(quotes.length).toBeGreaterThan(0);
  expect(quotes.join(' ')).not.toContain('reader@example.com');

  // An edit that invents a figure is refused and says why; a faithful one is approved.
  await panel.getByLabel('Overview').fill('Exactly 97% of readers blamed power.');
  await panel.getByRole('button', { name: 'Approve and show to readers' }).click();
  await expect(page.getByRole('alert')).toContainText('not a figure from the votes or comments');
  await page.goBack();
  await page.reload();
  await hydrated(page);
  await panel.getByLabel('Overview').fill('Readers split between the power grid and the money still pouring in.');
  await panel.getByRole('button', { name: 'Approve and show to readers' }).click();
  await expect(panel.getByText(/^Approved /)).toBeVisible();
  await panel.getByText('Email block for the next issue').click();
  await expect(panel.locator('#summary-email-html')).toHaveValue(/What readers said/);

  // A reader sees it with the final results, markup shown as text.
  const reader = await browser.newContext();
  const readerPage = await reader.newPage();
  await readerPage.goto(`/polls/${slug}`);
  const summary = readerPage.getByRole('region', { name: 'What readers said' });
  await expect(summary).toContainText('Readers split between the power grid and the money still pouring in.');
  await expect(summary.locator('blockquote').first()).toBeVisible();
  await reader.close();
});
