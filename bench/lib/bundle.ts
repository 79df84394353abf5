// esbuild plugin for the browser bundles of the benchmark (bench/cross.ts) and probes (bench/probes/browser.ts).
import type { Plugin } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Browser stand-ins for node: built-ins (bundled instead of them). Suites and peer adapters written for
 * Node import node:module / node:path to find package files; in the page those resolve to URLs under
 * the served repository root (the bundle lives in <root>/.bench-web/). Any other node: module is a
 * CommonJS proxy whose functions throw "not available in the browser" when called, so a suite that
 * needs it fails with that message instead of the whole bundle failing to load.
 */
export const NODE_SHIMS: Record<string, string> = {
  module: `const root = new URL('../', import.meta.url);
export function createRequire() { return { resolve: (spec) => new URL('node_modules/' + spec + '/dist/index.js', root).href }; }
export default { createRequire };`,
  path: `const dirname = (p) => String(p).replace(/\\/[^/]*$/, '') || '/';
const join = (...a) => a.join('/').replace(/([^:])\\/{2,}/g, '$1/');
export { dirname, join, join as resolve };
export default { dirname, join, resolve: join, sep: '/' };`,
};

/** Resolves every `node:` import to a browser stand-in (NODE_SHIMS) or a proxy that throws when used. */
export const nodeShims: Plugin = {
  name: 'node-shims',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path.slice(5), namespace: 'node-shim' }));
    b.onLoad({ filter: /.*/, namespace: 'node-shim' }, (a) => ({
      loader: 'js',
      contents: NODE_SHIMS[a.path] ?? `module.exports = new Proxy({}, { get: (_, k) => k === '__esModule' ? false : () => { throw new Error('node:${a.path}.' + String(k) + ' is not available in the browser'); } });`,
    }));
  },
};

/** Bundle a browser entry script (`entry`, relative to the repository root) into <root>/.bench-web/<outName>, with the
 *  node: stand-ins above. From .bench-web/ the bindings' default wasm URL ../build/ is the repository's build/ when the
 *  root is served (scripts/serve.mjs). */
export async function bundleForBrowser(root: string, entry: string, outName: string): Promise<void> {
  const esbuild = await import('esbuild');
  const out = join(root, '.bench-web');
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [join(root, entry)], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    outfile: join(out, outName), logLevel: 'error', sourcemap: false,
    define: { 'process.env.NODE_ENV': '"production"' }, supported: { 'top-level-await': true },
    plugins: [nodeShims],
  });
}

/** Bundle the benchmark page's script (bench/web/entry.ts) into <root>/.bench-web/bench.mjs, beside a copy of the worker
 *  script, for bench/web/index.html (bench/cross.ts before its browser runs; `npm run bench:serve`). */
export async function bundleBenchPage(root: string): Promise<void> {
  await bundleForBrowser(root, 'bench/web/entry.ts', 'bench.mjs');
  copyFileSync(join(root, 'bindings/threads/worker.mjs'), join(root, '.bench-web', 'worker.mjs'));
}
