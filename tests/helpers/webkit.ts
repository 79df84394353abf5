// WebKit (JavaScriptCore, Safari's engine) for the browser tests and the benchmark: Debian's WebKitGTK
// MiniBrowser, driven through WebKitWebDriver (W3C WebDriver), in an Xvfb display when there is none.
//   apt-get install -y webkit2gtk-driver xvfb     (MiniBrowser comes with libwebkit2gtk-4.1-0)
// Used by vitest.config.ts (the `webkit` test project, started by tests/helpers/webkit-global-setup.ts)
// and by bench/lib/browsers.ts (benchmark, probes). Plain Node, no vitest imports.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WebKitInstall { driver: string; miniBrowser: string; xvfb?: string; missing?: string }

const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
  '/usr/libexec/webkit2gtk-4.1/MiniBrowser', '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.0/MiniBrowser'];

/** Where WebKitGTK's pieces are ($WEBKIT_WEBDRIVER / $WEBKIT_MINIBROWSER override), or what is missing. */
export function findWebKit(): WebKitInstall {
  const driver = process.env.WEBKIT_WEBDRIVER ?? '/usr/bin/WebKitWebDriver';
  const miniBrowser = process.env.WEBKIT_MINIBROWSER ?? MINIBROWSER.find((p) => existsSync(p)) ?? MINIBROWSER[0];
  const xvfb = ['/usr/bin/Xvfb'].find((p) => existsSync(p));
  const missing = !existsSync(driver) ? `${driver} not found (apt-get install -y webkit2gtk-driver xvfb)`
    : !existsSync(miniBrowser) ? `${miniBrowser} not found (apt-get install -y libwebkit2gtk-4.1-0)`
    : !process.env.DISPLAY && !xvfb ? 'no $DISPLAY and no /usr/bin/Xvfb (apt-get install -y xvfb)' : undefined;
  return { driver, miniBrowser, xvfb, missing };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)); });
  });
}

/**
 * JSC options for the web process. SharedArrayBuffer: Safari exposes it to cross-origin isolated pages,
 * WebKitGTK keeps it behind this JSC option (crossOriginIsolated is true, the constructor is missing);
 * set it so the threaded paths run under JSC as they do in Safari. Relaxed SIMD is NOT enabled: Safari
 * does not ship it, so WebKit tests the simd128 tier and the real fallback to it.
 */
export const WEBKIT_JSC_ENV = { JSC_useSharedArrayBuffer: '1' };

/**
 * The vitest webdriverio provider only accepts the names chrome/firefox/edge/safari and WebKitWebDriver
 * matches browserName against the browser binary's name, so the MiniBrowser is reached through a
 * symlink called `safari`.
 */
export function safariNamedMiniBrowser(miniBrowser: string): string {
  const dir = join(tmpdir(), `tessera-webkit-${process.getuid?.() ?? 0}`);
  const link = join(dir, 'safari');
  mkdirSync(dir, { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(miniBrowser, link);
  return link;
}

export interface WebKitDriver { port: number; display: string; close(): Promise<void>; /** synchronous SIGTERM to the driver and Xvfb (for exit handlers) */ kill(): void }

/** Start Xvfb (unless $DISPLAY is set) and WebKitWebDriver on `port`; resolves once the driver answers /status. */
export async function startWebKitDriver(port: number, install = findWebKit()): Promise<WebKitDriver> {
  if (install.missing) throw new Error(`WebKit: ${install.missing}`);
  const children: ChildProcess[] = [];
  const kill = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM'); };
  const close = async () => {
    for (const c of children.reverse()) if (c.exitCode === null) { c.kill('SIGTERM'); await new Promise((r) => { c.once('exit', r); setTimeout(r, 2000); }); }
  };
  try {
    let display = process.env.DISPLAY ?? '';
    if (!display) {
      // -displayfd: Xvfb picks a free display number and writes it to fd 3
      const x = spawn(install.xvfb!, ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
      children.push(x);
      display = await new Promise<string>((resolve, reject) => {
        let buf = '';
        const t = setTimeout(() => reject(new Error('Xvfb did not report a display within 10 s')), 10_000);
        x.stdio[3]!.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('\n')) { clearTimeout(t); x.stdio[3]!.destroy(); resolve(':' + buf.trim()); } });
        x.once('exit', (code) => { clearTimeout(t); reject(new Error(`Xvfb exited with ${code}`)); });
      });
    }
    const d = spawn(install.driver, [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: display, ...WEBKIT_JSC_ENV } });
    children.push(d);
    for (let i = 0; ; i++) {
      try { const r = await fetch(`http://127.0.0.1:${port}/status`); if (r.ok) break; } catch { /* not up yet */ }
      if (d.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${d.exitCode}`);
      if (i > 100) throw new Error('WebKitWebDriver did not answer within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const c of children) c.unref(); // never what keeps the parent alive: kill() / close() stop them
    return { port, display, close, kill };
  } catch (e) { await close(); throw e; }
}
