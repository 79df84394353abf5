// Run one of the probes (bench/probes/<name>.ts) in a browser and print what it prints: WebKit
// (WebKitGTK MiniBrowser over WebDriver, tests/helpers/webkit.ts), Chromium (playwright-core) or
// Firefox (firefox-esr over WebDriver BiDi, tests/helpers/firefox.ts).
//   npx tsx bench/probes/browser.ts --probe=sparse-splat-ab [--browser=webkit|chromium|firefox] [--key=value ...: query parameters for the probe]
// The probe is bundled with esbuild into .bench-web/probe-<name>.mjs and loaded by bench/web/probe.html, served
// with COOP/COEP; console.log lines are collected from the page.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findWebKit, type WebKitInstall } from '../../tests/helpers/webkit.js';
import { findFirefox, type FirefoxInstall } from '../../tests/helpers/firefox.js';
import { firefoxSessions, pollPageLines, webkitSessions } from '../lib/browsers.js';
import { bundleForBrowser } from '../lib/bundle.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (k: string, d?: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const probe = arg('probe');
const browser = arg('browser', 'webkit')!;
if (!probe || !/^[\w-]+$/.test(probe) || !existsSync(join(root, `bench/probes/${probe}.ts`))) {
  console.error('usage: npx tsx bench/probes/browser.ts --probe=<name of a bench/probes/*.ts> [--browser=webkit|chromium|firefox]');
  process.exit(2);
}
const timeoutMs = Number(arg('timeout', String(600 + 60 * Number(arg('minutes', '0'))))) * 1000;

await bundleForBrowser(root, `bench/probes/${probe}.ts`, `probe-${probe}.mjs`);
const { startServer } = await import('../../scripts/serve.mjs' as string);
const server = await startServer({ root });
// every other --key=value is handed to the probe as a query parameter (bench/probes/fuzz.ts reads them)
const own = ['probe', 'browser', 'timeout'];
const extra = process.argv.slice(2).filter((a) => a.startsWith('--') && !own.some((k) => a.startsWith(`--${k}=`)))
  .map((a) => { const [k, ...v] = a.slice(2).split('='); return `&${encodeURIComponent(k)}=${encodeURIComponent(v.join('=') || '')}`; }).join('');
const page = `${server.url}/bench/web/probe.html?p=${probe}${extra}`;
type State = { lines: string[]; done: boolean; error: string | null } | null;
let failed = false;
try {
  if (browser === 'webkit' || browser === 'firefox') {
    const install = browser === 'webkit' ? findWebKit() : findFirefox();
    if (install.missing) throw new Error(install.missing);
    const factory = browser === 'webkit' ? await webkitSessions(install as WebKitInstall) : firefoxSessions(install as FirefoxInstall);
    try {
      const s = await factory.start();
      try {
        console.log(`# ${s.version}`);
        await s.open(page);
        failed = !!(await pollPageLines(s, (l) => console.log(l), timeoutMs)).error;
      } finally { await s.end().catch(() => undefined); }
    } finally { await factory.close(); }
  } else {
    const { chromium } = await import('playwright-core');
    const b = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      console.log(`# Chromium ${b.version()}`);
      const p = await b.newPage();
      await p.goto(page);
      await p.waitForFunction(() => (window as any).__tesseraBench?.done, null, { timeout: timeoutMs, polling: 1000 });
      const st: State = await p.evaluate(() => (window as any).__tesseraBench);
      for (const l of st?.lines ?? []) console.log(l);
      failed = !!st?.error;
    } finally { await b.close(); }
  }
} finally { await server.close(); }
process.exit(failed ? 1 : 0);
