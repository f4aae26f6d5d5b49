import { expect, test, type Page } from '@playwright/test';

/** Waits until the WASM bundle has hydrated the page. */
async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

async function totalOf(page: Page, slug: string): Promise<number> {
  const response = await page.request.get(`/api/v1/polls/${slug}/results`);
  expect(response.status()).toBe(200);
  return (await response.json()).total_votes;
}

test('vote with JavaScript, in place', async ({ page }) => {
  await page.goto('/polls/e2e-with-js');
  await hydrated(page);
  const before = await totalOf(page, 'e2e-with-js');
  const documentLoads: string[] = [];
  page.on('framenavigated', (frame) => documentLoads.push(frame.url()));

  await page.getByLabel('No').check();
  await page.getByLabel('Why? (optional)').fill('Because the article said so.');
  await page.getByRole('button', { name: 'Vote' }).click();

  await expect(page.getByRole('status')).toHaveText('Thanks! Your vote for No is in.');
  await expect(page.locator('.total')).toHaveText(`${before + 1} vote${before === 0 ? '' : 's'} in total`);
  await expect(page.locator('.bar.mine')).toContainText('No');
  expect(documentLoads, 'voted without loading another page').toEqual([]);
  expect(await totalOf(page, 'e2e-with-js')).toBe(before + 1);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the form posts and lands on the results', async ({ page }) => {
    await page.goto('/polls/e2e-without-js');
    await page.getByLabel('Maybe').check();
    await page.getByRole('button', { name: 'Vote' }).click();
    await expect(page).toHaveURL(/\/polls\/e2e-without-js$/);
    await expect(page.getByLabel('Share this poll')).toHaveValue(/\/polls\/e2e-without-js$/);
    await expect(page.getByText('You voted: Maybe.')).toBeVisible();
    await expect(page.getByRole('region', { name: 'Results so far' })).toContainText('Maybe');
  });
});

/** Opens a poll, waits for hydration, and votes for one option in place. */
async function voteInPage(page: Page, slug: string, label: string) {
  await page.goto(`/polls/${slug}`);
  await hydrated(page);
  await page.getByLabel(label).check();
  await page.getByRole('button', { name: 'Vote' }).click();
  await expect(page.getByRole('status')).toContainText(`Your vote for ${label} is in`);
}

test('a reload shows the stored vote', async ({ page }) => {
  await voteInPage(page, 'e2e-reload', 'Yes');
  await page.reload();
  await expect(page.getByText('You voted: Yes.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Vote' })).toHaveCount(0);
});

test('a second vote does not count', async ({ page }) => {
  await voteInPage(page, 'e2e-twice', 'Yes');
  const after = await totalOf(page, 'e2e-twice');

  // Same browser, same cookie: through the API and through the plain form.
  const again = await page.request.post('/api/v1/polls/e2e-twice/votes', { data: { choices: ['no'] } });
  expect(again.status()).toBe(200);
  expect((await again.json()).vote.choices).toEqual(['yes']);
  const form = await page.request.post('/polls/e2e-twice/vote', { form: { choice: 'no' }, maxRedirects: 0 });
  expect(form.status()).toBe(303);
  expect(await totalOf(page, 'e2e-twice')).toBe(after);
  await page.reload();
  await expect(page.getByText('You voted: Yes.')).toBeVisible();
});

test('a closed poll refuses votes and shows final results', async ({ page }) => {
  await page.goto('/polls/do-you-own-ai-stocks');
  await expect(page.getByText('This poll is closed and no longer takes votes.')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Final results' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Vote' })).toHaveCount(0);
  const refused = await page.request.post('/api/v1/polls/do-you-own-ai-stocks/votes', { data: { choices: ['yes'] } });
  expect(refused.status()).toBe(409);
  expect((await refused.json()).error.code).toBe('poll_not_open');

  await page.goto('/archive');
  await expect(page.getByText('The winner is … No!')).toBeVisible();
});

test('a question containing <script> shows as text', async ({ page }) => {
  await page.goto('/polls/e2e-markup');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Is <script>window.__pwned = true</script> <b>safe</b>?');
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  await expect(page.locator('h1 b')).toHaveCount(0);
  await expect(page).toHaveTitle(/Is <script>window.__pwned = true<\/script>/);
});

function focusedOn(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLInputElement | null;
    return { tag: el?.tagName ?? '', type: el?.type ?? '', value: el?.value ?? '', name: el?.name ?? '' };
  });
}

/** Presses Tab until an option of the ballot has focus. */
async function tabIntoOptions(page: Page) {
  let tabs = 0;
  while ((await focusedOn(page)).name !== 'choice') {
    await page.keyboard.press('Tab');
    expect(++tabs, 'the option group is reachable by Tab').toBeLessThan(15);
  }
}

test('the keyboard alone can vote', async ({ page }) => {
  await page.goto('/polls/e2e-keyboard');
  await hydrated(page);
  const focused = () => focusedOn(page);
  await tabIntoOptions(page);
  await page.keyboard.press('ArrowDown');
  expect((await focused()).value).toBe('no');
  await expect(page.getByLabel('No')).toBeChecked();

  // One tab stop for the whole group: the next Tab leaves it.
  await page.keyboard.press('Tab');
  expect(await focused()).toMatchObject({ tag: 'BUTTON' });
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status')).toHaveText('Thanks! Your vote for No is in.');
  await expect(page.getByRole('status')).toBeFocused();
});

test('in a multiple-choice group each checkbox is a tab stop, and ticks stop at the limit', async ({ page }) => {
  await page.goto('/polls/e2e-keyboard-multi');
  await hydrated(page);
  await tabIntoOptions(page);
  expect((await focusedOn(page)).value).toBe('yes');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  expect((await focusedOn(page)).value, 'Tab moves to the next checkbox').toBe('no');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  expect((await focusedOn(page)).value).toBe('maybe');
  // A third tick on "up to two" is undone at once, and the reader is told why.
  await page.keyboard.press('Space');
  await expect(page.getByLabel('Maybe')).not.toBeChecked();
  await expect(page.locator('.limit')).toHaveText('You can pick up to 2. Untick one to choose another.');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Space');
  await expect(page.getByLabel('No')).not.toBeChecked();
  await expect(page.locator('.limit')).toHaveText('');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  await expect(page.getByLabel('Maybe')).toBeChecked();
  await page.keyboard.press('Tab');
  expect(await focusedOn(page)).toMatchObject({ tag: 'BUTTON' });
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status')).toHaveText('Thanks! Your vote for Yes, Maybe is in.');
  await expect(page.locator('.total')).toContainText('1 reader · % who picked each');
});

test('a reader cannot tick past the limit; without JavaScript a refusal keeps their ticks and comment', async ({ page, browser }) => {
  await page.goto('/polls/e2e-limit');
  await hydrated(page);
  for (const label of ['Yes', 'No']) await page.getByLabel(label).check();
  await page.getByLabel('Maybe').click();
  await expect(page.getByLabel('Maybe')).not.toBeChecked();
  await expect(page.getByText('You can pick up to 2.')).toBeVisible();

  const plain = await browser.newContext({ javaScriptEnabled: false });
  const noscript = await plain.newPage();
  await noscript.goto('/polls/e2e-limit');
  for (const label of ['Yes', 'No', 'Maybe']) await noscript.getByLabel(label).check();
  await noscript.getByLabel('Why? (optional)').fill('All three, really.');
  await noscript.getByRole('button', { name: 'Vote' }).click();
  // The poll page itself, with the site around it, says why; nothing was lost.
  await expect(noscript.getByRole('alert')).toHaveText('Choose at most 2 options (3 were chosen).');
  await expect(noscript.getByRole('heading', { level: 1 })).toHaveText('Which two? Pick at most two.');
  await expect(noscript.getByRole('link', { name: /Polltelligence/ })).toBeVisible();
  for (const label of ['Yes', 'No', 'Maybe']) await expect(noscript.getByLabel(label)).toBeChecked();
  await expect(noscript.getByLabel('Why? (optional)')).toHaveValue('All three, really.');
  await noscript.getByLabel('No').uncheck();
  await noscript.getByRole('button', { name: 'Vote' }).click();
  await expect(noscript).toHaveURL(/\/polls\/e2e-limit\?commented=1$/);
  await expect(noscript.getByText('Thanks! Your vote for Yes, Maybe is in.')).toBeVisible();
  await expect(noscript.getByText('Thanks for saying why')).toBeVisible();
  await plain.close();
});

test('where the poll allows it, a reader changes their vote', async ({ page }) => {
  await voteInPage(page, 'e2e-change', 'Yes');
  const before = await totalOf(page, 'e2e-change');
  await page.reload();
  await expect(page.getByText('You voted: Yes.')).toBeVisible();
  await page.getByText('Change your vote').click();
  await expect(page.getByLabel('Yes')).toBeChecked();
  await page.getByLabel('No').check();
  await page.getByRole('button', { name: 'Change vote' }).click();
  await expect(page.getByRole('status')).toHaveText('Changed: your vote is now No.');
  expect(await totalOf(page, 'e2e-change')).toBe(before);
  const results = await (await page.request.get('/api/v1/polls/e2e-change/results')).json();
  expect(results.options.map((o: { votes: number }) => o.votes)).toEqual([0, 1, 0]);
});

test("times are in the reader's own zone with JavaScript, UTC without", async ({ browser }) => {
  const newYork = await browser.newContext({ timezoneId: 'America/New_York', locale: 'en-US' });
  const page = await newYork.newPage();
  await page.goto('/polls/e2e-pages');
  await hydrated(page);
  const status = page.locator('.poll-meta');
  await expect(status).toContainText(/Open until \d+ \w{3} \d{4}, \d\d:\d\d GMT-5 · closes in \d+ hours/);
  await page.goto('/archive');
  await hydrated(page);
  await expect(page.getByText(/^Closed \d+ \w{3} \d{4}, \d\d:\d\d GMT-5$/).first()).toBeVisible();
  await newYork.close();

  const plain = await browser.newContext({ timezoneId: 'America/New_York', javaScriptEnabled: false });
  const noscript = await plain.newPage();
  await noscript.goto('/polls/e2e-pages');
  await expect(noscript.locator('.poll-meta')).toContainText(/Open until \d+ \w{3} \d{4}, \d\d:\d\d UTC · closes in/);
  await plain.close();
});
