// `npm run bench:serve`: bundle the benchmark page (bench/web/, the browser half of bench/cross.ts) and serve the repository
// with COOP/COEP, so any browser on this machine (or on the network, with --host=0.0.0.0) can run the suites by hand.
//   npx tsx bench/serve.ts [--port=8080] [--host=127.0.0.1]   (after `npm run build`: the page loads build/*.wasm)
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleBenchPage } from './lib/bundle.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
await bundleBenchPage(root);
const { startServer } = await import('../scripts/serve.mjs' as string);
const s = await startServer({ root, port: Number(arg('port', '8080')), host: arg('host', '127.0.0.1') });
console.log(`benchmark page: ${s.url}/bench/web/ (bundled into .bench-web/; COOP/COEP on); Ctrl-C to stop`);
