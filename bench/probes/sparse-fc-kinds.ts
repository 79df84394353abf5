// Cost of one stored 4x1 block in the batch-1 FC kernel, per kind of the runs plan (runs of 4 consecutive
// columns, pairs of columns 1, 2 or 3 apart, single columns), relative to one v128 FMA of tk.dense's packed GEMV on the same shape.
// Synthetic patterns put every stored block of a matrix in one kind; timed interleaved with the dense GEMV.
// `npx tsx bench/probes/sparse-fc-kinds.ts` (wrap in flock /tmp/tessera-bench.lock).
import { init } from '../../bindings/index.js';
import { timeInterleaved } from '../lib/interleave.js';
const ROWS = 1000, COLS = 1024;
const kinds: [string, (c: number) => boolean][] = [
  ['runs (every column)', () => true],
  ['pairs (columns 4j, 4j+1)', (c) => c % 4 < 2],
  ['pairs 2 apart (4j, 4j+2)', (c) => c % 4 === 0 || c % 4 === 2],
  ['pairs 3 apart (4j, 4j+3)', (c) => c % 4 === 0 || c % 4 === 3],
  ['singles (every 4th column)', (c) => c % 4 === 0],
];
let seed = 11; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
for (const simd of ['simd128', 'relaxed'] as const) {
  const tk = await init({ simd });
  const wd = new Float32Array(ROWS * COLS).map(rnd);
  const x = tk.tensorFrom(new Float32Array(COLS).map(rnd)), y = tk.tensor('f32', [ROWS]);
  const wt = new Float32Array(COLS * ROWS); // tk.dense takes b = W^T (k x n)
  for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) wt[c * ROWS + r] = wd[r * COLS + c];
  const dense = tk.dense.packMatmul(wt, COLS, ROWS);
  const fns: Record<string, () => void> = { dense: () => dense.run(x, y, 1) };
  const blocks: Record<string, number> = { dense: (ROWS / 4) * COLS };
  for (const [name, keep] of kinds) {
    const w = wd.map((v, i) => (keep(i % COLS) ? v : 0));
    const layer = tk.sparse.layer(tk.sparse.pack(w, ROWS, COLS, { block: [4, 1] }), { n: 1 });
    fns[name] = () => layer.run(x, y);
    blocks[name] = (ROWS / 4) * w.slice(0, COLS).filter((v) => v !== 0).length;
  }
  const t = timeInterleaved(fns, { rounds: 21, minSampleMs: 10 });
  const per = (n: string) => (t[n].ms * 1e6) / blocks[n];
  console.log(`${tk.features.runtime} ${tk.features.runtimeVersion} ${simd}: dense GEMV ${t.dense.ms.toFixed(4)} ms = ${per('dense').toFixed(3)} ns per v128 FMA`);
  for (const [name] of kinds) console.log(`  ${name}: ${per(name).toFixed(3)} ns per block = ${(per(name) / per('dense')).toFixed(2)}x the dense FMA`);
}
