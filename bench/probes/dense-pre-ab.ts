// A/B of the dense matmul micro-kernels in one process (tk.kernelProfile.denseMatmulPreA, default on JavaScriptCore):
// A broadcast in the k loop (4x8 load32_splat, 4x8 `_splat`) vs A packed pre-broadcast ([K][6][4]) with the
// `_pre` 6x8 kernel (4x8 and 5x8 `_pre` builds were slower and are gone), same packed B, timed interleaved
// (bench/lib/interleave.ts); outputs checked bit-identical. Conv is unaffected (igemm, persistent [K][MR] weights).
// Bun: `npx bun bench/probes/dense-pre-ab.ts [simd128|relaxed]`; Node: `npx tsx bench/probes/dense-pre-ab.ts [simd128|relaxed]`;
// Deno: `.runtimes/node_modules/.bin/deno run -A --sloppy-imports bench/probes/dense-pre-ab.ts [simd128|relaxed]`.
import { init } from '../../bindings/index.js';
import { probeRelaxedSimd } from '../../bindings/env.js';
import { ABI } from '../../bindings/abi.js';
import { timeInterleaved } from '../lib/interleave.js';
import { sameBits } from '../../tests/helpers/tiers.js';
const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const simd = ((g.Deno?.args ?? g.process?.argv?.slice(2) ?? [])[0] ?? (probeRelaxedSimd() ? 'relaxed' : 'simd128')) as 'simd128' | 'relaxed';
const tk = await init({ simd });
console.log(`${tk.features.runtime} ${tk.features.runtimeVersion}, ${simd}, default denseMatmulPreA ${tk.kernelProfile.denseMatmulPreA}; GFLOP/s (interleaved medians)`);
let seed = 7; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
const dense = tk.dense as unknown as { matmulMR: () => number };
// per-variant overrides below shadow the prototype's matmulMR on the instance; removed at the end
for (const n of [1024, 512]) {
  const a = new Float32Array(n * n).map(rnd), b = new Float32Array(n * n).map(rnd), flop = 2 * n * n * n;
  const p = tk.dense.packMatmul(b, n, n), ta = tk.tensorFrom(a), tc = tk.tensor('f32', [n * n]);
  const mrv: Record<string, number> = { 'load32_splat 4x8': 4, '_splat 4x8': 4 | ABI.DENSE_MR_SPLAT_A,
    '_pre 6x8': 6 | ABI.DENSE_MR_PRE_A };
  const fns = Object.fromEntries(Object.entries(mrv).map(([k, v]) => [k, () => { dense.matmulMR = () => v; p.run(ta, tc, n); }]));
  const outs = Object.values(fns).map((f) => { f(); return tc.read() as Float32Array; });
  outs.forEach((o, i) => { if (!sameBits(o, outs[0])) throw new Error(`matmul ${n}: ${Object.keys(mrv)[i]} differs`); });
  const t = timeInterleaved(fns);
  console.log(`matmul ${n}^3 | ${Object.keys(mrv).map((k) => `${k} ${(flop / t[k].ms / 1e6).toFixed(1)}`).join(' | ')}`);
  p.dispose(); ta.dispose(); tc.dispose();
}
delete (dense as { matmulMR?: unknown }).matmulMR;
