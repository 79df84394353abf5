// Isolated A/B of the packed GEMV kernels, 1x4096x4096: f32 weights vs f16 weights, timed in turns in one
// process (no peers, no other suites). `npx tsx bench/probes/gemv-f16-vs-f32.ts` (wrap in a quiet moment).
import { init } from '../../bindings/index.js';
const K = 4096, N = 4096;
for (const simd of ['simd128', 'relaxed'] as const) {
  const tk = await init({ simd });
  const b = new Float32Array(K * N).map(() => Math.random() * 2 - 1);
  const p32 = tk.dense.packMatmul(b, K, N);
  const p16 = tk.dense.packMatmul(tk.f16.fromF32(b), K, N);
  const a = tk.tensorFrom(new Float32Array(K).map(() => Math.random()));
  const o = tk.tensor('f32', [N]);
  for (let i = 0; i < 20; i++) { p32.run(a, o, 1); p16.run(a, o, 1); }
  const t32: number[] = [], t16: number[] = [];
  for (let i = 0; i < 60; i++) {
    let t0 = performance.now(); p32.run(a, o, 1); t32.push(performance.now() - t0);
    t0 = performance.now(); p16.run(a, o, 1); t16.push(performance.now() - t0);
  }
  const med = (t: number[]) => t.sort((x, y) => x - y)[30];
  console.log(simd, 'f32', med(t32).toFixed(3), 'ms  f16', med(t16).toFixed(3), 'ms  f16 speed-up', (med(t32) / med(t16)).toFixed(2));
}
