// Do subnormal f16 weights slow the f16 GEMV down? The fast widening turns a subnormal half into an f32
// denormal operand of the multiply (exact, but x86 cores that take a microcode assist on denormal operands
// would slow down). Times the same GEMV on all-normal and all-subnormal halves, interleaved in one process.
// `npx tsx bench/probes/f16-subnormal-weights.ts`. AMD EPYC (Zen 4), Node 20, 2026-11-24: no penalty
// (simd128 1.97 vs 1.92 ms, relaxed 2.49 vs 2.16 ms, noisy host). Intel not measured.
import { init } from '../../bindings/index.js';
const K = 4096, N = 4096;
for (const simd of ['simd128', 'relaxed'] as const) {
  const tk = await init({ simd });
  const normal = new Uint16Array(K * N), sub = new Uint16Array(K * N);
  for (let i = 0; i < K * N; i++) {
    const s = (i * 2654435761) >>> 0;
    normal[i] = ((s & 0x8000) | 0x3c00 | (s >>> 20 & 0x3ff)); // +-[1, 2)
    sub[i] = ((s & 0x8000) | 1 | (s >>> 20 & 0x3ff));          // subnormal halves (exponent field 0, mantissa != 0)
  }
  const pn = tk.dense.packMatmul(normal, K, N), ps = tk.dense.packMatmul(sub, K, N);
  const a = tk.tensorFrom(new Float32Array(K).map((_, i) => Math.sin(i)));
  const o = tk.tensor('f32', [N]);
  for (let i = 0; i < 10; i++) { pn.run(a, o, 1); ps.run(a, o, 1); }
  const tn: number[] = [], ts: number[] = [];
  for (let i = 0; i < 40; i++) { let t = performance.now(); pn.run(a, o, 1); tn.push(performance.now() - t); t = performance.now(); ps.run(a, o, 1); ts.push(performance.now() - t); }
  const med = (t: number[]) => t.sort((x, y) => x - y)[20];
  console.log(simd, 'normal halves', med(tn).toFixed(3), 'ms  subnormal halves', med(ts).toFixed(3), 'ms');
}
