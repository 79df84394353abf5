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
import type { Tensor } from '../memory.js';
import {
  deserializeSparse, packSparse, pruneSparse, SparseMatrix, validateSparse,
  type KernelSize, type PackOptions, type PruneOptions,
} from '../sparse-format.js';
import type { Tessera } from '../tessera.js';

export type Activation = 'none' | 'relu' | 'relu6';
/** Spatial tile (pixels) of the batched 1x1 kernels; 4x1-block kernels: 8, 12, 16; unstructured: 16, 32. */
export type SpmmTile = 8 | 12 | 16 | 32;

export interface MatmulOptions { activation?: Activation; /** override the kernel tile (benchmarks) */ tile?: SpmmTile }
export interface ConvOptions { c: number; h: number; w: number; stride?: 1 | 2; pad?: 0 | 1; activation?: Activation }
/** Geometry a resident layer is bound to: a matmul with n activation columns, or a conv input. */
export type LayerGeometry = { n: number; tile?: SpmmTile } | { h: number; w: number; stride?: 1 | 2; pad?: 0 | 1 };

export interface AutoOptions extends PackOptions {
  activation?: Activation;
  /** 'measure' (default): time dense and sparse once on this geometry and keep the faster. 'density': sparse when density <= breakEven. */
  policy?: 'measure' | 'density';
  /** stored-weight density at or below which sparse is used with policy 'density' (default 0.8). */
  breakEven?: number;
}

/** Default tiles, picked from bench/suites/sparse.ts on x86-64 (V8): see the report in the suite. */
const DEFAULT_TILE_4 = 8, DEFAULT_TILE_1 = 32;

function clampOf(a: Activation | undefined, fn: string): [number, number] {
  switch (a ?? 'none') {
    case 'none': return [-Infinity, Infinity];
    case 'relu': return [0, Infinity];
    case 'relu6': return [0, 6];
    default: throw new ArgumentError(`${fn}: activation must be 'none', 'relu' or 'relu6', got ${String(a)}`);
  }
}

function isPosInt(x: unknown): x is number { return typeof x === 'number' && Number.isInteger(x) && x >= 1; }

interface ConvGeom { c: number; h: number; w: number; stride: 1 | 2; pad: 0 | 1; oh: number; ow: number; Hp: number; rowLen: number; Wq: number; planeBytes: number; paddedBytes: number }

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
  return { c, h: o.h, w: o.w, stride: stride as 1 | 2, pad: pad as 0 | 1, oh, ow, Hp, rowLen, Wq, planeBytes, paddedBytes: planeBytes * c };
}

/** Packed weights placed in linear memory (temporary or persistent). */
interface Staged { w: number; nz: number; dm: number }

export class SparseOps {
  constructor(private tk: Tessera) {}

  /** Magnitude-prune dense weights to a target block sparsity (returns a pruned copy). */
  prune(w: Float32Array, rows: number, cols: number, o: PruneOptions): Float32Array { return pruneSparse(w, rows, cols, o); }

  /** Pack dense weights (rows x cols, or rows x cols x 3 x 3 with kernelSize 3) into the validated sparse form. */
  pack(w: Float32Array, rows: number, cols: number, o: PackOptions = {}): SparseMatrix { return packSparse(w, rows, cols, o); }

  /** Rebuild a packed matrix from sp.serialize() bytes; SparseFormatError on any corruption. */
  deserialize(bytes: Uint8Array): SparseMatrix { return deserializeSparse(bytes); }

  /** Throws SparseFormatError if sp (or anything mutated in it since packing) is malformed. */
  validate(sp: SparseMatrix): void { checkSparse(sp); }

  /** Y (rows x n) = sp * X (cols x n, row-major) + bias, with optional ReLU/ReLU6. */
  matmul(sp: SparseMatrix, x: Float32Array, n: number, o: MatmulOptions = {}): Float32Array {
    checkSparse(sp);
    if (!(x instanceof Float32Array)) throw new DTypeError('sparse.matmul: x must be a Float32Array');
    if (!isPosInt(n)) throw new ShapeError(`sparse.matmul: n must be a positive integer, got ${n}`);
    if (x.length !== sp.cols * n) throw new ShapeError(`sparse.matmul: x has ${x.length} elements, ${sp.cols} x ${n} needs ${sp.cols * n}`);
    const [lo, hi] = clampOf(o.activation, 'sparse.matmul');
    const tile = checkTile(sp, o.tile);
    return this.tk.run(() => {
      const a = this.tk.arena;
      const st = stage(this.tk, sp, n * 4, false);
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
    const g = convGeom('sparse.conv2d', sp, o ?? ({} as ConvOptions));
    if (x.length !== g.c * g.h * g.w) throw new ShapeError(`sparse.conv2d: x has ${x.length} elements, ${g.c}x${g.h}x${g.w} needs ${g.c * g.h * g.w}`);
    const [lo, hi] = clampOf(o.activation, 'sparse.conv2d');
    if (sp.kernelSize === 1) return this.matmul(sp, x, g.h * g.w, { activation: o.activation });
    return this.tk.run(() => {
      const a = this.tk.arena;
      const st = stage(this.tk, sp, g.planeBytes, false);
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
    return new SparseLayer(this.tk, sp, geom, o.activation, false);
  }

  /**
   * Temporary dense baseline in the same CHW layout (the dense family's tk.matmul / tk.conv2d replace
   * it once merged): the same packing with every block stored, run by the dense kernels.
   */
  denseLayer(w: Float32Array, rows: number, cols: number, geom: LayerGeometry, o: { bias?: Float32Array; kernelSize?: KernelSize; activation?: Activation } = {}): SparseLayer {
    const full = packSparse(w, rows, cols, { block: [4, 1], bias: o.bias, kernelSize: o.kernelSize }, true);
    return new SparseLayer(this.tk, full, geom, o.activation, true);
  }

  /**
   * Per-layer dense vs sparse choice: packs both, measures both once on this geometry (or compares the
   * stored density with a break-even), keeps the faster and frees the other.
   */
  auto(w: Float32Array, rows: number, cols: number, geom: LayerGeometry, o: AutoOptions = {}): AutoLayer {
    const sp = packSparse(w, rows, cols, o);
    const policy = o.policy ?? 'measure';
    if (policy !== 'measure' && policy !== 'density') throw new ArgumentError(`sparse.auto: policy must be 'measure' or 'density', got ${String(policy)}`);
    const act = o.activation;
    let choice: 'sparse' | 'dense';
    let timings: { sparseMs: number; denseMs: number } | undefined;
    if (policy === 'density') {
      const be = o.breakEven ?? 0.8;
      choice = sp.density <= be ? 'sparse' : 'dense';
    } else {
      const s = new SparseLayer(this.tk, sp, geom, act, false);
      const d = this.denseLayer(w, rows, cols, geom, { bias: o.bias, kernelSize: o.kernelSize, activation: act });
      try {
        timings = measurePair(this.tk, s, d);
      } finally { s.dispose(); d.dispose(); }
      choice = timings.sparseMs < timings.denseMs ? 'sparse' : 'dense';
    }
    const layer = choice === 'sparse' ? new SparseLayer(this.tk, sp, geom, act, false) : this.denseLayer(w, rows, cols, geom, { bias: o.bias, kernelSize: o.kernelSize, activation: act });
    return new AutoLayer(layer, choice, sp, timings);
  }
}

/** A packed layer resident in linear memory, bound to one input geometry. */
export class SparseLayer {
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
  private geom: ConvGeom | null = null;
  private meta: SparseMatrix;

  constructor(private tk: Tessera, sp: SparseMatrix, geom: LayerGeometry, act: Activation | undefined, dense: boolean) {
    [this.lo, this.hi] = clampOf(act, 'sparse.layer');
    this.rows = sp.rows; this.cols = sp.cols; this.kernelSize = sp.kernelSize; this.dense = dense;
    this.meta = sp;
    this.tile = 8;
    if (geom && 'n' in geom) {
      if (sp.kernelSize !== 1) throw new ArgumentError('sparse.layer: {n} geometry needs 1x1 weights; pass {h, w, stride, pad} for 3x3');
      if (!isPosInt(geom.n)) throw new ShapeError(`sparse.layer: n must be a positive integer, got ${geom.n}`);
      this.n = geom.n; this.tile = checkTile(sp, geom.tile, dense);
      this.inputLength = sp.cols * geom.n; this.outputLength = sp.rows * geom.n; this.outputShape = [sp.rows, geom.n];
    } else {
      const g = convGeom('sparse.layer', sp, (geom ?? {}) as { h: number; w: number });
      if (sp.kernelSize === 1) { this.n = g.h * g.w; this.tile = checkTile(sp, undefined, dense); } else this.geom = g;
      this.inputLength = g.c * g.h * g.w; this.outputLength = sp.rows * g.oh * g.ow; this.outputShape = [sp.rows, g.oh, g.ow];
    }
    const stride = this.geom ? this.geom.planeBytes : this.n * 4;
    this.st = tk.run(() => stage(tk, sp, stride, true));
    // matrix arrays are copied into the arena: the layer no longer depends on later JS-side mutation
  }

  get disposed(): boolean { return this.st === null; }
  /** the packed matrix this layer was built from (dense layers: every block stored) */
  get matrix(): SparseMatrix { return this.meta; }

  /** y = layer(x) on arena tensors (f32; x holds inputLength elements, y outputLength). */
  run(x: Tensor, y: Tensor): void {
    const st = this.st;
    if (!st) throw new DisposedError('SparseLayer');
    if (x.dtype !== 'f32' || y.dtype !== 'f32') throw new DTypeError(`SparseLayer.run: tensors must be f32, got ${x.dtype} and ${y.dtype}`);
    if (x.length !== this.inputLength) throw new ShapeError(`SparseLayer.run: x has ${x.length} elements, expected ${this.inputLength}`);
    if (y.length !== this.outputLength) throw new ShapeError(`SparseLayer.run: y has ${y.length} elements, expected ${this.outputLength}`);
    if (x.ptr === y.ptr) throw new ArgumentError('SparseLayer.run: x and y must be different tensors');
    this.tk.run(() => {
      if (this.geom) {
        const pp = this.tk.arena.alloc(this.geom.paddedBytes);
        (this.dense ? runDenseConv3x3 : runConv3x3)(this.tk, this.meta, st, this.geom, x.ptr, pp, y.ptr, this.lo, this.hi);
      } else {
        (this.dense ? runDenseMatmul : runMatmul)(this.tk, this.meta, st, this.n, x.ptr, y.ptr, this.lo, this.hi, this.tile);
      }
    });
  }

  /** Copying convenience: Float32Array in, Float32Array out. */
  apply(x: Float32Array): Float32Array {
    if (!(x instanceof Float32Array)) throw new DTypeError('SparseLayer.apply: x must be a Float32Array');
    if (x.length !== this.inputLength) throw new ShapeError(`SparseLayer.apply: x has ${x.length} elements, expected ${this.inputLength}`);
    const tx = this.tk.tensorFrom(x), ty = this.tk.tensor('f32', [this.outputLength]);
    try { this.run(tx, ty); return ty.read() as Float32Array; } finally { tx.dispose(); ty.dispose(); }
  }

  dispose(): void {
    if (!this.st) return;
    const a = this.tk.arena;
    a.free(this.st.w); a.free(this.st.nz); a.free(this.st.dm);
    this.st = null;
  }
}

/** The result of tk.sparse.auto: the faster of dense and sparse for this layer. */
export class AutoLayer {
  constructor(readonly layer: SparseLayer, readonly choice: 'sparse' | 'dense', readonly sparse: SparseMatrix,
    readonly timings?: { sparseMs: number; denseMs: number }) {}
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

/** Copy vals / nnz / scaled deltas into the arena (temporary inside tk.run, or persistent). */
function stage(tk: Tessera, sp: SparseMatrix, rowBytes: number, persistent: boolean): Staged {
  if (sp.cols * rowBytes > 0x7fffffff) throw new ShapeError(`activation buffer of ${sp.cols} rows x ${rowBytes} bytes exceeds the 2 GiB kernel offset range`);
  const a = tk.arena;
  const alloc = (b: number, tag: string) => (persistent ? a.allocPersistent(b, 64, tag) : a.alloc(b, 16, tag));
  const w = alloc(sp.vals.length * 4, 'sparse.vals');
  const nz = alloc(sp.nnz.length * 4, 'sparse.nnz');
  const dm = alloc(sp.delta.length * 4, 'sparse.dmap');
  const m = tk.memory;
  m.f32.set(sp.vals, w >> 2);
  m.u32.set(sp.nnz, nz >> 2);
  const i32 = m.i32, base = dm >> 2;
  for (let i = 0; i < sp.delta.length; i++) i32[base + i] = sp.delta[i] * rowBytes;
  return { w, nz, dm };
}

function runMatmul(tk: Tessera, sp: SparseMatrix, st: Staged, n: number, px: number, py: number, lo: number, hi: number, tile: SpmmTile): void {
  const k = tk.kernels;
  const x0 = px + sp.first * n * 4;
  if (n === 1) {
    if (sp.blockRows === 4) k.f32_spmv_4x1__wasmsimd(sp.groups, sp.singleRows, x0, st.w, st.nz, st.dm, py, lo, hi);
    else k.f32_spmv_1x1__scalar(sp.rows, x0, st.w, st.nz, st.dm, py, lo, hi);
    return;
  }
  const f = sp.blockRows === 4
    ? (tile === 16 ? k.f32_spmm_16x4__wasmsimd : tile === 12 ? k.f32_spmm_12x4__wasmsimd : k.f32_spmm_8x4__wasmsimd)
    : (tile === 16 ? k.f32_spmm_16x1__wasmsimd : k.f32_spmm_32x1__wasmsimd);
  f(n, sp.groups, sp.singleRows, x0, st.w, st.nz, st.dm, py, n * 4, lo, hi);
}

function runDenseMatmul(tk: Tessera, sp: SparseMatrix, st: Staged, n: number, px: number, py: number, lo: number, hi: number, tile: SpmmTile): void {
  const k = tk.kernels;
  if (n === 1) { k.f32_chwgemv_4x1__wasmsimd(sp.groups, sp.singleRows, sp.cols, px, st.w, py, lo, hi); return; }
  const f = tile === 16 ? k.f32_chwgemm_16x4__wasmsimd : tile === 12 ? k.f32_chwgemm_12x4__wasmsimd : k.f32_chwgemm_8x4__wasmsimd;
  f(n, sp.groups, sp.singleRows, sp.cols, px, st.w, py, n * 4, n * 4, lo, hi);
}

function runConv3x3(tk: Tessera, sp: SparseMatrix, st: Staged, g: ConvGeom, px: number, pp: number, py: number, lo: number, hi: number): void {
  const k = tk.kernels;
  k.f32_pad3x3_chw(g.c, g.h, g.w, g.pad, g.stride, px, pp);
  const R = g.rowLen * 4;
  const f = g.stride === 2 ? k.f32_spconv3x3s2_8x4__wasmsimd : k.f32_spconv3x3s1_8x4__wasmsimd;
  f(g.oh, g.ow, sp.groups, sp.singleRows, pp + sp.first * g.planeBytes, st.w, st.nz, st.dm, py, R, R * g.stride, g.Wq * 4, lo, hi);
}

function runDenseConv3x3(tk: Tessera, sp: SparseMatrix, st: Staged, g: ConvGeom, px: number, pp: number, py: number, lo: number, hi: number): void {
  const k = tk.kernels;
  k.f32_pad3x3_chw(g.c, g.h, g.w, g.pad, g.stride, px, pp);
  const R = g.rowLen * 4;
  const f = g.stride === 2 ? k.f32_chwconv3x3s2_8x4__wasmsimd : k.f32_chwconv3x3s1_8x4__wasmsimd;
  f(g.oh, g.ow, sp.groups, sp.singleRows, sp.cols, pp, st.w, py, R, R * g.stride, g.Wq * 4, g.planeBytes, lo, hi);
}

/** Median of a few interleaved timings of both layers on zero input (used once per auto layer). */
function measurePair(tk: Tessera, s: SparseLayer, d: SparseLayer): { sparseMs: number; denseMs: number } {
  const x = tk.tensor('f32', [s.inputLength]), y = tk.tensor('f32', [s.outputLength]);
  try {
    x.view().fill(0);
    const now = () => performance.now();
    const one = (l: SparseLayer) => { const t = now(); l.run(x, y); return now() - t; };
    // warm up (tier-up) and size the repeat count so each sample lasts >= ~2 ms
    let t0 = 0;
    for (let i = 0; i < 3; i++) { t0 = Math.min(one(s), one(d)); }
    const reps = Math.max(1, Math.min(50, Math.ceil(2 / Math.max(t0, 1e-3))));
    const ss: number[] = [], ds: number[] = [];
    for (let r = 0; r < 5; r++) {
      let t = now(); for (let i = 0; i < reps; i++) s.run(x, y); ss.push((now() - t) / reps);
      t = now(); for (let i = 0; i < reps; i++) d.run(x, y); ds.push((now() - t) / reps);
    }
    const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1];
    return { sparseMs: med(ss), denseMs: med(ds) };
  } finally { x.dispose(); y.dispose(); }
}
