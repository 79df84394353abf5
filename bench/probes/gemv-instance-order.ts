// Does the f32 GEMV's DRAM bandwidth depend on the tier or on the instance? Two instances (simd128 and
// relaxed), the same packed 64 MiB B, timed interleaved; `rev` creates them in the other order.
// `npx tsx bench/probes/gemv-instance-order.ts [rev]`. 2026-11-24, Node 20, EPYC VM (4 KiB pages, no THP):
// simd128 first: 23.3 / 26.4 GB/s (simd128 / relaxed); relaxed first: 26.3 / 27.6 GB/s: the first-created
// instance was the slower one in both orders, by 5-12% — placement in physical memory, not the tier.
import { init } from '../../bindings/index.js';
const K = 4096, N = 4096;
const b = new Float32Array(K * N).map(() => Math.random() * 2 - 1);
const xs = new Float32Array(K).map(() => Math.random());
const mk = async (simd: 'simd128' | 'relaxed') => {
  const tk = await init({ simd });
  const p = tk.dense.packMatmul(b, K, N);
  const a = tk.tensorFrom(xs), o = tk.tensor('f32', [N]);
  return { name: simd, run: () => p.run(a, o, 1), apply: () => p.apply(xs, 1) };
};
const order = process.argv[2] === 'rev' ? ['relaxed', 'simd128'] as const : ['simd128', 'relaxed'] as const;
const insts = [await mk(order[0]), await mk(order[1])];
for (const i of insts) for (let r = 0; r < 10; r++) i.run();
const T: Record<string, number[]> = {};
for (let r = 0; r < 40; r++) for (const i of insts) for (const f of ['run', 'apply'] as const) {
  const t0 = performance.now(); i[f](); (T[i.name + ' ' + f] ??= []).push(performance.now() - t0);
}
for (const [k, t] of Object.entries(T)) { t.sort((x, y) => x - y); console.log(k, t[20].toFixed(3), 'ms', (K * N * 4 / t[20] / 1e6).toFixed(1), 'GB/s'); }
