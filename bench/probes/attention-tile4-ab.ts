// A/B of the attention tile heights in one process: the default query tiles vs 4-row tiles
// (tk.kernelProfile.attentionTile4, the default in Bun and under explicit bounds checks), on the same
// tensors, timed interleaved (bench/lib/interleave.ts); outputs checked bit-identical.
// Node: `npx tsx bench/probes/attention-tile4-ab.ts`; Bun: `npx bun bench/probes/attention-tile4-ab.ts`;
// browsers: `npx tsx bench/probes/browser.ts --probe=attention-tile4-ab [--browser=chromium]`.
import { init, type AttentionOptions } from '../../bindings/index.js';
import { probeRelaxedSimd } from '../../bindings/env.js';
import { timeInterleaved } from '../lib/interleave.js';
import { sameBits } from '../../tests/helpers/tiers.js';
const simd = probeRelaxedSimd() ? 'relaxed' : 'simd128';
const tk = await init({ simd });
console.log(`${tk.features.runtime} ${tk.features.runtimeVersion}, ${simd}, boundsChecks ${tk.features.boundsChecks}, default attentionTile4 ${tk.kernelProfile.attentionTile4}; GFLOP/s (interleaved medians)`);
let seed = 7; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };
for (const [S, precision] of [[1024, 'f32'], [2048, 'f32'], [2048, 'pasa']] as const) {
  const d = 64, opts: AttentionOptions = { heads: 1, seqQ: S, seqK: S, headDim: d, precision };
  const q = tk.tensorFrom(new Float32Array(S * d).map(rnd)), k = tk.tensorFrom(new Float32Array(S * d).map(rnd)), v = tk.tensorFrom(new Float32Array(S * d).map(rnd));
  const o = tk.tensor('f32', [S * d]);
  const saved = tk.kernelProfile.attentionTile4;
  const variant = (t4: boolean) => () => { tk.kernelProfile.attentionTile4 = t4; tk.attention(q, k, v, opts, o); };
  const outs = [false, true].map((t4) => { variant(t4)(); return o.read() as Float32Array; });
  if (!sameBits(outs[0], outs[1])) throw new Error('variants differ');
  const t = timeInterleaved({ tiles: variant(false), tile4: variant(true) });
  tk.kernelProfile.attentionTile4 = saved;
  const gf = (ms: number) => (4 * S * S * d / ms / 1e6).toFixed(1);
  console.log(`attention ${precision} S=${S} d=${d} | default tiles -> 4-row tiles | ${gf(t.tiles.ms)} -> ${gf(t.tile4.ms)}`);
  q.dispose(); k.dispose(); v.dispose(); o.dispose();
}
