// A/B of the f16-weight GEMV's high-half widening (tk.kernelProfile.denseGemvF16Dot, default in Bun): i32x4.shr_s
// vs i32x4.dot_i16x8_s (pmaddwd) against (0, 8192), packed 1xKxN, with the f32 GEMV on the same weights for the
// ratio; timed interleaved (bench/lib/interleave.ts), outputs checked bit-identical (the f32 GEMV on the widened
// halves too). Bun: `npx bun bench/probes/gemv-f16-dot-ab.ts [simd128|relaxed]`; Node: `npx tsx ...`;
// browsers: `npx tsx bench/probes/browser.ts --probe=gemv-f16-dot-ab --browser=webkit [--simd=relaxed]`.
import { init } from '../../bindings/index.js';
import { timeInterleaved } from '../lib/interleave.js';
import { sameBits } from '../../tests/helpers/tiers.js';
const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] }; location?: Location };
const q = g.location ? new URLSearchParams(g.location.search) : undefined;
const simd = (q?.get('simd') ?? (g.Deno?.args ?? g.process?.argv?.slice(2) ?? [])[0] ?? 'simd128') as 'simd128' | 'relaxed';
const tk = await init({ simd });
const def = tk.kernelProfile.denseGemvF16Dot;
console.log(`${tk.features.runtime} ${tk.features.runtimeVersion}, ${simd}, threads ${tk.features.threads}, default denseGemvF16Dot ${def}; GFLOP/s (interleaved medians)`);
let seed = 11; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 * 2 - 1; };
for (const [k, n] of [[4096, 4096], [1024, 1024]]) {
  const b16 = tk.f16.fromF32(new Float32Array(k * n).map(rnd));
  const p32 = tk.dense.packMatmul(tk.f16.toF32(b16), k, n), p16 = tk.dense.packMatmul(b16, k, n);
  const a = tk.tensorFrom(new Float32Array(k).map(rnd)), o = tk.tensor('f32', [n]);
  const fns: Record<string, () => void> = {
    'f32': () => p32.run(a, o, 1),
    'f16 shr_s': () => { tk.kernelProfile.denseGemvF16Dot = false; p16.run(a, o, 1); },
    'f16 dot': () => { tk.kernelProfile.denseGemvF16Dot = true; p16.run(a, o, 1); },
  };
  const outs = Object.values(fns).map((f) => { f(); return o.read() as Float32Array; });
  outs.forEach((r, i) => { if (!sameBits(r, outs[0])) throw new Error(`${k}x${n}: ${Object.keys(fns)[i]} differs from f32 on the widened weights`); });
  const t = timeInterleaved(fns, { rounds: 15 });
  const gf = (name: string) => 2 * k * n / t[name].ms / 1e6;
  console.log(`1x${k}x${n} | ${Object.keys(fns).map((s) => `${s} ${gf(s).toFixed(1)}`).join(' | ')} | f16/f32: shr_s ${(gf('f16 shr_s') / gf('f32')).toFixed(2)}x, dot ${(gf('f16 dot') / gf('f32')).toFixed(2)}x | dot/shr_s ${(gf('f16 dot') / gf('f16 shr_s')).toFixed(3)}`);
  p32.dispose(); p16.dispose(); a.dispose(); o.dispose();
}
tk.kernelProfile.denseGemvF16Dot = def;
