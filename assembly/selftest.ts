// Start-up numerical self-test (iOS 16.4 shipped a SIMD miscompile that validated fine).
// Inputs come from memory so Binaryen cannot constant-fold them (AS 0.27 mis-folds relaxed_madd
// on constants). The bindings fill a, b, c (n f32 each, n % 4 == 0), call this, and check
// out[i] = c[i] + a[i]*b[i] and the f16 round trip against their own JS arithmetic.
import { madd } from "./common/simd";
import { narrowF16x8, widenF16Lo } from "./f16/half";

export function selftest(a: usize, b: usize, c: usize, out: usize, out16: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const r = madd(v128.load(a + o), v128.load(b + o), v128.load(c + o));
    v128.store(out + o, r);
    v128.store(out16 + o, widenF16Lo(narrowF16x8(v128.load(a + o), r)));
  }
}
