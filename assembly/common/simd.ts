// Tier-independent SIMD helpers. Every kernel family builds on these so that ONE source tree
// compiles into both ISA tiers:
//   simd128 : baseline WebAssembly SIMD (required everywhere we run)
//   relaxed : simd128 + relaxed SIMD (f32x4.relaxed_madd lowers to FMA where the CPU has it)
// `ASC_FEATURE_RELAXED_SIMD` is a compile-time constant, so the untaken branch is removed and the
// simd128 binary never contains a relaxed opcode (one relaxed opcode makes a whole module fail to
// validate on Safari, Bun and Node 20 without a flag).

/** acc + a*b. Fused (one rounding) on the relaxed tier where the CPU has FMA, else mul then add. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, acc);
  } else {
    return f32x4.add(f32x4.mul(a, b), acc);
  }
}

/** acc - a*b (relaxed: fused where available). */
// @ts-ignore: decorator
@inline export function nmadd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_nmadd(a, b, acc);
  } else {
    return f32x4.sub(acc, f32x4.mul(a, b));
  }
}

/**
 * Clamp to [lo, hi] with pmin/pmax (one instruction each on x86). NaN propagates: pmin(a, b) is
 * `b < a ? b : a`, so with v as the FIRST operand a NaN lane compares false and stays v (with the
 * operands the other way round NaN became hi: +Inf for no activation, 6 for ReLU6). Matches the
 * scalar min/max kernels and the documented "NaN in, NaN out".
 */
// @ts-ignore: decorator
@inline export function clamp(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmax(f32x4.pmin(v, hi), lo);
}

/** Horizontal sum of the four f32 lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<u32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Adjacent lanes summed: [u0+u1, u2+u3, v0+v1, v2+v3]. */
// @ts-ignore: decorator
@inline export function pairwiseAdd(u: v128, v: v128): v128 {
  return f32x4.add(v128.shuffle<u32>(u, v, 0, 2, 4, 6), v128.shuffle<u32>(u, v, 1, 3, 5, 7));
}

/** The four horizontal sums in one vector: [hsum(a), hsum(b), hsum(c), hsum(d)] ((l0+l1)+(l2+l3) each). */
// @ts-ignore: decorator
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  return pairwiseAdd(pairwiseAdd(a, b), pairwiseAdd(c, d));
}

/** Horizontal max of the four f32 lanes. */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<u32>(v, v, 2, 3, 0, 1));
  return max(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}

/** Lane select with an all-ones / all-zeros mask m (a where set): one blendvps on the relaxed tier, and/andnot/or on simd128. */
// @ts-ignore: decorator
@inline export function sel(a: v128, b: v128, m: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, m);
  else return v128.bitselect(a, b, m);
}
