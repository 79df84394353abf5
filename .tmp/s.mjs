import { readFileSync } from 'node:fs';
const { instance } = await WebAssembly.instantiate(readFileSync(new URL('./s.wasm', import.meta.url)), {env:{abort(){}}});
const e = instance.exports; const f = new Float32Array(e.memory.buffer);
f.fill(1, 16384);
for (const mib of [64]) {
  const n = mib * 262144;
  for (const [name, fn] of [['seq', () => e.sum4(65536, n)], ['8rows', () => e.sum8rows(65536, n / 128, 512)], ['4rows', () => e.sum4rows(65536, n / 128, 512)], ['2rows', () => e.sum2rows(65536, n / 128, 512)], ['colblk', () => e.sumColBlocks(65536, n / 128, 512)]]) {
    for (let i = 0; i < 2; i++) fn();
    let best = Infinity; for (let r = 0; r < 5; r++) { const t0 = performance.now(); fn(); best = Math.min(best, performance.now() - t0); }
    console.log(`${mib} MiB ${name}: ${best.toFixed(2)} ms ${(n * 4 / best / 1e6).toFixed(1)} GB/s`);
  }
}
