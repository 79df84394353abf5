// Plain-TS f64 references for the sparse family (dense math on the unpacked weights), and the
// random sparse weight patterns the sparse tests share.
import { randomF32, rng } from './tiers.js';

/** Random weights with a random block pattern at sparsity s (exact zeros; 4x1 blocks leave the rows % 4 tail rows as single rows). */
export function sparseWeights(rows: number, cols: number, s: number, seed: number, block: readonly [number, number], kernelSize: 1 | 3 = 1): Float32Array {
  const kk = kernelSize * kernelSize;
  const w = randomF32(rows * cols * kk, seed);
  const r = rng(seed + 1);
  const grouped = block[0] === 4 ? rows - (rows % 4) : 0;
  for (let r0 = 0; r0 < rows; r0 += r0 < grouped ? 4 : 1) {
    const g = r0 < grouped ? 4 : 1;
    for (let c = 0; c < cols; c++) {
      if (r() >= s) continue;
      for (let j = 0; j < g; j++) for (let t = 0; t < kk; t++) w[((r0 + j) * cols + c) * kk + t] = 0;
    }
  }
  return w;
}
export type RefActivation = 'none' | 'relu' | 'relu6';

function act(v: number, a: RefActivation): number {
  return a === 'relu' ? Math.max(v, 0) : a === 'relu6' ? Math.min(Math.max(v, 0), 6) : v;
}

/** Y[rows x n] = W[rows x cols] * X[cols x n] + bias, in f64. Also returns sum |w*x| per output (for error bounds). */
export function refMatmul(w: Float32Array, bias: Float32Array | undefined, rows: number, cols: number, x: Float32Array, n: number,
  a: RefActivation = 'none'): { y: Float64Array; mag: Float64Array } {
  const y = new Float64Array(rows * n), mag = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[r] : 0, m = Math.abs(s);
      for (let c = 0; c < cols; c++) { const p = w[r * cols + c] * x[c * n + j]; s += p; m += Math.abs(p); }
      y[r * n + j] = act(s, a); mag[r * n + j] = m;
    }
  }
  return { y, mag };
}

/** NCHW (batch 1) k x k conv with zero padding, f64. w is OIHW [rows][c][k][k]. */
export function refConv2d(w: Float32Array, bias: Float32Array | undefined, rows: number, c: number, h: number, wd: number, k: number,
  stride: number, pad: number, x: Float32Array, a: RefActivation = 'none'): { y: Float64Array; mag: Float64Array; oh: number; ow: number } {
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1, ow = Math.floor((wd + 2 * pad - k) / stride) + 1;
  const y = new Float64Array(rows * oh * ow), mag = new Float64Array(rows * oh * ow);
  for (let r = 0; r < rows; r++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let s = bias ? bias[r] : 0, m = Math.abs(s);
    for (let ic = 0; ic < c; ic++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
      const p = w[((r * c + ic) * k + ky) * k + kx] * x[(ic * h + iy) * wd + ix];
      s += p; m += Math.abs(p);
    }
    const o = (r * oh + oy) * ow + ox;
    y[o] = act(s, a); mag[o] = m;
  }
  return { y, mag, oh, ow };
}

/**
 * Largest |got - want| / (mag + tiny) over all outputs: the error relative to the sum of absolute
 * products, which is what f32 accumulation error scales with (cancellation-safe).
 */
export function maxScaledErr(got: Float32Array, want: Float64Array, mag: Float64Array): number {
  let e = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]) / (mag[i] + 1e-30);
    if (!(d <= e)) e = Number.isNaN(d) ? Infinity : d;
  }
  return e;
}

/** Re-sign serialized sparse bytes in place (bytes 36..39): the format's checksum, FNV-1a over header bytes [8, 36) then the
 *  payload [40, end), re-implemented here so tests can mutate bytes and still reach the structural validation. */
export function resignSparseBytes(b: Uint8Array): Uint8Array {
  const fnv1a = (from: number, to: number, h: number) => { for (let i = from; i < to; i++) { h ^= b[i]; h = Math.imul(h, 0x01000193); } return h >>> 0; };
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(36, fnv1a(40, b.length, fnv1a(8, 36, 0x811c9dc5)), true);
  return b;
}
