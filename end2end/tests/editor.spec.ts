import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { EDITOR } from './fixtures';

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

async function stage(page: Page, name: string) {
  await expect(page.locator('.page-head .stage')).toHaveText(name);
}

test('an editor writes, schedules, opens, watches, closes, exports and duplicates a poll', async ({ page, browser }) => {
  // Signing in: the editor pages send strangers to the sign-in form and back.
  await page.goto('/editor');
  await expect(page).toHaveURL(/\/editor\/login\?next=%2Feditor$/);
  await page.getByLabel('Email').fill(EDITOR.email);
  await page.getByLabel('Password').fill(EDITOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/editor$/);
  await expect(page.getByRole('heading', { name: 'Polls' })).toBeVisible();

  // Writing: the preview follows the form as it is typed and reordered.
  await page.getByRole('link', { name: 'New poll' }).first().click();
  await expect(page).toHaveURL(/\/editor\/polls\/new$/);
  await hydrated(page);
  const preview = page.getByRole('complementary', { name: 'Preview' });
  await page.getByLabel('Question', { exact: true }).fill('Which chip wins 2027?');
  await expect(preview.getByRole('heading')).toHaveText('Which chip wins 2027?');
  await page.getByLabel('Option 1', { exact: true }).fill('Nvidia');
  await page.getByLabel('Option 2', { exact: true }).fill('Google TPU');
  await page.getByLabel('Option 3', { exact: true }).fill('AMD');
  await page.getByRole('button', { name: 'Move option 3 up' }).click();
  await expect(preview.locator('.choice label')).toHaveText(['Nvidia', 'AMD', 'Google TPU']);
  await page.getByLabel('Show results').selectOption('always');
  await page.getByRole('button', { name: 'Save draft' }).click();

  // The dashboard: draft → scheduled → open.
  await expect(page).toHaveURL(/\/editor\/polls\/\d+$/);
  const dashboard = page.url();
  await stage(page, 'draft');
  await page.getByRole('button', { name: 'Schedule' }).click();
  await stage(page, 'scheduled');
  await page.getByRole('button', { name: 'Open now' }).click();
  await stage(page, 'open');
  await hydrated(page);
  await expect(page.locator('#total-votes')).toHaveText('0');

  // A reader votes in another browser; the editor's count moves without a reload.
  const reader = await browser.newContext();
  const readerPage = await reader.newPage();
  await readerPage.goto('/polls/which-chip-wins-2027');
  await hydrated(readerPage);
  await readerPage.getByLabel('AMD').check();
  await readerPage.getByRole('button', { name: 'Vote' }).click();
  await expect(readerPage.getByRole('status')).toContainText('Your vote for AMD is in');
  await reader.close();
  await expect(page.locator('#total-votes')).toHaveText('1');
  expect(page.url()).toBe(dashboard);

  // Closing, then the CSV export has a row per option and the total.
  await page.getByRole('button', { name: 'Close now' }).click();
  await stage(page, 'closed');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'results (CSV)' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('which-chip-wins-2027-results.csv');
  const rows = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  expect(rows).toEqual([
    'option_id,label,votes,percent',
    'nvidia,Nvidia,0,0.0',
    'amd,AMD,1,100.0',
    'google-tpu,Google TPU,0,0.0',
    'total,,1,',
  ]);

  // Duplicating gives next week's draft, ready to edit.
  await page.getByRole('button', { name: "Duplicate as next week's draft" }).click();
  await expect(page).toHaveURL(/\/editor\/polls\/\d+\/edit$/);
  await expect(page.getByLabel('Question', { exact: true })).toHaveValue('Which chip wins 2027?');
  await expect(page.getByLabel('Option 2', { exact: true })).toHaveValue('AMD');
  await page.goto('/editor');
  await expect(page.getByRole('row', { name: /Which chip wins 2027\?.*draft/ })).toHaveCount(1);
  await expect(page.getByRole('row', { name: /Which chip wins 2027\?.*closed/ })).toHaveCount(1);
});
