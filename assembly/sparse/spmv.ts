// Dense batch-1 baseline in the packed CHW layout (per 4-row block: bias[4], then 4 weights per
// column; tail rows: bias then one weight per column). The sparse GEMV kernels are generated into
// gen/spmv.ts by scripts/gen-sparse.mjs (one template for u16 and u32 column indices).
import { madd, clamp } from "../common/simd";

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
