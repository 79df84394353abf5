// Dense GEMM / GEMV / conv2d: tessera (both tiers) vs tfjs-backend-wasm (XNNPACK) and
// onnxruntime-web (MLAS) in the same process, single thread. Also measures the machine's f32x4
// peak (12 independent mul+add chains; relaxed_madd on the relaxed tier) and reports our GFLOP/s as
// a fraction of it.
//
// Forms of ours that are timed ("call from JS, get a JS array back" unless noted):
//   copying  tk.matmul / tk.conv2d: packs the weights on every call (nothing cached)
//   packed   lin.apply(a) / cv.apply(x): weights packed once, activations copied in, result copied
//            out — the same contract as the peers (tfjs persistent weight tensor + dataSync,
//            ORT initializer + session.run). Ratios vs peers are computed on this row and the copying row.
//   tensor + read() lin.run(aTensor, outTensor) then outTensor.read(): the activation lives in
//            the arena (like tfjs' persistent input tensor), the result is copied out to a JS array
//            (like dataSync) — exactly the tfjs timing contract.
//   zero-copy lin.run(aTensor, outTensor): arena tensors, no copies.
import type { Tessera, Tier } from '../../bindings/index.js';
import type { BenchContext, Suite } from '../lib/context.js';
import type { Result } from '../lib/report.js';
import { timeAsync } from '../lib/timing.js';
import { loadOrt, type OrtPeer } from '../peers/ort.js';
import { loadTfjs, nhwcToNchw, type TfjsPeer } from '../peers/tfjs.js';

/** The box is shared and noisy: besides the median-based ratio, report the ratio of best (min) sample times. */
function minNote(ours: number, other: number | null | undefined, vs: string): string {
  return other ? `best-sample ratio ${(other / ours).toFixed(2)}x vs ${vs}` : '';
}

function randn(n: number, seed: number): Float32Array {
  const a = new Float32Array(n); let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; a[i] = (x / 4294967296) * 2 - 1; }
  return a;
}

/** max over sampled outputs of |y - ref| / sum|a||b| (f64 reference). */
function checkMatmul(a: Float32Array, b: ArrayLike<number>, y: ArrayLike<number>, m: number, k: number, n: number): number {
  let worst = 0;
  for (let s = 0; s < 24; s++) {
    const i = (s * 7919) % m, j = (s * 104729 + 3) % n;
    let acc = 0, mag = 0;
    for (let p = 0; p < k; p++) { const t = a[i * k + p] * b[p * n + j]; acc += t; mag += Math.abs(t); }
    worst = Math.max(worst, Math.abs(y[i * n + j] - acc) / (mag + 1e-30));
  }
  return worst;
}

interface ConvCase { name: string; c: number; h: number; w: number; cout: number; k: number; stride: number; pad: number; groups: number }

function checkConv(x: Float32Array, w: Float32Array, y: ArrayLike<number>, cc: ConvCase): number {
  const { c, h, w: W, cout, k, stride, pad, groups } = cc;
  const ho = Math.floor((h + 2 * pad - k) / stride) + 1, wo = Math.floor((W + 2 * pad - k) / stride) + 1;
  const dw = groups > 1;
  let worst = 0;
  for (let s = 0; s < 24; s++) {
    const co = (s * 37) % cout, oy = (s * 13 + (s & 1) * (ho - 1)) % ho, ox = (s * 29 + (s & 2) * (wo - 1)) % wo;
    let acc = 0, mag = 0;
    for (let ci = 0; ci < (dw ? 1 : c); ci++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
      if (iy < 0 || ix < 0 || iy >= h || ix >= W) continue;
      const t = x[((dw ? co : ci) * h + iy) * W + ix] * w[((co * (dw ? 1 : c) + ci) * k + ky) * k + kx];
      acc += t; mag += Math.abs(t);
    }
    worst = Math.max(worst, Math.abs(y[(co * ho + oy) * wo + ox] - acc) / (mag + 1e-30));
  }
  return worst;
}

export const denseSuite: Suite = {
  name: 'dense',
  description: 'dense f32/f16-weight GEMM, GEMV, NCHW conv2d vs tfjs-wasm and onnxruntime-web (1 thread)',
  async run(ctx: BenchContext) {
    const topts = ctx.quick ? { minRuns: 5, minTotalMs: 150, maxWarmup: 8 } : {};
    const emit = (r: Omit<Result, 'suite' | 'threads'>) => ctx.emit({ suite: 'dense', threads: 1, ...r });

    // ---- peak of the machine, per tier
    const peak: Partial<Record<Tier, { muladd: number; madd: number }>> = {};
    for (const tier of ctx.tiers) {
      const tk = await ctx.tk(tier);
      const iters = 2_000_000, fl = iters * 12 * 8;
      const tm = ctx.time(() => tk.kernels.bench_peak_muladd_12(iters, 1.0001));
      const tf = ctx.time(() => tk.kernels.bench_peak_madd_12(iters, 1.0001));
      peak[tier] = { muladd: fl / tm.ms / 1e6, madd: fl / tf.ms / 1e6 };
      emit({ op: 'peak f32x4 mul+add, 12 chains', shape: `${iters} iters`, engine: 'tessera', variant: tier, ms: tm.ms, gflops: peak[tier]!.muladd, runs: tm.runs, spread: tm.spread });
      emit({ op: `peak f32x4 madd (${tier === 'relaxed' ? 'relaxed_madd' : 'mul+add'}), 12 chains`, shape: `${iters} iters`, engine: 'tessera', variant: tier, ms: tf.ms, gflops: peak[tier]!.madd, runs: tf.runs, spread: tf.spread });
    }
    const simdPeak = peak.simd128?.muladd ?? peak[ctx.tiers[0]]!.muladd;
    const peakNote = (g: number, tier: Tier) => `${(100 * g / simdPeak).toFixed(0)}% of simd128 peak` +
      (tier === 'relaxed' && peak.relaxed ? `, ${(100 * g / peak.relaxed.madd).toFixed(0)}% of relaxed_madd peak` : '');

    let tfjs: TfjsPeer | null = null, ort: OrtPeer | null = null;
    try { tfjs = await loadTfjs(); } catch (e) { emit({ op: '(peer load)', shape: '', engine: 'tfjs-wasm', variant: '', ms: null, error: String(e) }); }
    try { ort = await loadOrt(); } catch (e) { emit({ op: '(peer load)', shape: '', engine: 'onnxruntime-web', variant: '', ms: null, error: String(e) }); }

    // ---- matmul / GEMV
    const mm: [number, number, number][] = [[256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [1, 4096, 4096]];
    for (const [m, k, n] of mm) {
      const shape = `${m}x${k}x${n}`, fl = 2 * m * k * n;
      const op = m === 1 ? 'gemv' : 'matmul';
      const a = randn(m * k, 1), b = randn(k * n, 2);
      let tfjsMs: number | null = null, tfjsMin: number | null = null;
      if (tfjs) {
        const r = tfjs.matmul(a, b, m, k, n);
        const t = ctx.time(r.run, topts);
        tfjsMs = t.ms; tfjsMin = t.minMs;
        emit({ op, shape, engine: 'tfjs-wasm', variant: 'B persistent tensor', ms: t.ms, gflops: fl / t.ms / 1e6, runs: t.runs, spread: t.spread, maxRelErr: checkMatmul(a, b, r.run(), m, k, n) });
        r.dispose();
      }
      if (ort) {
        const r = await ort.matmul(a, b, m, k, n);
        const t = await timeAsync(r.run, topts);
        emit({ op, shape, engine: 'onnxruntime-web', variant: 'B initializer', ms: t.ms, gflops: fl / t.ms / 1e6, runs: t.runs, spread: t.spread, maxRelErr: checkMatmul(a, b, await r.run(), m, k, n),
          ratio: tfjsMs ? { vs: 'tfjs-wasm', value: tfjsMs / t.ms } : undefined });
        await r.dispose();
      }
      for (const tier of ctx.tiers) {
        const tk = await ctx.tk(tier);
        const f32ms: Record<string, number> = {}, f32min: Record<string, number> = {};
        for (const wdt of m === 1 ? ['f32', 'f16'] as const : ['f32'] as const) {
          const bw = wdt === 'f16' ? tk.f16.fromF32(b) : b;
          const bref = wdt === 'f16' ? tk.f16.toF32(bw as Uint16Array) : b;
          const row = (variant: string, t: { ms: number; minMs: number; runs: number; spread: number }, y: ArrayLike<number>, vsTfjs: boolean) => {
            const g = fl / t.ms / 1e6;
            const ratio = wdt === 'f16' && f32ms[variant] ? { vs: `tessera f32 (${variant})`, value: f32ms[variant] / t.ms }
              : vsTfjs && tfjsMs ? { vs: 'tfjs-wasm', value: tfjsMs / t.ms } : undefined;
            if (wdt === 'f32') { f32ms[variant] = t.ms; f32min[variant] = t.minMs; }
            emit({ op, shape, engine: 'tessera', variant: `${tier} ${wdt} ${variant}`, ms: t.ms, gflops: g, gbps: m === 1 ? (k * n * (wdt === 'f16' ? 2 : 4)) / t.ms / 1e6 : undefined,
              runs: t.runs, spread: t.spread, maxRelErr: checkMatmul(a, bref, y, m, k, n), ratio,
              note: [m > 1 ? peakNote(g, tier) : '', minNote(t.minMs, wdt === 'f16' ? f32min[variant] : vsTfjs ? tfjsMin : null, wdt === 'f16' ? 'f32' : 'tfjs')].filter(Boolean).join('; ') });
          };
          if (!(m === 1 && ctx.quick && wdt === 'f16')) {
            const t = ctx.time(() => tk.matmul(a, bw, m, k, n), topts);
            row('copying (packs B per call)', t, tk.matmul(a, bw, m, k, n), true);
          }
          const lin = tk.dense.packMatmul(bw, k, n);
          const tp = ctx.time(() => lin.apply(a, m), topts);
          row('packed (B packed once)', tp, lin.apply(a, m), true);
          const at = tk.tensorFrom(a), ot = tk.tensor('f32', [m * n]);
          const tr = ctx.time(() => { lin.run(at, ot, m); return ot.read(); }, topts);
          row('a tensor + read() (tfjs contract)', tr, ot.read(), true);
          const tz = ctx.time(() => lin.run(at, ot, m), topts);
          row('zero-copy', tz, ot.read(), false);
          at.dispose(); ot.dispose(); lin.dispose();
        }
      }
    }

    // ---- conv2d (NCHW for ours and ORT; tfjs in its native NHWC)
    const convs: ConvCase[] = [
      { name: 'conv3x3', c: 64, h: 56, w: 56, cout: 64, k: 3, stride: 1, pad: 1, groups: 1 },
      { name: 'conv1x1', c: 128, h: 28, w: 28, cout: 256, k: 1, stride: 1, pad: 0, groups: 1 },
      { name: 'dwconv3x3', c: 32, h: 112, w: 112, cout: 32, k: 3, stride: 1, pad: 1, groups: 32 },
    ];
    for (const cc of convs) {
      const { c, h, w: W, cout, k, stride, pad, groups } = cc;
      const ho = Math.floor((h + 2 * pad - k) / stride) + 1, wo = Math.floor((W + 2 * pad - k) / stride) + 1;
      const fl = 2 * ho * wo * cout * (c / groups) * k * k;
      const shape = `${h}x${W}x${c}->${cout} k${k} s${stride} p${pad}${groups > 1 ? ' depthwise' : ''}`;
      const x = randn(c * h * W, 3), w = randn(cout * (c / groups) * k * k, 4);
      let tfjsMs: number | null = null, tfjsMin: number | null = null;
      if (tfjs) {
        const r = tfjs.conv(x, w, { c, h, w: W, cout, k, stride, dw: groups > 1 });
        const t = ctx.time(r.run, topts);
        tfjsMs = t.ms; tfjsMin = t.minMs;
        emit({ op: cc.name, shape, engine: 'tfjs-wasm', variant: 'NHWC, W persistent', ms: t.ms, gflops: fl / t.ms / 1e6, runs: t.runs, spread: t.spread,
          maxRelErr: checkConv(x, w, nhwcToNchw(r.run(), cout, ho, wo), cc) });
        r.dispose();
      }
      if (ort) {
        const r = await ort.conv(x, w, { c, h, w: W, cout, k, stride, pad, groups });
        const t = await timeAsync(r.run, topts);
        emit({ op: cc.name, shape, engine: 'onnxruntime-web', variant: 'NCHW, W initializer', ms: t.ms, gflops: fl / t.ms / 1e6, runs: t.runs, spread: t.spread,
          maxRelErr: checkConv(x, w, await r.run(), cc), ratio: tfjsMs ? { vs: 'tfjs-wasm', value: tfjsMs / t.ms } : undefined });
        await r.dispose();
      }
      for (const tier of ctx.tiers) {
        const tk: Tessera = await ctx.tk(tier);
        const opts = { c, h, w: W, cout, kh: k, kw: k, stride, pad, groups };
        const row = (variant: string, t: { ms: number; minMs: number; runs: number; spread: number }, y: ArrayLike<number>, vsTfjs: boolean) => {
          const g = fl / t.ms / 1e6;
          emit({ op: cc.name, shape, engine: 'tessera', variant: `${tier} f32 ${variant}`, ms: t.ms, gflops: g, runs: t.runs, spread: t.spread,
            maxRelErr: checkConv(x, w, y, cc), ratio: vsTfjs && tfjsMs ? { vs: 'tfjs-wasm', value: tfjsMs / t.ms } : undefined,
            note: [peakNote(g, tier), minNote(t.minMs, vsTfjs ? tfjsMin : null, 'tfjs')].filter(Boolean).join('; ') });
        };
        const t = ctx.time(() => tk.conv2d(x, w, opts), topts);
        row('copying (packs W per call)', t, tk.conv2d(x, w, opts), true);
        const cv = tk.dense.packConv2d(w, opts);
        const tp = ctx.time(() => cv.apply(x), topts);
        row('packed (W packed once)', tp, cv.apply(x), true);
        const xt = tk.tensorFrom(x), ot = tk.tensor('f32', [cout * ho * wo]);
        const tr = ctx.time(() => { cv.run(xt, ot); return ot.read(); }, topts);
        row('x tensor + read() (tfjs contract)', tr, ot.read(), true);
        const tz = ctx.time(() => cv.run(xt, ot), topts);
        row('zero-copy', tz, ot.read(), false);
        xt.dispose(); ot.dispose(); cv.dispose();
      }
    }
  },
};

