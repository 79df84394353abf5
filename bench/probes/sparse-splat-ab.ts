// A/B of the sparse 4x1-block kernels in one process: load32_splat weights (the default in Chromium and
// Firefox) vs `_splat` (one v128 weight load + lane shuffles; the default in Node, Deno, Bun and WebKit), switched
// with tk.kernelProfile.sparseSplat on the same packed weights, timed interleaved
// (bench/lib/interleave.ts); outputs checked bit-identical.
// Node: `npx tsx bench/probes/sparse-splat-ab.ts`; Bun: `npx bun bench/probes/sparse-splat-ab.ts`;
// Browsers: `npx tsx bench/probes/browser.ts --probe=sparse-splat-ab [--browser=chromium]`.
// Deno: `.runtimes/node_modules/@deno/linux-x64-glibc/deno run -A --sloppy-imports bench/probes/sparse-splat-ab.ts`.
import { init, type Tensor } from '../../bindings/index.js';
import { probeRelaxedSimd } from '../../bindings/env.js';
import { timeInterleaved } from '../lib/interleave.js';
import { sameBits } from '../../tests/helpers/tiers.js';
const simd = probeRelaxedSimd() ? 'relaxed' : 'simd128'; // WebKit / Safari: simd128
const tk = await init({ simd });
console.log(`${tk.features.runtime} ${tk.features.runtimeVersion}, boundsChecks ${tk.features.boundsChecks}; ms (interleaved medians), ${simd}`);
let seed = 1; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
/** time `run` with each variant, interleaved; check both write the same bits to y */
const ab = (run: () => void, y: Tensor) => {
  const saved = tk.kernelProfile.sparseSplat;
  const variant = (v: boolean) => () => { tk.kernelProfile.sparseSplat = v; run(); };
  const outs = [false, true].map((v) => { variant(v)(); return y.read() as Float32Array; });
  if (!sameBits(outs[0], outs[1])) throw new Error('variants differ');
  const t = timeInterleaved({ loadsplat: variant(false), splat: variant(true) });
  tk.kernelProfile.sparseSplat = saved;
  return `${t.loadsplat.ms.toFixed(3)} -> ${t.splat.ms.toFixed(3)}`;
};
console.log('shape | sparsity | sparse load32_splat -> _splat | dense-CHW load32_splat -> _splat');
for (const [name, HW, C] of [['pw3 1x1', 3136, 128], ['pw7-11 1x1', 196, 512]] as const) {
  const w0 = new Float32Array(C * C).map(rnd);
  const x = tk.tensorFrom(new Float32Array(C * HW).map(rnd)), y = tk.tensor('f32', [C * HW]);
  for (const s of [0.3, 0.7]) {
    const w = tk.sparse.prune(w0, C, C, { sparsity: s, block: [4, 1] });
    const L = tk.sparse.layer(tk.sparse.pack(w, C, C), { n: HW }), D = tk.sparse.denseLayer(w, C, C, { n: HW });
    console.log(`${name} | ${s} | ${ab(() => L.run(x, y), y)} | ${ab(() => D.run(x, y), y)}`);
    L.dispose(); D.dispose();
  }
  x.dispose(); y.dispose();
}
for (const [c, hw, stride] of [[64, 56, 1], [128, 28, 1], [256, 14, 1], [64, 56, 2]] as const) {
  const cout = stride === 2 ? 128 : c, ohw = Math.floor((hw - 1) / stride) + 1;
  const w0 = new Float32Array(cout * c * 9).map(rnd);
  const x = tk.tensorFrom(new Float32Array(c * hw * hw).map(rnd)), y = tk.tensor('f32', [cout * ohw * ohw]);
  const w = tk.sparse.prune(w0, cout, c, { sparsity: 0.3, block: [4, 1], kernelSize: 3 });
  const L = tk.sparse.layer(tk.sparse.pack(w, cout, c, { block: [4, 1], kernelSize: 3 }), { h: hw, w: hw, stride, pad: 1 });
  console.log(`3x3 ${c}->${cout}@${hw} s${stride} | 0.3 | ${ab(() => L.run(x, y), y)} |`);
  L.dispose(); x.dispose(); y.dispose();
}
