/**
 * Fine-grained sparse matmul and conv (tk.sparse). Format, packing and validation live in
 * ../sparse-format.ts; this file stages packed weights into linear memory and calls the kernels.
 *
 * Activations are channel-major: matmul X is cols x n row-major (= a CHW tensor with n = H*W), conv
 * input is C x H x W (NCHW, batch 1). Kernel staging per call:
 *   w  : the packed values (bias folded in)          nz : nnz per block row (u32)
 *   dm : delta[i] * (bytes per activation row), i32  -> the pointer walk of the kernels
 * The walk was validated in TS (every visited row inside the input), so kernels never read outside
 * the input buffer (+ the 16-byte arena tail pad for vector over-reads) and never write outside Y.
 */
import { ArgumentError, DisposedError, DTypeError, ShapeError } from '../errors.js';
import { Lifetime, type Tensor } from '../memory.js';
import {
  deserializeSparse, packSparse, planGemv, pruneSparse, SparseMatrix, validateGemvPlan, validateSparse,
  type KernelSize, type PackOptions, type PruneOptions,
} from '../sparse-format.js';
import type { Tessera } from '../tessera.js';
import type { PackedConv2d } from './dense.js';
import { options, tensor } from '../validate.js';

export type Activation = 'none' | 'relu' | 'relu6';
/** Spatial tile (pixels) of the batched 1x1 kernels; 4x1-block kernels: 8, 12, 16; unstructured: 16, 32. */
export type SpmmTile = 8 | 12 | 16 | 32;

export interface MatmulOptions { activation?: Activation; /** override the kernel tile (benchmarks) */ tile?: SpmmTile }
export interface ConvOptions { c: number; h: number; w: number; stride?: 1 | 2; pad?: 0 | 1; activation?: Activation }
/** Geometry a resident layer is bound to: a matmul with n activation columns, or a conv input. */
export type LayerGeometry = { n: number; tile?: SpmmTile; /** row-panel budget in bytes (benchmarks) */ chunkBytes?: number } | { h: number; w: number; stride?: 1 | 2; pad?: 0 | 1; chunkBytes?: number };

export interface AutoOptions extends PackOptions {
  activation?: Activation;
  /** 'measure' (default): time dense and sparse once on this geometry and keep the faster. 'density': sparse when density <= breakEven. */
  policy?: 'measure' | 'density';
  /** stored-weight density at or below which sparse is used with policy 'density' (default 0.8). */
  breakEven?: number;
}

/** Default tiles, picked from bench/suites/sparse.ts on x86-64 (V8): see the report in the suite. */
const DEFAULT_TILE_4 = 8, DEFAULT_TILE_1 = 16;
/** Spatial tile of the 3x3 kernels for 4-channel groups (8 accumulators) and for single-channel (unstructured) rows; the 32-pixel driver is built too. */
const CONV_TILE_4 = 8, CONV_TILE_1: 16 | 32 = 16;
/**
 * Bytes after the padded planes (convGeom adds them to paddedBytes): runConv3x3 rounds positions up to
 * whole tiles, and the junk positions read up to tile - 1 floats past the last plane (worked out in
 * runConv3x3; tests/unit/sparse-conv-extent.test.ts checks every read over a geometry sweep).
 */
export const TILE_SLACK_BYTES = Math.max(CONV_TILE_4, CONV_TILE_1) * 4;

function clampOf(a: Activation | undefined, fn: string): [number, number] {
  switch (a ?? 'none') {
    case 'none': return [-Infinity, Infinity];
    case 'relu': return [0, Infinity];
    case 'relu6': return [0, 6];
    default: throw new ArgumentError(`${fn}: activation must be 'none', 'relu' or 'relu6', got ${String(a)}`);
  }
}

function isPosInt(x: unknown): x is number { return typeof x === 'number' && Number.isInteger(x) && x >= 1; }

export interface ConvGeom { c: number; h: number; w: number; stride: 1 | 2; pad: 0 | 1; oh: number; ow: number; Hp: number; rowLen: number; Wq: number; planeBytes: number; paddedBytes: number }

function convGeom(fn: string, sp: SparseMatrix, o: { c?: number; h: number; w: number; stride?: number; pad?: number }): ConvGeom {
  const stride = o.stride ?? 1, pad = o.pad ?? (sp.kernelSize === 3 ? 1 : 0);
  const c = o.c ?? sp.cols;
  if (!isPosInt(c) || !isPosInt(o.h) || !isPosInt(o.w)) throw new ShapeError(`${fn}: c, h, w must be positive integers, got ${c}, ${o.h}, ${o.w}`);
  if (c !== sp.cols) throw new ShapeError(`${fn}: input has ${c} channels, the weights expect ${sp.cols}`);
  if (stride !== 1 && stride !== 2) throw new ArgumentError(`${fn}: stride must be 1 or 2, got ${stride}`);
  if (pad !== 0 && pad !== 1) throw new ArgumentError(`${fn}: pad must be 0 or 1, got ${pad}`);
  if (sp.kernelSize === 1 && (stride !== 1 || pad !== 0)) throw new ArgumentError(`${fn}: 1x1 weights support stride 1, pad 0 only (got stride ${stride}, pad ${pad})`);
  const k = sp.kernelSize;
  const Hp = o.h + 2 * pad, Wp = o.w + 2 * pad;
  if (Hp < k || Wp < k) throw new ShapeError(`${fn}: padded input ${Hp}x${Wp} is smaller than the ${k}x${k} kernel`);
  const oh = Math.floor((Hp - k) / stride) + 1, ow = Math.floor((Wp - k) / stride) + 1;
  const Wq = (Wp + 1) >> 1;
  const rowLen = stride === 2 ? 2 * Wq : Wp;
  const planeBytes = Hp * rowLen * 4;
  // + TILE_SLACK_BYTES: runConv3x3 rounds positions up to whole tiles, which may read past the last plane's end
  return { c, h: o.h, w: o.w, stride: stride as 1 | 2, pad: pad as 0 | 1, oh, ow, Hp, rowLen, Wq, planeBytes, paddedBytes: planeBytes * c + TILE_SLACK_BYTES };
}

/** Packed weights placed in linear memory (temporary or persistent). */
export interface Staged {
  w: number; nz: number; dm: number;
  /** batch-1 plan (planGemv) staged instead of the CHW walk: its index bytes (2 = u16, 4 = u32); 0 otherwise */
  gemv: 0 | 2 | 4;
}

const PACK_KEYS = ['block', 'threshold', 'bias', 'kernelSize'] as const;
const GEOM_KEYS = ['n', 'tile', 'chunkBytes', 'h', 'w', 'stride', 'pad'] as const;
const DENSE_LAYER_KEYS = ['bias', 'kernelSize', 'activation'] as const;
/** Unknown keys of an options / geometry object are ArgumentErrors (a misspelt key would be ignored); non-objects are left
 *  to the op's own checks. */
function knownKeys(where: string, o: unknown, allowed: readonly string[]): void {
  if (o !== null && typeof o === 'object') options(where, o, allowed);
}

export class SparseOps {
  constructor(private tk: Tessera) {}

  /** Magnitude-prune dense weights to a target block sparsity (returns a pruned copy). */
  prune(w: Float32Array, rows: number, cols: number, o: PruneOptions): Float32Array {
    knownKeys('sparse.prune', o, ['sparsity', 'block', 'kernelSize']); // null / missing: pruneSparse names the sparsity
    return pruneSparse(w, rows, cols, o);
  }

  /** Pack dense weights (rows x cols, or rows x cols x 3 x 3 with kernelSize 3) into the validated sparse form. */
  pack(w: Float32Array, rows: number, cols: number, o: PackOptions = {}): SparseMatrix {
    o = options('sparse.pack', o, PACK_KEYS);
    return packSparse(w, rows, cols, o);
  }

  /** Rebuild a packed matrix from sp.serialize() bytes; SparseFormatError on any corruption. */
  deserialize(bytes: Uint8Array): SparseMatrix { return deserializeSparse(bytes); }

  /** Throws SparseFormatError if sp (or anything mutated in it since packing) is malformed. */
  validate(sp: SparseMatrix): void { checkSparse(sp); }

  /** Y (rows x n) = sp * X (cols x n, row-major) + bias, with optional ReLU/ReLU6. */
  matmul(sp: SparseMatrix, x: Float32Array, n: number, o: MatmulOptions = {}): Float32Array {
    checkSparse(sp);
    o = options('sparse.matmul', o, ['activation', 'tile']);
    if (sp.kernelSize !== 1) throw new ShapeError(`sparse.matmul: the matrix holds ${sp.kernelSize}x${sp.kernelSize} conv weights (kernelSize ${sp.kernelSize}); matmul takes 1x1 weights, use sparse.conv2d`);
    if (!(x instanceof Float32Array)) throw new DTypeError('sparse.matmul: x must be a Float32Array');
    if (!isPosInt(n)) throw new ShapeError(`sparse.matmul: n must be a positive integer, got ${n}`);
    if (x.length !== sp.cols * n) throw new ShapeError(`sparse.matmul: x has ${x.length} elements, ${sp.cols} x ${n} needs ${sp.cols * n}`);
    const [lo, hi] = clampOf(o.activation, 'sparse.matmul');
    const tile = checkTile(sp, o.tile);
    return this.tk.run(() => {
      const a = this.tk.arena;
      const st = stage(this.tk, sp, n * 4, false, undefined, n === 1);
      const px = a.alloc(x.length * 4), py = a.alloc(sp.rows * n * 4);
      this.tk.memory.f32.set(x, px >> 2);
      runMatmul(this.tk, sp, st, n, px, py, lo, hi, tile);
      return this.tk.memory.f32.slice(py >> 2, (py >> 2) + sp.rows * n);
    });
  }

  /**
   * Sparse conv on a C x H x W input (batch 1): 3x3 weights (kernel groups; stride 1 or 2, pad 0 or 1)
   * or 1x1 weights (stride 1, pad 0). Returns rows x OH x OW.
   */
  conv2d(sp: SparseMatrix, x: Float32Array, o: ConvOptions): Float32Array {
    checkSparse(sp);
    if (!(x instanceof Float32Array)) throw new DTypeError('sparse.conv2d: x must be a Float32Array');
    knownKeys('sparse.conv2d', o, ['c', 'h', 'w', 'stride', 'pad', 'activation']); // null / missing: convGeom's ShapeError
    const g = convGeom('sparse.conv2d', sp, o ?? ({} as ConvOptions));
    if (x.length !== g.c * g.h * g.w) throw new ShapeError(`sparse.conv2d: x has ${x.length} elements, ${g.c}x${g.h}x${g.w} needs ${g.c * g.h * g.w}`);
    const [lo, hi] = clampOf(o.activation, 'sparse.conv2d');
    if (sp.kernelSize === 1) return this.matmul(sp, x, g.h * g.w, { activation: o.activation });
    return this.tk.run(() => {
      const a = this.tk.arena;
      const st = stage(this.tk, sp, g.planeBytes, false, g);
      const px = a.alloc(x.length * 4), pp = a.alloc(g.paddedBytes), py = a.alloc(sp.rows * g.oh * g.ow * 4);
      this.tk.memory.f32.set(x, px >> 2);
      runConv3x3(this.tk, sp, st, g, px, pp, py, lo, hi);
      return this.tk.memory.f32.slice(py >> 2, (py >> 2) + sp.rows * g.oh * g.ow);
    });
  }

  /**
   * Zero-copy form: packed weights resident in the arena, bound to one geometry; run it on Tensors.
   * Dispose the layer to free its memory.
   */
  layer(sp: SparseMatrix, geom: LayerGeometry, o: { activation?: Activation } = {}): SparseLayer {
    checkSparse(sp);
    knownKeys('sparse.layer', geom, GEOM_KEYS);
    o = options('sparse.layer', o, ['activation']);
    return new SparseLayer(this.tk, sp, geom, o.activation, false);
  }

  /**
   * Temporary dense baseline in the same CHW layout (the dense family's tk.matmul / tk.conv2d replace
   * it once merged): the same packing with every block stored, run by the dense kernels.
   */
  denseLayer(w: Float32Array, rows: number, cols: number, geom: LayerGeometry, o: { bias?: Float32Array; kernelSize?: KernelSize; activation?: Activation } = {}): SparseLayer {
    knownKeys('sparse.denseLayer', geom, GEOM_KEYS);
    o = options('sparse.denseLayer', o, DENSE_LAYER_KEYS);
    const full = packSparse(w, rows, cols, { block: [4, 1], bias: o.bias, kernelSize: o.kernelSize }, true);
    return new SparseLayer(this.tk, full, geom, o.activation, true);
  }

  /**
   * Our best dense path for the same layer: the dense family's pre-packed ops (tk.dense.packConv2d
   * for 1x1 / 3x3 convs and batched matmul, tk.dense.packMatmul GEMV for n = 1), behind the same
   * run/apply interface as a SparseLayer.
   */
  denseFamilyLayer(w: Float32Array, rows: number, cols: number, geom: LayerGeometry, o: { bias?: Float32Array; kernelSize?: KernelSize; activation?: Activation } = {}): LayerRunner {
    knownKeys('sparse.denseFamilyLayer', geom, GEOM_KEYS);
    o = options('sparse.denseFamilyLayer', o, DENSE_LAYER_KEYS);
    return new DenseFamilyLayer(this.tk, w, rows, cols, geom, o);
  }

  /**
   * Per-layer dense vs sparse choice: packs the candidates (sparse, the dense family's packed op,
   * and the CHW dense kernels of this family), times each once on this geometry, keeps the fastest
   * and frees the others. policy 'density' skips the timing: sparse when the stored density is at
   * most breakEven, else the dense family's op.
   */
  auto(w: Float32Array, rows: number, cols: number, geom: LayerGeometry, o: AutoOptions = {}): AutoLayer {
    knownKeys('sparse.auto', geom, GEOM_KEYS);
    o = options('sparse.auto', o, [...PACK_KEYS, 'activation', 'policy', 'breakEven']);
    const be = o.breakEven ?? 0.8;
    if (typeof be !== 'number' || !(be >= 0 && be <= 1)) throw new ArgumentError(`sparse.auto: breakEven must be a number in [0, 1], got ${String(be)}`);
    const sp = packSparse(w, rows, cols, o);
    const policy = o.policy ?? 'measure';
    if (policy !== 'measure' && policy !== 'density') throw new ArgumentError(`sparse.auto: policy must be 'measure' or 'density', got ${String(policy)}`);
    const act = o.activation;
    const dopts = { bias: o.bias, kernelSize: o.kernelSize, activation: act };
    // every choice must compute with the same weights: with a threshold the packed matrix dropped
    // small weights, so the dense candidates take the packed weights, not the caller's w
    const wd = o.threshold ? sp.toDense().weights : w;
    const make: Record<AutoChoice, () => LayerRunner> = {
      sparse: () => new SparseLayer(this.tk, sp, geom, act, false),
      dense: () => this.denseFamilyLayer(wd, rows, cols, geom, dopts),
      'dense-chw': () => this.denseLayer(wd, rows, cols, geom, dopts),
    };
    if (policy === 'density') {
      const choice: AutoChoice = sp.density <= be ? 'sparse' : 'dense';
      return new AutoLayer(make[choice](), choice, sp);
    }
    const timings: Partial<Record<AutoChoice, number>> = {};
    const all: (readonly [AutoChoice, LayerRunner])[] = [];
    let best: AutoChoice = 'sparse';
    try {
      // built inside the try: if one candidate cannot be allocated, the ones already built are freed
      for (const k of Object.keys(make) as AutoChoice[]) all.push([k, make[k]()] as const);
      const t = measureAll(this.tk, all.map(([, l]) => l));
      all.forEach(([k], i) => { timings[k] = t[i]; if (t[i] < (timings[best] ?? Infinity)) best = k; });
    } catch (e) {
      for (const [, l] of all) l.dispose();
      throw e;
    }
    for (const [k, l] of all) if (k !== best) l.dispose();
    return new AutoLayer(all.find(([k]) => k === best)![1], best, sp, timings);
  }
}

export type AutoChoice = 'sparse' | 'dense' | 'dense-chw';

/** What auto() and the benchmarks run: a layer bound to one geometry. */
export interface LayerRunner {
  readonly inputLength: number;
  readonly outputLength: number;
  run(x: Tensor, y: Tensor): void;
  apply(x: Float32Array): Float32Array;
  dispose(): void;
}

/** The dense family's packed op for a sparse-shaped layer (W is rows x cols [x 3 x 3], CHW activations). */
export class DenseFamilyLayer implements LayerRunner {
  readonly inputLength: number;
  readonly outputLength: number;
  /** @internal the packed conv behind a conv-geometry layer (tk.parallel.sparseRun runs it with conv2dRun), else null */
  readonly conv: PackedConv2d | null = null;
  private run_: (x: Tensor, y: Tensor) => void;
  private dispose_: () => void;
  constructor(private tk: Tessera, w: Float32Array, rows: number, cols: number, geom: LayerGeometry, o: { bias?: Float32Array; kernelSize?: KernelSize; activation?: Activation }) {
    const ks = o.kernelSize ?? 1;
    if (geom && 'n' in geom) {
      if (ks !== 1) throw new ArgumentError('sparse.denseFamilyLayer: {n} geometry needs 1x1 weights');
      const n = geom.n;
      this.inputLength = cols * n; this.outputLength = rows * n;
      if (n === 1) {
        // GEMV: y (1 x rows) = x (1 x cols) . W^T
        const wt = new Float32Array(cols * rows);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) wt[c * rows + r] = w[r * cols + c];
        const mm = tk.dense.packMatmul(wt, cols, rows, { bias: o.bias, activation: o.activation });
        this.run_ = (x, y) => mm.run(x, y, 1); this.dispose_ = () => mm.dispose();
      } else {
        const cv = tk.dense.packConv2d(w, { c: cols, h: 1, w: n, cout: rows, kh: 1, kw: 1, bias: o.bias, activation: o.activation });
        this.run_ = (x, y) => cv.run(x, y, 1); this.dispose_ = () => cv.dispose();
      }
    } else {
      const g = geom as { h: number; w: number; stride?: 1 | 2; pad?: 0 | 1 };
      const stride = g.stride ?? 1, pad = g.pad ?? (ks === 3 ? 1 : 0);
      const cv = tk.dense.packConv2d(w, { c: cols, h: g.h, w: g.w, cout: rows, kh: ks, kw: ks, stride, pad, bias: o.bias, activation: o.activation });
      this.conv = cv;
      this.inputLength = cols * g.h * g.w; this.outputLength = cv.outShape[0] * cv.outShape[1] * cv.outShape[2];
      this.run_ = (x, y) => cv.run(x, y, 1); this.dispose_ = () => cv.dispose();
    }
  }
  run(x: Tensor, y: Tensor): void { this.run_(x, y); }
  apply(x: Float32Array): Float32Array { return applyVia(this.tk, this, x, 'dense layer apply'); }
  dispose(): void { this.dispose_(); }
}

/** @internal The fields of a SparseLayer that tk.parallel's tile calls need (SparseLayer.internals()). */
export interface SparseLayerInternals {
  readonly tk: Tessera; readonly st: Readonly<Staged>; readonly meta: SparseMatrix; readonly n: number; readonly tile: SpmmTile;
  readonly dense: boolean; readonly lo: number; readonly hi: number;
  readonly inputLength: number; readonly outputLength: number;
  /** 3x3 layers: the conv geometry (else null: a 1x1 layer over n columns) */
  readonly geom: Readonly<ConvGeom> | null;
  /** the row panels run() calls the kernels over (1x1 and 3x3 layers) */
  readonly chunks: readonly Chunk[] | undefined;
}

/** A packed layer resident in linear memory, bound to one input geometry. */
export class SparseLayer implements LayerRunner {
  readonly rows: number;
  readonly cols: number;
  readonly kernelSize: KernelSize;
  readonly dense: boolean;
  /** input elements (cols*n, or c*h*w) and output elements */
  readonly inputLength: number;
  readonly outputLength: number;
  readonly outputShape: readonly number[];
  private st: Staged | null;
  private lo: number; private hi: number;
  private n = 0; private tile: SpmmTile;
  private chunks: Chunk[] | undefined;
  private geom: ConvGeom | null = null;
  private meta: SparseMatrix;
  private readonly life = new Lifetime('SparseLayer', () => this.freeAll());

  constructor(private tk: Tessera, sp: SparseMatrix, geom: LayerGeometry, act: Activation | undefined, dense: boolean) {
    // a private, validated copy (fields frozen, arrays copied): run() and tk.parallel read rows / cols / first / blockRows
    // from it, so later writes to the caller's matrix (readonly only to TypeScript) cannot reach the kernels or layer.matrix
    sp = Object.freeze(new SparseMatrix({ rows: sp.rows, cols: sp.cols, kernelSize: sp.kernelSize, blockRows: sp.blockRows, first: sp.first,
      nnz: sp.nnz.slice(), delta: sp.delta.slice(), vals: sp.vals.slice() }));
    [this.lo, this.hi] = clampOf(act, 'sparse.layer');
    this.rows = sp.rows; this.cols = sp.cols; this.kernelSize = sp.kernelSize; this.dense = dense;
    this.meta = sp;
    this.tile = 8;
    if (geom && 'n' in geom) {
      if (sp.kernelSize !== 1) throw new ArgumentError('sparse.layer: {n} geometry needs 1x1 weights; pass {h, w, stride, pad} for 3x3');
      if (!isPosInt(geom.n)) throw new ShapeError(`sparse.layer: n must be a positive integer, got ${geom.n}`);
      this.n = geom.n; this.tile = checkTile(sp, geom.tile, dense);
      this.chunks = planChunks(sp, geom.chunkBytes ?? DEFAULT_CHUNK_BYTES);
      this.inputLength = sp.cols * geom.n; this.outputLength = sp.rows * geom.n; this.outputShape = [sp.rows, geom.n];
    } else {
      const g = convGeom('sparse.layer', sp, (geom ?? {}) as { h: number; w: number });
      if (sp.kernelSize === 1) { this.n = g.h * g.w; this.tile = checkTile(sp, undefined, dense); this.chunks = planChunks(sp, DEFAULT_CHUNK_BYTES); } else this.geom = g;
      this.inputLength = g.c * g.h * g.w; this.outputLength = sp.rows * g.oh * g.ow; this.outputShape = [sp.rows, g.oh, g.ow];
    }
    const stride = this.geom ? this.geom.planeBytes : this.n * 4;
    if (this.geom) this.chunks = planChunks(sp, (geom as { chunkBytes?: number }).chunkBytes ?? DEFAULT_CHUNK_BYTES, 9);
    this.st = tk.run(() => stage(tk, sp, stride, true, this.geom ?? undefined, !dense && !this.geom && this.n === 1));
    // matrix arrays are copied into the arena: the layer no longer depends on later JS-side mutation
  }

  get disposed(): boolean { return !this.life.alive; }

  /** @internal what tk.parallel needs to build this layer's tile calls (DisposedError once disposed) */
  internals(): SparseLayerInternals {
    this.life.check();
    return { tk: this.tk, st: this.st as Staged, meta: this.meta, n: this.n, tile: this.tile, dense: this.dense,
      lo: this.lo, hi: this.hi, inputLength: this.inputLength, outputLength: this.outputLength, geom: this.geom, chunks: this.chunks };
  }

  /** @internal keep the staged weights while an async op's tiles use them (see Lifetime) */
  pin(): () => void { return this.life.pin(); }
  /** the packed matrix this layer was built from (dense layers: every block stored) */
  get matrix(): SparseMatrix { return this.meta; }

  /** y = layer(x) on arena tensors (f32; x holds inputLength elements, y outputLength). */
  run(x: Tensor, y: Tensor): void {
    this.life.check();
    const st = this.st as Staged;
    tensor('SparseLayer.run', 'x', x, this.tk.arena);
    tensor('SparseLayer.run', 'y', y, this.tk.arena);
    if (x.dtype !== 'f32' || y.dtype !== 'f32') throw new DTypeError(`SparseLayer.run: tensors must be f32, got ${x.dtype} and ${y.dtype}`);
    if (x.length !== this.inputLength) throw new ShapeError(`SparseLayer.run: x has ${x.length} elements, expected ${this.inputLength}`);
    if (y.length !== this.outputLength) throw new ShapeError(`SparseLayer.run: y has ${y.length} elements, expected ${this.outputLength}`);
    if (x.ptr === y.ptr) throw new ArgumentError('SparseLayer.run: x and y must be different tensors');
    this.tk.run(() => this.exec(st, x.ptr, y.ptr));
  }

  /** Copying convenience: Float32Array in, Float32Array out. */
  apply(x: Float32Array): Float32Array { return applyVia(this.tk, this, x, 'SparseLayer.apply'); }

  /**
   * Pointer form for engines that manage their own arena buffers (e.g. ping-pong activations):
   * xPtr / yPtr are byte offsets of inputLength / outputLength f32 values. Each range must be 4-byte
   * aligned and inside one live tensor block (tk.tensor / tensorFrom, or arena.allocPersistent with its
   * default tag), and the two must not overlap (the block's tail pad covers the kernels' <= 16-byte over-read).
   */
  runPtr(xPtr: number, yPtr: number): void {
    this.life.check();
    const st = this.st as Staged;
    const xb = this.inputLength * 4, yb = this.outputLength * 4;
    for (const [p, b, name] of [[xPtr, xb, 'xPtr'], [yPtr, yb, 'yPtr']] as const) {
      // inside one live tensor block (tk.tensor, or arena.allocPersistent's default tag): never static data, free memory
      // or tessera's own blocks (packed weights, this layer's staged index walk); the block's tail pad covers the
      // kernels' <= 16-byte over-read
      if (!Number.isInteger(p) || p % 4 !== 0 || this.tk.arena.blockHolding(p, b)?.tag !== 'tensor') {
        throw new ArgumentError(`SparseLayer.runPtr: ${name} ${p} (+${b} B) is not a 4-byte aligned range inside one live tensor block`);
      }
    }
    if (xPtr < yPtr + yb && yPtr < xPtr + xb) throw new ArgumentError('SparseLayer.runPtr: x and y overlap');
    this.tk.run(() => this.exec(st, xPtr, yPtr));
  }

  private exec(st: Staged, xp: number, yp: number): void {
    if (this.geom) {
      const pp = this.tk.arena.alloc(this.geom.paddedBytes);
      // dense 3x3 layers (temporary baseline) run the same kernel on the full index stream
      runConv3x3(this.tk, this.meta, st, this.geom, xp, pp, yp, this.lo, this.hi, this.chunks);
    } else {
      (this.dense ? runDenseMatmul : runMatmul)(this.tk, this.meta, st, this.n, xp, yp, this.lo, this.hi, this.tile, this.chunks);
    }
  }

  /** Free the staged weights (idempotent; deferred while a tk.parallel op has them pinned). */
  dispose(): void { this.life.dispose(); }

  private freeAll(): void {
    if (!this.st) return;
    const a = this.tk.arena;
    a.free(this.st.w); a.free(this.st.nz); a.free(this.st.dm);
    this.st = null;
  }
}

/** The result of tk.sparse.auto: the fastest of sparse / dense for this layer (timings in ms when measured). */
export class AutoLayer implements LayerRunner {
  constructor(readonly layer: LayerRunner, readonly choice: AutoChoice, readonly sparse: SparseMatrix,
    readonly timings?: Partial<Record<AutoChoice, number>>) {}
  get inputLength(): number { return this.layer.inputLength; }
  get outputLength(): number { return this.layer.outputLength; }
  run(x: Tensor, y: Tensor): void { this.layer.run(x, y); }
  apply(x: Float32Array): Float32Array { return this.layer.apply(x); }
  dispose(): void { this.layer.dispose(); }
}

// ---- internals -------------------------------------------------------------------------------

function checkSparse(sp: SparseMatrix): void {
  if (!(sp instanceof SparseMatrix)) throw new DTypeError('expected a SparseMatrix (from tk.sparse.pack or tk.sparse.deserialize)');
  validateSparse(sp); // the arrays are mutable: re-check before every kernel call (O(stored blocks))
}

function checkTile(sp: SparseMatrix, tile: SpmmTile | undefined, dense = false): SpmmTile {
  if (tile === undefined) return dense ? 8 : sp.blockRows === 4 ? DEFAULT_TILE_4 : DEFAULT_TILE_1;
  const ok = dense ? [8, 12, 16] : sp.blockRows === 4 ? [8, 12, 16] : [16, 32];
  if (!ok.includes(tile)) throw new ArgumentError(`tile ${tile} is not built for ${dense ? 'dense' : sp.blockRows === 4 ? '4x1 blocks' : 'unstructured'} (have ${ok.join(', ')})`);
  return tile;
}

/**
 * Copy vals / nnz / scaled deltas into the arena (temporary inside tk.run, or persistent).
 * 1x1: one dmap entry per stored block, delta * rowBytes. 3x3 (conv geometry given): each stored
 * block expands to 9 entries, one per tap, stepping between the tap positions
 * col * planeBytes + tapOffset[t] of the padded input (implicit im2col; the last entry closes the walk).
 */
function stage(tk: Tessera, sp: SparseMatrix, rowBytes: number, persistent: boolean, conv?: ConvGeom, gemv = false): Staged {
  if (sp.cols * rowBytes > 0x7fffffff) throw new ShapeError(`activation buffer of ${sp.cols} rows x ${rowBytes} bytes exceeds the 2 GiB kernel offset range`);
  const a = tk.arena;
  const kk = conv ? 9 : 1;
  const alloc = (b: number, tag: string) => (persistent ? a.allocPersistent(b, 64, tag) : a.alloc(b, 16, tag));
  // batch-1 FC: the runs / gather plan (built from the validated matrix, then validated itself)
  const plan = gemv ? planGemv(sp) : null;
  if (plan) validateGemvPlan(plan, sp.rows, sp.cols, sp.blockRows);
  const got: number[] = [];
  let w: number, nz: number, dm: number;
  try {
    got.push(w = alloc((plan ? plan.w.length : sp.vals.length) * 4, 'sparse.vals'));
    got.push(nz = alloc((plan ? plan.nz.length : sp.nnz.length) * 4, 'sparse.nnz'));
    got.push(dm = alloc(plan ? plan.idx.byteLength : sp.delta.length * kk * 4, 'sparse.dmap'));
  } catch (e) {
    if (persistent) for (const p of got) a.free(p); // scopes only free temporaries: persistent blocks must not leak on OOM
    throw e;
  }
  const m = tk.memory;
  if (plan) {
    m.f32.set(plan.w, w >> 2);
    m.u32.set(plan.nz, nz >> 2);
    if (plan.idx instanceof Uint16Array) m.u16.set(plan.idx, dm >> 1); else m.u32.set(plan.idx, dm >> 2);
    return { w, nz, dm, gemv: plan.idx instanceof Uint16Array ? 2 : 4 };
  }
  m.f32.set(sp.vals, w >> 2);
  const u32 = m.u32;
  for (let b = 0; b < sp.nnz.length; b++) u32[(nz >> 2) + b] = sp.nnz[b] * kk;
  const i32 = m.i32, base = dm >> 2;
  if (!conv) {
    for (let i = 0; i < sp.delta.length; i++) i32[base + i] = sp.delta[i] * rowBytes;
  } else {
    const taps = tapOffsets(conv);
    let col = sp.first, prev = sp.first * rowBytes, e = 0;
    for (let k = 0; k < sp.delta.length; k++) {
      for (let t = 0; t < 9; t++) {
        const pos = col * rowBytes + taps[t];
        if (e > 0) i32[base + e - 1] = pos - prev;
        prev = pos; e++;
      }
      col += sp.delta[k];
    }
    if (e > 0) i32[base + e - 1] = sp.first * rowBytes - prev;
  }
  return { w, nz, dm, gemv: 0 };
}

/** Byte offsets of the 9 taps relative to an output pixel's top-left input position (tap 0 is 0). */
function tapOffsets(g: ConvGeom): number[] {
  const R = g.rowLen * 4, out: number[] = [];
  for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
    // stride 2 rows are stored [even columns | odd columns]: kx=1 is the odd half, kx=2 the next even column
    out.push(ky * R + (g.stride === 1 ? kx * 4 : kx === 1 ? g.Wq * 4 : kx === 2 ? 4 : 0));
  }
  return out;
}

/**
 * Row-panel blocking for the batched kernels: the block rows are split into chunks whose packed
 * weights (+ dmap) fit in `budget` bytes, and each chunk runs over all spatial tiles before the next.
 * One chunk = XNNPACK's order (tile outer, all rows inner); small chunks keep a panel of weights hot in
 * L1/L2 when the whole matrix would be re-streamed from L3 for every tile (late MobileNet layers).
 */
export interface Chunk { ng: number; nr1: number; wOff: number; nzOff: number; dmOff: number; col: number; row: number }
export const DEFAULT_CHUNK_BYTES = 96 * 1024;

function planChunks(sp: SparseMatrix, budget: number, kk = 1): Chunk[] {
  const out: Chunk[] = [];
  const nb = sp.nnz.length, groups = sp.groups;
  let b = 0, wOff = 0, k = 0, col = sp.first, row = 0;
  while (b < nb) {
    const c: Chunk = { ng: 0, nr1: 0, wOff: wOff * 4, nzOff: b * 4, dmOff: k * kk * 4, col, row };
    let bytes = 0;
    do {
      const g = b < groups ? 4 : 1, n = sp.nnz[b];
      bytes += (g + n * g * kk) * 4 + n * kk * 4;
      for (let i = 0; i < n; i++) col += sp.delta[k + i];
      wOff += g + n * g * kk; k += n; row += g;
      if (g === 4) c.ng++; else c.nr1++;
      b++;
    } while (b < nb && bytes + (sp.nnz[b] * kk + 1) * 4 * (b < groups ? 5 : 2) <= budget);
    out.push(c);
  }
  return out;
}

export type SpmmKernelName = `f32_spmm_${8 | 16}x4__wasmsimd${'' | '_splat'}` | 'f32_spmm_12x4__wasmsimd' | 'f32_spmm_16x1__wasmsimd' | 'f32_spmm_32x1__wasmsimd';
export type ChwGemmKernelName = `f32_chwgemm_${8 | 16}x4__wasmsimd${'' | '_splat'}` | 'f32_chwgemm_12x4__wasmsimd';
export type SpConvKernelName = `f32_spconv3x3_8x4__wasmsimd${'' | '_splat'}` | 'f32_spconv3x3_16x4__wasmsimd' | 'f32_spconv3x3_32x4__wasmsimd';

/** `_splat` kernels per tk.kernelProfile.sparseSplat (default: outside browsers, in JSC browsers and under explicit bounds checks; figures in docs/sparse.md). */
const splatVariant = (tk: Tessera) => tk.kernelProfile.sparseSplat ? '_splat' as const : '' as const;

/**
 * The batched 1x1 kernel for this instance. With tk.kernelProfile.sparseSplat the 4x1-block kernels
 * (tiles 8 and 16; 12 has no _splat build, it spills) are the `_splat` variants: one v128 load of a
 * block's 4 weights, lanes broadcast by shuffles, instead of 4 load32_splat. Same madds in the same
 * order: bit-identical outputs. Deno (explicit bounds checks) pw3 1x1 30 %: 2.32 -> 1.53 ms, 3x3
 * 64ch@56: 7.7 -> 3.4 ms; Bun ~20 % faster; Node 20 2-7 %; Chromium 156 -5..+5 % (keeps load32_splat).
 * tk.parallel.sparseRun uses the same names.
 */
export function spmmKernelName(tk: Tessera, blockRows: number, tile: SpmmTile): SpmmKernelName {
  if (blockRows === 4) return tile === 12 ? 'f32_spmm_12x4__wasmsimd' : `f32_spmm_${tile === 16 ? 16 : 8}x4__wasmsimd${splatVariant(tk)}`;
  return tile === 16 ? 'f32_spmm_16x1__wasmsimd' : 'f32_spmm_32x1__wasmsimd';
}

/** The dense-CHW baseline kernels: same choice (its weight splats are the same 4 per k). */
export function chwgemmKernelName(tk: Tessera, tile: SpmmTile): ChwGemmKernelName {
  return tile === 12 ? 'f32_chwgemm_12x4__wasmsimd' : `f32_chwgemm_${tile === 16 ? 16 : 8}x4__wasmsimd${splatVariant(tk)}`;
}

/** The 3x3 kernel: 4-channel groups use 8-pixel tiles (`_splat` with tk.kernelProfile.sparseSplat), single channels 16 or 32. */
function spconvKernelName(tk: Tessera, tile: 8 | 16 | 32): SpConvKernelName {
  if (tile === 8) return `f32_spconv3x3_8x4__wasmsimd${splatVariant(tk)}`;
  return tile === 32 ? 'f32_spconv3x3_32x4__wasmsimd' : 'f32_spconv3x3_16x4__wasmsimd';
}

function runMatmul(tk: Tessera, sp: SparseMatrix, st: Staged, n: number, px: number, py: number, lo: number, hi: number, tile: SpmmTile, chunks?: Chunk[]): void {
  const k = tk.kernels;
  if (n === 1) {
    // staged as a validated batch-1 plan (stage(..., gemv = true)): runs for 4x1 blocks, gather for 1x1
    if (st.gemv === 0) throw new Error('internal: batch-1 matmul on weights staged without a GEMV plan');
    const u16 = st.gemv === 2;
    if (sp.blockRows === 4) (u16 ? k.f32_spmv_4x1_runs_u16__wasmsimd : k.f32_spmv_4x1_runs_u32__wasmsimd)(sp.groups, sp.singleRows, px, st.w, st.nz, st.dm, py, lo, hi);
    else (u16 ? k.f32_spmv_1x1_gather_u16__wasmsimd : k.f32_spmv_1x1_gather_u32__wasmsimd)(sp.rows, px, st.w, st.nz, st.dm, py, lo, hi);
    return;
  }
  const f = k[spmmKernelName(tk, sp.blockRows, tile)];
  const rb = n * 4;
  for (const c of chunks ?? planChunks(sp, DEFAULT_CHUNK_BYTES)) {
    f(n, c.ng, c.nr1, px + c.col * rb, st.w + c.wOff, st.nz + c.nzOff, st.dm + c.dmOff, py + c.row * rb, rb, lo, hi);
  }
}

function runDenseMatmul(tk: Tessera, sp: SparseMatrix, st: Staged, n: number, px: number, py: number, lo: number, hi: number, tile: SpmmTile, chunks?: Chunk[]): void {
  const k = tk.kernels;
  if (n === 1) { k.f32_chwgemv_4x1__wasmsimd(sp.groups, sp.singleRows, sp.cols, px, st.w, py, lo, hi); return; }
  const f = k[chwgemmKernelName(tk, tile)];
  const rb = n * 4;
  for (const c of chunks ?? planChunks(sp, DEFAULT_CHUNK_BYTES)) {
    f(n, c.ng, c.nr1, sp.cols, px, st.w + c.wOff, py + c.row * rb, rb, rb, lo, hi);
  }
}

/** Number of set bits (the tail tiles a remainder of r pixels is split into: 8 / 4 / 2 / 1). */
function popcount(r: number): number { let n = 0; for (; r > 0; r >>= 1) n += r & 1; return n; }

/** @internal one sparse 3x3 conv call: [kernel, ...its arguments] (tk.pool's tile-call form) */
export type SpConvCall = [SpConvKernelName, ...number[]];

/**
 * @internal The work of one sparse 3x3 conv: `f32_pad3x3_chw` of x into the padded buffer pp, then `calls` (one per
 * chunk and spatial part: disjoint outputs, any order, any thread), then, on the rounded-up paths, `unpad` compacts the
 * temporary (`tmpBytes`, at `out` when the calls are built) into y. runConv3x3 runs it on one thread in one spatial
 * part, tk.parallel.sparseRun splits it into parts across the pool. Every output is the same walk over the same
 * weights and inputs in the same order whatever call holds it, so the bits are the same.
 */
export interface Conv3x3Work {
  tmpBytes: number;
  /** the calls writing to `out` (y, or the temporary when tmpBytes > 0): each chunk over `parts` bands of output rows
   *  (flattened path: ranges of whole tiles of positions), fewer if there are not that many */
  calls(chunks: readonly Chunk[], pp: number, out: number, parts?: number): SpConvCall[];
  /** the unpad's arguments (tmp -> y) on the rounded-up paths, else null */
  unpad(tmp: number, py: number): [number, number, number, number, number, number, number] | null;
}

export function conv3x3Work(tk: Tessera, sp: SparseMatrix, st: Readonly<Staged>, g: ConvGeom, lo: number, hi: number): Conv3x3Work {
  // 4-channel groups: 8-pixel tiles (8 accumulators); single channels (unstructured): 16-pixel tiles
  // (4 accumulators per row but 4x fewer weight splats per load); only matters when ng = 0.
  const tile = sp.groups > 0 ? CONV_TILE_4 : CONV_TILE_1;
  const kernel = spconvKernelName(tk, tile);
  const rowStep = g.rowLen * 4 * g.stride;
  // Rounded-up paths: whole tiles over more positions than the output has, written to a temporary
  // (rows x plane floats, `pitch` floats per output row) that f32_unpad_rows compacts into py.
  let round: { oh: number; ow: number; step: number; pitch: number; plane: number } | null = null;
  if (g.stride === 1 && g.ow % tile !== 0) {
    // Flattened rows (stride 1): output position q = y*Wp + x over [0, L), L = (oh-1)*Wp + ow, reads
    // in[q + tap] as one long row, so narrow images (7, 14, 28 wide) get full tiles instead of
    // 4/2/1-pixel tails; the Wp-ow junk columns per row are dropped by the unpad. L is rounded up to
    // whole tiles (Lt): 7x7 = 61 positions ran as 7 tiles of 8 plus 4- and 1-pixel tails, now 8 tiles.
    // Reads: max q + tap = (oh+2)*Wp - 1 + (Lt - L), i.e. up to Lt - L <= tile - 1 floats past a plane,
    // into the next plane or, after the last one, into TILE_SLACK_BYTES; those positions are junk.
    const L = (g.oh - 1) * g.rowLen + g.ow, Lt = Math.ceil(L / tile) * tile;
    round = { oh: 1, ow: Lt, step: 0, pitch: g.rowLen, plane: Lt };
  } else if (popcount(g.ow % tile) >= 2) {
    // Stride 2 (flattening would waste 3/4 of the positions), when a row would end in two or more tail
    // tiles (8/4/2/1 pixels each): each output row is rounded up to whole tiles (owT). Measured on
    // 28-wide rows: per-OC kernels (16-pixel tiles, 16 + 8 + 4 -> 2 tiles) at 90 %, relaxed: 3.97 ->
    // 4.54-4.85x; 4x1 groups (8-pixel tiles, 24 + 4: one tail) keep the row path, rounding them up lost
    // 7-10 %. (14-wide group rows, 8 + 4 + 2, are rounded by the same rule; not measured separately.)
    // Reads: the split rows have Wq = ow + 1, so the extra columns run past a plane only when
    // Hp = 2*oh + 1, by owT - ow - 1 <= tile - 4 floats: inside TILE_SLACK_BYTES after the last plane.
    const owT = Math.ceil(g.ow / tile) * tile;
    round = { oh: g.oh, ow: owT, step: rowStep, pitch: owT, plane: g.oh * owT };
  }
  const r = round ?? { oh: g.oh, ow: g.ow, step: rowStep, pitch: g.ow, plane: g.oh * g.ow };
  // a part is a band [y0, y1) of output rows, or on the flattened path (one long row) [x0, x1) of whole tiles:
  // input moves by y0 * rowStep (x0 * 4), output by y0 * ow * 4 (x0 * 4); the channel stride stays the plane
  const bands = (parts: number): [number, number, number, number][] => { // [oh, ow, input offset, output offset]
    if (r.oh === 1) {
      const tiles = r.ow / tile, per = Math.ceil(tiles / Math.max(1, Math.min(parts, tiles)));
      const out: [number, number, number, number][] = [];
      for (let t0 = 0; t0 < tiles; t0 += per) { const n = Math.min(per, tiles - t0) * tile; out.push([1, n, t0 * tile * 4, t0 * tile * 4]); }
      return out;
    }
    const per = Math.ceil(r.oh / Math.max(1, Math.min(parts, r.oh))), out: [number, number, number, number][] = [];
    for (let y0 = 0; y0 < r.oh; y0 += per) out.push([Math.min(per, r.oh - y0), r.ow, y0 * r.step, y0 * r.ow * 4]);
    return out;
  };
  return {
    tmpBytes: round ? sp.rows * round.plane * 4 : 0,
    calls: (chunks, pp, out, parts = 1) => bands(parts).flatMap(([oh, ow, io, oo]) => chunks.map((c): SpConvCall => [kernel, oh, ow, c.ng, c.nr1,
      pp + c.col * g.planeBytes + io, st.w + c.wOff, st.nz + c.nzOff, st.dm + c.dmOff, out + c.row * r.plane * 4 + oo, r.plane * 4, r.step, lo, hi])),
    unpad: (tmp, py) => (round ? [sp.rows, g.oh, g.ow, round.pitch, round.plane, tmp, py] : null),
  };
}

function runConv3x3(tk: Tessera, sp: SparseMatrix, st: Staged, g: ConvGeom, px: number, pp: number, py: number, lo: number, hi: number, chunks?: Chunk[]): void {
  const k = tk.kernels;
  k.f32_pad3x3_chw(g.c, g.h, g.w, g.pad, g.stride, px, pp);
  const work = conv3x3Work(tk, sp, st, g, lo, hi);
  const tmp = work.tmpBytes ? tk.arena.alloc(work.tmpBytes) : 0;
  for (const [name, ...args] of work.calls(chunks ?? planChunks(sp, DEFAULT_CHUNK_BYTES, 9), pp, tmp || py)) {
    (k[name] as (...a: number[]) => void)(...args);
  }
  const un = work.unpad(tmp, py);
  if (un) k.f32_unpad_rows(...un);
}

/** Median of a few interleaved timings of each layer on zero input (used once per auto layer). */
function measureAll(tk: Tessera, layers: LayerRunner[]): number[] {
  const x = tk.tensor('f32', [layers[0].inputLength]);
  let y: Tensor | undefined;
  try {
    y = tk.tensor('f32', [layers[0].outputLength]); // allocated inside the try: its failure must not leak x
    const yt = y;
    x.view().fill(0);
    const now = () => performance.now();
    const one = (l: LayerRunner) => { const t = now(); l.run(x, yt); return now() - t; };
    // warm up (tier-up) and size the repeat count so each sample lasts >= ~2 ms
    let t0 = Infinity;
    for (let i = 0; i < 3; i++) for (const l of layers) t0 = Math.min(t0, one(l));
    const reps = Math.max(1, Math.min(50, Math.ceil(2 / Math.max(t0, 1e-3))));
    const samples = layers.map(() => [] as number[]);
    for (let r = 0; r < 5; r++) {
      layers.forEach((l, i) => { const t = now(); for (let k = 0; k < reps; k++) l.run(x, yt); samples[i].push((now() - t) / reps); });
    }
    return samples.map((a) => a.sort((p, q) => p - q)[a.length >> 1]);
  } finally { x.dispose(); y?.dispose(); }
}

/** Copying helper for runners: Float32Array in, Float32Array out through temporary tensors. */
function applyVia(tk: Tessera, l: LayerRunner, x: Float32Array, where: string): Float32Array {
  if (!(x instanceof Float32Array)) throw new DTypeError(`${where}: x must be a Float32Array`);
  if (x.length !== l.inputLength) throw new ShapeError(`${where}: x has ${x.length} elements, expected ${l.inputLength}`);
  const tx = tk.tensorFrom(x);
  let ty: Tensor | undefined;
  try {
    ty = tk.tensor('f32', [l.outputLength]);
    l.run(tx, ty);
    return ty.read() as Float32Array;
  } finally { tx.dispose(); ty?.dispose(); } // a failed allocation of y must not leak x
}
