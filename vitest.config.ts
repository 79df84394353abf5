import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

// Browser tests run in Debian's headless Chromium (/usr/bin/chromium, or $CHROMIUM_PATH).
// .ci/run installs it and sets TESSERA_REQUIRE_BROWSER=1 so CI can never skip them silently.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromium);
if (!haveChromium) {
  if (process.env.TESSERA_REQUIRE_BROWSER) throw new Error(`TESSERA_REQUIRE_BROWSER is set but ${chromium} does not exist`);
  console.warn(`[tessera] ${chromium} not found: browser test project SKIPPED (apt-get install -y chromium to run it)`);
}

const browserFlags = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export default defineConfig({
  server: {
    // cross-origin isolation, so SharedArrayBuffer/threads can be tested in the browser
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['tests/unit/**/*.test.ts', 'tests/node/**/*.test.ts'],
          setupFiles: ['tests/helpers/setup-node.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      ...(haveChromium ? [{
        extends: true as const,
        test: {
          name: 'chromium',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: chromium, args: browserFlags } }),
            instances: [{ browser: 'chromium' as const }],
          },
        },
      }] : []),
    ],
  },
});
