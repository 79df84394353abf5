// Fast strict fp16 rounding that stays in f32 format: returns the f32 equal to the binary16 value nearest
// to x (ties to even), +-inf on overflow, subnormal halves kept. Bit-identical to roundF16x4 in
// assembly/f16/half.ts (tested over every rounding tie and random bit patterns in
// tests/unit/attention.test.ts) at about half the instructions, because it never builds the 16-bit encoding.
// Precondition: a NaN input must have a payload bit among the top 10 mantissa bits (every NaN that
// arithmetic produces does: the quiet bit); a NaN whose payload lies only in the low 13 bits would round to inf.
//   normal range: round the f32 mantissa to 10 bits in place (add 0xfff + the kept LSB, clear 13 bits;
//                 a carry bumps the exponent, and >= 65520 lands on >= 65536, which becomes inf);
//   |x| < 2^-14:  (|x| + 0.5) - 0.5 rounds to a multiple of 2^-24 (the half subnormal spacing).

/** Lane select with an all-ones / all-zeros mask m (a where set): one blendvps on the relaxed tier, and/andnot/or on simd128. */
// @ts-ignore: decorator
@inline export function sel(a: v128, b: v128, m: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, m);
  else return v128.bitselect(a, b, m);
}

// @ts-ignore: decorator
@inline export function roundHalfX4(x: v128): v128 {
  const a = v128.and(x, i32x4.splat(0x7fffffff));
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const lsb = v128.and(i32x4.shr_u(a, 13), i32x4.splat(1));
  let r = v128.and(i32x4.add(i32x4.add(a, i32x4.splat(0xfff)), lsb), i32x4.splat(~0x1fff));
  r = sel(i32x4.splat(0x7f800000), r, f32x4.ge(r, f32x4.splat(65536))); // NaN compares false: kept
  const sub = f32x4.sub(f32x4.add(a, f32x4.splat(0.5)), f32x4.splat(0.5));
  r = sel(sub, r, f32x4.lt(a, f32x4.splat(6.103515625e-5)));
  return v128.or(r, sign);
}

/** roundHalfX4 for x in [0, 1] or an arithmetic (quiet, canonical) NaN, i.e. probabilities: no sign, no overflow. */
// @ts-ignore: decorator
@inline export function roundHalfUnitX4(x: v128): v128 {
  const lsb = v128.and(i32x4.shr_u(x, 13), i32x4.splat(1));
  const r = v128.and(i32x4.add(i32x4.add(x, i32x4.splat(0xfff)), lsb), i32x4.splat(~0x1fff));
  const sub = f32x4.sub(f32x4.add(x, f32x4.splat(0.5)), f32x4.splat(0.5));
  return sel(sub, r, f32x4.lt(x, f32x4.splat(6.103515625e-5)));
}

/** Test hook: in-place roundHalfX4 over n floats (n % 4 == 0). */
export function f32_f16round_fast__wasmsimd_u4(buf: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const p = buf + (<usize>i << 2);
    v128.store(p, roundHalfX4(v128.load(p)));
  }
}
