import { defineConfig } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EDITOR, fixturePolls } from './tests/fixtures';

// The release build serves a fresh SQLite database with the demo content, fixture polls
// and one editor account.
const root = resolve(__dirname, '..');
const binary = process.env.POLLTELLIGENCE_BIN ?? join(root, 'target/release/polltelligence');
const port = Number(process.env.E2E_PORT ?? 3107);
const dir = mkdtempSync(join(tmpdir(), 'polltelligence-e2e-'));
const fixtures = join(dir, 'polls.json');
writeFileSync(fixtures, JSON.stringify(fixturePolls(new Date())));
const env = `DATABASE_URL=sqlite://${dir}/e2e.db LEPTOS_SITE_ROOT=${join(root, 'target/site')} ` +
  `LEPTOS_SITE_ADDR=127.0.0.1:${port} POLLTELLIGENCE_RATE_LIMIT=0 RUST_LOG=warn`;

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: true,
  // The list, then the slowest tests beside their timeout (headroom.ts).
  reporter: [['list'], ['./headroom.ts']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: `env ${env} sh -c '${binary} demo && echo ${EDITOR.password} | ${binary} editor add ${EDITOR.email} && ` +
      `${binary} polls import ${fixtures} --editor ${EDITOR.email} && exec ${binary} serve'`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
  },
});
