// Builds every wasm flavour from the one assembly/ source tree (targets in asconfig.json), then
// compiles the TypeScript bindings to dist/. Usage: node scripts/build.mjs [--wasm-only] [target...]
import asc from 'assemblyscript/asc';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';

const cfg = JSON.parse(readFileSync(new URL('../asconfig.json', import.meta.url)));
const args = process.argv.slice(2);
const wasmOnly = args.includes('--wasm-only');
const picked = args.filter((a) => !a.startsWith('--'));
const targets = picked.length ? picked : Object.keys(cfg.targets).filter((t) => t !== 'debug');

const t0 = performance.now();
for (const target of targets) {
  const { error, stderr } = await asc.main(['--config', 'asconfig.json', '--target', target], {});
  if (error) {
    console.error(stderr.toString());
    console.error(`asc failed for target ${target}: ${error.message}`);
    process.exit(1);
  }
}
console.log(`wasm: built ${targets.join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (!wasmOnly) {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  } catch {
    // exit here: an uncaught error would reach binaryen's process-wide handler, which prints its whole minified source
    console.error('bindings: tsc failed (errors above)');
    process.exit(1);
  }
  // the thread-pool worker is plain JS (loaded as-is by worker_threads / Web Workers): copy it next to pool.js
  mkdirSync('dist/threads', { recursive: true });
  copyFileSync('bindings/threads/worker.mjs', 'dist/threads/worker.mjs');
  console.log('bindings: dist/ compiled');
}
