// Static file server for the repository root on 127.0.0.1, with the cross-origin isolation headers
// (COOP: same-origin, COEP: require-corp) that SharedArrayBuffer / threads and 5 us timers need.
// Used by the demo (`npm run demo`), the cross-runtime benchmark (Chromium) and the demo test.
//   node scripts/serve.mjs [--port=8080] [--host=127.0.0.1] [--open=/demo/] [--no-isolation]
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.map': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.md': 'text/markdown; charset=utf-8', '.txt': 'text/plain; charset=utf-8',
};

/**
 * Start serving `root`. Resolves to { url, port, close() }. isolation=false omits COOP/COEP (to show
 * the default-user experience: no SharedArrayBuffer, coarse timers).
 */
export function startServer({ root = fileURLToPath(new URL('..', import.meta.url)), port = 0, host = '127.0.0.1', isolation = true } = {}) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const headers = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin' };
    if (isolation) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    let path;
    try { path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname); } catch { res.writeHead(400, headers).end('bad url'); return; }
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) { res.writeHead(403, headers).end('forbidden'); return; }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const st = statSync(file);
      res.writeHead(200, { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': st.size });
      if (req.method === 'HEAD') { res.end(); return; }
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
    }
  });
  return new Promise((resolveP, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      resolveP({ url: `http://${host}:${p}`, port: p, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r(undefined)); }) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const arg = (k, d) => { const a = process.argv.find((x) => x.startsWith(`--${k}=`)); return a ? a.slice(k.length + 3) : d; };
  const s = await startServer({ port: Number(arg('port', '8080')), host: arg('host', '127.0.0.1'), isolation: !process.argv.includes('--no-isolation') });
  console.log(`serving ${fileURLToPath(new URL('..', import.meta.url))} at ${s.url}${arg('open', '/')} (COOP/COEP ${process.argv.includes('--no-isolation') ? 'off' : 'on'}); Ctrl-C to stop`);
}
