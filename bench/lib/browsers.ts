// Remote-controlled browser pages for the benchmark (bench/cross.ts) and the probes
// (bench/probes/browser.ts): WebKit over W3C WebDriver classic (WebKitWebDriver), Firefox over its
// built-in WebDriver BiDi. Each session is a fresh browser process; a page is read by evaluating an
// expression that returns a JSON string.
import { startFirefoxBiDi, type FirefoxInstall } from '../../tests/helpers/firefox.js';
import { freePort, startWebKitDriver, type WebKitInstall } from '../../tests/helpers/webkit.js';

export interface PageSession {
  /** the browser's own version, e.g. "WebKitGTK 2.50.6" (its UA may not say) */
  version: string;
  open(url: string): Promise<void>;
  /** the value of `expr`, which must evaluate to a string; null while the page is busy (WebKit's script timeout) */
  evalJson(expr: string): Promise<string | null>;
  end(): Promise<void>;
}
export interface SessionFactory { start(): Promise<PageSession>; close(): Promise<void> }

/** WebKitGTK's MiniBrowser through one WebKitWebDriver (in Xvfb); one WebDriver session per start(). */
export async function webkitSessions(install: WebKitInstall): Promise<SessionFactory> {
  const driver = await startWebKitDriver(await freePort(), install);
  const wd = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${driver.port}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const j = await r.json() as { value: any };
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(j.value).slice(0, 300)}`);
    return j.value;
  };
  const start = async (): Promise<PageSession> => {
    const session = await wd('POST', '/session', { capabilities: { alwaysMatch: { browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: install.miniBrowser, args: ['--automation'] } } } });
    const sid: string = session.sessionId;
    await wd('POST', `/session/${sid}/timeouts`, { script: 30_000, pageLoad: 60_000 });
    return {
      version: `WebKitGTK ${session.capabilities?.browserVersion ?? '?'}`,
      open: async (url) => { await wd('POST', `/session/${sid}/url`, { url }); },
      // a long synchronous measurement keeps the page's event loop busy: the script then times out; poll again
      evalJson: (expr) => wd('POST', `/session/${sid}/execute/sync`, { script: `return ${expr};`, args: [] })
        .catch((e: Error) => { if (/script timeout/i.test(e.message)) return null; throw e; }),
      end: async () => { await wd('DELETE', `/session/${sid}`); },
    };
  };
  return { start, close: () => driver.close() };
}

/** Headless firefox-esr over WebDriver BiDi (no geckodriver); a fresh browser and profile per start(). */
export function firefoxSessions(install: FirefoxInstall): SessionFactory {
  const start = async (): Promise<PageSession> => {
    const bidi = await startFirefoxBiDi(install);
    try {
      const tree = await bidi.send('browsingContext.getTree', {});
      const context: string = tree.contexts[0].context;
      return {
        version: bidi.version,
        open: async (url) => { await bidi.send('browsingContext.navigate', { context, url, wait: 'complete' }); },
        evalJson: async (expr) => {
          const r = await bidi.send('script.evaluate', { expression: expr, target: { context }, awaitPromise: false });
          if (r.type === 'exception') throw new Error(`page: ${r.exceptionDetails?.text ?? 'exception'}`);
          return r.result?.type === 'string' ? r.result.value : null;
        },
        end: () => bidi.close(),
      };
    } catch (e) { await bidi.close(); throw e; }
  };
  return { start, close: async () => {} };
}

/**
 * Read a page that appends lines to `window.__tesseraBench` (bench/web/entry.ts, probe.html) once a
 * second, handing each new line to `onLine`, until the page is done, `stop()` says so, or `timeoutMs`
 * passes (then it throws). Returns the page's done flag and error.
 */
export async function pollPageLines(s: PageSession, onLine: (line: string) => void, timeoutMs: number, stop: () => boolean = () => false): Promise<{ done: boolean; error: string | null }> {
  const t0 = Date.now();
  let seen = 0;
  for (;;) {
    const raw = await s.evalJson(`JSON.stringify(window.__tesseraBench ? { lines: window.__tesseraBench.lines.slice(${seen}), done: window.__tesseraBench.done, error: window.__tesseraBench.error } : null)`);
    const st = raw ? JSON.parse(raw) as { lines: string[]; done: boolean; error: string | null } | null : null;
    if (st) { for (const line of st.lines) onLine(line); seen += st.lines.length; }
    if (st?.done) return { done: true, error: st.error };
    if (stop()) return { done: false, error: null };
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
