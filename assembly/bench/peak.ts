// Peak-throughput probes (exported only for benchmarking): 12 independent f32x4 chains
// acc = acc*m + c, i.e. 8 flop per chain per step, no memory traffic. 12 chains is the sweet spot
// on x64 V8 (15 usable xmm registers: 12 accumulators + m + c + 1 temporary).
// constMul picks how m reaches the loop, and the bench keeps the faster: a v128.const (V8 11 folds it
// into the multiply; V8 13+ re-materialises it at every use inside the loop, which halves the loop's
// speed) or a value computed from the arguments (one register; V8 11 then runs ~20 % slower).
import { madd } from "../common/simd";

// @ts-ignore: decorator
@inline function chains12(iters: i32, seed: f32, constMul: bool, fused: bool): f32 {
  const m = constMul ? f32x4.splat(0.999999) : f32x4.splat(1 - seed * 1e-9), c = f32x4.splat(seed * 1e-7);
  let a0 = f32x4.splat(seed), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (let i = 0; i < iters; i++) {
    if (fused) {
      a0 = madd(a0, m, c); a1 = madd(a1, m, c); a2 = madd(a2, m, c); a3 = madd(a3, m, c);
      a4 = madd(a4, m, c); a5 = madd(a5, m, c); a6 = madd(a6, m, c); a7 = madd(a7, m, c);
      a8 = madd(a8, m, c); a9 = madd(a9, m, c); a10 = madd(a10, m, c); a11 = madd(a11, m, c);
    } else {
      a0 = f32x4.add(f32x4.mul(a0, m), c); a1 = f32x4.add(f32x4.mul(a1, m), c);
      a2 = f32x4.add(f32x4.mul(a2, m), c); a3 = f32x4.add(f32x4.mul(a3, m), c);
      a4 = f32x4.add(f32x4.mul(a4, m), c); a5 = f32x4.add(f32x4.mul(a5, m), c);
      a6 = f32x4.add(f32x4.mul(a6, m), c); a7 = f32x4.add(f32x4.mul(a7, m), c);
      a8 = f32x4.add(f32x4.mul(a8, m), c); a9 = f32x4.add(f32x4.mul(a9, m), c);
      a10 = f32x4.add(f32x4.mul(a10, m), c); a11 = f32x4.add(f32x4.mul(a11, m), c);
    }
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const t = f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 3);
}

/** mul+add form (what the simd128 tier does). Returns a lane sum so the work cannot be elided. */
export function bench_peak_muladd_12(iters: i32, seed: f32, constMul: i32): f32 {
  return constMul ? chains12(iters, seed, true, false) : chains12(iters, seed, false, false);
}

/** madd form: relaxed_madd (FMA) on the relaxed tier, mul+add on simd128. */
export function bench_peak_madd_12(iters: i32, seed: f32, constMul: i32): f32 {
  return constMul ? chains12(iters, seed, true, true) : chains12(iters, seed, false, true);
}
