/**
 * Tile splitters: turn one op into independent kernel calls that write disjoint output ranges.
 * Keep one small function per kernel family here so every family's threaded path stays reviewable.
 * Rule of thumb: ~4 tiles per thread (dynamic claiming evens out a noisy core), never tiles so small
 * that the per-tile call cost shows (f16: >= 16 Ki elements).
 */
import type { KernelExports } from '../abi.js';
import type { TileCall } from './pool.js';

/** A kernel export name, checked by the compiler (a renamed kernel breaks the build, not a run). */
export type KernelName = Exclude<keyof KernelExports, 'memory'>;

/** Split [0, n) into at most `parts` contiguous ranges whose starts are multiples of `align`. */
export function splitRange(n: number, parts: number, align = 1, minChunk = 1): [start: number, count: number][] {
  const out: [number, number][] = [];
  if (n <= 0) return out;
  const want = Math.max(1, Math.min(parts, Math.ceil(n / Math.max(minChunk, 1))));
  const step = Math.max(align, Math.ceil(n / want / align) * align);
  for (let s = 0; s < n; s += step) out.push([s, Math.min(step, n - s)]);
  return out;
}

/** How many tiles to cut for `threads` threads. */
export function tileCount(threads: number, perThread = 4): number {
  return threads <= 1 ? 1 : threads * perThread;
}

/** f32 <-> f16 element-wise conversion: contiguous element ranges (multiples of 16 = the kernels' unroll). */
export function splitF16Convert(kernel: KernelName, src: number, srcBytes: number, dst: number, dstBytes: number, n: number, threads: number): TileCall[] {
  return splitRange(n, tileCount(threads), 16, 16 * 1024).map(([s, c]) => [kernel, src + s * srcBytes, dst + s * dstBytes, c] as TileCall);
}

/**
 * Sparse / dense-CHW 1x1 matmul (Y[rows x n] = W · X[K x n]): spatial tiles = column ranges of X and Y.
 * The kernels walk rows with byte strides fixed by the full n (deltas, os), so a tile only offsets the
 * X and Y pointers and shrinks mc. Ranges start at multiples of the kernel's pixel tile, so every
 * column goes through the same micro-kernel width as in the one-call run (bit-identical).
 * `args(start, count)` returns the call for columns [start, start+count).
 */
export function splitColumns(n: number, tile: number, threads: number, args: (start: number, count: number) => TileCall): TileCall[] {
  return splitRange(n, tileCount(threads), tile, Math.max(tile, 64)).map(([s, c]) => args(s, c));
}

/**
 * Dense GEMM C[m x n] = A[m x k] · B (B packed in 8-column panels): row panels of C. A tile is rows
 * [start, start+count): A and C pointers move by start rows, m shrinks; B, bias and the flags are
 * shared. Starts are multiples of the micro-kernel's MR rows, so each row of C is computed by the
 * same micro-kernel code, in the same k order, as in the one-call run (bit-identical). The scratch
 * argument (packed A block + edge tile) is per thread: pass RunOptions.scratch.
 */
export function splitGemmRows(m: number, mr: number, threads: number, args: (start: number, count: number) => TileCall): TileCall[] {
  return splitRange(m, tileCount(threads), mr, 4 * mr).map(([s, c]) => args(s, c));
}

/**
 * Dense GEMV y[n] = x[k] · B (B packed in 8-column panels): column ranges of y. Starts are multiples of
 * 24 columns = 3 panels, because f16 panels are interleaved in groups of 3 (a range then starts on a
 * group) and every column is one accumulator chain in k order whichever loop computes it, so the
 * split is bit-identical to the one-call GEMV. `args(start, count)` returns the call.
 */
export function splitGemvColumns(n: number, threads: number, args: (start: number, count: number) => TileCall): TileCall[] {
  return splitRange(n, tileCount(threads), 24, 48).map(([s, c]) => args(s, c));
}

/**
 * Attention (flash, per query head): tiles are (query head, query-row block) pairs writing disjoint
 * output rows. Heads first; rows are split too (blocks aligned to blockQ) only when there are too few
 * heads to feed the threads and the mask does not depend on the block's position (non-causal).
 * `args(head, rowStart, rowCount)` returns the call.
 */
export function splitAttention(heads: number, seqQ: number, blockQ: number, causal: boolean, threads: number,
  args: (head: number, rowStart: number, rowCount: number) => TileCall): TileCall[] {
  const want = tileCount(threads);
  const rowParts = causal || heads >= want ? 1 : Math.ceil(want / heads);
  const out: TileCall[] = [];
  for (let h = 0; h < heads; h++) for (const [s, c] of splitRange(seqQ, rowParts, blockQ, blockQ)) out.push(args(h, s, c));
  return out;
}

/**
 * Dense / depthwise NCHW conv: tiles are (image, output-channel block) pairs. A tile moves the x / out
 * pointers by whole images and the weight / bias / out pointers by whole channels; cout shrinks. The
 * conv kernels loop over MR-row weight panels with scratch sizes and pixel blocking that do not depend
 * on cout, so with channel starts at multiples of `align` (the MR the weights were packed with; 1 for
 * depthwise) every output plane is computed by the same code in the same order (bit-identical).
 * Images first; channels are split only as far as needed to feed ~4 tiles per thread, in blocks of at
 * least `minChunk` channels (each block repeats the per-image im2col / band copy).
 * `args(image, channelStart, channelCount)` returns the call.
 */
export function splitConv(images: number, channels: number, align: number, minChunk: number, threads: number,
  args: (image: number, start: number, count: number) => TileCall): TileCall[] {
  const want = tileCount(threads);
  const parts = images >= want ? 1 : Math.ceil(want / images);
  const out: TileCall[] = [];
  for (let i = 0; i < images; i++) for (const [s, c] of splitRange(channels, parts, align, minChunk)) out.push(args(i, s, c));
  return out;
}
