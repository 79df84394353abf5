// Attention throughput, accuracy and memory, single thread, everything measured in this process:
//   tessera f32 flash and PASA (copying form: arrays in/out; tensor form: zero-copy arena tensors) vs
//   onnxruntime-web com.microsoft.MultiHeadAttention and tfjs-backend-wasm per-head matMul/softmax/matMul,
//   at S = 1024, 2048, 4096, d = 64, H = 1; GFLOP/s = 4*H*S^2*D / time (--shapes=S1024 etc. to pick).
//   Plus the long-sequence case S = 16384, d = 64, H = 8 (~137 GFLOP, one run each), whose extra wasm
//   memory (arena peak beyond the input and output tensors) must stay under 64 MiB.
// Every output is checked against a float64 golden on sampled rows (rmse, maxRelErr = max|err| / max|gold|).
// Timing: all contenders of one shape take turns (interleaved rounds), so ratios survive load from neighbours.
// Fraction of peak: the notes of our rows give the best sample as a % of the machine's f32x4 peak measured here
// the way the dense suite does it (assembly/bench/peak.ts: 12 independent mul+add chains, and relaxed_madd on
// the relaxed tier; best samples for both). The FLOP count is the two matmuls only (4*H*S^2*D), so 100 % is
// out of reach: softmax (exp, max, sums, rescales) and, for PASA, the fp16 rounding are extra work.
import type { Tessera, Tier } from '../../bindings/index.js';
import type { AttentionOptions } from '../../bindings/index.js';
import { attentionInternals } from '../../bindings/ops/attention.js';
import type { BenchContext, Suite } from '../lib/context.js';
import type { Result } from '../lib/report.js';
import { ortMha } from '../peers/attn-ort.js';
import { tfjsAttention } from '../peers/attn-tfjs.js';

const MiB = 1024 * 1024;

function uniform(n: number, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; a[i] = (x / 4294967296) * 2 - 1; }
  return a;
}

/** f64 golden for selected (head, row) pairs of [H, S, D] non-causal attention with H kv heads. */
function goldenRows(q: Float32Array, k: Float32Array, v: Float32Array, S: number, D: number, picks: [number, number][]): Float64Array[] {
  const scale = 1 / Math.sqrt(D);
  return picks.map(([h, r]) => {
    const sc = new Float64Array(S);
    let mx = -Infinity;
    for (let t = 0; t < S; t++) {
      let a = 0;
      for (let x = 0; x < D; x++) a += q[(h * S + r) * D + x] * k[(h * S + t) * D + x];
      sc[t] = a * scale; if (sc[t] > mx) mx = sc[t];
    }
    let sum = 0;
    for (let t = 0; t < S; t++) { sc[t] = Math.exp(sc[t] - mx); sum += sc[t]; }
    const o = new Float64Array(D);
    for (let t = 0; t < S; t++) { const w = sc[t] / sum; for (let x = 0; x < D; x++) o[x] += w * v[(h * S + t) * D + x]; }
    return o;
  });
}

function check(out: ArrayLike<number>, gold: Float64Array[], picks: [number, number][], S: number, D: number): { rmse: number; maxRelErr: number } {
  let se = 0, n = 0, maxErr = 0, maxG = 0;
  picks.forEach(([h, r], i) => {
    for (let x = 0; x < D; x++) {
      const e = out[(h * S + r) * D + x] - gold[i][x];
      se += e * e; n++; maxErr = Math.max(maxErr, Math.abs(e)); maxG = Math.max(maxG, Math.abs(gold[i][x]));
    }
  });
  return { rmse: Math.sqrt(se / n), maxRelErr: maxErr / maxG };
}

/** Interleaved timing (bench/lib/interleave.ts's method, async-capable for ORT's run()): contenders take turns,
 *  order rotated each round; per contender the median per-call time over the rounds. */
async function timeInterleavedAsync(fns: Record<string, () => unknown>, o: { rounds: number; minSampleMs?: number }): Promise<Record<string, { ms: number; minMs: number; runs: number; spread: number }>> {
  const names = Object.keys(fns), minSample = o.minSampleMs ?? 20;
  const inner: Record<string, number> = {};
  for (const n of names) {
    let best = Infinity;
    for (let i = 0; i < 3; i++) { const t0 = performance.now(); await fns[n](); best = Math.min(best, performance.now() - t0); }
    inner[n] = Math.max(1, Math.ceil(minSample / Math.max(best, 1e-3)));
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < o.rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(j + r) % names.length];
      const t0 = performance.now();
      for (let i = 0; i < inner[n]; i++) await fns[n]();
      samples[n].push((performance.now() - t0) / inner[n]);
    }
  }
  return Object.fromEntries(names.map((n) => {
    const s = samples[n].sort((a, b) => a - b), med = s[s.length >> 1];
    return [n, { ms: med, minMs: s[0], runs: s.length, spread: (s[Math.floor(s.length * 0.75)] - s[Math.floor(s.length * 0.25)]) / med }];
  }));
}

/** Machine peak in GFLOP/s (best samples): simd128 mul+add, and relaxed_madd when the relaxed tier is benchmarked. */
async function measurePeak(ctx: BenchContext): Promise<{ muladd: number; madd?: number }> {
  const iters = 1_000_000, flop = iters * 12 * 8;
  const fns: Record<string, () => unknown> = {};
  for (const tier of ctx.tiers as Tier[]) {
    const tk = await ctx.tk(tier);
    // the multiplier as a v128.const (1) or from the arguments (0): V8 versions differ on which is fast (assembly/bench/peak.ts)
    for (const cm of [1, 0]) {
      fns[`muladd ${tier} ${cm}`] = () => tk.kernels.bench_peak_muladd_12(iters, 1.0001, cm);
      if (tier === 'relaxed') fns[`madd ${cm}`] = () => tk.kernels.bench_peak_madd_12(iters, 1.0001, cm);
    }
  }
  const t = await timeInterleavedAsync(fns, { rounds: ctx.quick ? 7 : 15, minSampleMs: 10 });
  const best = (n: string) => flop / t[n].minMs / 1e6;
  // the mul+add loop is the same instruction sequence in both binaries: take the better of the two
  const muladd = Math.max(...Object.keys(fns).filter((n) => n.startsWith('muladd')).map(best));
  const madd = fns['madd 1'] ? Math.max(best('madd 1'), best('madd 0')) : undefined;
  // one row per probe (the faster of its two forms), so the report's cells hold the peak
  for (const n of Object.keys(fns).filter((k) => k.endsWith(' 1'))) {
    const other = n.slice(0, -1) + '0', win = best(n) >= best(other) ? n : other;
    ctx.emit({ suite: 'attention', op: `peak f32x4 ${n.startsWith('madd') ? 'relaxed_madd' : 'mul+add'}, 12 chains`, shape: `${iters} iters`, engine: 'tessera',
      variant: n.startsWith('madd') ? 'relaxed' : n.split(' ')[1], threads: 1, ms: t[win].minMs, gflops: best(win), runs: t[win].runs,
      note: `best sample (a peak is what the core can do); m ${win.endsWith(' 1') ? 'a v128.const' : 'from the arguments'}; the other form ${best(win === n ? other : n).toFixed(1)}` });
  }
  return { muladd, madd };
}

/** Arena bytes allocated by fn beyond what was live before it (temporaries included, results excluded if disposed). */
function peakExtra(tk: Tessera, fn: () => void): number {
  const before = tk.arena.stats().usedBytes;
  tk.arena.resetPeak();
  fn();
  return tk.arena.stats().peakBytes - before;
}

export const attentionSuite: Suite = {
  name: 'attention',
  description: 'flash attention f32 / PASA vs onnxruntime-web MHA and tfjs-wasm per-head composite (GFLOP/s, RMSE, peak memory)',
  async run(ctx) {
    const D = 64, H = 1;
    const peak = await measurePeak(ctx);
    const peakNote = (gBest: number, tier: string) => `${(100 * gBest / peak.muladd).toFixed(0)}% of mul+add peak` +
      (tier === 'relaxed' && peak.madd ? `, ${(100 * gBest / peak.madd).toFixed(0)}% of relaxed_madd peak` : '');
    for (const S of [1024, 2048, 4096]) {
      if (!ctx.wants(`S${S} H${H} D${D}`)) continue;
      const n = H * S * D;
      const q = uniform(n, 11), k = uniform(n, 12), v = uniform(n, 13);
      const picks: [number, number][] = [0, 1, S >> 3, S >> 2, S >> 1, S - 2, S - 1].map((r) => [0, r]);
      const gold = goldenRows(q, k, v, S, D, picks);
      const flop = 4 * H * S * S * D;
      const shape = `S${S} H${H} D${D}`;
      const base = { suite: 'attention', op: 'attention', shape, threads: 1 };
      const emit = (r: Omit<Result, 'suite' | 'op' | 'shape' | 'threads'>) => ctx.emit({ ...base, ...r });
      // contenders (all in this process), timed interleaved so load bursts from neighbours hit all of them
      const fns: Record<string, () => unknown> = {};
      const meta: Record<string, { engine: string; variant: string; check: { rmse: number; maxRelErr: number }; peakBytes?: number; note?: string }> = {};
      const cleanup: (() => unknown)[] = [];
      try {
        const sess = await ortMha(H, S, S, D);
        cleanup.push(() => sess.release());
        meta.ort = { engine: 'onnxruntime-web', variant: `ms.MultiHeadAttention ${sess.version}`, check: check(await sess.run(q, k, v), gold, picks, S, D) };
        fns.ort = () => sess.run(q, k, v);
      } catch (e) {
        emit({ engine: 'onnxruntime-web', variant: 'ms.MultiHeadAttention', ms: null, error: String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200) });
      }
      try {
        const a = await tfjsAttention(q, k, v, H, S, S, D);
        cleanup.push(() => a.dispose());
        meta.tfjs = { engine: 'tfjs-wasm', variant: `per-head matMul+softmax+matMul ${a.version}`, check: check(a.run(), gold, picks, S, D) };
        fns.tfjs = () => a.run();
      } catch (e) {
        emit({ engine: 'tfjs-wasm', variant: 'per-head composite', ms: null, error: String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200) });
      }
      for (const tier of ctx.tiers as Tier[]) {
        const tk = await ctx.tk(tier);
        const qt = tk.tensorFrom(q, [H, S, D]), kt = tk.tensorFrom(k, [H, S, D]), vt = tk.tensorFrom(v, [H, S, D]), ot = tk.tensor('f32', [H, S, D]);
        cleanup.push(() => { for (const x of [qt, kt, vt, ot]) x.dispose(); });
        for (const precision of ['f32', 'pasa'] as const) {
          const o: AttentionOptions = { heads: H, seqQ: S, seqK: S, headDim: D, precision };
          // copying form (arrays in, Float32Array out), comparable with the peers' run()
          const arrays = () => tk.attention(q, k, v, o);
          meta[`${precision} arrays ${tier}`] = { engine: 'tessera', variant: `${precision} arrays ${tier}`, check: check(arrays(), gold, picks, S, D),
            peakBytes: peakExtra(tk, arrays), note: 'peakBytes: wasm copies of one KV-head group + scratch' };
          fns[`${precision} arrays ${tier}`] = arrays;
          // tensor form (zero-copy)
          const tensors = () => tk.attention(qt, kt, vt, o, ot);
          tensors();
          meta[`${precision} tensors ${tier}`] = { engine: 'tessera', variant: `${precision} tensors ${tier}`, check: check(ot.read(), gold, picks, S, D),
            peakBytes: peakExtra(tk, tensors), note: 'peakBytes: scratch beyond input/output tensors' };
          fns[`${precision} tensors ${tier}`] = tensors;
        }
      }
      const t = await timeInterleavedAsync(fns, { rounds: ctx.quick ? 7 : 15 });
      for (const c of cleanup) await c();
      const gf = (n: string) => flop / t[n].ms / 1e6;
      const peers = ['ort', 'tfjs'].filter((n) => t[n]);
      const bestPeer = peers.reduce((b, n) => (!b || gf(n) > gf(b) ? n : b), '');
      for (const [name, m] of Object.entries(meta)) {
        let ratio: Result['ratio'];
        if (m.engine === 'tessera') {
          const [precision, form, tier] = name.split(' ');
          ratio = precision === 'f32'
            ? (bestPeer ? { vs: `best peer (${meta[bestPeer].engine})`, value: gf(name) / gf(bestPeer) } : undefined)
            : { vs: `tessera f32 ${form} ${tier}`, value: gf(name) / gf(`f32 ${form} ${tier}`) };
        }
        emit({ engine: m.engine, variant: m.variant, ms: t[name].ms, gflops: gf(name), runs: t[name].runs, spread: t[name].spread, ...m.check,
          peakBytes: m.peakBytes, ratio, note: [m.note, `best ${(flop / t[name].minMs / 1e6).toFixed(1)} GFLOP/s`,
            m.engine === 'tessera' ? peakNote(flop / t[name].minMs / 1e6, name.split(' ')[2]) : ''].filter(Boolean).join('; ') });
      }
    }
    await decode(ctx);
    await longSequence(ctx);
  },
};

/** Decode step (1 query row per head against a KV cache; tensor form): 32 query heads, d = 128, MHA (32 KV heads)
 *  vs GQA (8) vs MQA (1), kvLength 2048, f32, f32 on the tile kernel (f32-tile: the decode kernel switched off) and
 *  PASA, timed interleaved per tier. f32 and PASA with <= 8 query heads per KV head run the decode kernels (decode.ts);
 *  MQA (32 per KV head) stacks the query heads of one KV head as the rows of one tile; pasa-tile is PASA on the path it
 *  took before its decode kernel (K' and V16 prepared for the whole cache, then the tile kernel); pasa-cache is the
 *  PASA step on tk.pasaKVCache (K' kept with the cache; GB/s counts its halves; MQA: the tile kernel on its halves).
 *  f16kv: the same f32 decode with an f16 KV cache (the decode kernel reading halves); f16kv-tile: the tile kernel on
 *  the f16 K/V (it widens one key block at a time; before 2026-11-24 evening it prepared the whole K/V as f32 first). GB/s = K and V bytes read per step (4 per element, 2 for f16 K/V) / time. Output
 *  checked on head 0 and 31 (f16kv against the golden of the widened K/V). */
async function decode(ctx: BenchContext): Promise<void> {
  const H = 32, D = 128, L = 2048;
  const shape = `decode H${H} D${D} kv${L}`;
  if (!ctx.wants(shape)) return;
  for (const tier of ctx.tiers as Tier[]) {
    const tk = await ctx.tk(tier);
    const fns: Record<string, () => unknown> = {};
    const meta: Record<string, { kvH: number; check: { rmse: number; maxRelErr: number } }> = {};
    const cleanup: (() => void)[] = [];
    for (const kvH of [32, 8, 1]) {
      const q = uniform(H * D, 31), k = uniform(kvH * L * D, 32), v = uniform(kvH * L * D, 33);
      // golden rows for heads 0 and H-1 (their KV heads: 0 and kvH-1), as [h, 0] picks of a per-head layout
      const gold = [0, H - 1].map((h) => {
        const g = Math.floor(h / (H / kvH));
        return goldenRows(q.subarray(h * D, (h + 1) * D), k.subarray(g * L * D, (g + 1) * L * D), v.subarray(g * L * D, (g + 1) * L * D), L, D, [[0, 0]])[0]; // S = L keys; q has 1 row (r = 0)
      });
      const qt = tk.tensorFrom(q, [H, 1, D]), kt = tk.tensorFrom(k, [kvH, L, D]), vt = tk.tensorFrom(v, [kvH, L, D]), ot = tk.tensor('f32', [H, 1, D]);
      // f16 KV cache: the halves of k / v; its golden is on the widened (exact) values
      const k16 = tk.f16.fromF32(k), v16 = tk.f16.fromF32(v), kw = tk.f16.toF32(k16), vw = tk.f16.toF32(v16);
      const gold16 = [0, H - 1].map((h) => {
        const g = Math.floor(h / (H / kvH));
        return goldenRows(q.subarray(h * D, (h + 1) * D), kw.subarray(g * L * D, (g + 1) * L * D), vw.subarray(g * L * D, (g + 1) * L * D), L, D, [[0, 0]])[0];
      });
      const kt16 = tk.tensorFrom(k16, [kvH, L, D]), vt16 = tk.tensorFrom(v16, [kvH, L, D]);
      // pasa-cache: the same PASA step on tk.pasaKVCache (K' prepared as rows were appended, halves read once)
      const cache = tk.pasaKVCache({ heads: H, kvHeads: kvH, headDim: D, capacity: L });
      cache.append(kt, vt);
      cleanup.push(() => { for (const x of [qt, kt, vt, ot, kt16, vt16, cache]) x.dispose(); });
      for (const variant of ['f32', 'f32-tile', 'f16kv', 'f16kv-tile', 'pasa', 'pasa-tile', 'pasa-cache'] as const) {
        const name = `${variant} kvHeads ${kvH}`;
        const precision = variant.startsWith('pasa') ? 'pasa' : 'f32';
        const kv16 = variant.startsWith('f16kv');
        const run = variant === 'pasa-cache' ? () => cache.decode(qt, ot)
          : () => tk.attentionDecode(qt, kv16 ? kt16 : kt, kv16 ? vt16 : vt, { heads: H, kvHeads: kvH, headDim: D, kvLength: L, precision }, ot);
        // f32-tile: the tile kernel (attention_fwd) the f32 decode kernel replaced, for the before/after ratio;
        // f16kv-tile: f16 K/V on the tile kernel (which now reads the halves itself, one key block widened at a time,
        // no prep: tileReadsKV), i.e. not the prep + tile path they took before the decode kernel read halves;
        // pasa-tile: PASA as before its decode kernel (K' and V16 prepared for the whole cache, then the tile kernel)
        const sw = variant === 'f32-tile' ? 'decodeKernel' : variant === 'f16kv-tile' ? 'decodeKernelF16' : variant === 'pasa-tile' ? 'decodeKernelPasa' : null;
        fns[name] = !sw ? run : () => {
          attentionInternals[sw] = false;
          try { run(); } finally { attentionInternals[sw] = true; }
        };
        (fns[name] as () => unknown)();
        const o = ot.read();
        meta[name] = { kvH, check: check([...o.subarray(0, D), ...o.subarray((H - 1) * D)], kv16 ? gold16 : gold, [[0, 0], [0, 1]], 1, D) };
      }
    }
    const t = await timeInterleavedAsync(fns, { rounds: ctx.quick ? 7 : 15, minSampleMs: 10 });
    for (const c of cleanup) c();
    for (const [name, m] of Object.entries(meta)) {
      const [variant] = name.split(' ');
      const mha = `${variant} kvHeads 32`, tile = `f32-tile kvHeads ${m.kvH}`, tile16 = `f16kv-tile kvHeads ${m.kvH}`, f32 = `f32 kvHeads ${m.kvH}`;
      const elemB = variant.startsWith('f16kv') || variant === 'pasa-cache' ? 2 : 4;
      ctx.emit({ suite: 'attention', op: 'attention decode', shape: `${shape} kvHeads ${m.kvH}`, engine: 'tessera', variant: `${variant} tensors ${tier}`, threads: 1,
        ms: t[name].ms, gbps: 2 * m.kvH * L * D * elemB / t[name].ms / 1e6, runs: t[name].runs, spread: t[name].spread, ...m.check,
        ratio: variant === 'f32' ? { vs: `tile kernel (${tile})`, value: t[tile].ms / t[name].ms }
          : variant === 'f16kv' ? { vs: `the tile kernel on f16 K/V (${tile16})`, value: t[tile16].ms / t[name].ms }
          : (variant === 'pasa' || variant === 'pasa-cache') ? { vs: `PASA before (pasa-tile kvHeads ${m.kvH})`, value: t[`pasa-tile kvHeads ${m.kvH}`].ms / t[name].ms }
          : m.kvH === 32 ? undefined : { vs: `MHA (${mha})`, value: t[mha].ms / t[name].ms },
        note: [`${(1000 / t[name].ms).toFixed(0)} decode steps/s (all ${H} heads, one layer); GB/s = K+V bytes read per step`,
          variant === 'f16kv' || variant.startsWith('pasa') ? `${(t[f32].ms / t[name].ms).toFixed(2)}x the f32-K/V decode (${f32})` : '',
          variant === 'pasa-cache' ? `${(t[`f16kv kvHeads ${m.kvH}`].ms / t[name].ms).toFixed(2)}x the f32 decode on an f16 cache (f16kv kvHeads ${m.kvH})` : ''].filter(Boolean).join('; ') });
    }
  }
}

/** S = 16384, d = 64, 8 heads (quick: S = 8192, 1 head) on the fastest tier: one run per precision, arena peak beyond inputs and outputs. */
async function longSequence(ctx: BenchContext): Promise<void> {
  // quick preset (the default of `npm run bench`, every runtime): S = 8192, 1 head (~17 GFLOP instead of ~550)
  const S = ctx.quick ? 8192 : 16384, D = 64, H = ctx.quick ? 1 : 8;
  if (!ctx.wants(`S${S} H${H} D${D}`)) return;
  const tier = ctx.tiers[ctx.tiers.length - 1] as Tier;
  const tk = await ctx.tk(tier);
  const n = H * S * D;
  const q = uniform(n, 21), k = uniform(n, 22), v = uniform(n, 23);
  const picks: [number, number][] = [[0, 0], [Math.min(3, H - 1), 5000], [H - 1, S - 1]];
  const gold = goldenRows(q, k, v, S, D, picks);
  const flop = 4 * H * S * S * D;
  const qt = tk.tensorFrom(q, [H, S, D]), kt = tk.tensorFrom(k, [H, S, D]), vt = tk.tensorFrom(v, [H, S, D]), ot = tk.tensor('f32', [H, S, D]);
  for (const precision of ['f32', 'pasa'] as const) {
    const o: AttentionOptions = { heads: H, seqQ: S, seqK: S, headDim: D, precision };
    let ms = 0;
    const pk = peakExtra(tk, () => { const t0 = performance.now(); tk.attention(qt, kt, vt, o, ot); ms = performance.now() - t0; });
    const c = check(ot.read(), gold, picks, S, D);
    ctx.emit({ suite: 'attention', op: 'attention (long)', shape: `S${S} H${H} D${D}`, engine: 'tessera', variant: `${precision} tensors ${tier}`, threads: 1,
      ms, gflops: flop / ms / 1e6, runs: 1, ...c, peakBytes: pk,
      note: `one run; extra wasm memory ${(pk / MiB).toFixed(2)} MiB (budget 64 MiB: ${pk <= 64 * MiB ? 'OK' : 'EXCEEDED'}); inputs+output ${(4 * n * 4 / MiB).toFixed(0)} MiB` });
  }
  for (const x of [qt, kt, vt, ot]) x.dispose();
  // the peers at long sequences: ORT's MHA is known to fail from S = 4096 on wasm32 (scores buffer); try S = 8192 once
  try {
    const s = await ortMha(1, 8192, 8192, D);
    try {
      const a = uniform(8192 * D, 1);
      const t0 = performance.now(); await s.run(a, a, a);
      ctx.emit({ suite: 'attention', op: 'attention (long)', shape: `S8192 H1 D${D}`, engine: 'onnxruntime-web', variant: 'ms.MultiHeadAttention', threads: 1, ms: performance.now() - t0, runs: 1 });
    } finally { await s.release(); }
  } catch (e) {
    ctx.emit({ suite: 'attention', op: 'attention (long)', shape: `S8192 H1 D${D}`, engine: 'onnxruntime-web', variant: 'ms.MultiHeadAttention', threads: 1, ms: null,
      error: String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200) });
  }
}
