import { init } from '../bindings/index.js';
const t = await init({ simd: 'relaxed' });
for (const mib of [1, 8, 32]) {
  const n = mib * 262144;
  const a = t.tensorFrom(new Float32Array(n).fill(-1), [n]), b = t.tensor('f32', [n]);
  const run = () => t.kernels.f32_vexp__wasmsimd_u4(a.ptr, b.ptr, n);
  for (let i = 0; i < 3; i++) run();
  let best = Infinity;
  for (let r = 0; r < 7; r++) { const t0 = performance.now(); run(); best = Math.min(best, performance.now() - t0); }
  console.log(`${mib} MiB in + out: ${best.toFixed(2)} ms, read+write ${(2 * n * 4 / best / 1e6).toFixed(1)} GB/s`);
  a.dispose(); b.dispose();
}
