import { expect, test, type Page } from '@playwright/test';
import { EDITOR } from './fixtures';

// Every page is served with a strict Content-Security-Policy (scripts: our files and inline
// scripts bearing the response's nonce; WebAssembly compile allowed, nothing else evaluated).
// Each page here must load, hydrate and run without the browser reporting a violation.

async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) seen.push(message.text());
  });
  await page.exposeFunction('__reportCsp', (text: string) => seen.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __reportCsp: (t: string) => void })
        .__reportCsp(`${e.violatedDirective} blocked ${e.blockedURI} in ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return seen;
}

async function visit(page: Page, path: string, hydrates = true) {
  const response = await page.goto(path);
  expect(response?.status(), path).toBe(200);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp, path).toContain("script-src 'self' 'nonce-");
  if (hydrates) await expect(page.locator('body[data-hydrated]'), path).toHaveCount(1);
}

test('reader pages, the simulator and the widget run under the CSP without a violation', async ({ page }) => {
  const violations = await watchViolations(page);
  for (const path of ['/', '/archive', '/polls/e2e-markup', '/simulator']) await visit(page, path);
  // The simulator computes in WebAssembly once hydrated.
  await page.goto('/simulator');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await visit(page, '/embed/e2e-embed', false);
  await expect(page.getByRole('button', { name: /vote/i })).toBeVisible();
  expect(violations).toEqual([]);
});

test('editor pages run under the CSP without a violation', async ({ page }) => {
  const violations = await watchViolations(page);
  await visit(page, '/editor/login');
  await page.getByLabel('Email').fill(EDITOR.email);
  await page.getByLabel('Password').fill(EDITOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/editor$/);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  for (const path of ['/editor/polls/new', '/editor/audit', '/editor/tokens']) await visit(page, path);
  await page.goto('/editor');
  await page.getByRole('link', { name: /Will power stall the compute boom/ }).first().click();
  await expect(page).toHaveURL(/\/editor\/polls\/\d+$/);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  expect(violations).toEqual([]);
});
