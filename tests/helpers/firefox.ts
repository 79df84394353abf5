// Firefox (SpiderMonkey) for the browser tests and the benchmark: Debian's firefox-esr, headless.
//   apt-get install -y firefox-esr
// Tests: vitest's `preview` provider opens its page through Vite's openBrowser, which runs the script
// in $BROWSER (tests/helpers/open-firefox.js) with the URL; that script starts Firefox on a fresh
// profile. Benchmark and probes: Firefox's built-in WebDriver BiDi endpoint (no geckodriver).
// Plain Node, no vitest imports.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FirefoxInstall { binary: string; missing?: string }

export function findFirefox(): FirefoxInstall {
  const binary = process.env.FIREFOX_PATH ?? ['/usr/bin/firefox-esr', '/usr/bin/firefox'].find((p) => existsSync(p)) ?? '/usr/bin/firefox-esr';
  return { binary, missing: existsSync(binary) ? undefined : `${binary} not found (apt-get install -y firefox-esr)` };
}

/** Prefs for an unattended headless run on a machine without internet: no first-run pages, updates or telemetry. */
export const USER_JS = [
  ['browser.shell.checkDefaultBrowser', false], ['browser.startup.homepage_override.mstone', '"ignore"'],
  ['browser.aboutwelcome.enabled', false], ['datareporting.policy.dataSubmissionEnabled', false],
  ['datareporting.healthreport.uploadEnabled', false], ['toolkit.telemetry.enabled', false], ['app.update.enabled', false],
  ['app.normandy.enabled', false], ['browser.newtabpage.enabled', false], ['browser.startup.page', 0],
  ['network.captive-portal-service.enabled', false], ['network.connectivity-service.enabled', false],
  ['extensions.update.enabled', false], ['browser.safebrowsing.malware.enabled', false], ['browser.safebrowsing.phishing.enabled', false],
  ['remote.prefs.recommended', true], ['browser.tabs.warnOnClose', false], ['dom.disable_open_during_load', false],
].map(([k, v]) => `user_pref("${k}", ${v});`).join('\n') + '\n';

/** A fresh profile directory in the temp dir. */
export function firefoxProfile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-firefox-'));
  writeFileSync(join(dir, 'user.js'), USER_JS);
  return dir;
}

/** Start headless Firefox on `profile`; extra args (e.g. a URL or --remote-debugging-port). */
export function launchFirefox(install: FirefoxInstall, profile: string, args: string[]): ChildProcess {
  return spawn(install.binary, ['--headless', '--no-remote', '--profile', profile, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_NO_REMOTE: '1' },
  });
}

/** The test run's directory of Firefox processes (pid files) and profiles; killed and removed at exit. */
export function firefoxRunDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-firefox-run-'));
  process.once('exit', () => {
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.pid')) continue;
      try { process.kill(Number(readFileSync(join(dir, f), 'utf8')), 'SIGTERM'); } catch { /* gone */ }
    }
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* busy */ }
  });
  return dir;
}

export interface BiDi { send(method: string, params?: Record<string, unknown>): Promise<any>; close(): Promise<void>; version: string }

/** Headless Firefox with its WebDriver BiDi endpoint, a session opened on it. */
export async function startFirefoxBiDi(install = findFirefox()): Promise<BiDi> {
  if (install.missing) throw new Error(`Firefox: ${install.missing}`);
  const profile = firefoxProfile();
  const ff = launchFirefox(install, profile, ['--remote-debugging-port=0', 'about:blank']);
  const stop = async () => {
    if (ff.exitCode === null) { ff.kill('SIGTERM'); await new Promise((r) => { ff.once('exit', r); setTimeout(r, 3000); }); }
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const wsUrl = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const t = setTimeout(() => reject(new Error(`Firefox did not open its WebDriver BiDi port within 30 s: ${buf.slice(-300)}`)), 30_000);
      ff.stderr!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = buf.match(/WebDriver BiDi listening on (ws:\/\/[^\s]+)/);
        if (m) { clearTimeout(t); resolve(m[1]); }
      });
      ff.once('exit', (c) => { clearTimeout(t); reject(new Error(`Firefox exited with ${c}: ${buf.slice(-300)}`)); });
    });
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${wsUrl}/session`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    let id = 0;
    const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString());
      const p = m.id !== undefined ? pending.get(m.id) : undefined;
      if (!p) return; // events
      pending.delete(m.id);
      if (m.type === 'error') p.reject(new Error(`${m.error}: ${m.message}`)); else p.resolve(m.result);
    });
    const send = (method: string, params: Record<string, unknown> = {}) => new Promise<any>((resolve, reject) => {
      const i = ++id; pending.set(i, { resolve, reject }); ws.send(JSON.stringify({ id: i, method, params }));
    });
    const s = await send('session.new', { capabilities: {} });
    return { send, version: `Firefox ${s.capabilities?.browserVersion ?? '?'}`, close: async () => { try { await send('session.end'); } catch { /* closing */ } ws.close(); await stop(); } };
  } catch (e) { await stop(); throw e; }
}
