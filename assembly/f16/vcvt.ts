// f32 <-> f16 conversion kernels (XNNPACK naming: <from>_<to>_vcvt__<isa>_u<unroll>).
// src/dst are byte pointers into linear memory; n is the element count (any n >= 0).
// The SIMD kernels do 16 elements per step and finish the tail with the scalar helper, so they
// never read or write past n elements.
import { f32ToF16, f16ToF32, narrowF16x8, widenF16Lo, widenF16Hi } from "./half";

export function f32_f16_vcvt__scalar_u1(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    store<u16>(dst + (<usize>i << 1), f32ToF16(load<f32>(src + (<usize>i << 2))));
  }
}

export function f16_f32_vcvt__scalar_u1(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), f16ToF32(load<u16>(src + (<usize>i << 1))));
  }
}

export function f32_f16_vcvt__wasmsimd_u16(src: usize, dst: usize, n: i32): void {
  const end16 = src + (<usize>(n & ~15) << 2);
  for (; src < end16; src += 64, dst += 32) {
    v128.store(dst, narrowF16x8(v128.load(src), v128.load(src, 16)));
    v128.store(dst, narrowF16x8(v128.load(src, 32), v128.load(src, 48)), 16);
  }
  for (let i = 0, r = n & 15; i < r; i++) {
    store<u16>(dst + (<usize>i << 1), f32ToF16(load<f32>(src + (<usize>i << 2))));
  }
}

export function f16_f32_vcvt__wasmsimd_u16(src: usize, dst: usize, n: i32): void {
  const end16 = src + (<usize>(n & ~15) << 1);
  for (; src < end16; src += 32, dst += 64) {
    const h0 = v128.load(src);
    const h1 = v128.load(src, 16);
    v128.store(dst, widenF16Lo(h0));
    v128.store(dst, widenF16Hi(h0), 16);
    v128.store(dst, widenF16Lo(h1), 32);
    v128.store(dst, widenF16Hi(h1), 48);
  }
  for (let i = 0, r = n & 15; i < r; i++) {
    store<f32>(dst + (<usize>i << 2), f16ToF32(load<u16>(src + (<usize>i << 1))));
  }
}

/** In-place strict rounding of an f32 buffer to the nearest half values (kept as f32). */
export function f32_f16round__wasmsimd_u4(buf: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = buf + (<usize>i << 2);
    v128.store(p, widenF16Lo(narrowF16x8(v128.load(p), f32x4.splat(0))));
  }
  for (; i < n; i++) {
    const p = buf + (<usize>i << 2);
    store<f32>(p, f16ToF32(f32ToF16(load<f32>(p))));
  }
}
