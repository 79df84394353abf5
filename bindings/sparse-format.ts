/**
 * Packed sparse weights (pure TypeScript: packing, pruning, validation, serialization).
 *
 * A SparseMatrix holds an output-channel-major weight matrix W[rows][cols][k*k] (k = kernelSize:
 * 1 for matmul / 1x1 conv, 3 for 3x3 conv in OIHW order) in a CSR-like "block row" form:
 *
 *   block rows : with block [4,1], floor(rows/4) groups of 4 output channels, then the rows%4 tail
 *                rows as single rows (like XNNPACK/MNN); with block [1,1], every row alone.
 *   nnz[b]     : number of stored columns (input channels) of block row b.
 *   delta[i]   : chained column deltas: stored block i+1 is at column col(i) + delta[i], across
 *                block-row boundaries; the LAST delta returns to `first`, so the walk is closed
 *                (kernels scale it by the activation row stride into byte offsets: "dmap").
 *   first      : column of the first stored block (0 when nothing is stored).
 *   vals       : per block row of G channels: bias[G], then per stored column its k*k*G weights
 *                ordered [tap][g] (G = 4 or 1).
 *
 * Every SparseMatrix is checked by validateSparse() before any kernel sees it: counts, sizes and the
 * delta walk (every visited column inside [0, cols), strictly increasing within a block row, closed).
 */
import { ArgumentError, DTypeError, ShapeError, SparseFormatError } from './errors.js';
import { ABI } from './abi.js';

export type SparseBlock = readonly [4, 1] | readonly [1, 1];
export type KernelSize = 1 | 3;

/** Largest accepted dimension (keeps every byte offset a kernel computes inside i32). */
export const SPARSE_MAX_DIM = 1 << 24;

export interface PackOptions {
  /** [4, 1] (default): blocks of 4 consecutive output channels x 1 input channel; [1, 1]: unstructured. */
  block?: SparseBlock;
  /** Weights with |w| <= threshold count as zero (default 0: exact zeros only). */
  threshold?: number;
  /** Per-output-channel bias (length rows), folded into the packed values. */
  bias?: Float32Array;
  /** 1 (default): W is rows x cols. 3: W is rows x cols x 3 x 3 (OIHW); a block is a whole 3x3 kernel. */
  kernelSize?: KernelSize;
}

export interface PruneOptions {
  /** Fraction of blocks to zero, in [0, 1]. */
  sparsity: number;
  block?: SparseBlock;
  kernelSize?: KernelSize;
}

export interface SparseMatrixParts {
  rows: number; cols: number; kernelSize: number; blockRows: number;
  first: number; nnz: Uint32Array; delta: Int32Array; vals: Float32Array;
}

export class SparseMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly kernelSize: KernelSize;
  /** output channels per block: 4 ([4,1] blocks) or 1 (unstructured) */
  readonly blockRows: 4 | 1;
  readonly first: number;
  readonly nnz: Uint32Array;
  readonly delta: Int32Array;
  readonly vals: Float32Array;

  /** Use tk.sparse.pack / deserialize; the constructor validates and throws SparseFormatError. */
  constructor(p: SparseMatrixParts) {
    validateSparse(p);
    this.rows = p.rows; this.cols = p.cols; this.kernelSize = p.kernelSize as KernelSize; this.blockRows = p.blockRows as 4 | 1;
    this.first = p.first; this.nnz = p.nnz; this.delta = p.delta; this.vals = p.vals;
  }

  get block(): SparseBlock { return this.blockRows === 4 ? [4, 1] : [1, 1]; }
  /** 4-row groups */
  get groups(): number { return this.blockRows === 4 ? Math.floor(this.rows / 4) : 0; }
  /** single rows after the groups */
  get singleRows(): number { return this.blockRows === 4 ? this.rows % 4 : this.rows; }
  /** stored blocks */
  get storedBlocks(): number { return this.delta.length; }
  /** weights stored (including zeros inside stored blocks) */
  get storedWeights(): number {
    let s = 0; const kk = this.kernelSize * this.kernelSize;
    for (let b = 0; b < this.nnz.length; b++) s += this.nnz[b] * (b < this.groups ? 4 : 1) * kk;
    return s;
  }
  /** nonzero weights (bias excluded) */
  get nonzeros(): number {
    let c = 0;
    this.forEachBlock((_r, _col, g, off) => { for (let i = 0; i < g * this.kernelSize * this.kernelSize; i++) if (this.vals[off + i] !== 0) c++; });
    return c;
  }
  /** fraction of zero weights in the whole matrix */
  get sparsity(): number { return 1 - this.nonzeros / (this.rows * this.cols * this.kernelSize * this.kernelSize); }
  /** fraction of stored weights that are nonzero (1 for block-pruned weights) */
  get blockFill(): number { const s = this.storedWeights; return s === 0 ? 1 : this.nonzeros / s; }
  /** stored weights / dense weights: the fraction of dense MACs the kernel performs */
  get density(): number { return this.storedWeights / (this.rows * this.cols * this.kernelSize * this.kernelSize); }

  /** Calls fn(firstRow, column, G, valueOffset) for every stored block, in storage order. */
  forEachBlock(fn: (row: number, col: number, g: number, off: number) => void): void {
    const kk = this.kernelSize * this.kernelSize;
    let col = this.first, k = 0, off = 0, row = 0;
    for (let b = 0; b < this.nnz.length; b++) {
      const g = b < this.groups ? 4 : 1;
      off += g; // bias
      for (let i = 0; i < this.nnz[b]; i++) {
        fn(row, col, g, off);
        off += g * kk; col += this.delta[k++];
      }
      row += g;
    }
  }

  /** Dense weights (rows x cols x k x k) and bias, for checks and references. */
  toDense(): { weights: Float32Array; bias: Float32Array } {
    const kk = this.kernelSize * this.kernelSize;
    const w = new Float32Array(this.rows * this.cols * kk);
    const bias = new Float32Array(this.rows);
    let off = 0, row = 0;
    for (let b = 0; b < this.nnz.length; b++) {
      const g = b < this.groups ? 4 : 1;
      for (let j = 0; j < g; j++) bias[row + j] = this.vals[off + j];
      off += g + this.nnz[b] * g * kk; row += g;
    }
    this.forEachBlock((r, c, g, o) => {
      for (let t = 0; t < kk; t++) for (let j = 0; j < g; j++) w[((r + j) * this.cols + c) * kk + t] = this.vals[o + t * g + j];
    });
    return { weights: w, bias };
  }

  /** Versioned little-endian bytes (see deserializeSparse for the layout). */
  serialize(): Uint8Array {
    const nb = this.nnz.length, nk = this.delta.length, nv = this.vals.length;
    const bytes = new Uint8Array(HEADER_BYTES + 4 * (nb + nk + nv));
    const dv = new DataView(bytes.buffer);
    bytes.set(MAGIC, 0);
    dv.setUint16(4, FORMAT_VERSION, true);
    dv.setUint16(6, FLAG_CHECKSUM, true);
    dv.setUint32(8, this.rows, true); dv.setUint32(12, this.cols, true);
    dv.setUint8(16, this.kernelSize); dv.setUint8(17, this.blockRows); dv.setUint16(18, 0, true);
    dv.setUint32(20, this.first, true); dv.setUint32(24, nb, true); dv.setUint32(28, nk, true); dv.setUint32(32, nv, true);
    let o = HEADER_BYTES;
    for (let i = 0; i < nb; i++, o += 4) dv.setUint32(o, this.nnz[i], true);
    for (let i = 0; i < nk; i++, o += 4) dv.setInt32(o, this.delta[i], true);
    for (let i = 0; i < nv; i++, o += 4) dv.setFloat32(o, this.vals[i], true);
    dv.setUint32(36, checksum(bytes), true);
    return bytes;
  }
}

// ---- validation ------------------------------------------------------------------------------

function isDim(x: unknown, max = SPARSE_MAX_DIM): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= max;
}

/** Number of block rows for a shape (groups of 4, then single rows). */
export function blockRowCount(rows: number, blockRows: number): number {
  return blockRows === 4 ? Math.floor(rows / 4) + (rows % 4) : rows;
}

/** Throws SparseFormatError unless p is a structurally valid packed matrix (O(stored blocks)). */
export function validateSparse(p: SparseMatrixParts): void {
  const bad = (m: string) => { throw new SparseFormatError(`packed sparse matrix: ${m}`); };
  if (p === null || typeof p !== 'object') bad('not an object');
  if (!isDim(p.rows)) bad(`rows must be an integer in [1, ${SPARSE_MAX_DIM}], got ${p.rows}`);
  if (!isDim(p.cols)) bad(`cols must be an integer in [1, ${SPARSE_MAX_DIM}], got ${p.cols}`);
  if (p.kernelSize !== 1 && p.kernelSize !== 3) bad(`kernelSize must be 1 or 3, got ${p.kernelSize}`);
  if (p.blockRows !== 4 && p.blockRows !== 1) bad(`block must be [4,1] or [1,1], got ${p.blockRows} rows`);
  if (!(p.nnz instanceof Uint32Array)) bad('nnz must be a Uint32Array');
  if (!(p.delta instanceof Int32Array)) bad('delta must be an Int32Array');
  if (!(p.vals instanceof Float32Array)) bad('vals must be a Float32Array');
  const nb = blockRowCount(p.rows, p.blockRows);
  if (p.nnz.length !== nb) bad(`nnz has ${p.nnz.length} entries, expected ${nb} block rows`);
  const groups = p.blockRows === 4 ? Math.floor(p.rows / 4) : 0;
  const kk = p.kernelSize * p.kernelSize;
  let total = 0, nvals = 0;
  for (let b = 0; b < nb; b++) {
    const n = p.nnz[b];
    if (n > p.cols) bad(`block row ${b} stores ${n} columns but the matrix has ${p.cols}`);
    const g = b < groups ? 4 : 1;
    total += n; nvals += g + n * g * kk;
  }
  if (total !== p.delta.length) bad(`nnz counts sum to ${total} but delta has ${p.delta.length} entries`);
  if (nvals !== p.vals.length) bad(`vals has ${p.vals.length} floats, the counts need ${nvals}`);
  if (!Number.isInteger(p.first) || p.first < 0 || p.first >= (total === 0 ? 1 : p.cols)) bad(`first column ${p.first} out of range [0, ${p.cols})`);
  // the delta walk: every visited column in range, strictly increasing within a block row, closed
  let col = p.first, k = 0;
  for (let b = 0; b < nb; b++) {
    let prev = -1;
    for (let i = 0; i < p.nnz[b]; i++, k++) {
      if (col < 0 || col >= p.cols) bad(`delta walk leaves the activation rows: block ${k} (block row ${b}) at column ${col} of ${p.cols}`);
      if (col <= prev) bad(`block row ${b}: columns not strictly increasing (${prev} then ${col})`);
      prev = col;
      col += p.delta[k];
    }
  }
  if (col !== p.first) bad(`delta walk is not closed: ends at column ${col}, expected ${p.first}`);
}

// ---- serialization ---------------------------------------------------------------------------
//   0  magic "TSPM"           4  u16 version (1)       6  u16 flags (bit 0: checksum present; required)
//   8  u32 rows              12  u32 cols             16  u8 kernelSize, u8 blockRows, u16 0
//  20  u32 first             24  u32 block rows       28  u32 stored blocks    32  u32 vals
//  36  u32 FNV-1a of bytes [8, 36) then [40, end)
//  40  nnz u32[block rows], delta i32[stored blocks], vals f32[vals]   (little-endian)

const MAGIC = new Uint8Array([0x54, 0x53, 0x50, 0x4d]);
export const FORMAT_VERSION = 1;
const FLAG_CHECKSUM = 1;
const HEADER_BYTES = 40;

function fnv1a(b: Uint8Array, from: number, to: number, h = 0x811c9dc5): number {
  for (let i = from; i < to; i++) { h ^= b[i]; h = Math.imul(h, 0x01000193); }
  return h >>> 0;
}

/**
 * FNV-1a over the header fields (bytes [8, 36): dims, counts, first) and the payload [40, end). The
 * header must be covered too: a flipped `cols` bit otherwise deserialized into a different, still
 * structurally valid matrix (found by the bit-flip test in tests/unit/hostile-ops.test.ts).
 */
function checksum(b: Uint8Array): number {
  return fnv1a(b, HEADER_BYTES, b.length, fnv1a(b, 8, 36));
}

/** Bytes from SparseMatrix.serialize() back to a validated SparseMatrix (SparseFormatError otherwise). */
export function deserializeSparse(bytes: Uint8Array): SparseMatrix {
  const bad = (m: string): never => { throw new SparseFormatError(`serialized sparse matrix: ${m}`); };
  if (!(bytes instanceof Uint8Array)) throw new DTypeError('sparse.deserialize expects a Uint8Array');
  if (bytes.length < HEADER_BYTES) bad(`${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) bad('bad magic (not a tessera sparse matrix)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(4, true), flags = dv.getUint16(6, true);
  if (version !== FORMAT_VERSION) bad(`unsupported version ${version} (this build reads ${FORMAT_VERSION})`);
  if ((flags & ~FLAG_CHECKSUM) !== 0) bad(`unknown flags 0x${flags.toString(16)}`);
  if (dv.getUint16(18, true) !== 0) bad('reserved header bytes are not zero');
  const nb = dv.getUint32(24, true), nk = dv.getUint32(28, true), nv = dv.getUint32(32, true);
  const want = HEADER_BYTES + 4 * (nb + nk + nv); // < 2^37: exact in f64
  if (bytes.length !== want) bad(`length ${bytes.length} does not match the header counts (${want})`);
  // serialize() always signs the bytes: a clear flag means the flag bit itself was corrupted (or the bytes were made by hand),
  // and honouring it would let one flipped bit switch the integrity check off
  if (!(flags & FLAG_CHECKSUM)) bad('checksum flag is clear (serialize() always sets it: corrupted or hand-made bytes)');
  if (checksum(bytes) !== dv.getUint32(36, true)) bad('checksum mismatch (corrupted bytes)');
  const nnz = new Uint32Array(nb), delta = new Int32Array(nk), vals = new Float32Array(nv);
  let o = HEADER_BYTES;
  for (let i = 0; i < nb; i++, o += 4) nnz[i] = dv.getUint32(o, true);
  for (let i = 0; i < nk; i++, o += 4) delta[i] = dv.getInt32(o, true);
  for (let i = 0; i < nv; i++, o += 4) vals[i] = dv.getFloat32(o, true);
  return new SparseMatrix({
    rows: dv.getUint32(8, true), cols: dv.getUint32(12, true), kernelSize: dv.getUint8(16), blockRows: dv.getUint8(17),
    first: dv.getUint32(20, true), nnz, delta, vals,
  });
}

// ---- packing and pruning ---------------------------------------------------------------------

function checkWeights(fn: string, w: Float32Array, rows: number, cols: number, kernelSize: number): number {
  if (!(w instanceof Float32Array)) throw new DTypeError(`${fn}: weights must be a Float32Array`);
  if (!isDim(rows) || !isDim(cols)) throw new ShapeError(`${fn}: rows and cols must be integers in [1, ${SPARSE_MAX_DIM}], got ${rows} x ${cols}`);
  if (kernelSize !== 1 && kernelSize !== 3) throw new ArgumentError(`${fn}: kernelSize must be 1 or 3, got ${kernelSize}`);
  const kk = kernelSize * kernelSize;
  if (w.length !== rows * cols * kk) throw new ShapeError(`${fn}: weights have ${w.length} elements, ${rows} x ${cols}${kk > 1 ? ' x 3 x 3' : ''} needs ${rows * cols * kk}`);
  return kk;
}

function blockOf(fn: string, block: SparseBlock | undefined): 4 | 1 {
  if (block === undefined) return 4;
  if (Array.isArray(block) && block.length === 2 && block[1] === 1 && (block[0] === 4 || block[0] === 1)) return block[0];
  throw new ArgumentError(`${fn}: block must be [4, 1] or [1, 1], got ${JSON.stringify(block)}`);
}

/**
 * Pack dense weights. A block (4 output channels x 1 input channel x k x k taps, or 1 channel for
 * [1,1] and the rows%4 tail rows) is stored when any of its weights has |w| > threshold; weights at
 * or below the threshold inside stored blocks are stored as 0.
 */
export function packSparse(w: Float32Array, rows: number, cols: number, o: PackOptions = {}, keepAll = false): SparseMatrix {
  const ks = o.kernelSize ?? 1;
  const kk = checkWeights('sparse.pack', w, rows, cols, ks);
  const G0 = blockOf('sparse.pack', o.block);
  const thr = o.threshold ?? 0;
  if (typeof thr !== 'number' || !(thr >= 0)) throw new ArgumentError(`sparse.pack: threshold must be a number >= 0, got ${thr}`);
  if (o.bias !== undefined) {
    if (!(o.bias instanceof Float32Array)) throw new DTypeError('sparse.pack: bias must be a Float32Array');
    if (o.bias.length !== rows) throw new ShapeError(`sparse.pack: bias has ${o.bias.length} elements, expected ${rows}`);
  }
  const groups = G0 === 4 ? Math.floor(rows / 4) : 0;
  const nb = blockRowCount(rows, G0);
  const nnz = new Uint32Array(nb);
  const cols_: number[] = [];
  const vals: number[] = [];
  let row = 0;
  for (let b = 0; b < nb; b++) {
    const g = b < groups ? 4 : 1;
    for (let j = 0; j < g; j++) vals.push(o.bias ? o.bias[row + j] : 0);
    for (let c = 0; c < cols; c++) {
      let keep = keepAll;
      // !(|w| <= thr): a NaN weight is kept (and propagates as in dense math) instead of being pruned silently
      for (let j = 0; j < g && !keep; j++) for (let t = 0; t < kk; t++) if (!(Math.abs(w[((row + j) * cols + c) * kk + t]) <= thr)) { keep = true; break; }
      if (!keep) continue;
      nnz[b]++; cols_.push(c);
      for (let t = 0; t < kk; t++) for (let j = 0; j < g; j++) {
        const v = w[((row + j) * cols + c) * kk + t];
        vals.push(!(Math.abs(v) <= thr) || keepAll ? v : 0);
      }
    }
    row += g;
  }
  const delta = new Int32Array(cols_.length);
  for (let i = 0; i < cols_.length; i++) delta[i] = (i + 1 < cols_.length ? cols_[i + 1] : cols_[0]) - cols_[i];
  return new SparseMatrix({ rows, cols, kernelSize: ks, blockRows: G0, first: cols_.length ? cols_[0] : 0, nnz, delta, vals: new Float32Array(vals) });
}

/**
 * Magnitude pruning: zero the `sparsity` fraction of blocks with the smallest mean |w| (blocks as
 * in packSparse; ties broken by position). Returns a pruned copy; the input is not modified.
 */
export function pruneSparse(w: Float32Array, rows: number, cols: number, o: PruneOptions): Float32Array {
  const ks = o?.kernelSize ?? 1;
  const kk = checkWeights('sparse.prune', w, rows, cols, ks);
  const G0 = blockOf('sparse.prune', o?.block);
  const s = o?.sparsity;
  if (typeof s !== 'number' || !(s >= 0 && s <= 1)) throw new ArgumentError(`sparse.prune: sparsity must be in [0, 1], got ${s}`);
  const groups = G0 === 4 ? Math.floor(rows / 4) : 0;
  const nb = blockRowCount(rows, G0);
  // blocks: (firstRow, g, col) with score = mean |w|
  const starts: number[] = [], sizes: number[] = [];
  let row = 0;
  for (let b = 0; b < nb; b++) { const g = b < groups ? 4 : 1; starts.push(row); sizes.push(g); row += g; }
  const nBlocks = nb * cols;
  const score = new Float64Array(nBlocks);
  for (let b = 0; b < nb; b++) for (let c = 0; c < cols; c++) {
    let a = 0;
    for (let j = 0; j < sizes[b]; j++) for (let t = 0; t < kk; t++) a += Math.abs(w[((starts[b] + j) * cols + c) * kk + t]);
    score[b * cols + c] = a / (sizes[b] * kk);
  }
  const order = Array.from({ length: nBlocks }, (_, i) => i).sort((x, y) => score[x] - score[y] || x - y);
  const out = w.slice();
  const k = Math.round(s * nBlocks);
  for (let i = 0; i < k; i++) {
    const b = Math.floor(order[i] / cols), c = order[i] % cols;
    for (let j = 0; j < sizes[b]; j++) for (let t = 0; t < kk; t++) out[((starts[b] + j) * cols + c) * kk + t] = 0;
  }
  return out;
}

// ---- batch-1 (GEMV) staging plans ------------------------------------------------------------
// Internal kernel layouts for y = W x (n = 1), built from a validated SparseMatrix when it is staged
// (not serialized). Layouts: see the batch-1 section of scripts/gen-sparse.mjs. validateGemvPlan
// re-checks every count and index, so the kernels only ever see in-range indices.

/** Column indices are u16 up to this many columns, else u32. */
export const GEMV_U16_MAX_COLS = 65536;

export interface GemvPlan {
  /** 'runs': 4x1 groups (runs of 4 consecutive columns, pairs, single columns); 'gather': unstructured rows */
  kind: 'runs' | 'gather';
  /** u32 words per block row: runs GEMV_RUNS_WORDS = [runs, pairs (c, c+1), (c, c+2), (c, c+3), singles]; gather [nnz, bias bits] */
  nz: Uint32Array;
  /** column indices (Uint16Array when cols <= GEMV_U16_MAX_COLS) */
  idx: Uint16Array | Uint32Array;
  w: Float32Array;
}

/** nz words per block row of a 'runs' plan (the kernels' SPMV_RUNS_WORDS, checked against every build by tests/node/abi.test.ts). */
export const GEMV_RUNS_WORDS = ABI.SPMV_RUNS_WORDS;

/**
 * Relative cost of one run / pair (c, c+1) / pair (c, c+2 or c+3) / single column in the 4x1 GEMV kernel
 * (ns per stored block in Node 20, relaxed, from bench/probes/sparse-fc-kinds.ts: 0.25 / 0.30 / 0.30-0.34 /
 * 0.39-0.41 across its runs; the weights use 0.25 / 0.30 / 0.31 / 0.39, times the blocks each covers). planGemv picks the cheapest cover of a block row's columns with them.
 */
const GEMV_KIND_COST = { run: 100, pair: 60, gapPair: 62, single: 39 } as const;

/** Stored columns of every block row, from the delta walk (sp is validated). */
function blockRowColumns(sp: SparseMatrix): Int32Array[] {
  const out: Int32Array[] = [];
  let col = sp.first, k = 0;
  for (let b = 0; b < sp.nnz.length; b++) {
    const cs = new Int32Array(sp.nnz[b]);
    for (let i = 0; i < cs.length; i++) { cs[i] = col; col += sp.delta[k++]; }
    out.push(cs);
  }
  return out;
}

/**
 * Cheapest cover of one 4-row group's sorted stored columns by runs (4 consecutive columns), pairs of
 * neighbouring stored columns c < c' with c' - c = d <= 3 (d >= 2 only when c <= cols - 4: its x comes
 * from one v128 load at c) and singles, by dynamic programming over GEMV_KIND_COST (ties go to runs).
 * Returns per stored column the length of the piece starting there (4 run, 2 pair, 1 single; 0 inside a piece).
 */
function coverColumns(cs: Int32Array, cols: number): Uint8Array {
  const n = cs.length;
  const best = new Float64Array(n + 1), take = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let cost = GEMV_KIND_COST.single + best[i + 1], len = 1;
    if (i + 1 < n) {
      const d = cs[i + 1] - cs[i];
      const c = d === 1 ? GEMV_KIND_COST.pair : d <= 3 && cs[i] <= cols - 4 ? GEMV_KIND_COST.gapPair : Infinity;
      if (c + best[i + 2] < cost) { cost = c + best[i + 2]; len = 2; }
    }
    if (i + 3 < n && cs[i + 3] === cs[i] + 3 && GEMV_KIND_COST.run + best[i + 4] <= cost) { cost = GEMV_KIND_COST.run + best[i + 4]; len = 4; }
    best[i] = cost; take[i] = len;
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += take[i]) out[i] = take[i];
  return out;
}

/**
 * Build the batch-1 plan of a (validated) 1x1 matrix: 'runs' for [4,1] blocks (the cheapest cover by
 * runs, pairs and singles, coverColumns), 'gather' for [1,1].
 */
export function planGemv(sp: SparseMatrix): GemvPlan {
  if (sp.kernelSize !== 1) throw new ArgumentError('planGemv: 1x1 weights only');
  const cols = blockRowColumns(sp);
  const nb = sp.nnz.length;
  const u16 = sp.cols <= GEMV_U16_MAX_COLS;
  if (sp.blockRows === 4) {
    const nz = new Uint32Array(GEMV_RUNS_WORDS * nb);
    const idx = u16 ? new Uint16Array(sp.delta.length) : new Uint32Array(sp.delta.length);
    const w = new Float32Array(sp.vals.length);
    let src = 0, dst = 0, ni = 0;
    for (let b = 0; b < nb; b++) {
      const g = b < sp.groups ? 4 : 1, cs = cols[b], n = cs.length;
      for (let j = 0; j < g; j++) w[dst++] = sp.vals[src++]; // bias
      const runs: number[] = [], pairs: number[][] = [[], [], []], singles: number[] = [];
      if (g === 4) {
        const cover = coverColumns(cs, sp.cols);
        for (let i = 0; i < n; i += cover[i]) {
          if (cover[i] === 4) runs.push(i);
          else if (cover[i] === 2) pairs[cs[i + 1] - cs[i] - 1].push(i);
          else singles.push(i);
        }
      } else for (let i = 0; i < n; i++) singles.push(i);
      // sp.vals holds a block row's columns [col][row]; runs are stored [row][col] (one v128 per row),
      // pairs [row pair][col] ([W0c W0c' W1c W1c'], [W2c W2c' W3c W3c']), singles [row]
      const at = (i: number, r: number) => sp.vals[src + i * g + r];
      for (const i of runs) {
        idx[ni++] = cs[i];
        for (let r = 0; r < 4; r++) for (let j = 0; j < 4; j++) w[dst++] = at(i + j, r);
      }
      for (const list of pairs) for (const i of list) {
        idx[ni++] = cs[i];
        for (let r = 0; r < 4; r++) for (let j = 0; j < 2; j++) w[dst++] = at(i + j, r);
      }
      for (const i of singles) {
        idx[ni++] = cs[i];
        for (let r = 0; r < g; r++) w[dst++] = at(i, r);
      }
      src += n * g;
      const o = GEMV_RUNS_WORDS * b;
      nz[o] = runs.length; nz[o + 1] = pairs[0].length; nz[o + 2] = pairs[1].length; nz[o + 3] = pairs[2].length; nz[o + 4] = singles.length;
    }
    return { kind: 'runs', nz, idx: idx.subarray(0, ni), w };
  }
  // gather: packs of 4 per row; the last pack padded with the row's last column and zero weights
  const nz = new Uint32Array(2 * nb);
  let total = 0;
  for (let b = 0; b < nb; b++) total += Math.ceil(sp.nnz[b] / 4) * 4;
  const idx = u16 ? new Uint16Array(total) : new Uint32Array(total);
  const w = new Float32Array(total);
  const bias = new Float32Array(nz.buffer);
  let src = 0, dst = 0;
  for (let b = 0; b < nb; b++) {
    const cs = cols[b], n = cs.length;
    bias[2 * b + 1] = sp.vals[src++];
    nz[2 * b] = n;
    for (let i = 0; i < n; i++) { idx[dst + i] = cs[i]; w[dst + i] = sp.vals[src + i]; }
    src += n;
    const end = dst + Math.ceil(n / 4) * 4;
    for (let i = dst + n; i < end; i++) idx[i] = cs[n - 1]; // masked lanes (w stays 0)
    dst = end;
  }
  return { kind: 'gather', nz, idx, w };
}

/**
 * Throws SparseFormatError unless `p` is a well-formed batch-1 plan for a rows x cols matrix with
 * `blockRows`-row blocks: word counts, value counts and every index (a run's first column at most
 * cols-4, every other index below cols). This is the check between a plan and the kernels.
 */
export function validateGemvPlan(p: GemvPlan, rows: number, cols: number, blockRows: 4 | 1): void {
  const bad = (m: string): never => { throw new SparseFormatError(`batch-1 plan: ${m}`); };
  if (!p || !(p.nz instanceof Uint32Array) || !(p.w instanceof Float32Array)) bad('nz must be a Uint32Array and w a Float32Array');
  if (!(p.idx instanceof Uint16Array || p.idx instanceof Uint32Array)) bad('idx must be a Uint16Array or Uint32Array');
  if ((p.idx instanceof Uint16Array) !== (cols <= GEMV_U16_MAX_COLS)) bad(`index width does not match ${cols} columns`);
  const nb = blockRowCount(rows, blockRows), groups = blockRows === 4 ? Math.floor(rows / 4) : 0;
  const words = p.kind === 'runs' ? GEMV_RUNS_WORDS : 2;
  if (p.nz.length !== words * nb) bad(`nz has ${p.nz.length} words, expected ${words * nb}`);
  const idx = p.idx;
  if (p.kind === 'runs') {
    if (blockRows !== 4) bad('runs plan needs [4,1] blocks');
    let ni = 0, nw = 0;
    for (let b = 0; b < nb; b++) {
      const o = GEMV_RUNS_WORDS * b, g = b < groups ? 4 : 1;
      const nq = p.nz[o], np1 = p.nz[o + 1], np2 = p.nz[o + 2], np3 = p.nz[o + 3], ns = p.nz[o + 4];
      const np = np1 + np2 + np3;
      if (g === 1 && (nq !== 0 || np !== 0)) bad(`tail row ${b} has runs or pairs`);
      if (nq * 4 + np * 2 + ns > cols) bad(`block row ${b} stores ${nq * 4 + np * 2 + ns} columns of ${cols}`);
      if (ni + nq + np + ns > idx.length) bad(`block row ${b} indexes past the ${idx.length} indices`);
      // the last column each kind's x load reads: a run and a pair (c, c+2 | c+3) read x[c..c+3], a pair (c, c+1) x[c..c+1]
      for (const [count, span, what] of [[nq, 4, 'run'], [np1, 2, 'pair (c, c+1)'], [np2, 4, 'pair (c, c+2)'], [np3, 4, 'pair (c, c+3)'], [ns, 1, 'single']] as const) {
        for (let i = 0; i < count; i++, ni++) if (idx[ni] > cols - span) bad(`${what} at index ${ni} starts at column ${idx[ni]}, past ${cols - span}`);
      }
      nw += g + (4 * nq + 2 * np + ns) * g;
    }
    if (ni !== idx.length) bad(`counts use ${ni} indices, idx has ${idx.length}`);
    if (nw !== p.w.length) bad(`counts need ${nw} weights, w has ${p.w.length}`);
  } else if (p.kind === 'gather') {
    if (blockRows !== 1) bad('gather plan needs [1,1] blocks');
    let total = 0;
    for (let b = 0; b < nb; b++) {
      const n = p.nz[2 * b];
      if (n > cols) bad(`row ${b} stores ${n} columns of ${cols}`);
      total += Math.ceil(n / 4) * 4;
    }
    if (total !== idx.length || total !== p.w.length) bad(`counts need ${total} indices and weights, have ${idx.length} and ${p.w.length}`);
    for (let i = 0; i < idx.length; i++) if (idx[i] >= cols) bad(`index ${i} is column ${idx[i]} of ${cols}`);
  } else bad(`unknown kind ${String(p.kind)}`);
}
