// Fuzz specs: the dense family (tk.matmul, tk.conv2d, tk.dense.packMatmul / packConv2d and their
// run / apply forms), f32 and f16 weights.
//
// Reference: f64 on the same inputs (f16 weights taken at their exact half values). Tolerance per
// output: gamma(K+1) * sum|terms| + (K+1) * 2^-149 with K = products in that output: the worst-case
// bound of f32 summation of K+1 exact terms in any order, products rounded or fused (relaxed madd);
// ReLU/ReLU6 are 1-Lipschitz. Special values (NaN, +-Inf, +-0, subnormals) go into activations
// only: non-finite outputs must match the reference exactly (every product is computed, so IEEE
// propagation is order-independent). Padded conv taps contribute nothing in the reference; a kernel
// multiplying a zero pad by a finite weight adds 0, so that is the same.
import { ArgumentError, DTypeError, DisposedError, ShapeError, type Tessera } from '../../bindings/index.js';
import { refHalfBits, refHalfValue, refRoundHalf } from '../helpers/ref-f16.js';
import { dimOf, fillF32, place, placementOf, type Rng, type ValueMode } from './rng.js';
import { compareSum } from './compare.js';
import type { FuzzCase, FuzzContext, HostileCase, OpSpec, SizeClass } from './types.js';

type Act = 'none' | 'relu' | 'relu6';
const TOL = 'gamma(K+1) * sum|a*b| + (K+1) * 2^-149, K products per output (f32 summation bound, any order, fused or not); f16 weights exact';
const ACTS: Act[] = ['none', 'relu', 'relu6'];
const actOf = (v: number, a: Act) => (a === 'relu' ? Math.max(v, 0) : a === 'relu6' ? Math.min(Math.max(v, 0), 6) : v);
const mode = (r: Rng): ValueMode => (r.bool(0.2) ? 'special' : r.bool(0.1) ? 'wide' : 'uniform');

interface Ref { y: Float64Array; mag: Float64Array; terms: number }


/** Weights: f32 or f16 bits; returns what to pass and the exact values the kernel multiplies by. */
function weights(r: Rng, n: number, f16: boolean): { pass: Float32Array | Uint16Array; vals: Float64Array } {
  // finite weights only ('wide' reaches 2^20, which is +-Inf as a half: keep f16 weights uniform).
  // Non-finite WEIGHTS at padded conv taps are implementation-defined (Inf * zero pad = NaN, or skipped).
  const w = fillF32(r, new Float32Array(n), !f16 && r.bool(0.1) ? 'wide' : 'uniform');
  for (let i = 0; i < n; i++) if (r.bool(0.05)) w[i] = 0;
  if (!f16) return { pass: w, vals: Float64Array.from(w) };
  const bits = new Uint16Array(n);
  for (let i = 0; i < n; i++) bits[i] = refHalfBits(refRoundHalf(w[i]));
  return { pass: bits, vals: Float64Array.from(bits, refHalfValue) };
}

function refMatmul(a: Float32Array, b: Float64Array, m: number, k: number, n: number, bias: Float32Array | undefined, act: Act): Ref {
  const y = new Float64Array(m * n), mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = bias ? bias[j] : 0, g = Math.abs(s);
    for (let p = 0; p < k; p++) { const t = a[i * k + p] * b[p * n + j]; s += t; g += Math.abs(t); }
    y[i * n + j] = actOf(s, act); mag[i * n + j] = g;
  }
  return { y, mag, terms: k + 1 };
}

interface ConvG { n: number; c: number; h: number; w: number; cout: number; kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number; pb: number; pr: number; groups: number }

function refConv(x: Float32Array, wt: Float64Array, o: ConvG, bias: Float32Array | undefined, act: Act): Ref {
  const ho = Math.floor((o.h + o.pt + o.pb - ((o.kh - 1) * o.dh + 1)) / o.sh) + 1;
  const wo = Math.floor((o.w + o.pl + o.pr - ((o.kw - 1) * o.dw + 1)) / o.sw) + 1;
  const dw = o.groups > 1, cpg = dw ? 1 : o.c;
  const y = new Float64Array(o.n * o.cout * ho * wo), mag = new Float64Array(y.length);
  for (let b = 0; b < o.n; b++) for (let co = 0; co < o.cout; co++) for (let oy = 0; oy < ho; oy++) for (let ox = 0; ox < wo; ox++) {
    let s = bias ? bias[co] : 0, g = Math.abs(s);
    for (let ci = 0; ci < cpg; ci++) {
      const cin = dw ? co : ci;
      for (let ky = 0; ky < o.kh; ky++) for (let kx = 0; kx < o.kw; kx++) {
        const iy = oy * o.sh - o.pt + ky * o.dh, ix = ox * o.sw - o.pl + kx * o.dw;
        if (iy < 0 || iy >= o.h || ix < 0 || ix >= o.w) continue;
        const t = x[((b * o.c + cin) * o.h + iy) * o.w + ix] * wt[((co * cpg + ci) * o.kh + ky) * o.kw + kx];
        s += t; g += Math.abs(t);
      }
    }
    const i = ((b * o.cout + co) * ho + oy) * wo + ox;
    y[i] = actOf(s, act); mag[i] = g;
  }
  return { y, mag, terms: cpg * o.kh * o.kw + 1 };
}

function dims(r: Rng, size: SizeClass, large: number[]): number[] {
  const focus = r.int(0, large.length - 1);
  return large.map((L, i) => (i === focus ? dimOf(r, size, L, Math.max(L, 17)) : dimOf(r, r.bool() ? 'small' : 'prime', L, 31)));
}

type Form = 'copy' | 'apply' | 'run';

/** par: the threaded forms (tk.parallel.matmul / matmulRun), same reference. */
function matmulSpec(name: string, form: Form, par = false): OpSpec {
  return {
    name, family: 'dense', tolerance: TOL, async: par,
    gen({ tk }, r, size) {
      tk.dense.mr = r.pick([4, 5, 6]); // every built micro-tile, whatever the tier default
      let [m, k, n] = dims(r, size, form === 'run' ? [64, 256, 256] : [96, 300, 300]);
      // threaded GEMV shapes: past PARALLEL_GEMV_MIN_MACS (2^18) so the columns are split across threads
      if (par && form === 'run' && r.bool(0.25)) [m, k, n] = [r.pick([1, 2]), r.int(256, 600), r.int(1024, 1400)];
      const f16 = r.bool(0.3);
      const act = r.pick(ACTS);
      const vm = mode(r);
      const a = place(r, fillF32(r, new Float32Array(m * k), vm));
      const bias = r.bool(0.5) && n ? fillF32(r, new Float32Array(n), 'uniform') : undefined;
      const w = weights(r, k * n, f16);
      const desc = `mr=${tk.dense.mr} m=${m} k=${k} n=${n} ${f16 ? 'f16' : 'f32'} weights act=${act} bias=${!!bias} vals=${vm} a:${placementOf(a)}`;
      const expectError = m === 0 || k === 0 || n === 0 ? ShapeError : undefined;
      const opts = { bias, activation: act };
      const check = (got: unknown) => compareSum(got, refMatmul(a, w.vals, m, k, n, bias, act));
      if (form === 'copy' || expectError) {
        const packedApply = () => { const p = tk.dense.packMatmul(w.pass, k, n, opts); try { return p.apply(a, m); } finally { p.dispose(); } };
        const copy = () => (par ? tk.parallel.matmul(a, w.pass, m, k, n, opts) : tk.matmul(a, w.pass, m, k, n, opts));
        return { desc, inputs: [a, w.pass], expectError, run: () => (form === 'copy' ? copy() : packedApply()), check };
      }
      const lin = tk.dense.packMatmul(w.pass, k, n, opts);
      if (form === 'apply') return { desc, inputs: [a], run: () => lin.apply(a, m), check, dispose: () => lin.dispose() };
      const ta = tk.tensorFrom(a), to = tk.tensor('f32', [m * n]);
      to.view().fill(NaN);
      return {
        desc, arenaOutputs: [to.ptr], run: () => (par ? tk.parallel.matmulRun(lin, ta, to, m) : lin.run(ta, to, m)), check: () => check(to.read()),
        dispose: () => { lin.dispose(); ta.dispose(); to.dispose(); },
      };
    },
    hostile: (ctx, r) => matmulHostile(ctx, r, form),
  };
}

function matmulHostile({ tk, other }: FuzzContext, r: Rng, form: Form): HostileCase {
  const m = r.int(1, 9), k = r.int(1, 9), n = r.int(1, 9);
  const a = fillF32(r, new Float32Array(m * k), 'uniform'), b = fillF32(r, new Float32Array(k * n), 'uniform');
  if (form === 'run') {
    const lin = tk.dense.packMatmul(b, k, n);
    const fix: { dispose(): void }[] = [lin];
    const t = <T extends { dispose(): void }>(v: T) => { fix.push(v); return v; };
    const dispose = () => fix.forEach((v) => v.dispose());
    const ta = () => t(tk.tensorFrom(a)), to = () => t(tk.tensor('f32', [m * n]));
    switch (r.int(0, 6)) {
      case 0: return { desc: 'out from another instance', call: () => lin.run(ta(), t(other.tensor('f32', [m * n])), m), expect: [ArgumentError], msg: /another tessera instance/, dispose };
      case 1: return { desc: 'a from another instance', call: () => lin.run(t(other.tensorFrom(a)), to(), m), expect: [ArgumentError], msg: /another tessera instance/, dispose };
      case 2: { const fake = { dtype: 'f32', length: m * n, ptr: r.pick([0, 64, 1 << 20]), shape: [m * n], disposed: false };
        return { desc: `plain object posing as out (ptr ${fake.ptr})`, call: () => lin.run(ta(), fake as any, m), expect: [DTypeError, ArgumentError], dispose }; }
      case 3: return { desc: 'f16 out tensor', call: () => lin.run(ta(), t(tk.tensor('f16', [m * n])), m), expect: [DTypeError], dispose };
      case 4: return { desc: `m = ${m + 1} (a too short)`, call: () => lin.run(ta(), to(), m + 1), expect: [ShapeError], dispose };
      case 5: { const x = ta(), o = to(); lin.dispose(); return { desc: 'disposed packed weights', call: () => lin.run(x, o, m), expect: [DisposedError], dispose }; }
      default: { const d = tk.tensorFrom(a); d.dispose(); return { desc: 'disposed a', call: () => lin.run(d, to(), m), expect: [DisposedError], dispose }; }
    }
  }
  switch (r.int(0, 7)) {
    case 7: { const v = r.pick<any>([0, 1, 3, 7, 8, -1, 4.5, NaN, '4']); return { desc: `dense.mr = ${String(v)}`, call: () => { tk.dense.mr = v; }, expect: [ArgumentError], msg: /mr must be/ }; }
    case 0: { const bad = r.pick<any>([0, -1, 1.5, NaN, Infinity, '3', null, 2 ** 53]); const key = r.int(0, 2);
      const dd = [m, k, n]; dd[key] = bad;
      return { desc: `${['m', 'k', 'n'][key]} = ${String(bad)}`, call: () => tk.matmul(a, b, dd[0], dd[1], dd[2]), expect: [ShapeError] }; }
    case 1: return { desc: 'a one element short', call: () => tk.matmul(a.subarray(1), b, m, k, n), expect: [ShapeError], msg: /a has/ };
    case 2: return { desc: 'b of Int16Array', call: () => tk.matmul(a, new Int16Array(k * n) as any, m, k, n), expect: [DTypeError] };
    case 3: return { desc: 'bias of n + 1', call: () => tk.matmul(a, b, m, k, n, { bias: new Float32Array(n + 1) }), expect: [ShapeError], msg: /bias/ };
    case 4: return { desc: 'activation "tanh"', call: () => tk.matmul(a, b, m, k, n, { activation: 'tanh' as any }), expect: [ArgumentError], msg: /activation/ };
    case 5: { const d = new Float32Array(m * k); structuredClone(d.buffer, { transfer: [d.buffer] });
      return { desc: 'detached a', call: () => tk.matmul(d, b, m, k, n), expect: [ArgumentError, ShapeError] }; }
    default: return { desc: 'a = number[]', call: () => tk.matmul(Array.from(a) as any, b, m, k, n), expect: [DTypeError] };
  }
}

function convSpec(name: string, form: Form): OpSpec {
  return {
    name, family: 'dense', tolerance: TOL,
    gen({ tk }, r, size) {
      tk.dense.mr = r.pick([4, 5, 6]);
      const [c, h, w, cout] = dims(r, size, [32, 28, 28, 32]);
      const depthwise = r.bool(0.25) && c > 1;
      const kh = r.pick([1, 3, 3, 5, 2]), kw = r.bool(0.8) ? kh : r.pick([1, 3]);
      const s = r.pick([1, 1, 2, 3]), sw = r.bool(0.8) ? s : r.pick([1, 2]);
      const d = !depthwise && r.bool(0.15) ? 2 : 1;
      const padForm = r.int(0, 3);
      const p = r.int(0, 2);
      const pad = padForm === 0 ? undefined : padForm === 1 ? p : padForm === 2 ? [p, r.int(0, 2)] as [number, number] : [r.int(0, 2), r.int(0, 2), r.int(0, 2), r.int(0, 2)] as [number, number, number, number];
      const [pt, pl, pb, pr] = pad === undefined ? [0, 0, 0, 0] : typeof pad === 'number' ? [pad, pad, pad, pad] : pad.length === 2 ? [pad[0], pad[1], pad[0], pad[1]] : pad;
      const nb = r.bool(0.8) ? 1 : r.int(2, 3);
      const co = depthwise ? c : cout;
      const f16 = r.bool(0.3);
      const act = r.pick(ACTS);
      const vm = mode(r);
      const x = place(r, fillF32(r, new Float32Array(nb * c * h * w), vm));
      const kdim = (depthwise ? 1 : c) * kh * kw;
      const wt = weights(r, co * kdim, f16);
      const bias = r.bool(0.5) && co ? fillF32(r, new Float32Array(co), 'uniform') : undefined;
      const opts = { n: nb, c, h, w, cout: co, kh, kw, stride: [s, sw] as [number, number], dilation: d, pad, groups: depthwise ? c : 1, bias, activation: act };
      const g: ConvG = { n: nb, c, h, w, cout: co, kh, kw, sh: s, sw, dh: d, dw: d, pt, pl, pb, pr, groups: depthwise ? c : 1 };
      const desc = `mr=${tk.dense.mr} n=${nb} c=${c} ${h}x${w} cout=${co} k=${kh}x${kw} s=${s},${sw} d=${d} pad=${JSON.stringify(pad)} ${depthwise ? 'depthwise ' : ''}${f16 ? 'f16' : 'f32'} act=${act} vals=${vm} x:${placementOf(x)}`;
      const tooSmall = h + pt + pb < (kh - 1) * d + 1 || w + pl + pr < (kw - 1) * d + 1;
      const expectError = c === 0 || h === 0 || w === 0 || co === 0 || tooSmall ? ShapeError : undefined;
      const check = (got: unknown) => compareSum(got, refConv(x, wt.vals, g, bias, act));
      if (form === 'copy' || expectError) {
        const packedApply = () => { const p = tk.dense.packConv2d(wt.pass, opts); try { return p.apply(x, nb); } finally { p.dispose(); } };
        return { desc, inputs: [x, wt.pass], expectError, run: () => (form === 'copy' ? tk.conv2d(x, wt.pass, opts) : packedApply()), check };
      }
      const cv = tk.dense.packConv2d(wt.pass, opts);
      if (form === 'apply') return { desc, inputs: [x], run: () => cv.apply(x, nb), check, dispose: () => cv.dispose() };
      const [, ho, wo] = cv.outShape;
      const tx = tk.tensorFrom(x), to = tk.tensor('f32', [nb * co * ho * wo]);
      to.view().fill(NaN);
      return {
        desc, arenaOutputs: [to.ptr], run: () => cv.run(tx, to, nb), check: () => check(to.read()),
        dispose: () => { cv.dispose(); tx.dispose(); to.dispose(); },
      };
    },
    hostile({ tk, other }, r) {
      const c = r.int(1, 4), h = r.int(3, 8), w = r.int(3, 8), cout = r.int(1, 5);
      const x = fillF32(r, new Float32Array(c * h * w), 'uniform'), wt = fillF32(r, new Float32Array(cout * c * 9), 'uniform');
      const o = { c, h, w, cout, kh: 3, kw: 3 };
      switch (r.int(0, 7)) {
        case 0: { const key = r.pick(['c', 'h', 'w', 'cout', 'kh', 'kw'] as const); const bad = r.pick<any>([0, -2, 2.5, NaN, '3', null]);
          return { desc: `${key} = ${String(bad)}`, call: () => tk.conv2d(x, wt, { ...o, [key]: bad }), expect: [ShapeError] }; }
        case 1: { const p = r.pick<any>([-1, [1], [1, 2, 3], 'same', 1.5]); return { desc: `pad = ${JSON.stringify(p)}`, call: () => tk.conv2d(x, wt, { ...o, pad: p }), expect: [ArgumentError, ShapeError] }; }
        case 2: { const s = r.pick<any>([0, -1, [1], 1.5]); return { desc: `stride = ${JSON.stringify(s)}`, call: () => tk.conv2d(x, wt, { ...o, stride: s }), expect: [ArgumentError, ShapeError] }; }
        case 3: return { desc: 'groups = 2 (neither 1 nor c)', call: () => tk.conv2d(x, wt, { ...o, groups: c === 2 ? 3 : 2 }), expect: [ArgumentError, ShapeError] };
        case 4: return { desc: 'kernel larger than the input', call: () => tk.conv2d(x, new Float32Array(cout * c * (h + 1) * 9), { ...o, kh: h + 1, kw: 9 }), expect: [ShapeError], msg: /larger/ };
        case 5: return { desc: 'w one element short', call: () => tk.conv2d(x, wt.subarray(1), o), expect: [ShapeError], msg: /w has/ };
        case 6: return { desc: 'layout nhwc', call: () => tk.conv2d(x, wt, { ...o, layout: 'nhwc' as any }), expect: [ArgumentError], msg: /layout/ };
        default: {
          const cv = tk.dense.packConv2d(wt, o);
          const tx = other.tensorFrom(x), to = tk.tensor('f32', [cout * (h - 2) * (w - 2)]);
          return { desc: 'PackedConv2d.run with x of another instance', call: () => cv.run(tx, to), expect: [ArgumentError], msg: /another tessera instance/, dispose: () => { cv.dispose(); tx.dispose(); to.dispose(); } };
        }
      }
    },
  };
}

export const DENSE_OPS: OpSpec[] = [
  matmulSpec('tk.matmul', 'copy'), matmulSpec('PackedMatmul.apply', 'apply'), matmulSpec('PackedMatmul.run', 'run'),
  { ...matmulSpec('parallel.matmul', 'copy', true), hostile: undefined }, matmulSpec('parallel.matmulRun', 'run', true),
  convSpec('tk.conv2d', 'copy'), convSpec('PackedConv2d.apply', 'apply'), convSpec('PackedConv2d.run', 'run'),
];

export type { FuzzCase, Tessera };
