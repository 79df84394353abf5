/**
 * Dense f32 GEMM / GEMV / NCHW conv2d, with f32 or f16 weights (f16 weights are widened to f32 in
 * registers; accumulation is always f32).
 *
 *   tk.matmul(a, b, m, k, n, { bias, activation })   copying: a m x k, b k x n (row-major) -> m x n
 *   const lin = tk.dense.packMatmul(b, k, n, opts)    pack once (b: Float32Array, or f16 bits)
 *   lin.run(aTensor, outTensor, m)                     zero-copy on arena tensors
 *   lin.apply(a, m, out?)                              copies a in and the result out (into `out` if given), weights stay packed
 *   tk.conv2d(x, w, { n, c, h, w, cout, kh, kw, stride, pad, groups, bias, activation })   NCHW / OIHW
 *   const cv = tk.dense.packConv2d(w, opts); cv.run(xTensor, outTensor, n); cv.apply(x, n, out?)
 *
 * Everything is validated (typed errors) before any kernel runs. Scratch is sized per tile/band,
 * never per problem; packed weights are persistent arena blocks freed by dispose().
 */
import { ABI } from '../abi.js';
import { ArgumentError, DTypeError, DisposedError, ShapeError } from '../errors.js';
import { halfBits, isFloat16Array } from '../f16js.js';
import { Lifetime, type Tensor } from '../memory.js';
import type { Tessera } from '../tessera.js';
import { dim, options, scratchBytes, tensor as tensorArg } from '../validate.js';

export type Activation = 'none' | 'relu' | 'relu6';
/** Weights: f32, or IEEE half bits (Uint16Array, or Float16Array where the runtime has it). */
export type WeightArray = Float32Array | Uint16Array | ArrayBufferView;

export interface MatmulOptions {
  /** per-output-column bias, length n */
  bias?: Float32Array;
  activation?: Activation;
}

export interface Conv2dOptions {
  /** batch (default 1) */
  n?: number;
  /** input channels, height, width */
  c: number; h: number; w: number;
  cout: number; kh: number; kw: number;
  /** stride (default 1): one number or [sh, sw] */
  stride?: number | readonly [number, number];
  /** zero padding (default 0): p, [ph, pw], or [top, left, bottom, right] */
  pad?: number | readonly [number, number] | readonly [number, number, number, number];
  /** dilation (default 1; groups = 1 only) */
  dilation?: number | readonly [number, number];
  /** 1 (regular) or c (depthwise, cout = c) */
  groups?: number;
  /** per-output-channel bias, length cout */
  bias?: Float32Array;
  activation?: Activation;
  /** only 'nchw' (activations NCHW, weights OIHW) */
  layout?: 'nchw';
}

const NR = 8;
/**
 * Packed f16-weight matmuls, by m: up to GEMV_ROWS_F16 rows run the GEMV once per row (B read m
 * times at half the bytes of f32); up to SMALL_M_F16 the 3-row kernel f16w_gemm_small; from m = 4 on
 * the f32 GEMM with widened panels. Measured 4096 x 4096 in one process (both tiers): m = 2 per-row
 * GEMV 12-18% faster than f16w_gemm_small, m = 3 f16w_gemm_small 2-10% faster than 3 GEMVs.
 */
const GEMV_ROWS_F16 = 2;
/** @internal gemv_nc_cols' `exact` argument: the weights' inf/NaN bit plus DENSE_GEMV_F16_DOT per tk.kernelProfile.denseGemvF16Dot */
export const gemvExact = (tk: Tessera, exact16: number): number => exact16 | (tk.kernelProfile.denseGemvF16Dot ? ABI.DENSE_GEMV_F16_DOT : 0);

/** @internal scratch bytes of gemv_nc_cols: the edge tile, plus k f32 of scaled x for f16 weights */
export function gemvScratchBytes(f16: number, k: number): number { return f16 ? 64 + k * 4 : 64; }
/** @internal true when a packed matmul with these rows runs as one GEMV per row (exec and tk.parallel agree) */
export function usesGemv(dtype: 'f32' | 'f16', m: number): boolean { return m === 1 || (dtype === 'f16' && m <= GEMV_ROWS_F16); }
const SMALL_M_F16 = 3;
/** Elements of B copied into wasm per packing step (bounded staging buffer). */
const PACK_CHUNK = 1 << 18;
/** Bytes of B per row block of the unpacked m = 1 path (staging buffer stays in L2 between the copy-in and the kernel). */
const DIRECT_CHUNK_BYTES = 1 << 17;
/**
 * Copying tk.matmul with m <= this runs unpacked (gemvDirect, B read once, each staged block reused
 * per row of a); larger m packs B for the GEMM. Measured for 4096 x 4096 (f32 and f16 weights, both
 * tiers): unpacked 2.5x faster at m = 1, 1.4-1.8x at m = 4, about even for f16 at m = 8.
 */
const DIRECT_MAX_M = 4;

export interface Act { clampOn: number; lo: number; hi: number }
function activationOf(a: Activation | undefined, where: string): Act {
  switch (a ?? 'none') {
    case 'none': return { clampOn: 0, lo: -Infinity, hi: Infinity };
    case 'relu': return { clampOn: 1, lo: 0, hi: Infinity };
    case 'relu6': return { clampOn: 1, lo: 0, hi: 6 };
    default: throw new ArgumentError(`${where}: activation must be 'none', 'relu' or 'relu6', got ${String(a)}`);
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

/** A dense dimension / stride / pad (validate.ts's dim): a ShapeError when it is not an integer in [min, MAX_DIM]. */
const shapeDim = (v: unknown, name: string, where: string, min = 1): number => dim(where, name, v, min, ShapeError);

const MATMUL_KEYS = ['bias', 'activation'] as const;
const CONV_KEYS = ['n', 'c', 'h', 'w', 'cout', 'kh', 'kw', 'stride', 'pad', 'dilation', 'groups', 'bias', 'activation', 'layout'] as const;

function f32Array(x: unknown, name: string, where: string): Float32Array {
  if (!(x instanceof Float32Array)) throw new DTypeError(`${where}: ${name} must be a Float32Array, got ${describe(x)}`);
  return x;
}

/** Weights as { f16, bits|f32 }. */
function weightsOf(x: unknown, where: string): { f16: boolean; data: Float32Array | Uint16Array } {
  if (x instanceof Float32Array) return { f16: false, data: x };
  if (x instanceof Uint16Array || isFloat16Array(x)) return { f16: true, data: halfBits(x as Uint16Array) };
  throw new DTypeError(`${where}: weights must be a Float32Array or f16 bits (Uint16Array / Float16Array), got ${describe(x)}`);
}

function checkBias(bias: unknown, len: number, where: string): Float32Array | undefined {
  if (bias === undefined) return undefined;
  const b = f32Array(bias, 'bias', where);
  if (b.length !== len) throw new ShapeError(`${where}: bias has ${b.length} elements, expected ${len}`);
  return b;
}

/**
 * The result array of a copying call: `out` when given (checked: Float32Array of exactly len), else a
 * fresh one. A fresh multi-MB array costs one page fault per 4 KiB on first write (measured ~0.4-0.8
 * ms for 1.6 MB, more than the depthwise conv itself), so repeated calls should pass `out`.
 */
function resultArray(out: unknown, len: number, where: string): Float32Array | undefined {
  if (out === undefined) return undefined;
  const o = f32Array(out, 'out', where);
  if (o.length !== len) throw new ShapeError(`${where}: out has ${o.length} elements, expected ${len}`);
  return o;
}

/** A live f32 Tensor of this instance (not a look-alike object, not another instance's: its ptr would address our memory). */
function checkTensor(tk: Tessera, t: unknown, len: number, name: string, where: string): Tensor {
  return tensorArg(where, name, t, tk.arena, 'f32', len);
}

/** @internal The fields of a PackedMatmul that tk.parallel's tile calls need (PackedMatmul.internals()). */
export interface PackedMatmulInternals {
  readonly tk: Tessera; readonly ptr: number; readonly biasPtr: number; readonly act: Act; readonly exact16: number;
  readonly dtype: 'f32' | 'f16'; readonly k: number; readonly n: number;
}

/** @internal The fields of a PackedConv2d that tk.parallel's tile calls need (PackedConv2d.internals()). */
export interface PackedConv2dInternals {
  readonly tk: Tessera; readonly ptr: number; readonly biasPtr: number; readonly mr: number; readonly act: Act;
  readonly depthwise: boolean; readonly geom: Readonly<ConvGeom>; readonly dtype: 'f32' | 'f16';
}

/**
 * What both packed dense ops share: the packed weights and bias as persistent arena blocks (ptr < 0 / biasPtr = 0 once
 * freed), and their Lifetime (dispose is idempotent and waits for tk.parallel pins).
 */
abstract class PackedWeights {
  protected ptr = -1;
  protected biasPtr = 0;
  protected readonly life: Lifetime;

  protected constructor(protected readonly tk: Tessera, what: string) {
    this.life = new Lifetime(what, () => this.freeAll());
  }

  get disposed(): boolean { return !this.life.alive; }

  /** @internal keep the packed weights while an async op's tiles use them (see Lifetime) */
  pin(): () => void { return this.life.pin(); }

  /** Free the packed weights (idempotent; deferred while a tk.parallel op has them pinned). */
  dispose(): void { this.life.dispose(); }

  protected freeAll(): void {
    if (this.ptr >= 0) this.tk.arena.free(this.ptr);
    if (this.biasPtr > 0) this.tk.arena.free(this.biasPtr);
    this.ptr = -1;
    this.biasPtr = 0;
  }
}

/** Matmul weights packed once into 8-column panels (f32 or f16) in the arena. */
export class PackedMatmul extends PackedWeights {
  readonly k: number;
  readonly n: number;
  readonly dtype: 'f32' | 'f16';
  private readonly act: Act;
  private readonly exact16: number;

  /** @internal use tk.dense.packMatmul */
  constructor(tk: Tessera, b: WeightArray, k: number, n: number, opts?: MatmulOptions) {
    super(tk, 'PackedMatmul');
    const where = 'dense.packMatmul';
    opts = options(where, opts, MATMUL_KEYS);
    this.k = shapeDim(k, 'k', where);
    this.n = shapeDim(n, 'n', where);
    const w = weightsOf(b, where);
    if (w.data.length !== k * n) throw new ShapeError(`${where}: b has ${w.data.length} elements, expected k*n = ${k}*${n} = ${k * n}`);
    const bias = checkBias(opts.bias, n, where);
    this.act = activationOf(opts.activation, where);
    this.dtype = w.f16 ? 'f16' : 'f32';
    const panels = Math.ceil(n / NR);
    const arena = tk.arena;
    const ebytes = w.f16 ? 2 : 4;
    this.ptr = arena.allocPersistent(panels * k * NR * ebytes, 64, 'packed matmul weights');
    this.biasPtr = 0;
    try {
      if (bias) {
        this.biasPtr = arena.allocPersistent(panels * NR * 4, 64, 'packed matmul bias');
        const f = tk.memory.f32;
        f.fill(0, this.biasPtr >> 2, (this.biasPtr >> 2) + panels * NR);
        f.set(bias, this.biasPtr >> 2);
      }
      let nonfinite = 0;
      tk.run(() => {
        const rowsPer = Math.max(1, Math.floor(PACK_CHUNK / n));
        const stage = arena.alloc(Math.min(rowsPer, k) * n * ebytes + 16);
        for (let k0 = 0; k0 < k; k0 += rowsPer) {
          const kr = Math.min(rowsPer, k - k0);
          if (w.f16) {
            tk.memory.u16.set((w.data as Uint16Array).subarray(k0 * n, (k0 + kr) * n), stage >> 1);
            nonfinite |= tk.kernels.f16_has_nonfinite(stage, kr * n);
            tk.kernels.f16_pack_b_nr8(k, n, k0, kr, stage, n, this.ptr);
          } else {
            tk.memory.f32.set((w.data as Float32Array).subarray(k0 * n, (k0 + kr) * n), stage >> 2);
            tk.kernels.f32_pack_b_nr8(k, n, k0, kr, stage, n, this.ptr);
          }
        }
      });
      this.exact16 = nonfinite;
    } catch (e) {
      this.freeAll();
      throw e;
    }
  }

  /** @internal what tk.parallel needs to build this op's tile calls (DisposedError once disposed) */
  internals(): PackedMatmulInternals {
    this.life.check();
    return { tk: this.tk, ptr: this.ptr, biasPtr: this.biasPtr, act: this.act, exact16: this.exact16, dtype: this.dtype, k: this.k, n: this.n };
  }

  /** Zero-copy: out[m x n] = act(a[m x k] . B + bias); a and out are f32 arena tensors. m defaults to a.length / k. */
  run(a: Tensor, out: Tensor, m?: number): void {
    const where = 'PackedMatmul.run';
    this.life.check();
    tensorArg(where, 'a', a, this.tk.arena, 'f32');
    const mm = m ?? a.length / this.k;
    shapeDim(mm, 'm', where);
    checkTensor(this.tk, a, mm * this.k, 'a', where);
    checkTensor(this.tk, out, mm * this.n, 'out', where);
    if (a.ptr === out.ptr) throw new ArgumentError(`${where}: a and out must be different tensors`);
    this.tk.run(() => this.exec(mm, a.ptr, out.ptr));
  }

  /** Copying form with the packed weights: a (m x k) Float32Array in, the result (m x n) in `out` if given, else in a fresh Float32Array. */
  apply(a: Float32Array, m?: number, out?: Float32Array): Float32Array {
    const where = 'PackedMatmul.apply';
    this.life.check();
    f32Array(a, 'a', where);
    const mm = m ?? a.length / this.k;
    shapeDim(mm, 'm', where);
    if (a.length !== mm * this.k) throw new ShapeError(`${where}: a has ${a.length} elements, expected m*k = ${mm}*${this.k}`);
    const dst = resultArray(out, mm * this.n, where);
    return this.tk.run(() => {
      const arena = this.tk.arena;
      const pa = arena.alloc(a.length * 4), po = arena.alloc(mm * this.n * 4);
      this.tk.memory.f32.set(a, pa >> 2);
      this.exec(mm, pa, po);
      const res = this.tk.memory.f32.subarray(po >> 2, (po >> 2) + mm * this.n);
      if (!dst) return res.slice();
      dst.set(res);
      return dst;
    });
  }

  /** Run inside an arena scope (pointers already validated). */
  private exec(m: number, pa: number, po: number): void {
    const k = this.tk.kernels;
    const { clampOn, lo, hi } = this.act;
    if (usesGemv(this.dtype, m)) {
      // bandwidth-bound: the GEMV per row (f16 panels widened in registers)
      // all columns in one call (tk.parallel splits them through the same entry); scratch: gemvScratchBytes
      const f16 = this.dtype === 'f16' ? 1 : 0, scratch = this.tk.arena.alloc(gemvScratchBytes(f16, this.k));
      for (let r = 0; r < m; r++) {
        k.gemv_nc_cols(f16, this.k, 0, this.n, pa + r * this.k * 4, this.ptr, po + r * this.n * 4, this.biasPtr, clampOn, lo, hi, gemvExact(this.tk, this.exact16), scratch);
      }
      return;
    }
    if (this.dtype === 'f16' && m <= SMALL_M_F16) {
      // 3 rows per pass over B, f16 panels widened in registers
      const tile = this.tk.arena.alloc(64), xs = this.tk.arena.alloc(scratchBytes('matmul', k.f16w_gemm_small_scratch(this.k)), 64);
      k.f16w_gemm_small(m, this.n, this.k, pa, this.ptr, po, this.biasPtr, clampOn, lo, hi, tile, this.exact16, xs);
      return;
    }
    const mrv = this.tk.dense.matmulMR();
    const scratch = this.tk.arena.alloc(k.f32_gemm_nc_scratch(mrv), 64);
    k.f32_gemm_nc(mrv, m, this.n, this.k, pa, this.k, this.ptr, this.dtype === 'f16' ? 1 : 0, this.exact16,
      po, this.n, this.biasPtr, clampOn, lo, hi, scratch);
  }
}

interface ConvGeom {
  c: number; h: number; w: number; cout: number; kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  pt: number; pl: number; pb: number; pr: number; groups: number; ho: number; wo: number;
}

function pair(v: unknown, name: string, where: string, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') { shapeDim(v, name, where, min); return [v, v]; }
  if (Array.isArray(v) && v.length === 2) return [shapeDim(v[0], name, where, min), shapeDim(v[1], name, where, min)];
  throw new ArgumentError(`${where}: ${name} must be a number or [h, w], got ${JSON.stringify(v)}`);
}

function convGeom(o: Conv2dOptions, where: string): ConvGeom {
  if (!o || typeof o !== 'object') throw new ArgumentError(`${where}: options { c, h, w, cout, kh, kw, ... } are required`);
  options(where, o, CONV_KEYS);
  if (o.layout !== undefined && o.layout !== 'nchw') throw new ArgumentError(`${where}: layout must be 'nchw', got ${String(o.layout)}`);
  const c = shapeDim(o.c, 'c', where), h = shapeDim(o.h, 'h', where), w = shapeDim(o.w, 'w', where);
  const cout = shapeDim(o.cout, 'cout', where), kh = shapeDim(o.kh, 'kh', where), kw = shapeDim(o.kw, 'kw', where);
  const [sh, sw] = pair(o.stride, 'stride', where, 1, 1);
  const [dh, dw] = pair(o.dilation, 'dilation', where, 1, 1);
  let pt: number, pl: number, pb: number, pr: number;
  const p = o.pad;
  if (p === undefined) pt = pl = pb = pr = 0;
  else if (typeof p === 'number') { shapeDim(p, 'pad', where, 0); pt = pl = pb = pr = p; }
  else if (Array.isArray(p) && p.length === 2) { pt = pb = shapeDim(p[0], 'pad', where, 0); pl = pr = shapeDim(p[1], 'pad', where, 0); }
  else if (Array.isArray(p) && p.length === 4) { pt = shapeDim(p[0], 'pad', where, 0); pl = shapeDim(p[1], 'pad', where, 0); pb = shapeDim(p[2], 'pad', where, 0); pr = shapeDim(p[3], 'pad', where, 0); }
  else throw new ArgumentError(`${where}: pad must be p, [ph, pw] or [top, left, bottom, right], got ${JSON.stringify(p)}`);
  const groups = o.groups ?? 1;
  if (groups !== 1 && groups !== c) throw new ArgumentError(`${where}: groups must be 1 or c (= ${c}, depthwise), got ${String(groups)}`);
  if (groups === c && c > 1 && cout !== c) throw new ShapeError(`${where}: depthwise (groups = c) needs cout = c = ${c}, got ${cout}`);
  if (groups === c && c > 1 && (dh !== 1 || dw !== 1)) throw new ArgumentError(`${where}: dilation is not supported for depthwise convs`);
  const ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
  if (h + pt + pb < ekh || w + pl + pr < ekw) throw new ShapeError(`${where}: kernel ${kh}x${kw} (dilated ${ekh}x${ekw}) is larger than the padded input ${h + pt + pb}x${w + pl + pr}`);
  const ho = Math.floor((h + pt + pb - ekh) / sh) + 1, wo = Math.floor((w + pl + pr - ekw) / sw) + 1;
  // each value fits i32, but the kernels add and multiply them (padded extents, pitches of whole 8-pixel tiles times the
  // stride) and scale them to byte offsets: keep every such extent within 2^29 elements so none wraps
  const LIMIT = 2 ** 29;
  for (const [what, v] of [['padded height h + pad', h + pt + pb], ['padded width w + pad', w + pl + pr], ['stride x output rows', (ho + 8) * sh],
    ['stride x output columns', (Math.ceil(wo / 8) * 8 + 8) * sw + ekw + 16]] as const) {
    if (v > LIMIT) throw new ShapeError(`${where}: ${what} = ${v} is too large (max ${LIMIT}: the kernels' byte offsets are 32-bit)`);
  }
  return { c, h, w, cout, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups: c === 1 ? 1 : groups, ho, wo };
}

/** Conv weights packed once: MR-row panels (groups = 1) or a plain [c][kh][kw] f32 copy (depthwise). */
export class PackedConv2d extends PackedWeights {
  readonly geom: Readonly<ConvGeom>;
  readonly dtype: 'f32' | 'f16';
  /** output shape per image: [cout, ho, wo] */
  readonly outShape: readonly [number, number, number];
  /** images per call when run / apply are not given n: the packing options' n (default 1) */
  readonly n: number;
  private readonly mr: number;
  private readonly act: Act;
  private readonly depthwise: boolean;

  /** @internal use tk.dense.packConv2d */
  constructor(tk: Tessera, w: WeightArray, opts: Conv2dOptions) {
    super(tk, 'PackedConv2d');
    const where = 'dense.packConv2d';
    const g = convGeom(opts, where);
    this.geom = Object.freeze(g);
    this.outShape = Object.freeze([g.cout, g.ho, g.wo]) as readonly [number, number, number];
    this.n = shapeDim(opts.n ?? 1, 'n', where);
    const wt = weightsOf(w, where);
    this.depthwise = g.groups > 1;
    const kdim = (this.depthwise ? 1 : g.c) * g.kh * g.kw;
    if (wt.data.length !== g.cout * kdim) throw new ShapeError(`${where}: w has ${wt.data.length} elements, expected cout*${this.depthwise ? '1' : 'c'}*kh*kw = ${g.cout * kdim}`);
    const bias = checkBias(opts.bias, g.cout, where);
    this.act = activationOf(opts.activation, where);
    this.dtype = wt.f16 ? 'f16' : 'f32';
    this.mr = tk.dense.mr;
    const arena = tk.arena;
    const k = tk.kernels;
    const panels = Math.ceil(g.cout / this.mr);
    // depthwise weights are tiny: kept as f32 (f16 input is widened exactly at pack time)
    const bytes = this.depthwise ? g.cout * kdim * 4 : panels * this.mr * kdim * (wt.f16 ? 2 : 4);
    this.ptr = arena.allocPersistent(bytes, 64, 'packed conv weights');
    try {
      if (bias) {
        this.biasPtr = arena.allocPersistent(panels * this.mr * 4, 64, 'packed conv bias');
        const f = tk.memory.f32;
        f.fill(0, this.biasPtr >> 2, (this.biasPtr >> 2) + panels * this.mr);
        f.set(bias, this.biasPtr >> 2);
      }
      tk.run(() => {
        const stage = arena.alloc(wt.data.length * (wt.f16 ? 2 : 4) + 16);
        if (wt.f16) tk.memory.u16.set(wt.data as Uint16Array, stage >> 1);
        else tk.memory.f32.set(wt.data as Float32Array, stage >> 2);
        if (this.depthwise) {
          if (wt.f16) k.f16_widen_n(stage, this.ptr, wt.data.length);
          else tk.memory.u8.copyWithin(this.ptr, stage, stage + wt.data.length * 4);
        } else if (wt.f16) k.f16_pack_a(this.mr, g.cout, kdim, stage, kdim, this.ptr);
        else k.f32_pack_a(this.mr, g.cout, kdim, stage, kdim, this.ptr);
      });
    } catch (e) {
      this.freeAll();
      throw e;
    }
  }

  /** @internal what tk.parallel needs to build this op's tile calls (DisposedError once disposed) */
  internals(): PackedConv2dInternals {
    this.life.check();
    return { tk: this.tk, ptr: this.ptr, biasPtr: this.biasPtr, mr: this.mr, act: this.act, depthwise: this.depthwise, geom: this.geom, dtype: this.dtype };
  }

  /** Zero-copy: out[n][cout][ho][wo] = conv(x[n][c][h][w]) on f32 arena tensors (n defaults to the packing options' n). */
  run(x: Tensor, out: Tensor, n = this.n): void {
    const where = 'PackedConv2d.run';
    this.life.check();
    const g = this.geom;
    shapeDim(n, 'n', where);
    checkTensor(this.tk, x, n * g.c * g.h * g.w, 'x', where);
    checkTensor(this.tk, out, n * g.cout * g.ho * g.wo, 'out', where);
    if (x.ptr === out.ptr) throw new ArgumentError(`${where}: x and out must be different tensors`);
    this.tk.run(() => this.exec(n, x.ptr, out.ptr));
  }

  /** Copying form: x (n*c*h*w) Float32Array in, fresh Float32Array (n*cout*ho*wo) out (n defaults to the packing options' n). */
  apply(x: Float32Array, n = this.n, out?: Float32Array): Float32Array {
    const where = 'PackedConv2d.apply';
    this.life.check();
    const g = this.geom;
    f32Array(x, 'x', where);
    shapeDim(n, 'n', where);
    if (x.length !== n * g.c * g.h * g.w) throw new ShapeError(`${where}: x has ${x.length} elements, expected n*c*h*w = ${n}*${g.c}*${g.h}*${g.w}`);
    const outLen = n * g.cout * g.ho * g.wo;
    const dst = resultArray(out, outLen, where);
    return this.tk.run(() => {
      const arena = this.tk.arena;
      const px = arena.alloc(x.length * 4), po = arena.alloc(outLen * 4);
      this.tk.memory.f32.set(x, px >> 2);
      this.exec(n, px, po);
      const res = this.tk.memory.f32.subarray(po >> 2, (po >> 2) + outLen);
      if (!dst) return res.slice();
      dst.set(res);
      return dst;
    });
  }

  private exec(n: number, px: number, po: number): void {
    const g = this.geom, k = this.tk.kernels, arena = this.tk.arena;
    const { clampOn, lo, hi } = this.act;
    const inImg = g.c * g.h * g.w * 4, outImg = g.cout * g.ho * g.wo * 4;
    const wf16 = this.dtype === 'f16' ? 1 : 0;
    const mr = this.mr, kmr = this.tk.dense.kernelMR(mr); // kmr: the kernels' mr argument (MR + variant bit)
    if (this.depthwise) {
      const pitch = k.dwconv_pitch(g.w, g.pl, g.pr, g.kw, g.sw, g.wo);
      const scratch = arena.alloc(scratchBytes('conv2d', k.f32_dwconv_scratch(g.kh, pitch)), 64);
      for (let i = 0; i < n; i++) {
        k.f32_dwconv_nchw(g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.pr, g.ho, g.wo, px + i * inImg, this.ptr, this.biasPtr,
          po + i * outImg, clampOn, lo, hi, scratch);
      }
      return;
    }
    const kdim = g.c * g.kh * g.kw;
    if (g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt + g.pl + g.pb + g.pr === 0) {
      const scratch = arena.alloc(scratchBytes('conv2d', k.f32_conv1x1_scratch(mr, kdim)), 64);
      for (let i = 0; i < n; i++) {
        k.f32_conv1x1_nchw(kmr, g.cout, g.c, g.h * g.w, px + i * inImg, this.ptr, wf16, this.biasPtr, po + i * outImg, clampOn, lo, hi, scratch);
      }
    } else if (g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1) {
      const wp = g.w + g.pl + g.pr;
      const bh = k.conv_s1_band_rows(g.c, g.kh, wp, g.ho);
      const scratch = arena.alloc(scratchBytes('conv2d', k.f32_conv_s1_scratch(mr, g.c, g.kh, g.kw, wp, bh)), 64);
      for (let i = 0; i < n; i++) {
        k.f32_conv_s1_nchw(kmr, g.cout, g.c, g.h, g.w, g.kh, g.kw, g.pt, g.pl, g.pr, g.ho, g.wo, bh, px + i * inImg, this.ptr, wf16,
          this.biasPtr, po + i * outImg, clampOn, lo, hi, scratch);
      }
    } else {
      const pb = k.conv_im2col_block(kdim);
      const scratch = arena.alloc(scratchBytes('conv2d', k.f32_conv_im2col_scratch(mr, kdim, pb)), 64);
      for (let i = 0; i < n; i++) {
        k.f32_conv_im2col_nchw(kmr, g.cout, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.ho, g.wo, pb,
          px + i * inImg, this.ptr, wf16, this.biasPtr, po + i * outImg, clampOn, lo, hi, scratch);
      }
    }
  }
}

/** tk.dense: packed (reusable) forms and tuning knobs. tk.matmul / tk.conv2d delegate here. */
export class DenseOps {
  private _mr: number;
  /**
   * The `_splat` GEMM micro-kernels (4x8, 5x8: the MR values of a k step as one v128 load, lanes
   * broadcast by shuffles, instead of MR load32_splat; 6x8 always uses load32_splat); same bits.
   * An alias of tk.kernelProfile.denseSplatA (default: on outside browsers, in JSC browsers and under explicit bounds
   * checks; conv 3x3 56x56x64 relaxed
   * 4x8: Deno 35 -> 48 GFLOP/s, Bun 29 -> 36, Node 20 42-44 -> 46-47; Chromium 156 ~5 % slower).
   */
  get splatA(): boolean { return this.tk.kernelProfile.denseSplatA; }
  set splatA(on: boolean) { this.tk.kernelProfile.denseSplatA = on; }

  constructor(private tk: Tessera) {
    this._mr = tk.kernels.denseDefaultMR();
  }

  /** @internal the drivers' mr argument: MR plus MR_SPLAT_A when splatA (see assembly/dense/gemm.ts) */
  kernelMR(mr: number): number { return this.tk.kernelProfile.denseSplatA ? mr | ABI.DENSE_MR_SPLAT_A : mr; }

  /** @internal f32_gemm_nc's mr argument: the 6x8 `_pre` tile when kernelProfile.denseMatmulPreA, else kernelMR(mr) */
  matmulMR(): number { return this.tk.kernelProfile.denseMatmulPreA ? 6 | ABI.DENSE_MR_PRE_A : this.kernelMR(this._mr); }

  /**
   * Rows of the GEMM micro-tile (4, 5 or 6; default 4). Packed conv weights keep the MR they were packed with. Matmul
   * follows it too, except with kernelProfile.denseMatmulPreA (the default on JavaScriptCore), which always runs the
   * 6x8 pre-broadcast tile: set that key false to tune MR there.
   */
  get mr(): number { return this._mr; }
  /**
   * Only the built micro-tiles are accepted: the packing and scratch sizes follow mr while the kernels
   * dispatch 6, 5 or else 4, so any other value computed wrong results (3, 7, 8, 100) or wrote outside
   * its buffers into static data (1, -1) or divided by zero (0, NaN).
   */
  set mr(v: number) {
    if (v !== 4 && v !== 5 && v !== 6) throw new ArgumentError(`dense.mr must be 4, 5 or 6 (the built GEMM micro-tiles), got ${String(v)}`);
    this._mr = v;
  }

  packMatmul(b: WeightArray, k: number, n: number, opts: MatmulOptions = {}): PackedMatmul {
    this.check();
    return new PackedMatmul(this.tk, b, k, n, opts);
  }

  packConv2d(w: WeightArray, opts: Conv2dOptions): PackedConv2d {
    this.check();
    return new PackedConv2d(this.tk, w, opts);
  }

  /** C = act(A . B + bias), all row-major; b f32 or f16 bits. m <= 4: B streamed unpacked (gemvDirect); else packed for this call only. */
  matmul(a: Float32Array, b: WeightArray, m: number, k: number, n: number, opts?: MatmulOptions): Float32Array {
    this.check();
    const where = 'matmul';
    opts = options(where, opts, MATMUL_KEYS);
    f32Array(a, 'a', where);
    shapeDim(m, 'm', where); shapeDim(k, 'k', where); shapeDim(n, 'n', where);
    if (a.length !== m * k) throw new ShapeError(`${where}: a has ${a.length} elements, expected m*k = ${m}*${k} = ${m * k}`);
    const w = weightsOf(b, where);
    if (w.data.length !== k * n) throw new ShapeError(`${where}: b has ${w.data.length} elements, expected k*n = ${k}*${n} = ${k * n}`);
    const bias = checkBias(opts.bias, n, where);
    const act = activationOf(opts.activation, where);
    if (m <= DIRECT_MAX_M) return this.gemvDirect(a, m, w, k, n, bias, act);
    const p = new PackedMatmul(this.tk, b, k, n, opts);
    try { return p.apply(a, m); } finally { p.dispose(); }
  }

  /**
   * Small m without packing: B (row-major) streams through a bounded staging buffer in blocks of rows;
   * each block is consumed by the row-major GEMV kernel (once per row of a) while it is still in
   * cache, accumulating into y. Packing B for one use would read and write it once more (the packed
   * path measured 0.18x tfjs for 1 x 4096 x 4096).
   */
  private gemvDirect(a: Float32Array, m: number, w: { f16: boolean; data: Float32Array | Uint16Array }, k: number, n: number,
    bias: Float32Array | undefined, act: Act): Float32Array {
    const tk = this.tk;
    return tk.run(() => {
      const arena = tk.arena, kern = tk.kernels;
      const eb = w.f16 ? 2 : 4;
      const rowsPer = Math.max(1, Math.floor(DIRECT_CHUNK_BYTES / (n * eb)));
      const px = arena.alloc(m * k * 4 + 16), pxs = w.f16 ? arena.alloc(m * k * 4 + 16) : 0;
      const py = arena.alloc(m * n * 4 + 16), pb = bias ? arena.alloc(n * 4 + 16) : 0;
      const stage = arena.alloc(Math.min(rowsPer, k) * n * eb + 16, 64);
      const f32 = tk.memory.f32; // after the last allocation
      f32.set(a, px >> 2);
      if (bias) f32.set(bias, pb >> 2);
      const scaled: number[] = [];
      for (let r = 0; r < m; r++) scaled.push(w.f16 ? kern.f16_prescale_x(px + r * k * 4, pxs + r * k * 4, k) : 0);
      for (let k0 = 0; k0 < k; k0 += rowsPer) {
        const kr = Math.min(rowsPer, k - k0), first = k0 === 0 ? 1 : 0, last = k0 + kr === k ? 1 : 0;
        if (w.f16) {
          tk.memory.u16.set((w.data as Uint16Array).subarray(k0 * n, (k0 + kr) * n), stage >> 1);
          const exact = kern.f16_has_nonfinite(stage, kr * n);
          for (let r = 0; r < m; r++) {
            const xo = (r * k + k0) * 4;
            kern.f16w_gemv_rows(n, kr, px + xo, pxs + xo, scaled[r], exact, stage, py + r * n * 4, first, last, pb, act.clampOn, act.lo, act.hi);
          }
        } else {
          f32.set((w.data as Float32Array).subarray(k0 * n, (k0 + kr) * n), stage >> 2);
          for (let r = 0; r < m; r++) kern.f32_gemv_rows(n, kr, px + (r * k + k0) * 4, stage, py + r * n * 4, first, last, pb, act.clampOn, act.lo, act.hi);
        }
      }
      return tk.memory.f32.slice(py >> 2, (py >> 2) + m * n);
    });
  }

  /** NCHW conv2d (weights OIHW). Packs w for this call only. */
  conv2d(x: Float32Array, w: WeightArray, opts: Conv2dOptions): Float32Array {
    this.check();
    const where = 'conv2d';
    f32Array(x, 'x', where);
    const g = convGeom(opts, where);
    const n = shapeDim(opts.n ?? 1, 'n', where);
    if (x.length !== n * g.c * g.h * g.w) throw new ShapeError(`${where}: x has ${x.length} elements, expected n*c*h*w = ${n}*${g.c}*${g.h}*${g.w} = ${n * g.c * g.h * g.w}`);
    const p = new PackedConv2d(this.tk, w, opts);
    try { return p.apply(x, n); } finally { p.dispose(); }
  }

  private check(): void {
    if (this.tk.disposed) throw new DisposedError('tessera instance');
  }
}
