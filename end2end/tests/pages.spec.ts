import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EDITOR } from './fixtures';

// Every page a reader or an editor meets, on a phone and on a desktop, with JavaScript on and
// off: nothing wider than the screen, and no serious or critical accessibility violation
// (axe-core, WCAG 2.1 A and AA rules). A screenshot of each lands in `end2end/screenshots/`
// (kept out of git) for a person to look at.

const SIZES = [
  { name: 'phone', width: 360, height: 740 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;
const SHOTS = resolve(__dirname, '..', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

const READER_PAGES = [
  ['home', '/'],
  ['poll-open', '/polls/e2e-pages'],
  ['poll-multiple', '/polls/e2e-keyboard-multi'],
  ['poll-closed', '/polls/do-you-own-ai-stocks'],
  ['archive', '/archive'],
  ['archive-page-2', '/archive?page=2'],
  ['simulator', '/simulator'],
  ['not-found', '/polls/no-such-poll'],
  ['widget', '/embed/e2e-pages'],
] as const;

/** One page check: the page fits the screen and has no serious axe-core violation. */
async function check(page: Page, name: string, path: string, label: string, js: boolean) {
  const response = await page.goto(path);
  expect(response?.status(), path).toBeLessThan(500);
  if (js && !path.startsWith('/embed/')) await expect(page.locator('body[data-hydrated]'), path).toHaveCount(1);
  await inspect(page, name, label);
}

/** The page as it stands now: width, axe-core, a screenshot. */
async function inspect(page: Page, name: string, label: string) {
  const where = `${name} (${label})`;
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  expect.soft(widths.scroll, `${where} is wider than the screen`).toBeLessThanOrEqual(widths.inner);
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  expect.soft(serious, `${where}: accessibility violations`).toEqual([]);
  const rules = new Set([...results.passes, ...results.violations, ...results.incomplete].map((rule) => rule.id));
  console.log(`pages: ${where} checked against ${rules.size} axe-core rules`);
  await page.screenshot({ path: join(SHOTS, `${name}-${label}.png`), fullPage: true });
}

async function signIn(page: Page) {
  await page.goto('/editor/login');
  await page.getByLabel('Email').fill(EDITOR.email);
  await page.getByLabel('Password').fill(EDITOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/editor$/);
}

/**
 * A browser at `size`. Without JavaScript the pages arrive with their scripts taken out
 * (`<noscript>` content shown, no bundle fetched): what a reader with JavaScript off gets,
 * while axe-core, which is itself a script, can still run in the page.
 */
async function contextFor(browser: Browser, size: (typeof SIZES)[number], js: boolean) {
  const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
  if (!js) {
    await context.route('**/*', async (route) => {
      const request = route.request();
      if (request.resourceType() === 'script' || /\.wasm$/.test(new URL(request.url()).pathname)) return route.abort();
      if (request.resourceType() !== 'document') return route.continue();
      const response = await route.fetch({ maxRedirects: 0 });
      const type = response.headers()['content-type'] ?? '';
      if (!type.startsWith('text/html')) return route.fulfill({ response });
      const html = (await response.text())
        .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '')
        .replace(/<\/?noscript>/gi, '');
      await route.fulfill({ response, body: html });
    });
  }
  return context;
}

/** Editor pages by name, each address made from the dashboards of two polls. */
const EDITOR_PAGES: [string, (poll: string, withVotes: string) => string][] = [
  ['editor-home', () => '/editor'],
  ['editor-new-poll', () => '/editor/polls/new'],
  ['editor-dashboard', (poll) => poll],
  ['editor-dashboard-votes', (_, withVotes) => withVotes],
  ['editor-edit', (poll) => `${poll}/edit`],
  ['editor-audit', () => '/editor/audit'],
  ['editor-tokens', () => '/editor/tokens'],
];

/** Signs in and returns the dashboards of a poll without votes and of one with 128. */
async function signedIn(page: Page) {
  await signIn(page);
  const poll = await page.getByRole('link', { name: 'Can you vote twice?' }).getAttribute('href');
  const withVotes = await page.getByRole('link', { name: /Do you own any AI-specific stocks/ }).getAttribute('href');
  return { poll: poll!, withVotes: withVotes! };
}

// One test per page, size and mode (84 page checks), so each stays far inside its timeout on
// a loaded machine: they were eight tests of ten or eleven pages each, 16 to 30 s against 30.
for (const size of SIZES) {
  for (const js of [true, false]) {
    const label = `${size.name}-${js ? 'js' : 'nojs'}`;
    const opened = async (browser: Browser) => {
      const context = await contextFor(browser, size, js);
      return { context, page: await context.newPage() };
    };

    for (const [name, path] of READER_PAGES) {
      test(`reader page ${name} fits and passes axe-core (${label})`, async ({ browser }) => {
        const { context, page } = await opened(browser);
        await check(page, name, path, label, js);
        await context.close();
      });
    }

    test(`reader page after voting fits and passes axe-core (${label})`, async ({ browser }) => {
      // The receipt, the share link and the next poll.
      const { context, page } = await opened(browser);
      await page.goto('/polls/e2e-pages');
      await page.getByLabel('Maybe').check();
      await page.getByRole('button', { name: 'Vote' }).click();
      await expect(page.getByText(/Your vote for Maybe is in|You voted: Maybe/)).toBeVisible();
      await inspect(page, 'poll-voted', label);
      await context.close();
    });

    test(`editor sign-in and a failed sign-in fit and pass axe-core (${label})`, async ({ browser }) => {
      const { context, page } = await opened(browser);
      await check(page, 'editor-login', '/editor/login', label, js);
      // A failed sign-in: the form again, saying why, the email kept.
      // (An address no account has: four such tries stay under the sign-in throttle.)
      await page.getByLabel('Email').fill('nobody@example.com');
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert')).toHaveText('The email or password is not right.');
      await expect(page.getByLabel('Email')).toHaveValue('nobody@example.com');
      await inspect(page, 'editor-login-failed', label);
      await context.close();
    });

    for (const [name, path] of EDITOR_PAGES) {
      test(`editor page ${name} fits and passes axe-core (${label})`, async ({ browser }) => {
        const { context, page } = await opened(browser);
        const { poll, withVotes } = await signedIn(page);
        await check(page, name, path(poll, withVotes), label, js);
        await context.close();
      });
    }

    test(`editor page "Close now?" fits and passes axe-core (${label})`, async ({ browser }) => {
      // The second step of "Close now".
      const { context, page } = await opened(browser);
      const { poll } = await signedIn(page);
      await check(page, 'editor-confirm-close', `${poll}?confirm=close`, label, js);
      await expect(page.getByRole('alertdialog')).toContainText('Close this poll now?');
      await context.close();
    });

    test(`editor page of a new API token fits and passes axe-core (${label})`, async ({ browser }) => {
      // The page that shows a new API token once.
      const { context, page } = await opened(browser);
      await signIn(page);
      await page.goto('/editor/tokens');
      await page.getByLabel('Name').fill(`pages ${label}`);
      await page.getByRole('button', { name: 'Create token' }).click();
      await expect(page.getByRole('heading', { name: 'New API token' })).toBeVisible();
      await expect(page.getByRole('button', { name: 'Copy token' })).toHaveCount(js ? 1 : 0);
      await inspect(page, 'editor-token-created', label);
      await context.close();
    });
  }
}
