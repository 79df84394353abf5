// Fast strict fp16 rounding that stays in f32 format (used in the attention kernels' hot loops): returns the f32 equal to the binary16 value nearest
// to x (ties to even), +-inf on overflow, subnormal halves kept, NaN stays NaN. Bit-identical to roundF16x4
// in ./half.ts for every non-NaN input (tested over every rounding tie and random bit patterns in
// tests/unit/attention.test.ts; when written, also checked against the f16 module's f32_f16round__wasmsimd_u4
// over all 2^32 f32 bit patterns on both tiers: no difference except NaN payloads).
//
// Method (magic addition, 11 integer/float ops, no selects): for |x| in [2^e, 2^(e+1)) the f32 spacing at
// M = 2^(e+13) is 2^(e-10), the fp16 spacing at exponent e; so (x + M) - M (M carrying x's sign) rounds x to
// the fp16 grid with the f32 adder's round-to-nearest-even, and the subtraction is exact. The exponent of M is
// clamped below at 2^-1 (= 2^(-14+13): below 2^-14 the fp16 spacing stays 2^-24, the subnormal halves) and above
// at 2^29 (values >= 2^16 only need to stay >= 2^16, and e + 13 must not overflow). Overflow: a rounded value
// r >= 2^16 (i.e. |x| >= 65520) becomes inf through r * 2^112 (>= 2^128 overflows in f32; exact otherwise)
// and back * 2^-112 (exact). The sign is OR-ed back so that values rounding to zero keep it (x - x = +0).
//
// Constants live in memory (ROUND_K): V8 re-materialises every v128.const inside a loop (3 instructions each)
// and never hoists it; hot loops load them once into locals (roundK* getters) and call roundHalfK / roundUnitK.

// 16-byte vectors: sign bit, exponent mask, magic-exponent clamp low (2^-14) / high (2^16), +13 in the
// exponent field, 2^112, 2^-112
const ROUND_K = memory.data<u32>([
  0x80000000, 0x80000000, 0x80000000, 0x80000000,
  0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000,
  0x38800000, 0x38800000, 0x38800000, 0x38800000,
  0x47800000, 0x47800000, 0x47800000, 0x47800000,
  0x06800000, 0x06800000, 0x06800000, 0x06800000,
  0x77800000, 0x77800000, 0x77800000, 0x77800000,
  0x07800000, 0x07800000, 0x07800000, 0x07800000,
], 16);

// @ts-ignore: decorator
@inline export function roundKSign(): v128 { return v128.load(ROUND_K); }
// @ts-ignore: decorator
@inline export function roundKExp(): v128 { return v128.load(ROUND_K, 16); }
// @ts-ignore: decorator
@inline export function roundKLo(): v128 { return v128.load(ROUND_K, 32); }
// @ts-ignore: decorator
@inline export function roundKHi(): v128 { return v128.load(ROUND_K, 48); }
// @ts-ignore: decorator
@inline export function roundKOff(): v128 { return v128.load(ROUND_K, 64); }
// @ts-ignore: decorator
@inline export function roundKUp(): v128 { return v128.load(ROUND_K, 80); }
// @ts-ignore: decorator
@inline export function roundKDown(): v128 { return v128.load(ROUND_K, 96); }

/** fp16 rounding with the constants passed in (hoisted by the caller; see roundK*). */
// @ts-ignore: decorator
@inline export function roundHalfK(x: v128, sgn: v128, expm: v128, lo: v128, hi: v128, off: v128, up: v128, down: v128): v128 {
  const s = v128.and(x, sgn);
  const m = v128.or(i32x4.add(i32x4.min_u(i32x4.max_u(v128.and(x, expm), lo), hi), off), s);
  const r = v128.or(f32x4.sub(f32x4.add(x, m), m), s);
  return f32x4.mul(f32x4.mul(r, up), down);
}

/** roundHalfK for x in [0, 1] or NaN (probabilities): no sign, no overflow, so no clamp from above. */
// @ts-ignore: decorator
@inline export function roundUnitK(x: v128, expm: v128, lo: v128, off: v128): v128 {
  const m = i32x4.add(i32x4.max_u(v128.and(x, expm), lo), off);
  return f32x4.sub(f32x4.add(x, m), m);
}

/** roundHalfK loading its constants (for code outside hot loops). */
// @ts-ignore: decorator
@inline export function roundHalfX4(x: v128): v128 {
  return roundHalfK(x, roundKSign(), roundKExp(), roundKLo(), roundKHi(), roundKOff(), roundKUp(), roundKDown());
}

/** roundUnitK loading its constants. */
// @ts-ignore: decorator
@inline export function roundHalfUnitX4(x: v128): v128 {
  return roundUnitK(x, roundKExp(), roundKLo(), roundKOff());
}

/** Test hook: in-place roundHalfX4 over n floats (n % 4 == 0). */
export function f32_f16round_fast__wasmsimd_u4(buf: usize, n: i32): void {
  const sgn = roundKSign(), expm = roundKExp(), lo = roundKLo(), hi = roundKHi(), off = roundKOff(), up = roundKUp(), down = roundKDown();
  for (let i = 0; i < n; i += 4) {
    const p = buf + (<usize>i << 2);
    v128.store(p, roundHalfK(v128.load(p), sgn, expm, lo, hi, off, up, down));
  }
}

/** Test hook: in-place roundHalfUnitX4 over n floats in [0, 1] (n % 4 == 0). */
export function f32_f16round_unit__wasmsimd_u4(buf: usize, n: i32): void {
  const expm = roundKExp(), lo = roundKLo(), off = roundKOff();
  for (let i = 0; i < n; i += 4) {
    const p = buf + (<usize>i << 2);
    v128.store(p, roundUnitK(v128.load(p), expm, lo, off));
  }
}
