// Batch-1 matrix-vector kernels (FC layers): y[rows] = W * x[K] + bias, clamped.
// Same packed layout as the spmm kernels (per 4-row block: bias[4], then 4 weights per stored
// column, i.e. one v128 per block; tail rows: bias then one weight per stored column).
import { madd, clamp } from "../common/simd";

/**
 * Sparse GEMV, 4x1 blocks: acc(4 rows) += w_block * splat(x[col]). Four accumulators hide the FMA
 * latency. x = x + firstCol*4 (start of the delta walk); dmap deltas are in bytes (dcol*4).
 */
export function f32_spmv_4x1__wasmsimd(ng: i32, nr1: i32, x: usize, w: usize, nz: usize, dm: usize, y: usize, vmin: f32, vmax: f32): void {
  const lo = f32x4.splat(vmin), hi = f32x4.splat(vmax);
  for (let g = 0; g < ng; g++) {
    let a0 = v128.load(w); let a1 = f32x4.splat(0), a2 = a1, a3 = a1;
    w += 16;
    let n = load<u32>(nz); nz += 4;
    while (n >= 4) {
      const x0 = v128.load32_splat(x); x += <usize>load<i32>(dm);
      const x1 = v128.load32_splat(x); x += <usize>load<i32>(dm, 4);
      const x2 = v128.load32_splat(x); x += <usize>load<i32>(dm, 8);
      const x3 = v128.load32_splat(x); x += <usize>load<i32>(dm, 12);
      a0 = madd(v128.load(w), x0, a0);
      a1 = madd(v128.load(w, 16), x1, a1);
      a2 = madd(v128.load(w, 32), x2, a2);
      a3 = madd(v128.load(w, 48), x3, a3);
      w += 64; dm += 16; n -= 4;
    }
    while (n != 0) {
      a0 = madd(v128.load(w), v128.load32_splat(x), a0);
      x += <usize>load<i32>(dm); w += 16; dm += 4; n--;
    }
    v128.store(y, clamp(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), lo, hi));
    y += 16;
  }
  spmvRows(nr1, x, w, nz, dm, y, vmin, vmax);
}

/** Unstructured sparse GEMV: one row at a time, 4 independent scalar accumulators (pass all rows as nr1). */
export function f32_spmv_1x1__scalar_u4(nr1: i32, x: usize, w: usize, nz: usize, dm: usize, y: usize, vmin: f32, vmax: f32): void {
  spmvRows(nr1, x, w, nz, dm, y, vmin, vmax);
}

// @ts-ignore: decorator
@inline function spmvRows(nr1: i32, x: usize, w: usize, nz: usize, dm: usize, y: usize, vmin: f32, vmax: f32): void {
  for (let r = 0; r < nr1; r++) {
    let a0: f32 = load<f32>(w);
    w += 4;
    let n = load<u32>(nz); nz += 4;
    let a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
    while (n >= 4) {
      const x0 = load<f32>(x); x += <usize>load<i32>(dm);
      const x1 = load<f32>(x); x += <usize>load<i32>(dm, 4);
      const x2 = load<f32>(x); x += <usize>load<i32>(dm, 8);
      const x3 = load<f32>(x); x += <usize>load<i32>(dm, 12);
      a0 += load<f32>(w) * x0; a1 += load<f32>(w, 4) * x1; a2 += load<f32>(w, 8) * x2; a3 += load<f32>(w, 12) * x3;
      w += 16; dm += 16; n -= 4;
    }
    while (n != 0) {
      a0 += load<f32>(w) * load<f32>(x); x += <usize>load<i32>(dm);
      w += 4; dm += 4; n--;
    }
    const sum = (a0 + a1) + (a2 + a3);
    store<f32>(y, min(max(sum, vmin), vmax));
    y += 4;
  }
}

/**
 * Dense GEMV baseline in the same packed layout (every column stored): 4 rows per v128, columns
 * unrolled by 4 with independent accumulators.
 */
export function f32_chwgemv_4x1__wasmsimd(ng: i32, nr1: i32, K: i32, x: usize, w: usize, y: usize, vmin: f32, vmax: f32): void {
  const lo = f32x4.splat(vmin), hi = f32x4.splat(vmax);
  for (let g = 0; g < ng; g++) {
    let a0 = v128.load(w), a1 = f32x4.splat(0), a2 = a1, a3 = a1;
    w += 16;
    let p = x;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const xv = v128.load(p); p += 16;
      a0 = madd(v128.load(w), f32x4.splat(f32x4.extract_lane(xv, 0)), a0);
      a1 = madd(v128.load(w, 16), f32x4.splat(f32x4.extract_lane(xv, 1)), a1);
      a2 = madd(v128.load(w, 32), f32x4.splat(f32x4.extract_lane(xv, 2)), a2);
      a3 = madd(v128.load(w, 48), f32x4.splat(f32x4.extract_lane(xv, 3)), a3);
      w += 64;
    }
    for (; k < K; k++) { a0 = madd(v128.load(w), v128.load32_splat(p), a0); p += 4; w += 16; }
    v128.store(y, clamp(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), lo, hi));
    y += 16;
  }
  for (let r = 0; r < nr1; r++) {
    let a = load<f32>(w); w += 4;
    for (let k = 0; k < K; k++) { a += load<f32>(w) * load<f32>(x + (<usize>k << 2)); w += 4; }
    store<f32>(y, min(max(a, vmin), vmax)); y += 4;
  }
}

/**
 * Batch-1 FC with u16 absolute column indices instead of i32 byte deltas: the FC matrix streams from
 * L2/L3, so 2 index bytes per block instead of 4 is a direct bandwidth saving (cols <= 65536).
 * 4x1 groups first (ng), then nr1 single rows. x is the start of the activation vector.
 */
export function f32_spmv_4x1_u16__wasmsimd(ng: i32, nr1: i32, x: usize, w: usize, nz: usize, idx: usize, y: usize, vmin: f32, vmax: f32): void {
  const lo = f32x4.splat(vmin), hi = f32x4.splat(vmax);
  for (let g = 0; g < ng; g++) {
    let a0 = v128.load(w); let a1 = f32x4.splat(0), a2 = a1, a3 = a1;
    w += 16;
    let n = load<u32>(nz); nz += 4;
    while (n >= 4) {
      const x0 = v128.load32_splat(x + (<usize>load<u16>(idx) << 2));
      const x1 = v128.load32_splat(x + (<usize>load<u16>(idx, 2) << 2));
      const x2 = v128.load32_splat(x + (<usize>load<u16>(idx, 4) << 2));
      const x3 = v128.load32_splat(x + (<usize>load<u16>(idx, 6) << 2));
      a0 = madd(v128.load(w), x0, a0);
      a1 = madd(v128.load(w, 16), x1, a1);
      a2 = madd(v128.load(w, 32), x2, a2);
      a3 = madd(v128.load(w, 48), x3, a3);
      w += 64; idx += 8; n -= 4;
    }
    while (n != 0) {
      a0 = madd(v128.load(w), v128.load32_splat(x + (<usize>load<u16>(idx) << 2)), a0);
      w += 16; idx += 2; n--;
    }
    v128.store(y, clamp(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), lo, hi));
    y += 16;
  }
  for (let r = 0; r < nr1; r++) {
    let a0: f32 = load<f32>(w), a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
    w += 4;
    let n = load<u32>(nz); nz += 4;
    while (n >= 4) {
      a0 += load<f32>(w) * load<f32>(x + (<usize>load<u16>(idx) << 2));
      a1 += load<f32>(w, 4) * load<f32>(x + (<usize>load<u16>(idx, 2) << 2));
      a2 += load<f32>(w, 8) * load<f32>(x + (<usize>load<u16>(idx, 4) << 2));
      a3 += load<f32>(w, 12) * load<f32>(x + (<usize>load<u16>(idx, 6) << 2));
      w += 16; idx += 8; n -= 4;
    }
    while (n != 0) {
      a0 += load<f32>(w) * load<f32>(x + (<usize>load<u16>(idx) << 2));
      w += 4; idx += 2; n--;
    }
    store<f32>(y, min(max((a0 + a1) + (a2 + a3), vmin), vmax));
    y += 4;
  }
}
