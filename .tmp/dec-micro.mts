import { init } from '../bindings/index.js';
const tier = (process.argv[2] ?? 'relaxed') as any;
const t = await init({ simd: tier });
const d = 128;
for (const [L, nr] of [[64, 1], [256, 1], [2048, 1], [2048, 4], [16384, 1]] as const) {
  const heads = Math.max(1, Math.round(64 * 2048 / L / 4)); // a few KV heads so total bytes vary
  const H = L >= 2048 ? 32 : 1;
  const q = t.tensorFrom(new Float32Array(H * nr * d).map(() => Math.random()), [H * nr, 1, d]);
  const k = t.tensorFrom(new Float32Array(H * L * d).map(() => Math.random()), [H, L, d]);
  const v = t.tensorFrom(new Float32Array(H * L * d).map(() => Math.random()), [H, L, d]);
  const o = t.tensor('f32', [H * nr, 1, d]);
  const run = () => t.attention(q, k, v, { heads: H * nr, kvHeads: H, seqQ: 1, seqK: L, headDim: d }, o);
  for (let i = 0; i < 5; i++) run();
  let best = Infinity;
  for (let rep = 0; rep < 7; rep++) {
    const n = Math.max(1, Math.round(2e6 / (H * L)));
    const t0 = performance.now(); for (let i = 0; i < n; i++) run(); const ms = (performance.now() - t0) / n;
    best = Math.min(best, ms);
  }
  const bytes = 2 * H * L * d * 4;
  console.log(`L=${L} H=${H} nr=${nr}: ${best.toFixed(3)} ms, ${(bytes / best / 1e6).toFixed(2)} GB/s, ${(best * 1e6 / (H * L)).toFixed(2)} ns/key`);
  void heads;
  for (const x of [q, k, v, o]) x.dispose();
}
