// Cross-runtime benchmark driver (`npm run bench`): runs the SAME suites (bench/suites, through the
// runtime-neutral bench/lib/runner.ts) in Node, headless Chromium, Firefox, WebKit, Deno and Bun, one
// runtime after the other, and writes bench/results/cross-latest.{jsonl,md,html}.
//
//   npx tsx bench/cross.ts                         quick preset, every runtime it can find
//   npx tsx bench/cross.ts --full                  long preset (all shapes, more samples)
//   npx tsx bench/cross.ts --runtimes=node,chromium --only=f16,threads --shapes=1024 --threads=2
//   npx tsx bench/cross.ts --report-only           re-render the report from cross-latest.jsonl
//
// A runtime that is missing or fails is reported as skipped, with the reason. Chromium is driven by
// playwright-core (Debian /usr/bin/chromium or $CHROMIUM_PATH) on a localhost page served with
// COOP/COEP (cross-origin isolated: SharedArrayBuffer for threads, 5 us timers); the bench is
// bundled for it with esbuild into .bench-web/. Bun is a devDependency (npm package bun); Deno is
// installed on demand into .runtimes/ (npm package deno) when it is not found. WebKit (JavaScriptCore,
// Safari's engine) is Debian's WebKitGTK MiniBrowser driven over W3C WebDriver (WebKitWebDriver, in an
// Xvfb display; apt-get install -y webkit2gtk-driver xvfb), on the same page as Chromium; Firefox
// (SpiderMonkey) is Debian's firefox-esr, headless, driven over its built-in WebDriver BiDi endpoint.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderHtml, renderMarkdown, type RuntimeRun } from './lib/html.js';
import type { Environment, Result } from './lib/report.js';
import { bundleBenchPage } from './lib/bundle.js';
import { firefoxSessions, pollPageLines, webkitSessions, type PageSession, type SessionFactory } from './lib/browsers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (k: string) => argv.find((a) => a === `--${k}` || a.startsWith(`--${k}=`));
const value = (k: string, d?: string) => { const a = flag(k); return a && a.includes('=') ? a.slice(a.indexOf('=') + 1) : d; };
const ALL = ['node', 'chromium', 'firefox', 'webkit', 'deno', 'bun'] as const;
const runtimes = (value('runtimes') ?? ALL.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const outDir = resolve(root, value('out', 'bench/results')!);
const timeoutMs = Number(value('timeout', flag('full') ? '3600' : '600')) * 1000;
// flags passed through to every runtime's runner
const passKeys = ['full', 'tiers', 'threads', 'shapes', 'quick'];
const common = argv.filter((a) => passKeys.some((k) => a === `--${k}` || a.startsWith(`--${k}=`)));
// onnxruntime-web fixes its thread count per process: the threads suite (ORT with N threads) runs in a
// process (page) of its own, after everything else (ORT with 1 thread)
const only = value('only')?.split(',').filter(Boolean);
// quick preset: Node measures every SIMD tier; the other runtimes only the one init() picks there (the tier
// comparison is the same wasm in every V8; what differs across runtimes is the engine), unless --tiers/--full
const tiersFor = (rt: string) => (rt === 'node' || flag('tiers') || flag('full') ? [] : ['--tiers=best']);
const PASSES: string[][] = !only ? [[...common, '--exclude=threads'], [...common, '--only=threads']]
  : only.includes('threads') && only.length > 1 ? [[...common, `--only=${only.filter((o) => o !== 'threads').join(',')}`], [...common, '--only=threads']]
  : [[...common, `--only=${only.join(',')}`]];
const log = (m: string) => process.stderr.write(m + '\n');

interface Proto { env?: Environment; results: Result[]; done: boolean; fatal?: string; suiteSeconds?: Record<string, number> }

function collect(p: Proto, line: string): void {
  const t = line.trim();
  if (!t.startsWith('{')) return;
  let o: any;
  try { o = JSON.parse(t); } catch { return; }
  if (o.info) p.env = o.env;
  else if (o.done) { p.done = true; p.suiteSeconds = o.suiteSeconds; }
  else if (o.fatal) p.fatal = o.fatal;
  else if (o.suite) p.results.push(o);
}

/** Run bench/run.ts in a CLI runtime, collecting protocol lines from stdout. */
function runCli(name: string, cmd: string, args: string[]): Promise<RuntimeRun> {
  return new Promise((done) => {
    const t0 = Date.now();
    const p: Proto = { results: [], done: false };
    let stderr = '';
    let buf = '';
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const timer = setTimeout(() => { stderr += `\n[cross] timed out after ${timeoutMs / 1000} s`; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); collect(p, line); if (line.startsWith('{"suite"')) log(`  [${name}] ${summarise(line)}`); }
    });
    child.stderr.on('data', (d) => { stderr += d; for (const s of String(d).split('\n')) if (s.startsWith('#')) log(`  [${name}] ${s.trim()}`); });
    child.on('error', (e) => { clearTimeout(timer); done({ runtime: name, status: 'skipped', reason: `could not start ${cmd}: ${e.message}`, results: [], seconds: 0 }); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (buf) collect(p, buf);
      const seconds = (Date.now() - t0) / 1000;
      if (p.done && p.env) done({ runtime: name, status: 'ok', env: p.env, results: p.results, seconds, suiteSeconds: p.suiteSeconds });
      else done({ runtime: name, status: 'failed', env: p.env, results: p.results, seconds, reason: `exit code ${code}: ${tail(stderr)}` });
    });
  });
}

function summarise(line: string): string {
  const r = JSON.parse(line) as Result;
  const m = r.gflops !== undefined ? `${r.gflops.toFixed(1)} GFLOP/s` : r.gelems !== undefined ? `${r.gelems.toFixed(2)} G elem/s` : r.ms !== null ? `${r.ms.toFixed(3)} ms` : `n/a ${r.error ?? ''}`;
  return `${r.suite} ${r.op} ${r.shape} ${r.engine} ${r.variant} t${r.threads}: ${m}`;
}

function tail(s: string, n = 600): string {
  const t = s.replace(/npm warn[^\n]*\n/g, '').trim();
  return t.length > n ? '…' + t.slice(-n) : t || '(no output)';
}

async function versionOf(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((res) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', () => res(null));
    c.on('close', (code) => res(code === 0 ? out.trim().split('\n')[0] : null));
  });
}

const tsxCli = join(root, 'node_modules/tsx/dist/cli.mjs');

/** Run every pass (one process each) and merge them into one RuntimeRun. */
async function runPasses(name: string, one: (pass: string[]) => Promise<RuntimeRun>): Promise<RuntimeRun> {
  const runs: RuntimeRun[] = [];
  for (const p of PASSES) runs.push(await one([...p, ...tiersFor(name)]));
  const bad = runs.filter((r) => r.status !== 'ok');
  return {
    runtime: name,
    status: bad.length === runs.length ? bad[0].status : 'ok',
    reason: bad.length ? bad.map((r) => r.reason).join(' | ') : undefined,
    env: runs.find((r) => r.env)?.env,
    results: runs.flatMap((r) => r.results),
    seconds: runs.reduce((s, r) => s + r.seconds, 0),
    suiteSeconds: Object.assign({}, ...runs.map((r) => r.suiteSeconds ?? {})),
  };
}

async function runNode(): Promise<RuntimeRun> {
  if (!existsSync(tsxCli)) return { runtime: 'node', status: 'skipped', reason: 'tsx is not installed (npm install)', results: [], seconds: 0 };
  return runPasses('node', (p) => runCli('node', process.execPath, [tsxCli, 'bench/run.ts', ...p, '--lines-only']));
}

/**
 * Find a runtime binary: the project's node_modules/.bin, then .runtimes/ (our on-demand install), then
 * PATH. If none runs, install the pinned npm package into .runtimes/ (`npm install --prefix .runtimes`,
 * no package.json/lockfile change: the registry here lacks deno's non-linux platform packages, so deno
 * cannot be a locked devDependency). --no-install disables that.
 */
async function findRuntime(name: 'deno' | 'bun', pkg: string): Promise<{ bin: string; version: string } | { reason: string }> {
  const cands = [join(root, 'node_modules/.bin', name), join(root, '.runtimes/node_modules/.bin', name), name];
  for (const c of cands) {
    if (c.includes('/') && !existsSync(c)) continue;
    const v = await versionOf(c, ['--version']);
    if (v) return { bin: c, version: v };
  }
  if (flag('no-install')) return { reason: `${name} not found (node_modules/.bin, .runtimes/, PATH) and --no-install given` };
  log(`  [${name}] not found: npm install --prefix .runtimes ${pkg}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = await new Promise<{ code: number | null; out: string }>((done) => {
    let out = '';
    const c = spawn(npm, ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', join(root, '.runtimes'), pkg], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.on('data', (d) => (out += d)); c.stderr.on('data', (d) => (out += d));
    c.on('error', (e) => done({ code: -1, out: e.message }));
    c.on('close', (code) => done({ code, out }));
  });
  const bin = join(root, '.runtimes/node_modules/.bin', name);
  const v = existsSync(bin) ? await versionOf(bin, ['--version']) : null;
  if (v) return { bin, version: v };
  return { reason: `${name} is not installed and \`npm install --prefix .runtimes ${pkg}\` did not produce a working binary (exit ${res.code}: ${tail(res.out, 300)}); the npm package ships binaries for linux/macos/windows on x64/arm64 only` };
}

async function runDeno(): Promise<RuntimeRun> {
  const found = await findRuntime('deno', 'deno@2.9.6');
  if ('reason' in found) return { runtime: 'deno', status: 'skipped', reason: found.reason, results: [], seconds: 0 };
  // --sloppy-imports: our TypeScript sources import './x.js' files that exist as './x.ts'
  return runPasses('deno', (p) => runCli('deno', found.bin, ['run', '-A', '--sloppy-imports', '--quiet', 'bench/run.ts', ...p, '--lines-only']));
}

async function runBun(): Promise<RuntimeRun> {
  const found = await findRuntime('bun', 'bun@1.4.5');
  if ('reason' in found) return { runtime: 'bun', status: 'skipped', reason: found.reason, results: [], seconds: 0 };
  return runPasses('bun', (p) => runCli('bun', found.bin, ['bench/run.ts', ...p, '--lines-only']));
}

async function runChromium(): Promise<RuntimeRun> {
  const exe = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(exe)) return { runtime: 'chromium', status: 'skipped', reason: `${exe} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`, results: [], seconds: 0 };
  let pw: any;
  try { pw = await import('playwright-core'); } catch (e) { return { runtime: 'chromium', status: 'skipped', reason: `playwright-core is not installed: ${(e as Error).message}`, results: [], seconds: 0 }; }
  const t0 = Date.now();
  try { await bundleBenchPage(root); } catch (e) { return { runtime: 'chromium', status: 'failed', reason: `esbuild bundle failed: ${(e as Error).message}`, results: [], seconds: 0 }; }
  const { startServer } = await import('../scripts/serve.mjs' as string);
  const server = await startServer({ root });
  const browser = await (pw.chromium ?? pw.default.chromium).launch({
    executablePath: exe, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const browserVersion: string = browser.version();
  try {
    return await runPasses('chromium', (pass) => runPage(browser, server.url, pass, browserVersion));
  } finally {
    await browser.close();
    await server.close();
  }
}

/** One pass = one fresh page (a new JS realm: ORT's thread count is per page, like per process). */
async function runPage(browser: any, url: string, pass: string[], browserVersion: string): Promise<RuntimeRun> {
  const t0 = Date.now();
  const p: Proto = { results: [], done: false };
  const consoleTail: string[] = [];
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('console', (m: any) => { consoleTail.push(m.text()); if (consoleTail.length > 20) consoleTail.shift(); });
    page.on('pageerror', (e: Error) => { p.fatal ??= e.message; });
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    await page.exposeFunction('benchEmit', (line: string) => {
      collect(p, line);
      if (line.startsWith('{"suite"')) log(`  [chromium] ${summarise(line)}`);
      if (p.done || p.fatal) finish();
    });
    await page.exposeFunction('benchLog', (m: string) => { if (m.startsWith('#')) log(`  [chromium] ${m}`); });
    const query = pass.map((a) => a.slice(2)).join('&');
    await page.goto(`${url}/bench/web/index.html${query ? '?' + query : ''}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([finished, new Promise<void>((r) => { timer = setTimeout(() => { p.fatal ??= `timed out after ${timeoutMs / 1000} s`; r(); }, timeoutMs); })]);
    clearTimeout(timer);
  } finally {
    await context.close();
  }
  const seconds = (Date.now() - t0) / 1000;
  if (p.env && browserVersion) p.env.runtimeVersion = `Chromium ${browserVersion}`; // the UA string is reduced to 156.0.0.0
  await hostEnv(p);
  if (p.done && p.env) return { runtime: 'chromium', status: 'ok', env: p.env, results: p.results, seconds, suiteSeconds: p.suiteSeconds };
  return { runtime: 'chromium', status: 'failed', env: p.env, results: p.results, seconds, reason: `${p.fatal ?? 'page did not finish'}${consoleTail.length ? ' | console: ' + consoleTail.slice(-3).join(' | ') : ''}` };
}

/** The page's CPU fields are unknown to a browser: they are this machine's. */
async function hostEnv(p: Proto): Promise<void> {
  const os = await import('node:os');
  if (p.env && p.env.cpu === 'unknown') {
    p.env.cpu = `${os.cpus()[0]?.model?.trim() ?? 'unknown'} (host)`;
    p.env.platform = `${os.platform()}-${os.arch()} (host)`;
  }
  if (p.env && p.env.loadAvg === undefined) p.env.loadAvg = os.loadavg()[0];
}

/** One pass in a remote-controlled browser: open the bench page, poll its lines once a second. */
async function runDriverPage(name: string, start: () => Promise<PageSession>, url: string, pass: string[]): Promise<RuntimeRun> {
  const t0 = Date.now();
  const p: Proto = { results: [], done: false };
  let s: PageSession | undefined;
  try {
    s = await start();
    const query = pass.map((a) => a.slice(2)).join('&');
    await s.open(`${url}/bench/web/index.html${query ? '?' + query : ''}`);
    const page = await pollPageLines(s, (line) => { collect(p, line); if (line.startsWith('{"suite"')) log(`  [${name}] ${summarise(line)}`); },
      timeoutMs - (Date.now() - t0), () => p.done || !!p.fatal);
    if (page.done && !p.done) p.fatal ??= page.error ?? 'page finished without a done line';
  } catch (e) {
    p.fatal ??= (e as Error).message;
  } finally {
    await s?.end().catch(() => undefined);
  }
  const seconds = (Date.now() - t0) / 1000;
  if (p.env && s) p.env.runtimeVersion = s.version; // the browser's own version (WebKitGTK's UA says "Version/60.5")
  await hostEnv(p);
  if (p.done && p.env) return { runtime: name, status: 'ok', env: p.env, results: p.results, seconds, suiteSeconds: p.suiteSeconds };
  return { runtime: name, status: 'failed', env: p.env, results: p.results, seconds, reason: p.fatal ?? 'page did not finish' };
}

/** Bundle the page, serve the repository, run every pass in fresh sessions of one browser. */
async function runBrowser(name: string, missing: string | undefined, setup: () => Promise<SessionFactory>): Promise<RuntimeRun> {
  if (missing) return { runtime: name, status: 'skipped', reason: missing, results: [], seconds: 0 };
  try { await bundleBenchPage(root); } catch (e) { return { runtime: name, status: 'failed', reason: `esbuild bundle failed: ${(e as Error).message}`, results: [], seconds: 0 }; }
  const { startServer } = await import('../scripts/serve.mjs' as string);
  const server = await startServer({ root });
  let b: SessionFactory | undefined;
  try {
    const f = b = await setup();
    return await runPasses(name, (pass) => runDriverPage(name, () => f.start(), server.url, pass));
  } catch (e) {
    return { runtime: name, status: 'failed', reason: (e as Error).message, results: [], seconds: 0 };
  } finally {
    await b?.close();
    await server.close();
  }
}

async function runWebKit(): Promise<RuntimeRun> {
  const { findWebKit } = await import('../tests/helpers/webkit.js');
  const install = findWebKit();
  return runBrowser('webkit', install.missing, () => webkitSessions(install));
}

async function runFirefox(): Promise<RuntimeRun> {
  const { findFirefox } = await import('../tests/helpers/firefox.js');
  const install = findFirefox();
  return runBrowser('firefox', install.missing, async () => firefoxSessions(install));
}

function loadPrevious(): RuntimeRun[] {
  const file = join(outDir, 'cross-latest.jsonl');
  const runs = new Map<string, RuntimeRun>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line);
    const run = runs.get(o.runtime) ?? { runtime: o.runtime, status: 'ok', results: [], seconds: 0 } as RuntimeRun;
    runs.set(o.runtime, run);
    if (o.run) Object.assign(run, o.run);
    else if (o.env) run.env = o.env;
    else run.results.push(o.result);
  }
  return [...runs.values()];
}

async function main(): Promise<void> {
  let runs: RuntimeRun[];
  if (flag('report-only')) {
    runs = loadPrevious();
  } else {
    // the runtimes load build/*.wasm: rebuild it when any AssemblyScript source is newer (a stale binary lacks new kernels)
    const wasm = join(root, 'build/tessera.simd128.wasm');
    const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
    if (!existsSync(wasm) || statSync(wasm).mtimeMs < newest(join(root, 'assembly'))) {
      log('build/*.wasm is missing or older than assembly/: node scripts/build.mjs --wasm-only');
      const r = spawnSync(process.execPath, ['scripts/build.mjs', '--wasm-only'], { cwd: root, stdio: 'inherit' });
      if (r.status !== 0) process.exit(1);
    }
    runs = [];
    const drivers: Record<string, () => Promise<RuntimeRun>> = { node: runNode, chromium: runChromium, firefox: runFirefox, webkit: runWebKit, deno: runDeno, bun: runBun };
    for (const rt of runtimes) {
      const d = drivers[rt];
      if (!d) { runs.push({ runtime: rt, status: 'skipped', reason: `unknown runtime (have: ${ALL.join(', ')})`, results: [], seconds: 0 }); continue; }
      log(`== ${rt}`);
      let r: RuntimeRun;
      try { r = await d(); } catch (e) { r = { runtime: rt, status: 'failed', reason: String((e as Error)?.stack ?? e).slice(0, 800), results: [], seconds: 0 }; }
      log(`== ${rt}: ${r.status}${r.reason ? ` (${r.reason.split('\n')[0]})` : ''}, ${r.results.length} results, ${r.seconds.toFixed(0)} s`);
      runs.push(r);
    }
    mkdirSync(outDir, { recursive: true });
    const lines: string[] = [];
    for (const r of runs) {
      lines.push(JSON.stringify({ runtime: r.runtime, run: { status: r.status, reason: r.reason, seconds: r.seconds, suiteSeconds: r.suiteSeconds } }));
      if (r.env) lines.push(JSON.stringify({ runtime: r.runtime, env: r.env }));
      for (const x of r.results) lines.push(JSON.stringify({ runtime: r.runtime, result: x }));
    }
    writeFileSync(join(outDir, 'cross-latest.jsonl'), lines.join('\n') + '\n');
  }
  // a re-render says so, with the measured runs' own dates (from their environment records)
  const measured = [...new Set(runs.map((r) => r.env?.date?.slice(0, 16)).filter(Boolean))].join(', ');
  const cmd = flag('report-only') ? `npx tsx bench/cross.ts ${argv.join(' ')} (re-rendered from cross-latest.jsonl; measured ${measured} UTC)`
    : `npx tsx bench/cross.ts ${argv.join(' ')}`.trim();
  const md = renderMarkdown(runs, cmd);
  writeFileSync(join(outDir, 'cross-latest.md'), md);
  writeFileSync(join(outDir, 'cross-latest.html'), renderHtml(runs, cmd));
  console.log(md);
  log(`wrote ${join(outDir, 'cross-latest.{jsonl,md,html}')}`);
}

await main();
