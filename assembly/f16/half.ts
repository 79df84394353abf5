// Emulated IEEE-754 binary16 ("half"): storage is u16 bits, compute is f32.
// All conversions round to nearest, ties to even; subnormals are kept (wasm never flushes denormals);
// ±inf stays inf; NaN stays NaN (sign and payload kept, quiet bit forced: an sNaN half does not
// round-trip bit-exactly, matching what hardware converters do).
//
// These @inline helpers are what other kernel families use to reproduce fp16 hardware numerics:
//   - storage:  f32ToF16 / f16ToF32 (and the x4 forms) when loading and storing half tensors;
//   - "strict": roundF16 / roundF16x4 round an f32 result to the nearest representable half and
//     return it as f32. For +, -, *, /, sqrt of half inputs, computing in f32 and rounding once is
//     exactly the correctly rounded fp16 result (24 >= 2*11+2, so double rounding cannot differ).
//     exp() is computed in f32 (expF32x4 in assembly/attention/exp.ts, a polynomial within ~2e-7 relative,
//     not Math.exp) followed by one rounding. Matmuls and reductions accumulate in f32
//     and round once at the end, as fp16 tensor units with f32 accumulators do.

// f32 bit patterns used below
const F32_ABS: u32 = 0x7fffffff;
const F32_INF: u32 = 0x7f800000;
const F32_HALF_MAX_EXCL: u32 = 0x47800000; // 65536.0: at or above this, the half is inf (or NaN)
const F32_HALF_MIN_NORMAL: u32 = 0x38800000; // 2^-14: below this, the half is subnormal or zero
const F32_ONE_HALF: u32 = 0x3f000000; // 0.5f: adding it rounds |x| < 2^-14 to a multiple of 2^-24
const REBIAS_ROUND: u32 = 0xc8000fff; // ((15 - 127) << 23) + 0xfff, wrapping: rebias + round-half-down
const F16_EXP_REBIAS: u32 = 0x38000000; // (127 - 15) << 23

/** f32 -> f16 bits, round to nearest even. */
// @ts-ignore: decorator
@inline export function f32ToF16(x: f32): u16 {
  const b = reinterpret<u32>(x);
  const sign = (b >>> 16) & 0x8000;
  let a = b & F32_ABS;
  let h: u32;
  if (a >= F32_HALF_MAX_EXCL) {
    h = a > F32_INF ? 0x7e00 | ((a >>> 13) & 0x3ff) : 0x7c00;
  } else if (a < F32_HALF_MIN_NORMAL) {
    // |x| + 0.5 has ulp 2^-24, so the FPU rounds |x| to a multiple of 2^-24 (ties to even);
    // the low mantissa bits are then the half's subnormal mantissa (1024 = smallest normal).
    h = reinterpret<u32>(reinterpret<f32>(a) + reinterpret<f32>(F32_ONE_HALF)) - F32_ONE_HALF;
  } else {
    // rebias the exponent and add 0xfff (+1 if the kept mantissa is odd): ties go to even,
    // a carry out of the mantissa bumps the exponent, and [65520, 65536) carries into inf.
    h = (a + REBIAS_ROUND + ((a >>> 13) & 1)) >>> 13;
  }
  return <u16>(sign | h);
}

/** f16 bits -> f32 (exact). */
// @ts-ignore: decorator
@inline export function f16ToF32(h: u16): f32 {
  const v = <u32>h;
  const sign = (v & 0x8000) << 16;
  const e = v & 0x7c00;
  const sh = (v & 0x7fff) << 13;
  let bits: u32;
  if (e == 0) {
    bits = reinterpret<u32>(<f32>(v & 0x3ff) * reinterpret<f32>(0x33800000)); // m * 2^-24, exact
  } else if (e == 0x7c00) {
    bits = sh | F32_INF | (v & 0x3ff ? 0x00400000 : 0); // NaN comes out quiet, payload kept
  } else {
    bits = sh + F16_EXP_REBIAS;
  }
  return reinterpret<f32>(bits | sign);
}

/**
 * Four f32 lanes (v128) -> four f16 values in the low 16 bits of each i32 lane. Branchless.
 * Rounding is done by the FPU: adding b = 2^(max(e,-14)+13) to |x| leaves exactly the bits a half
 * keeps (ulp(b) = the half's ulp at |x|), rounded to nearest even. Then
 *   half = bits(|x| + b) - bits(b) + ((max(E,113) - 113) << 10)      (E = biased f32 exponent)
 * which also covers subnormal halves (b = 0.5) and the carry into inf at [65520, 65536).
 * |x| >= 65536, inf and NaN are selected separately.
 */
// @ts-ignore: decorator
@inline export function f32x4ToF16x4(v: v128): v128 {
  const a = v128.and(v, i32x4.splat(F32_ABS));
  const bb = i32x4.add(i32x4.max_s(v128.and(a, i32x4.splat(F32_INF)), i32x4.splat(F32_HALF_MIN_NORMAL)), i32x4.splat(13 << 23));
  const y = f32x4.add(a, bb);
  let h = i32x4.add(i32x4.sub(y, bb), i32x4.shl(i32x4.sub(i32x4.shr_u(bb, 23), i32x4.splat(126)), 10));
  // inf for |x| >= 65536, NaN keeps its payload with the quiet bit set
  const nan = v128.and(i32x4.gt_s(a, i32x4.splat(F32_INF)), v128.or(i32x4.splat(0x200), v128.and(i32x4.shr_u(a, 13), i32x4.splat(0x3ff))));
  h = v128.bitselect(v128.or(nan, i32x4.splat(0x7c00)), h, i32x4.ge_s(a, i32x4.splat(F32_HALF_MAX_EXCL)));
  return v128.or(h, v128.and(i32x4.shr_u(v, 16), i32x4.splat(0x8000)));
}

/**
 * Four f16 values (low 16 bits of each i32 lane, upper bits zero) -> four f32 lanes. Branchless,
 * and no arithmetic on denormal f32 values (slow on some x86 cores):
 *   normal/inf/NaN: bits((h & 0x7fff) << 13) + (224 << 23), times 2^-112 (exact; inf/NaN stay
 *                   inf/NaN, an sNaN comes out quiet with its payload);
 *   subnormal:      bits(0.5 | m) - 0.5 = m * 2^-24 (exact).
 */
// @ts-ignore: decorator
@inline export function f16x4ToF32x4(v: v128): v128 {
  const nonsign = v128.and(v, i32x4.splat(0x7fff));
  const nrm = f32x4.mul(i32x4.add(i32x4.shl(nonsign, 13), i32x4.splat(224 << 23)), f32x4.splat(reinterpret<f32>(0x07800000))); // * 2^-112
  const sub = f32x4.sub(v128.or(nonsign, i32x4.splat(F32_ONE_HALF)), f32x4.splat(0.5));
  const r = v128.bitselect(sub, nrm, i32x4.lt_s(nonsign, i32x4.splat(0x400)));
  return v128.or(r, i32x4.shl(v128.and(v, i32x4.splat(0x8000)), 16));
}

/** Lanes lo (0..3) or hi (4..7) of 8 halves -> f32x4, exact for finite halves; fixF16NonFinite then fixes the lanes that
 *  are +-inf / NaN (inf8: those i16 lanes of h8), only when a group of 8 has any. Cheaper than
 *  f16x4ToF32x4 (4 ops per 4 lanes + 3 per 8 against ~12; used by the attention decode kernel on f16 K/V): the sign-extended half shifted left 13, with bits 28..30 cleared, is the f32 whose value is
 *  the half's times 2^-112 (a subnormal half becomes an f32 denormal, m * 2^-136), so one multiply by 2^112 is exact
 *  for every finite half (wasm does not flush denormals); inf/NaN (exponent 31, now 2^16 * 1.m) get exponent 255 by
 *  an OR, keeping sign and payload (an sNaN stays signalling here; any arithmetic on it quiets it). */
// @ts-ignore: decorator
@inline export function widenF16x8Fast(h8: v128, hi: bool): v128 {
  const x = hi ? i32x4.extend_high_i16x8_s(h8) : i32x4.extend_low_i16x8_s(h8);
  return f32x4.mul(v128.and(i32x4.shl(x, 13), i32x4.splat(0x8fffe000)), f32x4.splat(reinterpret<f32>(0x77800000))); // * 2^112
}
/** i16 lanes of 8 halves that are +-inf / NaN (all ones). */
// @ts-ignore: decorator
@inline export function f16x8NonFinite(h8: v128): v128 {
  return i16x8.gt_s(v128.and(h8, i16x8.splat(0x7fff)), i16x8.splat(0x7bff));
}
// @ts-ignore: decorator
@inline export function fixF16NonFinite(r: v128, inf8: v128, hi: bool): v128 {
  const m = hi ? i32x4.extend_high_i16x8_s(inf8) : i32x4.extend_low_i16x8_s(inf8);
  return v128.or(r, v128.and(m, i32x4.splat(0x7f800000)));
}
// Note: a subnormal half is multiplied as an f32 denormal; x86 cores that take a microcode assist on denormal
// operands (some Intel parts) would slow down on subnormal-heavy data (f16x4ToF32x4 avoids denormal arithmetic).

/** Load 4 halves (8 bytes) at ptr and widen to f32x4. */
// @ts-ignore: decorator
@inline export function loadF16x4(ptr: usize): v128 {
  return f16x4ToF32x4(i32x4.extend_low_i16x8_u(v128.load64_zero(ptr)));
}

/** n rows of d halves (row stride srb bytes, d = db / 4, a multiple of 4) -> [n][d] f32 at dst (row stride db bytes), exact
 *  for every half (inf / NaN included). Reads exactly d halves per row. */
// @ts-ignore: decorator
@inline export function widenF16Rows(src: usize, srb: usize, n: i32, db: usize, dst: usize): void {
  const hb = db >> 1, hb16 = hb & ~(<usize>15);
  for (let t = 0; t < n; t++) {
    const s = src + <usize>t * srb, o = dst + <usize>t * db;
    let x: usize = 0;
    for (; x < hb16; x += 16) {
      const h = v128.load(s + x);
      const inf = f16x8NonFinite(h);
      let lo = widenF16x8Fast(h, false), hi = widenF16x8Fast(h, true);
      if (v128.any_true(inf)) { lo = fixF16NonFinite(lo, inf, false); hi = fixF16NonFinite(hi, inf, true); } // rare: +-inf / NaN halves
      v128.store(o + (x << 1), lo);
      v128.store(o + (x << 1), hi, 16);
    }
    if (x < hb) v128.store(o + (x << 1), loadF16x4(s + x)); // d % 8 == 4: last 4 halves
  }
}

/** Widen 8 halves held in one v128 to f32: widenF16Lo returns the low four, widenF16Hi the high four. */
// @ts-ignore: decorator
@inline export function widenF16Lo(h8: v128): v128 {
  return f16x4ToF32x4(i32x4.extend_low_i16x8_u(h8));
}
// @ts-ignore: decorator
@inline export function widenF16Hi(h8: v128): v128 {
  return f16x4ToF32x4(i32x4.extend_high_i16x8_u(h8));
}

/** Narrow two f32x4 to 8 halves packed in one v128 (RNE). */
// @ts-ignore: decorator
@inline export function narrowF16x8(lo: v128, hi: v128): v128 {
  return i16x8.narrow_i32x4_u(f32x4ToF16x4(lo), f32x4ToF16x4(hi));
}

/** Strict-mode rounding: the f32 nearest-even-rounded to the closest half value (inf on overflow). */
// @ts-ignore: decorator
@inline export function roundF16(x: f32): f32 {
  return f16ToF32(f32ToF16(x));
}

/** Strict-mode rounding of four lanes. */
// @ts-ignore: decorator
@inline export function roundF16x4(v: v128): v128 {
  return f16x4ToF32x4(f32x4ToF16x4(v));
}
