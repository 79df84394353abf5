// A/B of the dense GEMM micro-kernels in one process: load32_splat A broadcasts (default in Node and
// Chromium) vs `_splat` (the MR values of a k step as one v128 load + lane shuffles; default in Deno and
// Bun), switched with tk.dense.splatA on the same packed weights, for MR 4 and 5; outputs checked identical.
// Node: `npx tsx bench/probes/dense-splat-ab.ts [simd128|relaxed]`; Bun: `npx bun bench/probes/dense-splat-ab.ts`;
// Deno: `.runtimes/node_modules/@deno/linux-x64-glibc/deno run -A --sloppy-imports bench/probes/dense-splat-ab.ts`.
import { init } from '../../bindings/index.js';
const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const simd = ((g.Deno?.args ?? g.process?.argv.slice(2) ?? [])[0] ?? 'relaxed') as 'simd128' | 'relaxed';
const tk = await init({ simd });
console.log(`${tk.features.runtime} ${tk.features.runtimeVersion}, ${simd}, boundsChecks ${tk.features.boundsChecks}, default splatA ${tk.dense.splatA}; GFLOP/s (median of 15)`);
const med = (f: () => void) => { for (let i = 0; i < 4; i++) f(); const t: number[] = []; for (let i = 0; i < 15; i++) { const t0 = performance.now(); f(); t.push(performance.now() - t0); } t.sort((a, b) => a - b); return t[7]; };
let seed = 7; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
const cases: [string, number, () => { run: () => void; out: () => Float32Array; dispose: () => void }][] = [];
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
    tk.dense.mr = mr;
    const r: number[] = [], outs: Float32Array[] = [];
    for (const sa of [false, true]) {
      tk.dense.splatA = sa;
      const c = make(); r.push(flop / med(c.run) / 1e6); c.run(); outs.push(c.out()); c.dispose();
    }
    if (outs[0].some((v, i) => !Object.is(v, outs[1][i]))) throw new Error(`${name} mr ${mr}: variants differ`);
    row.push(`mr ${mr}: ${r[0].toFixed(1)} -> ${r[1].toFixed(1)}`);
  }
  console.log(`${name} | load32_splat -> _splat | ${row.join(' | ')}`);
}
tk.dense.splatA = dflt; tk.dense.mr = 4;
