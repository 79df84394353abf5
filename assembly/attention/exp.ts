// Vectorised exp for the softmax of the attention kernels.
//
// exp(x) = 2^n * e^r with n = round(x / ln2) and r = x - n*ln2 in [-ln2/2, ln2/2] (Cody-Waite: ln2 split
// into a 9-bit head, so n*LN2_HI is exact with or without FMA), then a degree-6 polynomial for e^r
// (the Cephes expf coefficients). Accuracy: <= 2 ulp of f32 relative error on [-87.3, 88.7]
// (checked in tests/unit/attention.test.ts against Math.exp). Special values:
//   x < -87.33 (including -inf, the masked scores) -> exactly +0;  NaN -> NaN;  the softmax only calls it with x <= 0.
import { madd } from "../common/simd";

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_MIN: f32 = -87.33654475; // below: the result would be subnormal; flushed to +0
const EXP_MAX: f32 = 88.72283905;

// @ts-ignore: decorator
@inline export function expF32x4(x: v128): v128 {
  const under = f32x4.lt(x, f32x4.splat(EXP_MIN));
  // pmax(x, lo) = x < lo ? lo : x, so a NaN x passes through (the first operand is kept when the compare is false)
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  let r = madd(n, f32x4.splat(-LN2_HI), xc);
  r = madd(n, f32x4.splat(-LN2_LO), r);
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  p = madd(p, r2, f32x4.add(r, f32x4.splat(1.0)));
  // 2^n built in two halves so n = 128 (x near EXP_MAX) does not overflow the exponent field
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const h = i32x4.shr_s(ni, 1);
  const s1 = i32x4.shl(i32x4.add(h, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, h), i32x4.splat(127)), 23);
  const y = f32x4.mul(f32x4.mul(p, s1), s2);
  return v128.andnot(y, under);
}

/** Test hook: dst[i] = expF32x4(src[i]) for n elements (n % 4 == 0). */
export function f32_vexp__wasmsimd_u4(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, expF32x4(v128.load(src + o)));
  }
}
