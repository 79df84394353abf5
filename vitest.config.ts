import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { webdriverio } from '@vitest/browser-webdriverio';
import { preview } from '@vitest/browser-preview';
import { fileURLToPath } from 'node:url';
import { findFirefox, firefoxRunDir, USER_JS } from './tests/helpers/firefox.js';
import { findWebKit, freePort, safariNamedMiniBrowser } from './tests/helpers/webkit.js';

// Browser tests run in Debian's headless Chromium (/usr/bin/chromium, or $CHROMIUM_PATH), in Firefox
// (Debian's firefox-esr, headless) and in WebKit (JavaScriptCore, Safari's engine: Debian's WebKitGTK
// MiniBrowser through WebKitWebDriver, in Xvfb). .ci/run installs all three and sets
// TESSERA_REQUIRE_BROWSER=1 so CI can never skip them silently.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromium);
const webkit = findWebKit();
const requireBrowsers = !!process.env.TESSERA_REQUIRE_BROWSER;
if (!haveChromium) {
  if (requireBrowsers) throw new Error(`TESSERA_REQUIRE_BROWSER is set but ${chromium} does not exist`);
  console.warn(`[tessera] ${chromium} not found: chromium test project SKIPPED (apt-get install -y chromium to run it)`);
}
if (webkit.missing) {
  if (requireBrowsers) throw new Error(`TESSERA_REQUIRE_BROWSER is set but WebKit is missing: ${webkit.missing}`);
  console.warn(`[tessera] WebKit test project SKIPPED: ${webkit.missing}`);
}
const firefox = findFirefox();
if (firefox.missing) {
  if (requireBrowsers) throw new Error(`TESSERA_REQUIRE_BROWSER is set but Firefox is missing: ${firefox.missing}`);
  console.warn(`[tessera] Firefox test project SKIPPED: ${firefox.missing}`);
} else {
  // vitest's preview provider opens its page with Vite's openBrowser, which runs $BROWSER (a .js) with the URL
  process.env.BROWSER = fileURLToPath(new URL('./tests/helpers/open-firefox.js', import.meta.url));
  process.env.TESSERA_FIREFOX_DIR = firefoxRunDir();
  process.env.TESSERA_FIREFOX_BIN = firefox.binary;
  process.env.TESSERA_FIREFOX_USERJS = USER_JS;
}
const webkitPort = webkit.missing ? 0 : Number(process.env.TESSERA_WEBKIT_PORT) || await freePort();
if (webkitPort) process.env.TESSERA_WEBKIT_PORT = String(webkitPort);

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
          provide: { engine: { name: 'node', tiers: ['simd128' as const, 'relaxed' as const], relaxed: true, js: 'v8' as const } },
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
          provide: { engine: { name: 'chromium', tiers: ['simd128' as const, 'relaxed' as const], relaxed: true, js: 'v8' as const } },
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
      ...(!firefox.missing ? [{
        extends: true as const,
        test: {
          name: 'firefox',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          provide: { engine: { name: 'firefox', tiers: ['simd128' as const, 'relaxed' as const], relaxed: true, js: 'spidermonkey' as const } },
          browser: {
            enabled: true,
            headless: false, // the opener starts Firefox with --headless itself
            screenshotFailures: false,
            provider: preview(),
            instances: [{ browser: 'firefox' as const }],
          },
        },
      }] : []),
      ...(webkitPort ? [{
        extends: true as const,
        test: {
          name: 'webkit',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          globalSetup: ['tests/helpers/webkit-global-setup.ts'],
          // what this engine can run (tests/helpers/tiers.ts): JavaScriptCore has no relaxed SIMD, like Safari
          provide: { engine: { name: 'webkit', tiers: ['simd128' as const], relaxed: false, js: 'jsc' as const } },
          browser: {
            enabled: true,
            headless: false, // MiniBrowser draws into the Xvfb display started by the global setup
            screenshotFailures: false,
            provider: webdriverio({
              hostname: '127.0.0.1', port: webkitPort, path: '/', logLevel: 'error',
              capabilities: {
                'webkitgtk:browserOptions': { binary: safariNamedMiniBrowser(webkit.miniBrowser), args: ['--automation'] },
                'wdio:enforceWebDriverClassic': true,
              } as Record<string, unknown>,
            }),
            instances: [{ browser: 'safari' as const }],
          },
        },
      }] : []),
    ],
  },
});
