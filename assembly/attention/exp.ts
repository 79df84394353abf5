// Vectorised exp for the softmax of the attention kernels.
//
// exp(x) = 2^n * e^t with n = round(x * log2 e) and t = x - n*ln2 in ~[-ln2/2, ln2/2]:
//  - n comes from the "magic bias" trick: x*log2e + (1.5*2^23 + 127) leaves n + 127 in the low mantissa
//    bits, so 2^n is that bit pattern shifted left by 23 (no float->int conversion);
//  - Cody-Waite reduction with ln2 split into a 9-bit head (n*LN2_HI is exact, with or without FMA);
//  - e^t = 1 + t*p(t), p of degree 4, coefficients fitted for minimum relative error on [-ln2/2, ln2/2]
//    (9.5e-8 in exact arithmetic); f32 evaluation adds a few ulp. The bound tested in
//    tests/unit/attention.test.ts is 4e-7 relative on [-87, 0] (both tiers).
// Domain: x <= 88 (not clamped: the softmax only calls it with x <= 0, and fewer live constants keep the
// callers' loops free of register spills). x < -87.33 (including -inf, i.e. masked scores) gives exactly +0;
// NaN gives NaN.
import { madd } from "../common/simd";

const LOG2E: f32 = 1.44269504088896341;
const MAGIC: f32 = 12583039.0; // 1.5 * 2^23 + 127
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_MIN: f32 = -87.33654475; // n = -126: smallest normal scale; below, the result is flushed to +0
const C1: f32 = 0.9999997019767761;
const C2: f32 = 0.4999915063381195;
const C3: f32 = 0.1666763573884964;
const C4: f32 = 0.04189793020486832;
const C5: f32 = 0.008290315046906471;

// @ts-ignore: decorator
@inline export function expF32x4(x: v128): v128 {
  const under = f32x4.lt(x, f32x4.splat(EXP_MIN));
  // pmax(x, lo) = x < lo ? lo : x: a NaN x is kept (the compare is false)
  const xc = f32x4.pmax(x, f32x4.splat(EXP_MIN));
  let n = madd(xc, f32x4.splat(LOG2E), f32x4.splat(MAGIC));
  const s = i32x4.shl(n, 23); // 2^n
  n = f32x4.sub(n, f32x4.splat(MAGIC));
  let t = madd(n, f32x4.splat(-LN2_HI), xc);
  t = madd(n, f32x4.splat(-LN2_LO), t);
  let p = madd(f32x4.splat(C5), t, f32x4.splat(C4));
  p = madd(p, t, f32x4.splat(C3));
  p = madd(p, t, f32x4.splat(C2));
  p = madd(p, t, f32x4.splat(C1));
  const y = madd(f32x4.mul(t, s), p, s); // s * (1 + t p)
  return v128.andnot(y, under);
}

/** Test hook: dst[i] = expF32x4(src[i]) for n elements (n % 4 == 0). */
export function f32_vexp__wasmsimd_u4(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, expF32x4(v128.load(src + o)));
  }
}
