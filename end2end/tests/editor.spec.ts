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
  // Opening asks first (the question is a page of its own, so it works without JavaScript).
  await page.getByRole('link', { name: 'Open now…' }).click();
  await expect(page.getByRole('alertdialog')).toContainText('Open this poll now?');
  await page.getByRole('button', { name: 'Yes, open now' }).click();
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

  // The share panel: the poll link copies to the clipboard; each ESP has its email block.
  const origin = new URL(page.url()).origin;
  const share = page.getByRole('region', { name: 'Share and embed' });
  await expect(share.getByLabel('Poll link')).toHaveValue(`${origin}/polls/which-chip-wins-2027`);
  await expect(share.getByLabel('Embed code')).toHaveValue(new RegExp(`<iframe src="${origin}/embed/which-chip-wins-2027"`));
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await share.getByRole('button', { name: 'Copy' }).first().click();
  await expect(share.getByRole('button', { name: 'Copied' })).toHaveCount(1);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${origin}/polls/which-chip-wins-2027`);
  await share.getByText('Mailchimp').click();
  await expect(share.locator('#email-mailchimp-html')).toHaveValue(/sub=\*\|UNIQID\|\*/);
  await expect(share.getByTitle('Preview of the Mailchimp email block')).toBeVisible();

  // A subscriber's one-click link from the generic block: the page asks, one press counts.
  const text = await share.locator('#email-generic-text').inputValue();
  const link = text.split('\n').find((line) => line.startsWith('Nvidia: '))!.slice('Nvidia: '.length)
    .replace('{{subscriber_id}}', 'subscriber-42');
  const subscriber = await browser.newContext();
  const inbox = await subscriber.newPage();
  await inbox.goto(link);
  await expect(inbox.getByText('Your answer: Nvidia')).toBeVisible();
  await inbox.getByRole('button', { name: 'Confirm my vote' }).click();
  await expect(inbox.getByRole('status')).toHaveText('Thanks! Your vote for Nvidia is in.');
  await subscriber.close();
  await expect(page.locator('#total-votes')).toHaveText('2');
  await expect(page.getByRole('row', { name: /Email link/ })).toHaveCount(1);

  // Closing, then the CSV export has a row per option and the total.
  await page.getByRole('link', { name: 'Close now…' }).click();
  await page.getByRole('button', { name: 'Yes, close now' }).click();
  await stage(page, 'closed');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'results (CSV)' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('which-chip-wins-2027-results.csv');
  const rows = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  expect(rows).toEqual([
    'option_id,label,votes,percent',
    'nvidia,Nvidia,1,50.0',
    'amd,AMD,1,50.0',
    'google-tpu,Google TPU,0,0.0',
    'total,,2,',
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
