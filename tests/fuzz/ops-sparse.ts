// Fuzz specs: the sparse family (tk.sparse.*, SparseLayer, AutoLayer).
//
// Reference: f64 arithmetic over the STORED structure of the packed matrix, walked here from the
// format definition (nnz / delta / vals, see bindings/sparse-format.ts) rather than through the
// library's own forEachBlock/toDense. Stored blocks are what the kernels multiply: a stored zero
// weight times an Inf activation is NaN, an absent (pruned) block contributes nothing, whatever x is.
//
// Tolerance (finite outputs): |got - ref| <= gamma(K+1) * sum|terms| + (K+1) * 2^-149, where K is the
// number of products in that output (stored blocks of the row x k*k taps) plus the bias term and
// gamma(m) = m*u / (1 - m*u), u = 2^-24. This is the worst-case error bound of f32 summation of K+1
// exactly representable terms in ANY order, with products rounded or fused (relaxed madd), plus
// the absolute error of subnormal products. Clamping (ReLU/ReLU6) is 1-Lipschitz, so the bound
// holds after the activation. Non-finite outputs must match exactly: NaN stays NaN, +-Inf stays.
import {
  ArgumentError, DTypeError, DisposedError, OutOfMemoryError, ShapeError, SparseFormatError, SparseMatrix, packSparse,
  type SparseLayer, type Tessera,
} from '../../bindings/index.js';
import { dimOf, fillF32, place, placementOf, type Rng, type ValueMode } from './rng.js';
import { compareSum } from './compare.js';
import type { ErrorClass, FuzzCase, FuzzContext, HostileCase, OpSpec, SizeClass } from './types.js';
import { resignSparseBytes } from '../helpers/ref-sparse.js';

type Act = 'none' | 'relu' | 'relu6';
const TOL = 'gamma(K+1) * sum|w*x| + (K+1) * 2^-149 with K products per output (f32 summation bound, any order, fused or not)';
const EXACT = 'exact: packing, pruning and serialization copy values';

// ---- reference ---------------------------------------------------------------------------------

interface StoredRow { bias: number; cols: number[]; w: number[][] /* [block][tap] */ }

/** Walk the packed format (definition in sparse-format.ts) into per-row stored blocks. */
function walk(sp: SparseMatrix): StoredRow[] {
  const kk = sp.kernelSize * sp.kernelSize;
  const groups = sp.blockRows === 4 ? Math.floor(sp.rows / 4) : 0;
  const out: StoredRow[] = [];
  let col = sp.first, k = 0, off = 0;
  for (let b = 0; b < sp.nnz.length; b++) {
    const g = b < groups ? 4 : 1;
    const rows: StoredRow[] = [];
    for (let j = 0; j < g; j++) rows.push({ bias: sp.vals[off + j], cols: [], w: [] });
    off += g;
    for (let i = 0; i < sp.nnz[b]; i++) {
      for (let j = 0; j < g; j++) {
        const taps: number[] = [];
        for (let t = 0; t < kk; t++) taps.push(sp.vals[off + t * g + j]);
        rows[j].cols.push(col); rows[j].w.push(taps);
      }
      off += g * kk; col += sp.delta[k++];
    }
    out.push(...rows);
  }
  return out;
}

const actOf = (v: number, a: Act) => (a === 'relu' ? Math.max(v, 0) : a === 'relu6' ? Math.min(Math.max(v, 0), 6) : v);

interface Ref { y: Float64Array; mag: Float64Array; terms: Float64Array }

function refMatmul(sp: SparseMatrix, x: Float32Array, n: number, a: Act): Ref {
  const rows = walk(sp);
  const y = new Float64Array(sp.rows * n), mag = new Float64Array(sp.rows * n), terms = new Float64Array(sp.rows * n);
  rows.forEach((R, r) => {
    for (let p = 0; p < n; p++) {
      let s = R.bias, m = Math.abs(R.bias);
      for (let i = 0; i < R.cols.length; i++) { const t = R.w[i][0] * x[R.cols[i] * n + p]; s += t; m += Math.abs(t); }
      y[r * n + p] = actOf(s, a); mag[r * n + p] = m; terms[r * n + p] = R.cols.length + 1;
    }
  });
  return { y, mag, terms };
}

function refConv(sp: SparseMatrix, x: Float32Array, h: number, w: number, stride: number, pad: number, a: Act): Ref & { oh: number; ow: number } {
  const k = sp.kernelSize;
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1, ow = Math.floor((w + 2 * pad - k) / stride) + 1;
  const rows = walk(sp);
  const y = new Float64Array(sp.rows * oh * ow), mag = new Float64Array(y.length), terms = new Float64Array(y.length);
  rows.forEach((R, r) => {
    for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      let s = R.bias, m = Math.abs(R.bias);
      for (let i = 0; i < R.cols.length; i++) {
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
          const iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
          const xv = iy < 0 || iy >= h || ix < 0 || ix >= w ? 0 : x[(R.cols[i] * h + iy) * w + ix];
          const t = R.w[i][ky * k + kx] * xv; s += t; m += Math.abs(t);
        }
      }
      const o = (r * oh + oy) * ow + ox;
      y[o] = actOf(s, a); mag[o] = m; terms[o] = R.cols.length * k * k + 1;
    }
  });
  return { y, mag, terms, oh, ow };
}


// ---- generators --------------------------------------------------------------------------------

interface WOpts { block: [4, 1] | [1, 1]; kernelSize: 1 | 3; threshold?: number; bias?: Float32Array }

/**
 * Dense weights with block structure: each (block row, column) block kept with probability `density`;
 * rarely a NaN / +-Inf weight (must be stored and propagate; non-finite weights meeting a zero-padded
 * conv tap are implementation-defined, so those only go to 1x1 weights).
 */
function weights(r: Rng, rows: number, cols: number, kk: number, block: 4 | 1): Float32Array {
  const w = weightsFinite(r, rows, cols, kk, block);
  if (kk === 1 && r.bool(0.1)) for (let i = 0; i < w.length; i++) if (r.bool(0.01)) w[i] = r.pick([NaN, Infinity, -Infinity]);
  return w;
}

function weightsFinite(r: Rng, rows: number, cols: number, kk: number, block: 4 | 1): Float32Array {
  const w = new Float32Array(rows * cols * kk);
  const density = r.pick([0, 0.05, 0.2, 0.5, 0.9, 1]);
  const groups = block === 4 ? Math.floor(rows / 4) : 0;
  for (let b = 0, row = 0; row < rows; b++) {
    const g = b < groups ? 4 : 1;
    for (let c = 0; c < cols; c++) {
      if (!r.bool(density)) continue;
      for (let j = 0; j < g; j++) for (let t = 0; t < kk; t++) w[((row + j) * cols + c) * kk + t] = r.bool(0.1) ? 0 : r.next() * 2 - 1;
    }
    row += g;
  }
  return w;
}

function packOpts(r: Rng, rows: number): WOpts {
  const o: WOpts = { block: r.bool(0.7) ? [4, 1] : [1, 1], kernelSize: 1 };
  if (r.bool(0.2)) o.threshold = r.next() * 0.3;
  if (r.bool(0.6)) o.bias = fillF32(r, new Float32Array(rows), 'uniform');
  return o;
}

const ACTS: Act[] = ['none', 'relu', 'relu6'];
const mode = (r: Rng): ValueMode => (r.bool(0.2) ? 'special' : r.bool(0.1) ? 'wide' : 'uniform');

/** The dims of a case: the size class goes to one randomly chosen dim, the others are small or prime. */
function dims(r: Rng, size: SizeClass, large: number[]): number[] {
  const focus = r.int(0, large.length - 1);
  return large.map((L, i) => (i === focus ? dimOf(r, size, L, Math.max(L, 17)) : dimOf(r, r.bool() ? 'small' : 'prime', L, 31)));
}

function stageTensors(tk: Tessera, x: Float32Array, outLen: number) {
  const tx = tk.tensorFrom(x), ty = tk.tensor('f32', [outLen]);
  ty.view().fill(NaN);
  return { tx, ty };
}

// ---- hostile helpers -----------------------------------------------------------------------------

/** A corrupted copy of a packed matrix's fields (mutated in place, as a caller could). Returns what was done. */
function corrupt(r: Rng, sp: SparseMatrix): string {
  const m = sp as unknown as Record<string, any>;
  const k = r.int(0, 11);
  const i = (a: ArrayLike<number>) => r.int(0, Math.max(0, a.length - 1));
  switch (k) {
    case 0: if (m.nnz.length) { const j = i(m.nnz); m.nnz[j] += r.pick([1, -1, 1000]); return `nnz[${j}] changed`; } m.rows += 1; return 'rows + 1';
    case 1: if (m.delta.length) { const j = i(m.delta); m.delta[j] += r.pick([1, -1, 2 ** 30, -(2 ** 31)]); return `delta[${j}] changed`; } m.first = 1; return 'first = 1';
    case 2: m.first = r.pick([-1, m.cols, 1.5, NaN, 2 ** 32]); return `first = ${m.first}`;
    case 3: m.vals = m.vals.subarray(0, Math.max(0, m.vals.length - r.int(1, 4))); return 'vals truncated';
    case 4: m.rows = r.pick([m.rows + 1, m.rows - 1, 0, -4, 2 ** 31, 1.5, NaN]); return `rows = ${m.rows}`;
    case 5: m.cols = r.pick([m.cols - 1, 0, -1, 2 ** 31, 2.5]); return `cols = ${m.cols}`;
    case 6: m.kernelSize = r.pick([0, 2, 5, 3, 1]) === m.kernelSize ? 7 : r.pick([0, 2, 5]); return `kernelSize = ${m.kernelSize}`;
    case 7: m.blockRows = r.pick([2, 8, 0, -4]); return `blockRows = ${m.blockRows}`;
    case 8: m.nnz = new Uint32Array(m.nnz.length + 1); return 'nnz one entry longer';
    case 9: m.delta = Float32Array.from(m.delta); return 'delta is a Float32Array';
    case 10: if (m.delta.length > 1) { const a = m.delta[0]; m.delta[0] = m.delta[1]; m.delta[1] = a; return 'two deltas swapped'; } m.vals = null; return 'vals = null';
    default: m.nnz = Uint32Array.from(m.nnz, (v: number) => v + (r.bool(0.3) ? 1 : 0)); return 'nnz counts bumped';
  }
}

const SPARSE_BAD: ErrorClass[] = [SparseFormatError, DTypeError];

function sample(r: Rng, cols: number, rows = r.int(1, 9)) {
  const block: 4 | 1 = r.bool() ? 4 : 1;
  return { rows, cols, block, w: weights(r, rows, cols, 1, block) };
}

// ---- specs -----------------------------------------------------------------------------------------

const matmul: OpSpec = {
  name: 'sparse.matmul', family: 'sparse', tolerance: TOL,
  gen({ tk }, r, size) {
    const [rows, cols, n] = dims(r, size, [80, 300, 400]);
    const o = packOpts(r, rows);
    const activation = r.pick(ACTS);
    const tile = r.bool(0.3) ? (o.block[0] === 4 ? r.pick([8, 12, 16] as const) : r.pick([16, 32] as const)) : undefined;
    const vm = mode(r);
    const x = place(r, fillF32(r, new Float32Array(cols * n), vm));
    const desc = `${rows}x${cols} n=${n} block=${o.block} thr=${o.threshold ?? 0} act=${activation} tile=${tile} vals=${vm} x:${placementOf(x)}`;
    if (rows === 0 || cols === 0) return { desc, expectError: ShapeError, run: () => tk.sparse.pack(new Float32Array(0), rows, cols, o), check: () => null };
    const sp = tk.sparse.pack(weights(r, rows, cols, 1, o.block[0]), rows, cols, o);
    return {
      desc, inputs: [x], expectError: n === 0 ? ShapeError : undefined,
      run: () => tk.sparse.matmul(sp, x, n, { activation, tile }),
      check: (got) => compareSum(got, refMatmul(sp, x, n, activation)),
    };
  },
  hostile({ tk }, r) {
    const { rows, cols, block, w } = sample(r, r.int(1, 12));
    const sp = tk.sparse.pack(w, rows, cols, { block: block === 4 ? [4, 1] : [1, 1] });
    const n = r.int(1, 9);
    const x = fillF32(r, new Float32Array(cols * n), 'uniform');
    const k = r.int(0, 8);
    switch (k) {
      case 0: { const len = cols * n + r.pick([-1, 1, -cols * n]); return { desc: `x of ${len} for ${cols}x${n}`, call: () => tk.sparse.matmul(sp, new Float32Array(len), n), expect: [ShapeError], msg: /x has/ }; }
      case 1: return { desc: 'x is a Float64Array', call: () => tk.sparse.matmul(sp, new Float64Array(cols * n) as any, n), expect: [DTypeError] };
      case 2: { const bad = r.pick<any>([0, -1, 1.5, NaN, Infinity, 2 ** 31, '4', null, undefined]);
        return { desc: `n = ${String(bad)}`, call: () => tk.sparse.matmul(sp, x, bad), expect: [ShapeError], msg: /n must be|x has/ }; }
      case 3: return { desc: 'activation = "gelu"', call: () => tk.sparse.matmul(sp, x, n, { activation: 'gelu' as any }), expect: [ArgumentError], msg: /activation/ };
      case 4: { const t = r.pick<any>([7, 0, -8, 64, '8', 12.5, block === 4 ? 32 : 8]);
        return { desc: `tile = ${t}`, call: () => tk.sparse.matmul(sp, x, n, { tile: t }), expect: [ArgumentError], msg: /tile/ }; }
      case 5: case 6: {
        const what = corrupt(r, sp);
        return {
          desc: `corrupted packed matrix: ${what}`, call: () => tk.sparse.matmul(sp, x, n), expect: [...SPARSE_BAD, ShapeError],
          orValid: (got) => compareSum(got, refMatmul(sp, x, n, 'none')),
        };
      }
      case 7: return { desc: 'a plain object with the fields of a SparseMatrix', call: () => tk.sparse.matmul({ ...sp, rows: sp.rows } as any, x, n), expect: [DTypeError] };
      default: {
        const d = new Float32Array(cols * n); structuredClone(d.buffer, { transfer: [d.buffer] });
        return { desc: 'detached x', call: () => tk.sparse.matmul(sp, d, n), expect: [ArgumentError, ShapeError], msg: /detached|x has 0/ };
      }
    }
  },
};

const conv2d: OpSpec = {
  name: 'sparse.conv2d', family: 'sparse', tolerance: TOL,
  gen({ tk }, r, size) {
    const [rows, c, h, w] = dims(r, size, [24, 48, 36, 36]);
    const ks: 1 | 3 = r.bool(0.75) ? 3 : 1;
    let stride: 1 | 2 = r.bool() ? 1 : 2, pad: 0 | 1 = r.bool(0.6) ? 1 : 0;
    if (ks === 1 && r.bool(0.85)) { stride = 1; pad = 0; }
    const activation = r.pick(ACTS);
    const o = { ...packOpts(r, rows), kernelSize: ks };
    const vm = mode(r);
    const x = place(r, fillF32(r, new Float32Array(c * h * w), vm));
    const desc = `${rows}x${c} k=${ks} ${h}x${w} s=${stride} p=${pad} block=${o.block} act=${activation} vals=${vm} x:${placementOf(x)}`;
    if (rows === 0 || c === 0) return { desc, expectError: ShapeError, run: () => tk.sparse.pack(new Float32Array(0), rows, c, o), check: () => null };
    const sp = tk.sparse.pack(weights(r, rows, c, ks * ks, o.block[0]), rows, c, o);
    const hp = h + 2 * pad, wp = w + 2 * pad;
    const expectError = h === 0 || w === 0 ? ShapeError : ks === 1 && (stride !== 1 || pad !== 0) ? ArgumentError : hp < ks || wp < ks ? ShapeError : undefined;
    return {
      desc, inputs: [x], expectError,
      run: () => tk.sparse.conv2d(sp, x, { c, h, w, stride, pad, activation }),
      check: (got) => compareSum(got, refConv(sp, x, h, w, stride, pad, activation)),
    };
  },
  hostile({ tk }, r) {
    const c = r.int(1, 6), h = r.int(3, 9), w = r.int(3, 9), rows = r.int(1, 9);
    const ks: 1 | 3 = r.bool(0.7) ? 3 : 1;
    const sp = tk.sparse.pack(weights(r, rows, c, ks * ks, 4), rows, c, { kernelSize: ks });
    const x = fillF32(r, new Float32Array(c * h * w), 'uniform');
    const k = r.int(0, 6);
    switch (k) {
      case 0: { const key = r.pick(['c', 'h', 'w'] as const); const bad = r.pick<any>([0, -1, 1.5, NaN, '3', key === 'c' ? 0 : null, 2 ** 40]); // c: null/undefined = the weights' cols
        return { desc: `${key} = ${String(bad)}`, call: () => tk.sparse.conv2d(sp, x, { c, h, w, [key]: bad }), expect: [ShapeError] }; }
      case 1: { const s = r.pick<any>([0, 3, -1, 1.5, '2']); return { desc: `stride = ${s}`, call: () => tk.sparse.conv2d(sp, x, { c, h, w, stride: s }), expect: [ArgumentError], msg: /stride/ }; }
      case 2: { const p = r.pick<any>([2, -1, 0.5, 'same']); return { desc: `pad = ${p}`, call: () => tk.sparse.conv2d(sp, x, { c, h, w, pad: p }), expect: [ArgumentError], msg: /pad/ }; }
      case 3: return { desc: 'options missing', call: () => tk.sparse.conv2d(sp, x, r.pick([null, undefined]) as any), expect: [ShapeError, ArgumentError] };
      case 4: return { desc: 'x one element short', call: () => tk.sparse.conv2d(sp, x.subarray(1), { c, h, w }), expect: [ShapeError], msg: /x has/ };
      case 5: { const what = corrupt(r, sp);
        return { desc: `corrupted packed matrix: ${what}`, call: () => tk.sparse.conv2d(sp, x, { c: sp.cols, h, w }), expect: [...SPARSE_BAD, ShapeError, ArgumentError],
          orValid: (got) => compareSum(got, refConv(sp, x, h, w, 1, sp.kernelSize === 3 ? 1 : 0, 'none')) }; }
      default: return { desc: 'activation = 7', call: () => tk.sparse.conv2d(sp, x, { c, h, w, activation: 7 as any }), expect: [ArgumentError], msg: /activation/ };
    }
  },
};

/** Shared by the resident layers: build a layer + tensors, run it, compare. */
function layerCase(tk: Tessera, r: Rng, size: SizeClass, make: (w: Float32Array, rows: number, cols: number, o: WOpts, geom: any, act: Act) => { layer: SparseLayer | { run(x: any, y: any): void; apply(x: Float32Array): Float32Array; dispose(): void; layer?: SparseLayer; matrix?: SparseMatrix }; matrix: () => SparseMatrix }, apply: boolean, par = false): FuzzCase {
  const conv = r.bool(0.5);
  const [rows, c, a, b] = conv ? dims(r, size, [20, 32, 24, 24]) : [...dims(r, size, [64, 200, 300]), 1];
  const ks: 1 | 3 = conv && r.bool(0.8) ? 3 : 1;
  const o = { ...packOpts(r, rows), kernelSize: ks };
  const act = r.pick(ACTS);
  const stride: 1 | 2 = ks === 3 && r.bool() ? 2 : 1, pad: 0 | 1 = ks === 3 ? (r.bool(0.7) ? 1 : 0) : 0;
  const geom = conv ? { h: a, w: b, stride, pad } : { n: a };
  const vm = mode(r);
  const inLen = c * (conv ? a * b : a);
  const x = fillF32(r, new Float32Array(inLen), vm);
  const desc = `${rows}x${c} k=${ks} geom=${JSON.stringify(geom)} block=${o.block} act=${act} vals=${vm}`;
  const expectError = rows === 0 || c === 0 || a === 0 || b === 0 || (conv && (a + 2 * pad < ks || b + 2 * pad < ks)) ? ShapeError : undefined;
  const w = rows && c ? weights(r, rows, c, ks * ks, o.block[0]) : new Float32Array(0);
  if (expectError) return { desc, expectError, run: () => { const l = make(w, rows, c, o, geom, act); l.layer.dispose(); }, check: () => null };
  const l = make(w, rows, c, o, geom, act);
  const sp = l.matrix();
  const ref = () => (conv ? refConv(sp, x, a, b, stride, pad, act) : refMatmul(sp, x, a, act));
  if (apply) {
    return { desc: desc + ' apply', inputs: [x], run: () => l.layer.apply(x), check: (got) => compareSum(got, ref()), dispose: () => l.layer.dispose() };
  }
  const outLen = conv ? ref().y.length : rows * a;
  const { tx, ty } = stageTensors(tk, x, outLen);
  return {
    desc, arenaOutputs: [ty.ptr],
    run: () => (par ? tk.parallel.sparseRun(l.layer as SparseLayer, tx, ty) : l.layer.run(tx, ty)),
    check: () => compareSum(ty.read(), ref()),
    dispose: () => { l.layer.dispose(); tx.dispose(); ty.dispose(); },
  };
}

function layerHostile({ tk, other }: FuzzContext, r: Rng): HostileCase {
  const rows = r.int(1, 9), c = r.int(1, 9), n = r.int(1, 9);
  const layer = tk.sparse.layer(tk.sparse.pack(weights(r, rows, c, 1, 4), rows, c), { n });
  const fix: { dispose(): void }[] = [layer];
  const t = <T extends { dispose(): void }>(v: T) => { fix.push(v); return v; };
  const dispose = () => fix.forEach((v) => v.dispose());
  const x = () => t(tk.tensor('f32', [c * n])), y = () => t(tk.tensor('f32', [rows * n]));
  const k = r.int(0, 8);
  switch (k) {
    case 0: return { desc: 'x one element long', call: () => layer.run(t(tk.tensor('f32', [c * n + 1])), y()), expect: [ShapeError], dispose };
    case 1: return { desc: 'f16 tensors', call: () => layer.run(t(tk.tensor('f16', [c * n])), y()), expect: [DTypeError], dispose };
    case 2: { const s = t(tk.tensor('f32', [Math.max(c, rows) * n]));
      return { desc: 'x and y the same tensor', call: () => layer.run(s, s), expect: [ArgumentError, ShapeError], dispose }; }
    case 3: { const d = tk.tensor('f32', [c * n]); d.dispose(); return { desc: 'disposed x', call: () => layer.run(d, y()), expect: [DisposedError], dispose }; }
    case 4: { const xx = x(), yy = y(); layer.dispose(); return { desc: 'disposed layer', call: () => layer.run(xx, yy), expect: [DisposedError], dispose }; }
    case 5: return { desc: 'x from another tessera instance', call: () => layer.run(t(other.tensor('f32', [c * n])), y()), expect: [ArgumentError], msg: /another tessera instance/, dispose };
    case 6: return { desc: 'y from another tessera instance', call: () => layer.run(x(), t(other.tensor('f32', [rows * n]))), expect: [ArgumentError], msg: /another tessera instance/, dispose };
    case 7: { const fake = { dtype: 'f32', length: rows * n, shape: [rows * n], ptr: r.pick([0, 8, 1 << 20]), byteLength: rows * n * 4 };
      return { desc: `plain object posing as y (ptr ${fake.ptr})`, call: () => layer.run(x(), fake as any), expect: [DTypeError, ArgumentError], dispose }; }
    default: return { desc: 'apply(Float64Array)', call: () => layer.apply(new Float64Array(c * n) as any), expect: [DTypeError], dispose };
  }
}

const layerRun: OpSpec = {
  name: 'SparseLayer.run', family: 'sparse', tolerance: TOL,
  gen: ({ tk }, r, size) => layerCase(tk, r, size, (w, rows, cols, o, geom, act) => {
    const sp = tk.sparse.pack(w, rows, cols, o);
    const layer = tk.sparse.layer(sp, geom, { activation: act });
    return { layer, matrix: () => sp };
  }, false),
  hostile: layerHostile,
};

const parallelSparseRun: OpSpec = {
  name: 'parallel.sparseRun', family: 'sparse', tolerance: TOL, async: true,
  gen: ({ tk }, r, size) => layerCase(tk, r, size, (w, rows, cols, o, geom, act) => {
    const sp = tk.sparse.pack(w, rows, cols, o);
    return { layer: tk.sparse.layer(sp, geom, { activation: act }), matrix: () => sp };
  }, false, true),
};

const layerApply: OpSpec = {
  name: 'SparseLayer.apply', family: 'sparse', tolerance: TOL,
  gen: ({ tk }, r, size) => layerCase(tk, r, size, (w, rows, cols, o, geom, act) => {
    const sp = tk.sparse.pack(w, rows, cols, o);
    return { layer: tk.sparse.layer(sp, geom, { activation: act }), matrix: () => sp };
  }, true),
};

const denseLayer: OpSpec = {
  name: 'sparse.denseLayer', family: 'sparse', tolerance: TOL,
  gen: ({ tk }, r, size) => layerCase(tk, r, size, (w, rows, cols, o, geom, act) => {
    const layer = tk.sparse.denseLayer(w, rows, cols, geom, { bias: o.bias, kernelSize: o.kernelSize, activation: act });
    return { layer, matrix: () => layer.matrix };
  }, r.bool()),
};

const auto: OpSpec = {
  name: 'sparse.auto', family: 'sparse', tolerance: TOL,
  gen: ({ tk }, r, size) => layerCase(tk, r, size, (w, rows, cols, o, geom, act) => {
    const policy = r.bool(0.85) ? 'density' : 'measure';
    const al = tk.sparse.auto(w, rows, cols, geom, { ...o, activation: act, policy, breakEven: r.next() });
    // every choice computes with the same weights (the packed ones), but the dense choices multiply EVERY
    // weight, pruned ones as 0 (so 0 * NaN = NaN): their reference is the matrix with all blocks stored
    const all = () => { const d = al.sparse.toDense(); return packSparse(d.weights, rows, cols, { kernelSize: o.kernelSize, bias: d.bias }, true); };
    return { layer: al as any, matrix: () => (al.choice === 'sparse' ? al.sparse : all()) };
  }, r.bool()),
  hostile({ tk }, r) {
    const k = r.int(0, 2);
    const w = new Float32Array(16);
    if (k === 0) return { desc: 'policy = "fast"', call: () => tk.sparse.auto(w, 4, 4, { n: 2 }, { policy: 'fast' as any }), expect: [ArgumentError], msg: /policy/ };
    if (k === 1) return { desc: 'geometry {n: 0}', call: () => tk.sparse.auto(w, 4, 4, { n: 0 }, { policy: 'density' }), expect: [ShapeError] };
    return { desc: 'geometry missing', call: () => tk.sparse.auto(w, 4, 4, undefined as any, { policy: 'density' }), expect: [ShapeError, ArgumentError] };
  },
};

const pack: OpSpec = {
  name: 'sparse.pack', family: 'sparse', tolerance: EXACT,
  gen({ tk }, r, size) {
    const [rows, cols] = dims(r, size, [64, 300]);
    const ks: 1 | 3 = r.bool(0.3) ? 3 : 1;
    const o = { ...packOpts(r, rows), kernelSize: ks };
    const w = place(r, rows && cols ? weights(r, rows, cols, ks * ks, o.block[0]) : new Float32Array(0));
    const desc = `${rows}x${cols} k=${ks} block=${o.block} thr=${o.threshold ?? 0} bias=${!!o.bias} w:${placementOf(w)}`;
    return {
      desc, inputs: [w, ...(o.bias ? [o.bias] : [])], expectError: rows === 0 || cols === 0 ? ShapeError : undefined,
      run: () => tk.sparse.pack(w, rows, cols, o),
      check(got) {
        if (!(got instanceof SparseMatrix)) return 'not a SparseMatrix';
        const kk = ks * ks, thr = o.threshold ?? 0, G = o.block[0];
        const groups = G === 4 ? Math.floor(rows / 4) : 0;
        const stored = walk(got);
        for (let row = 0; row < rows; row++) {
          const R = stored[row];
          if (R.bias !== (o.bias ? o.bias[row] : 0)) return `row ${row}: bias ${R.bias}`;
          const g0 = row < groups * 4 ? row - (row % 4) : row, g = row < groups * 4 ? 4 : 1;
          let ci = 0;
          for (let c = 0; c < cols; c++) {
            let keep = false;
            for (let j = 0; j < g; j++) for (let t = 0; t < kk; t++) if (!(Math.abs(w[((g0 + j) * cols + c) * kk + t]) <= thr)) keep = true; // NaN is kept
            const isStored = R.cols[ci] === c;
            if (keep !== isStored) return `row ${row} col ${c}: stored=${isStored}, should be ${keep}`;
            if (!isStored) continue;
            for (let t = 0; t < kk; t++) {
              const v = w[(row * cols + c) * kk + t], want = !(Math.abs(v) <= thr) ? v : 0;
              if (!Object.is(R.w[ci][t], want) && !(want === 0 && R.w[ci][t] === 0) && !(Number.isNaN(want) && Number.isNaN(R.w[ci][t]))) return `row ${row} col ${c} tap ${t}: ${R.w[ci][t]} != ${want}`;
            }
            ci++;
          }
          if (ci !== R.cols.length) return `row ${row}: ${R.cols.length - ci} extra stored blocks`;
        }
        return null;
      },
    };
  },
  hostile({ tk }, r) {
    const rows = r.int(1, 8), cols = r.int(1, 8);
    const w = new Float32Array(rows * cols);
    const k = r.int(0, 6);
    switch (k) {
      case 0: { const bad = r.pick<any>([0, -1, 1.5, NaN, 2 ** 25, '4', null]); return { desc: `rows = ${String(bad)}`, call: () => tk.sparse.pack(w, bad, cols), expect: [ShapeError], msg: /rows and cols/ }; }
      case 1: return { desc: 'w one element short', call: () => tk.sparse.pack(w.subarray(1), rows, cols), expect: [ShapeError], msg: /weights have/ };
      case 2: { const b = r.pick<any>([[2, 1], [4, 4], 'x', [4], null]); return { desc: `block = ${JSON.stringify(b)}`, call: () => tk.sparse.pack(w, rows, cols, { block: b }), expect: [ArgumentError], msg: /block/ }; }
      case 3: { const t = r.pick<any>([NaN, -1, '0', -Infinity]); return { desc: `threshold = ${String(t)}`, call: () => tk.sparse.pack(w, rows, cols, { threshold: t }), expect: [ArgumentError], msg: /threshold/ }; }
      case 4: return { desc: 'bias of rows + 1', call: () => tk.sparse.pack(w, rows, cols, { bias: new Float32Array(rows + 1) }), expect: [ShapeError], msg: /bias/ };
      case 5: return { desc: 'kernelSize = 2', call: () => tk.sparse.pack(w, rows, cols, { kernelSize: 2 as any }), expect: [ArgumentError], msg: /kernelSize/ };
      default: return { desc: 'w = number[]', call: () => tk.sparse.pack(Array.from(w) as any, rows, cols), expect: [DTypeError] };
    }
  },
};

const prune: OpSpec = {
  name: 'sparse.prune', family: 'sparse', tolerance: EXACT,
  gen({ tk }, r, size) {
    const [rows, cols] = dims(r, size, [64, 200]);
    const ks: 1 | 3 = r.bool(0.3) ? 3 : 1, kk = ks * ks;
    const G: 4 | 1 = r.bool() ? 4 : 1;
    const sparsity = r.pick([0, 1, r.next(), 0.5, 0.9]);
    const w = fillF32(r, new Float32Array(rows * cols * kk), 'uniform');
    return {
      desc: `${rows}x${cols} k=${ks} block=${G} sparsity=${sparsity}`, inputs: [w],
      expectError: rows === 0 || cols === 0 ? ShapeError : undefined,
      run: () => tk.sparse.prune(w, rows, cols, { sparsity, block: G === 4 ? [4, 1] : [1, 1], kernelSize: ks }),
      check(got) {
        if (!(got instanceof Float32Array) || got.length !== w.length || got === w) return 'not a new Float32Array of the same length';
        const groups = G === 4 ? Math.floor(rows / 4) : 0;
        const scores: [number, boolean][] = [];
        for (let row = 0; row < rows;) {
          const g = row < groups * 4 ? 4 : 1;
          for (let c = 0; c < cols; c++) {
            let zero = true, same = true, s = 0;
            for (let j = 0; j < g; j++) for (let t = 0; t < kk; t++) {
              const i = ((row + j) * cols + c) * kk + t;
              if (got[i] !== 0) zero = false;
              if (!Object.is(got[i], w[i])) same = false;
              s += Math.abs(w[i]);
            }
            if (!zero && !same) return `block (${row}, ${c}) partially pruned`;
            scores.push([s / (g * kk), zero]);
          }
          row += g;
        }
        const pruned = scores.filter((x) => x[1]), kept = scores.filter((x) => !x[1]);
        const want = Math.round(sparsity * scores.length);
        if (pruned.length < want) return `${pruned.length} blocks pruned, want ${want}`;
        const maxPruned = Math.max(...pruned.map((x) => x[0])), minKept = Math.min(...kept.map((x) => x[0]));
        if (kept.length && pruned.length > 0 && maxPruned > minKept && pruned.length === want) return `pruned a block of score ${maxPruned} but kept one of ${minKept}`;
        return null;
      },
    };
  },
  hostile({ tk }, r) {
    const w = new Float32Array(16);
    const s = r.pick<any>([1.5, -0.1, NaN, undefined, '0.5', null]);
    return { desc: `sparsity = ${String(s)}`, call: () => tk.sparse.prune(w, 4, 4, s === null ? (null as any) : { sparsity: s }), expect: [ArgumentError], msg: /sparsity/ };
  },
};



const deserialize: OpSpec = {
  name: 'sparse.deserialize', family: 'sparse', tolerance: EXACT,
  gen({ tk }, r, size) {
    const [rows, cols] = dims(r, size, [64, 200]);
    const ks: 1 | 3 = r.bool(0.3) ? 3 : 1;
    const o = { ...packOpts(r, rows), kernelSize: ks };
    if (rows === 0 || cols === 0) return { desc: `${rows}x${cols}`, expectError: ShapeError, run: () => tk.sparse.pack(new Float32Array(0), rows, cols), check: () => null };
    const sp = tk.sparse.pack(weights(r, rows, cols, ks * ks, o.block[0]), rows, cols, o);
    const bytes = place(r, sp.serialize());
    return {
      desc: `${rows}x${cols} k=${ks} block=${o.block} ${bytes.length} B bytes:${placementOf(bytes)}`, inputs: [bytes],
      run: () => tk.sparse.deserialize(bytes),
      check(got) {
        if (!(got instanceof SparseMatrix)) return 'not a SparseMatrix';
        for (const f of ['rows', 'cols', 'kernelSize', 'blockRows', 'first'] as const) if (got[f] !== sp[f]) return `${f}: ${got[f]} != ${sp[f]}`;
        for (const f of ['nnz', 'delta', 'vals'] as const) {
          const a = got[f], b = sp[f];
          if (a.constructor !== b.constructor || a.length !== b.length || a.some((v, i) => !Object.is(v, b[i]))) return `${f} differs`;
        }
        return null;
      },
    };
  },
  /** Byte-level mutation of serialized matrices; half of them re-sign the checksum so the structural validation is what must catch them. */
  hostile({ tk }, r) {
    const { rows, cols, block, w } = sample(r, r.int(1, 10), r.int(1, 10));
    const sp = tk.sparse.pack(w, rows, cols, { block: block === 4 ? [4, 1] : [1, 1], bias: fillF32(r, new Float32Array(rows), 'uniform') });
    let b = sp.serialize();
    const what: string[] = [];
    const k = r.int(0, 5);
    if (k === 0) { b = b.slice(0, r.int(0, b.length - 1)); what.push(`truncated to ${b.length}`); }
    else if (k === 1) { const e = new Uint8Array(b.length + r.int(1, 8)); e.set(b); b = e; what.push('extended'); }
    else if (k === 2) { const dv = new DataView(b.buffer); const off = r.pick([8, 12, 20, 24, 28, 32]); const v = r.pick([0, 1, 0xffffffff, 2 ** 31, dv.getUint32(off, true) + 1]); dv.setUint32(off, v, true); what.push(`header u32 @${off} = ${v}`); }
    else if (k === 3) { b[r.int(16, 17)] = r.pick([0, 2, 3, 4, 255]); what.push('kernelSize/blockRows byte'); }
    else { for (let j = r.int(1, 4); j > 0; j--) { const i = r.int(0, b.length - 1); b[i] ^= 1 << r.int(0, 7); what.push(`bit flip @${i}`); } }
    if (r.bool() && b.length >= 40) { resignSparseBytes(b); what.push('checksum re-signed'); }
    else if (r.bool(0.2) && b.length >= 40) { b[6] &= ~1; what.push('checksum flag cleared'); }
    const bytes = b;
    const x = fillF32(r, new Float32Array(1024), 'uniform');
    return {
      desc: `serialized ${rows}x${cols}: ${what.join(', ')}`,
      call: () => tk.sparse.deserialize(bytes),
      expect: [SparseFormatError],
      // a mutation that stays a valid matrix (a value byte, checksum re-signed) must then run cleanly
      orValid: (got) => {
        if (!(got instanceof SparseMatrix)) return 'not a SparseMatrix';
        if (got.cols > 1024) return null;
        const snap = tk.arena.snapshot();
        try {
          const y = tk.sparse.matmul(got, x.subarray(0, got.cols), 1);
          snap.verify();
          return compareSum(y, refMatmul(got, x.subarray(0, got.cols), 1, 'none'));
        } catch (e) {
          return e instanceof OutOfMemoryError || e instanceof ShapeError ? null : `a valid deserialized matrix failed: ${(e as Error).message}`;
        }
      },
    };
  },
};

export const SPARSE_OPS: OpSpec[] = [prune, pack, deserialize, matmul, conv2d, layerRun, layerApply, denseLayer, auto, parallelSparseRun];
