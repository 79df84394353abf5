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
