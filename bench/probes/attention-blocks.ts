// Query / key block sizes of the f32 tile kernel (tk.attention blockQ / blockK), timed interleaved in one process:
// 1 head, S = 2048, d = 64 and 128, tensor form. `npx tsx bench/probes/attention-blocks.ts [simd128|relaxed]`,
// `npx bun bench/probes/attention-blocks.ts`, `npx tsx bench/probes/browser.ts --probe=attention-blocks --browser=...`.
// 2026-11-24 (EPYC VM, GFLOP/s, default bq 48 / bk 72 -> best of bq 48..144 x bk 72, 144): Node relaxed d 64 44.8 -> 46.7,
// d 128 46.7 -> 49.6 (bq 144 bk 144); Node simd128 32.2 -> 32.3, 33.1 -> 33.9; Bun 31.0 (default is the best), 33.3 -> 34.2.
// Within 0-6 % everywhere and no size best in every runtime: the defaults stay.
import { init } from '../../bindings/index.js';
import { probeRelaxedSimd } from '../../bindings/env.js';
import { timeInterleaved } from '../lib/interleave.js';
const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] }; location?: { search: string } };
const argTier = (g.Deno?.args ?? g.process?.argv?.slice(2) ?? [])[0] ?? new URLSearchParams(g.location?.search ?? '').get('tier');
const simd = (argTier ?? (probeRelaxedSimd() ? 'relaxed' : 'simd128')) as 'simd128' | 'relaxed';
const tk = await init({ simd });
console.log(`${tk.features.runtime} ${tk.features.runtimeVersion}, ${simd}; GFLOP/s (interleaved medians), 1 head, S = 2048`);
let seed = 7; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
const S = 2048;
for (const d of [64, 128]) {
  const q = tk.tensorFrom(new Float32Array(S * d).map(rnd)), k = tk.tensorFrom(new Float32Array(S * d).map(rnd)), v = tk.tensorFrom(new Float32Array(S * d).map(rnd));
  const o = tk.tensor('f32', [S * d]);
  const fns: Record<string, () => unknown> = {};
  for (const blockQ of [48, 72, 96, 144]) for (const blockK of [72, 144]) {
    fns[`bq ${blockQ} bk ${blockK}`] = () => tk.attention(q, k, v, { heads: 1, seqQ: S, seqK: S, headDim: d, blockQ, blockK }, o);
  }
  const t = timeInterleaved(fns, { rounds: 7, minSampleMs: 40 });
  console.log(`d ${d} | ` + Object.entries(t).map(([n, x]) => `${n}: ${(4 * S * S * d / x.ms / 1e6).toFixed(1)}`).join(' | '));
  for (const x of [q, k, v, o]) x.dispose();
}
