// A/B of the dense GEMM micro-kernels in one process: load32_splat A broadcasts (default in Chromium)
// vs `_splat` (the MR values of a k step as one v128 load + lane shuffles; default in Node, Deno and Bun),
// switched with tk.dense.splatA on the same packed weights for MR 4 and 5, timed interleaved
// (bench/lib/interleave.ts); outputs checked bit-identical.
// Node: `npx tsx bench/probes/dense-splat-ab.ts [simd128|relaxed]`; Bun: `npx bun bench/probes/dense-splat-ab.ts`;
// Browsers: `npx tsx bench/probes/browser.ts --probe=dense-splat-ab [--browser=chromium]` (relaxed where the engine has it).
// Deno: `.runtimes/node_modules/@deno/linux-x64-glibc/deno run -A --sloppy-imports bench/probes/dense-splat-ab.ts`.
import { init } from '../../bindings/index.js';
import { probeRelaxedSimd } from '../../bindings/env.js';
import { timeInterleaved } from '../lib/interleave.js';
import { sameBits } from '../../tests/helpers/tiers.js';
const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const simd = ((g.Deno?.args ?? g.process?.argv?.slice(2) ?? [])[0] ?? (probeRelaxedSimd() ? 'relaxed' : 'simd128')) as 'simd128' | 'relaxed';
const tk = await init({ simd });
console.log(`${tk.features.runtime} ${tk.features.runtimeVersion}, ${simd}, boundsChecks ${tk.features.boundsChecks}, default splatA ${tk.dense.splatA}; GFLOP/s (interleaved medians)`);
let seed = 7; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
interface Case { run: () => void; out: () => Float32Array; dispose: () => void }
const cases: [string, number, () => Case][] = [];
for (const [name, c, hw, cout, k] of [['conv 3x3 56x56x64->64', 64, 56, 64, 3], ['conv 1x1 28x28x128->256', 128, 28, 256, 1]] as const) {
  const w = new Float32Array(cout * c * k * k).map(rnd), xv = new Float32Array(c * hw * hw).map(rnd);
  cases.push([name, 2 * cout * c * k * k * hw * hw, () => {
    const p = tk.dense.packConv2d(w, { c, h: hw, w: hw, cout, kh: k, kw: k, pad: (k - 1) >> 1 });
    const x = tk.tensorFrom(xv), y = tk.tensor('f32', [cout * hw * hw]);
    return { run: () => p.run(x, y), out: () => y.read() as Float32Array, dispose: () => { p.dispose(); x.dispose(); y.dispose(); } };
  }]);
}
{
  const n = 1024, a = new Float32Array(n * n).map(rnd), b = new Float32Array(n * n).map(rnd);
  cases.push(['matmul 1024^3', 2 * n * n * n, () => {
    const p = tk.dense.packMatmul(b, n, n), ta = tk.tensorFrom(a), tc = tk.tensor('f32', [n * n]);
    return { run: () => p.run(ta, tc, n), out: () => tc.read() as Float32Array, dispose: () => { p.dispose(); ta.dispose(); tc.dispose(); } };
  }]);
}
const dflt = tk.dense.splatA;
for (const [name, flop, make] of cases) {
  const row: string[] = [];
  for (const mr of [4, 5]) {
    tk.dense.mr = mr; // packed weights keep this MR; splatA is read per run
    const c = make();
    const variant = (sa: boolean) => () => { tk.dense.splatA = sa; c.run(); };
    const outs = [false, true].map((sa) => { variant(sa)(); return c.out(); });
    if (!sameBits(outs[0], outs[1])) throw new Error(`${name} mr ${mr}: variants differ`);
    const t = timeInterleaved({ loadsplat: variant(false), splat: variant(true) });
    row.push(`mr ${mr}: ${(flop / t.loadsplat.ms / 1e6).toFixed(1)} -> ${(flop / t.splat.ms / 1e6).toFixed(1)}`);
    c.dispose();
  }
  console.log(`${name} | load32_splat -> _splat | ${row.join(' | ')}`);
}
tk.dense.splatA = dflt; tk.dense.mr = 4;
