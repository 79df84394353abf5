// Dense GEMM / GEMV / conv2d: tessera (both tiers) vs tfjs-backend-wasm (XNNPACK) and
// onnxruntime-web (MLAS) in the same process, single thread. Also measures the machine's f32x4
// peak (12 independent mul+add chains; relaxed_madd on the relaxed tier) and reports our GFLOP/s as
// a fraction of it.
//
// Timing: the box is shared and noisy, so all engines/variants of one case are measured
// INTERLEAVED (round-robin samples, each sample >= 5-10 ms of back-to-back calls, after warm-up);
// ms is the median sample, and the notes also give the ratio of best (min) samples.
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

/**
 * tfjs timed without its readback (key and variant of that entry), and our form it is compared with. Its check reads
 * the same op's result through dataSync (a disposed result cannot be read).
 */
const TFJS_COMPUTE = 'compute only';
const TFJS_COMPUTE_VARIANT = 'compute only (result left in wasm memory, no dataSync)';
const ZERO_COPY = 'zero-copy run';

interface Entry {
  engine: string;
  variant: string;
  tier?: Tier;
  /** tessera weight dtype (GEMV f16 rows are compared with the same f32 variant) */
  wdt?: 'f32' | 'f16';
  key?: string;
  /** peak probes: the multiplier as a v128.const or computed from the arguments */
  mul?: 'const' | 'arg';
  fn: () => unknown;
  /** max relative error of this entry's output against the f64 reference */
  check: () => number | Promise<number>;
  vsTfjs: boolean;
  /** zero-copy rows: compared with tfjs's compute-only entry (neither copies the result out of wasm memory) */
  vsTfjsCompute?: boolean;
  gbytes?: number;
}
interface Stat { ms: number; minMs: number; runs: number; spread: number }

const nowMs = () => performance.now();
async function call(fn: () => unknown): Promise<void> {
  const r = fn();
  if (r && typeof (r as Promise<unknown>).then === 'function') await r;
}

/** Warm up every entry, then take `rounds` round-robin samples of each. */
async function measure(entries: Entry[], rounds: number, sampleMs: number): Promise<Map<Entry, Stat>> {
  const inner = new Map<Entry, number>();
  for (const e of entries) {
    let best = Infinity, stale = 0, spent = 0;
    for (let w = 0; w < 30 && stale < 3 && spent < 1500; w++) {
      const t0 = nowMs(); await call(e.fn); const t = nowMs() - t0;
      spent += t;
      if (t < best * 0.98) { best = t; stale = 0; } else stale++;
    }
    inner.set(e, Math.max(1, Math.ceil(sampleMs / Math.max(best, 1e-3))));
  }
  const samples = new Map<Entry, number[]>(entries.map((e) => [e, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[(i + r) % entries.length];
      const n = inner.get(e)!;
      const t0 = nowMs();
      for (let j = 0; j < n; j++) await call(e.fn);
      samples.get(e)!.push((nowMs() - t0) / n);
    }
  }
  const out = new Map<Entry, Stat>();
  for (const [e, xs] of samples) {
    xs.sort((a, b) => a - b);
    const med = xs[xs.length >> 1];
    out.set(e, { ms: med, minMs: xs[0], runs: xs.length, spread: (xs[Math.floor(xs.length * 0.75)] - xs[Math.floor(xs.length * 0.25)]) / med });
  }
  return out;
}

export const denseSuite: Suite = {
  name: 'dense',
  description: 'dense f32/f16-weight GEMM, GEMV, NCHW conv2d vs tfjs-wasm and onnxruntime-web (1 thread, interleaved timing)',
  async run(ctx: BenchContext) {
    const rounds = ctx.quick ? 5 : 15, sampleMs = ctx.quick ? 5 : 10;
    const emit = (r: Omit<Result, 'suite' | 'threads'>) => ctx.emit({ suite: 'dense', threads: 1, ...r });

    // ---- peak of the machine, per tier (both forms interleaved)
    const peak: Partial<Record<Tier, { muladd: number; madd: number }>> = {};
    const iters = 2_000_000, pfl = iters * 12 * 8;
    // each probe twice: the multiplier as a v128.const or computed from the arguments (V8 versions differ on
    // which runs at full speed, see assembly/bench/peak.ts); the faster one is the peak
    const pk: Entry[] = [];
    for (const tier of ctx.tiers) {
      const tk = await ctx.tk(tier);
      for (const cm of [1, 0]) {
        pk.push({ engine: 'tessera', variant: tier, tier, key: 'muladd', mul: cm ? 'const' : 'arg', fn: () => tk.kernels.bench_peak_muladd_12(iters, 1.0001, cm), check: () => 0, vsTfjs: false });
        pk.push({ engine: 'tessera', variant: tier, tier, key: 'madd', mul: cm ? 'const' : 'arg', fn: () => tk.kernels.bench_peak_madd_12(iters, 1.0001, cm), check: () => 0, vsTfjs: false });
      }
    }
    const pst = await measure(pk, rounds, sampleMs);
    for (const e of pk) {
      if (e.mul !== 'const') continue;
      const other = pk.find((o) => o !== e && o.tier === e.tier && o.key === e.key)!;
      const [tc, ta] = [pst.get(e)!, pst.get(other)!];
      const t = tc.minMs <= ta.minMs ? tc : ta, form = t === tc ? 'm a v128.const' : 'm from the arguments';
      // the peak is the best sample (a peak is what the core can do; medians carry the neighbours' noise)
      (peak[e.tier!] ??= { muladd: 0, madd: 0 })[e.key as 'muladd' | 'madd'] = pfl / t.minMs / 1e6;
      emit({ op: e.key === 'muladd' ? 'peak f32x4 mul+add, 12 chains' : `peak f32x4 madd (${e.tier === 'relaxed' ? 'relaxed_madd' : 'mul+add'}), 12 chains`,
        shape: `${iters} iters`, engine: 'tessera', variant: e.variant, ms: t.ms, gflops: pfl / t.ms / 1e6, runs: t.runs, spread: t.spread,
        note: `best sample ${(pfl / t.minMs / 1e6).toFixed(1)} GFLOP/s (${form}; the other form ${(pfl / (t === tc ? ta : tc).minMs / 1e6).toFixed(1)})` });
    }
    // simd128 peak: the mul+add loop is the same instruction sequence in all three of simd128
    // mul+add, simd128 madd and relaxed mul+add; take the best of them (most robust to noise)
    const simdPeak = Math.max(...ctx.tiers.map((t) => peak[t]!.muladd), peak.simd128?.madd ?? 0);
    // fraction of peak on best samples for both (same estimator as the peak itself)
    const peakNote = (gBest: number, tier: Tier) => `best sample ${gBest.toFixed(1)} GFLOP/s = ${(100 * gBest / simdPeak).toFixed(0)}% of simd128 peak` +
      (tier === 'relaxed' && peak.relaxed ? `, ${(100 * gBest / peak.relaxed.madd).toFixed(0)}% of relaxed_madd peak` : '');

    let tfjs: TfjsPeer | null = null, ort: OrtPeer | null = null;
    try { tfjs = await loadTfjs(); } catch (e) { emit({ op: '(peer load)', shape: '', engine: 'tfjs-wasm', variant: '', ms: null, error: String(e) }); }
    try { ort = await loadOrt(); } catch (e) { emit({ op: '(peer load)', shape: '', engine: 'onnxruntime-web', variant: '', ms: null, error: String(e) }); }

    /** measure one case's entries interleaved and emit them with ratios */
    // memory-bound cases (GEMV, depthwise: DRAM streams, fresh multi-MB arrays and the GC they cause)
    // swing far more between samples than the compute-bound ones: three times the rounds there
    const runCase = async (op: string, shape: string, fl: number, entries: Entry[], cleanup: (() => unknown)[], gemv: boolean, memoryBound = gemv) => {
      const st = await measure(entries, memoryBound ? 3 * rounds : rounds, sampleMs);
      const tf = entries.find((e) => e.engine === 'tfjs-wasm' && e.key !== TFJS_COMPUTE);
      const tfs = tf ? st.get(tf)! : null;
      const tfc = entries.find((e) => e.engine === 'tfjs-wasm' && e.key === TFJS_COMPUTE);
      const tfcs = tfc ? st.get(tfc)! : null;
      for (const e of entries) {
        const t = st.get(e)!, g = fl / t.ms / 1e6;
        let ratio: Result['ratio'], vsMin: number | null = null, vsName = '';
        if (e.wdt === 'f16') {
          const f = entries.find((x) => x.tier === e.tier && x.wdt === 'f32' && x.key === e.key);
          if (f) { ratio = { vs: `tessera ${e.tier} f32 (same form)`, value: st.get(f)!.ms / t.ms }; vsMin = st.get(f)!.minMs; vsName = 'f32'; }
        } else if (e.vsTfjs && tfs) { ratio = { vs: 'tfjs-wasm', value: tfs.ms / t.ms }; vsMin = tfs.minMs; vsName = 'tfjs'; }
        else if (e.vsTfjsCompute && tfcs) { ratio = { vs: 'tfjs-wasm compute only', value: tfcs.ms / t.ms }; vsMin = tfcs.minMs; vsName = 'tfjs compute only'; }
        const notes = [e.engine === 'tessera' && !gemv ? peakNote(fl / t.minMs / 1e6, e.tier!) : '', vsMin ? minNote(t.minMs, vsMin, vsName) : ''];
        emit({ op, shape, engine: e.engine, variant: e.variant, ms: t.ms, gflops: g, gbps: e.gbytes ? e.gbytes / t.ms / 1e6 : undefined, runs: t.runs, spread: t.spread,
          maxRelErr: await e.check(), ratio, note: notes.filter(Boolean).join('; ') || undefined });
      }
      for (const c of cleanup) await c();
    };

    // ---- matmul / GEMV
    const mm: [number, number, number][] = [[256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [1, 4096, 4096]];
    for (const [m, k, n] of mm) {
      const shape = `${m}x${k}x${n}`, fl = 2 * m * k * n;
      const op = m === 1 ? 'gemv' : 'matmul';
      const a = randn(m * k, 1), b = randn(k * n, 2);
      const entries: Entry[] = [], cleanup: (() => unknown)[] = [];
      if (tfjs) {
        const r = tfjs.matmul(a, b, m, k, n);
        entries.push({ engine: 'tfjs-wasm', variant: 'B persistent tensor', fn: r.run, check: () => checkMatmul(a, b, r.run(), m, k, n), vsTfjs: false, gbytes: m === 1 ? k * n * 4 : undefined });
        entries.push({ engine: 'tfjs-wasm', variant: TFJS_COMPUTE_VARIANT, key: TFJS_COMPUTE, fn: r.compute, check: () => checkMatmul(a, b, r.run(), m, k, n), vsTfjs: false, gbytes: m === 1 ? k * n * 4 : undefined });
        cleanup.push(r.dispose);
      }
      if (ort) {
        const r = await ort.matmul(a, b, m, k, n);
        entries.push({ engine: 'onnxruntime-web', variant: 'B initializer', fn: r.run, check: async () => checkMatmul(a, b, await r.run(), m, k, n), vsTfjs: true, gbytes: m === 1 ? k * n * 4 : undefined });
        cleanup.push(r.dispose);
      }
      for (const tier of ctx.tiers) {
        const tk = await ctx.tk(tier);
        for (const wdt of m === 1 ? ['f32', 'f16'] as const : ['f32'] as const) {
          const bw = wdt === 'f16' ? tk.f16.fromF32(b) : b;
          const bref = wdt === 'f16' ? tk.f16.toF32(bw as Uint16Array) : b;
          const gbytes = m === 1 ? k * n * (wdt === 'f16' ? 2 : 4) : undefined;
          const add = (key: string, fn: () => Float32Array | void, out: () => Float32Array, vsTfjs: boolean) =>
            entries.push({ engine: 'tessera', variant: `${tier} ${wdt} ${key}`, tier, wdt, key, fn, check: () => checkMatmul(a, bref, out(), m, k, n), vsTfjs, vsTfjsCompute: key === ZERO_COPY, gbytes });
          const copyKey = m <= 4 ? 'copying tk.matmul (B streamed, not packed)' : 'copying tk.matmul (packs B per call)';
          add(copyKey, () => tk.matmul(a, bw, m, k, n), () => tk.matmul(a, bw, m, k, n), true);
          const lin = tk.dense.packMatmul(bw, k, n);
          add('packed apply (B packed once)', () => lin.apply(a, m), () => lin.apply(a, m), true);
          const at = tk.tensorFrom(a), ot = tk.tensor('f32', [m * n]);
          add('a tensor + read() (tfjs contract)', () => { lin.run(at, ot, m); return ot.read(); }, () => { lin.run(at, ot, m); return ot.read(); }, true);
          add(ZERO_COPY, () => lin.run(at, ot, m), () => { lin.run(at, ot, m); return ot.read(); }, false);
          cleanup.push(() => { at.dispose(); ot.dispose(); lin.dispose(); });
        }
      }
      await runCase(op, shape, fl, entries, cleanup, m === 1);
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
      const entries: Entry[] = [], cleanup: (() => unknown)[] = [];
      if (tfjs) {
        const r = tfjs.conv(x, w, { c, h, w: W, cout, k, stride, dw: groups > 1 });
        entries.push({ engine: 'tfjs-wasm', variant: 'NHWC, x and W persistent tensors', fn: r.run, check: () => checkConv(x, w, nhwcToNchw(r.run(), cout, ho, wo), cc), vsTfjs: false });
        entries.push({ engine: 'tfjs-wasm', variant: `NHWC, ${TFJS_COMPUTE_VARIANT}`, key: TFJS_COMPUTE, fn: r.compute, check: () => checkConv(x, w, nhwcToNchw(r.run(), cout, ho, wo), cc), vsTfjs: false });
        cleanup.push(r.dispose);
      }
      if (ort) {
        const r = await ort.conv(x, w, { c, h, w: W, cout, k, stride, pad, groups });
        entries.push({ engine: 'onnxruntime-web', variant: 'NCHW, W initializer', fn: r.run, check: async () => checkConv(x, w, await r.run(), cc), vsTfjs: true });
        cleanup.push(r.dispose);
      }
      for (const tier of ctx.tiers) {
        const tk: Tessera = await ctx.tk(tier);
        const opts = { c, h, w: W, cout, kh: k, kw: k, stride, pad, groups };
        const add = (key: string, fn: () => Float32Array | void, out: () => Float32Array, vsTfjs: boolean) =>
          entries.push({ engine: 'tessera', variant: `${tier} f32 ${key}`, tier, wdt: 'f32', key, fn, check: () => checkConv(x, w, out(), cc), vsTfjs, vsTfjsCompute: key === ZERO_COPY });
        add('copying tk.conv2d (packs W per call)', () => tk.conv2d(x, w, opts), () => tk.conv2d(x, w, opts), true);
        const cv = tk.dense.packConv2d(w, opts);
        add('packed apply (W packed once)', () => cv.apply(x), () => cv.apply(x), true);
        const dst = new Float32Array(cout * ho * wo);
        add('packed apply into out (no fresh array)', () => cv.apply(x, 1, dst), () => cv.apply(x, 1, dst).slice(), true);
        const xt = tk.tensorFrom(x), ot = tk.tensor('f32', [cout * ho * wo]);
        add('x tensor + read() (tfjs contract)', () => { cv.run(xt, ot); return ot.read(); }, () => { cv.run(xt, ot); return ot.read(); }, true);
        add(ZERO_COPY, () => cv.run(xt, ot), () => { cv.run(xt, ot); return ot.read(); }, false);
        cleanup.push(() => { xt.dispose(); ot.dispose(); cv.dispose(); });
      }
      await runCase(cc.name, shape, fl, entries, cleanup, false, groups > 1);
    }
  },
};
