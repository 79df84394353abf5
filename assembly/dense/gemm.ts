// Dense f32 GEMM / GEMV drivers, weight packing and f16-weight widening.
//
// Layouts (all byte pointers into linear memory, row-major unless stated):
//   packed B (matmul weights, K x N):  ceil(N/8) panels, panel j = [K][8] f32 (columns 8j..8j+7,
//        zero-padded past N), panel stride K*8*4 bytes. The column panel is the micro-kernel's
//        vector operand (NR = 8).
//   packed B f16: same panels with 8 halves per k row (16 bytes), stored in the lane order
//        [c0 c4 c1 c5 c2 c6 c3 c7] so that, viewed as i32x4, the low halves are columns 0..3 and
//        the high halves columns 4..7 (widening needs no shuffles).
//   packed A (conv weights, Cout x K): ceil(Cout/MR) panels [K][MR] (broadcast operand), zero-padded.
// The tile shape is MR x 8 with MR in {4,5,6} ("shape" = MR), chosen per tier by the bindings
// (denseDefaultMR; tk.dense.mr overrides it for tuning).
import { f32_gemm_4x8__wasmsimd, f32_gemm_5x8__wasmsimd, f32_gemm_6x8__wasmsimd,
  f32_igemm_4x8__wasmsimd, f32_igemm_5x8__wasmsimd, f32_igemm_6x8__wasmsimd } from "./gen/gemm";
import { madd, clamp } from "../common/simd";
import { f16x4ToF32x4, f32ToF16 } from "../f16/half";

export const NR: i32 = 8;
/** K block of the GEMM driver (A and B panel chunks stay in L1). */
export const KC: i32 = 256;
/** Rows of A packed per block (multiple of every MR). */
export const MC: i32 = 120;

/**
 * Default MR of this tier. Measured on x64 V8 (scratch tuning run, same process, best of 7):
 * 4x8 reaches ~97% of the 12-chain peak on both tiers, while 5x8 and 6x8 drop to ~60-70% (V8's
 * register allocator spills with 10-12 accumulators + operands), so 4x8 everywhere.
 */
export function denseDefaultMR(): i32 {
  return 4;
}

/** flags of the micro-kernels (see scripts/gen-dense.mjs) */
export const F_ACC: i32 = 1, F_BIAS_ROW: i32 = 2, F_BIAS_COL: i32 = 4, F_CLAMP: i32 = 8;

// @ts-ignore: decorator
@inline export function ukernel(mr: i32, kc: i32, a: usize, b: usize, bstride: usize, c: usize, ldc: usize, flags: i32, bias: usize, vmin: f32, vmax: f32): void {
  if (mr == 6) f32_gemm_6x8__wasmsimd(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
  else if (mr == 5) f32_gemm_5x8__wasmsimd(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
  else f32_gemm_4x8__wasmsimd(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
}

// @ts-ignore: decorator
@inline export function ukernelIndirect(mr: i32, kc: i32, a: usize, b: usize, offs: usize, c: usize, ldc: usize, flags: i32, bias: usize, vmin: f32, vmax: f32): void {
  if (mr == 6) f32_igemm_6x8__wasmsimd(kc, a, b, offs, c, ldc, flags, bias, vmin, vmax);
  else if (mr == 5) f32_igemm_5x8__wasmsimd(kc, a, b, offs, c, ldc, flags, bias, vmin, vmax);
  else f32_igemm_4x8__wasmsimd(kc, a, b, offs, c, ldc, flags, bias, vmin, vmax);
}

/** Copy a rows x cols block between two row-major f32 matrices (strides in bytes). */
export function copyBlock(src: usize, lds: usize, dst: usize, ldd: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + <usize>r * ldd, src + <usize>r * lds, <usize>cols << 2);
  }
}

/**
 * Run one MR x 8 tile whose valid part is rows x cols (rows <= MR, cols <= 8). Full tiles go straight
 * to C; edge tiles go through `tile` (MR*8 f32 scratch) so the kernel never writes outside C.
 */
// @ts-ignore: decorator
@inline export function runTile(mr: i32, rows: i32, cols: i32, kc: i32, a: usize, b: usize, bstride: usize, indirect: bool,
  c: usize, ldc: usize, flags: i32, bias: usize, vmin: f32, vmax: f32, tile: usize): void {
  if (rows == mr && cols == NR) {
    if (indirect) ukernelIndirect(mr, kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
    else ukernel(mr, kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
  } else {
    if (flags & F_ACC) copyBlock(c, ldc, tile, NR * 4, rows, cols);
    if (indirect) ukernelIndirect(mr, kc, a, b, bstride, tile, NR * 4, flags, bias, vmin, vmax);
    else ukernel(mr, kc, a, b, bstride, tile, NR * 4, flags, bias, vmin, vmax);
    copyBlock(tile, NR * 4, c, ldc, rows, cols);
  }
}

// ---------------------------------------------------------------- packing

/**
 * Pack rows [k0, k0+kr) of B (K x N row-major; b points at row k0, row stride ldb elements) into
 * 8-column f32 panels (see header). Streaming rows lets the bindings pack from a bounded buffer.
 */
export function f32_pack_b_nr8(k: i32, n: i32, k0: i32, kr: i32, b: usize, ldb: i32, dst: usize): void {
  const panels = (n + NR - 1) / NR;
  for (let j = 0; j < panels; j++) {
    const c0 = j * NR;
    const cols = min(NR, n - c0);
    let d = dst + (<usize>j * <usize>k + <usize>k0) * (NR * 4);
    let s = b + (<usize>c0 << 2);
    for (let kk = 0; kk < kr; kk++) {
      if (cols == NR) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      } else {
        v128.store(d, i32x4.splat(0));
        v128.store(d, i32x4.splat(0), 16);
        for (let c = 0; c < cols; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + (<usize>c << 2)));
      }
      d += NR * 4;
      s += <usize>ldb << 2;
    }
  }
}

/** Pack rows [k0, k0+kr) of B given as f16 bits (row stride ldb halves) into f16 panels in the permuted lane order. */
export function f16_pack_b_nr8(k: i32, n: i32, k0: i32, kr: i32, b: usize, ldb: i32, dst: usize): void {
  const panels = (n + NR - 1) / NR;
  for (let j = 0; j < panels; j++) {
    const c0 = j * NR;
    const cols = min(NR, n - c0);
    let d = dst + (<usize>j * <usize>k + <usize>k0) * (NR * 2);
    let s = b + (<usize>c0 << 1);
    for (let kk = 0; kk < kr; kk++) {
      for (let i = 0; i < 4; i++) {
        const lo: u16 = i < cols ? load<u16>(s + (<usize>i << 1)) : 0;
        const hi: u16 = i + 4 < cols ? load<u16>(s + (<usize>(i + 4) << 1)) : 0;
        store<u16>(d + (<usize>i << 2), lo);
        store<u16>(d + (<usize>i << 2) + 2, hi);
      }
      d += NR * 2;
      s += <usize>ldb << 1;
    }
  }
}

/** Pack A (rows x K, row stride lda elements) into MR-row panels [K][MR] (k-major), zero-padding rows. */
export function f32_pack_a(mr: i32, rows: i32, k: i32, a: usize, lda: i32, dst: usize): void {
  const panels = (rows + mr - 1) / mr;
  const ldab = <usize>lda << 2;
  for (let p = 0; p < panels; p++) {
    const r0 = p * mr;
    const nr = min(mr, rows - r0);
    const d0 = dst + <usize>p * <usize>k * <usize>(mr * 4);
    if (mr == 4 && nr == 4) {
      // 4x4 transposes: rows r0..r0+3, 4 k at a time -> 4 panel rows [k][4]
      const s0 = a + <usize>r0 * ldab, s1 = s0 + ldab, s2 = s1 + ldab, s3 = s2 + ldab;
      let kk = 0;
      for (; kk + 4 <= k; kk += 4) {
        const o = <usize>kk << 2;
        const x0 = v128.load(s0 + o), x1 = v128.load(s1 + o), x2 = v128.load(s2 + o), x3 = v128.load(s3 + o);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        const d = d0 + (<usize>kk << 4);
        v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
      }
      for (; kk < k; kk++) {
        const o = <usize>kk << 2;
        const d = d0 + (<usize>kk << 4);
        store<f32>(d, load<f32>(s0 + o)); store<f32>(d, load<f32>(s1 + o), 4);
        store<f32>(d, load<f32>(s2 + o), 8); store<f32>(d, load<f32>(s3 + o), 12);
      }
      continue;
    }
    for (let r = 0; r < mr; r++) {
      let d = d0 + (<usize>r << 2);
      if (r < nr) {
        let s = a + <usize>(r0 + r) * ldab;
        for (let kk = 0; kk < k; kk++) { store<f32>(d, load<f32>(s)); s += 4; d += <usize>mr << 2; }
      } else {
        for (let kk = 0; kk < k; kk++) { store<f32>(d, 0); d += <usize>mr << 2; }
      }
    }
  }
}

/** Pack A given as f16 bits into f16 panels [K][MR] (for f16 conv weights). */
export function f16_pack_a(mr: i32, rows: i32, k: i32, a: usize, lda: i32, dst: usize): void {
  const panels = (rows + mr - 1) / mr;
  for (let p = 0; p < panels; p++) {
    const r0 = p * mr;
    const nr = min(mr, rows - r0);
    const d0 = dst + <usize>p * <usize>k * <usize>(mr * 2);
    for (let r = 0; r < mr; r++) {
      let d = d0 + (<usize>r << 1);
      let s = a + <usize>(r0 + r) * (<usize>lda << 1);
      for (let kk = 0; kk < k; kk++) { store<u16>(d, r < nr ? load<u16>(s) : 0); s += 2; d += <usize>mr << 1; }
    }
  }
}

/** 1 if any of the n halves at p is inf or NaN (those need the exact widening path). */
export function f16_has_nonfinite(p: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) if ((load<u16>(p + (<usize>i << 1)) & 0x7c00) == 0x7c00) return 1;
  return 0;
}

/** f32 -> f16 bits (RNE) for packing f32 weights as f16. */
export function f32_to_f16_n(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), f32ToF16(load<f32>(src + (<usize>i << 2))));
}

// ---------------------------------------------------------------- f16 widening in registers

/**
 * Widen the four halves sitting in the HIGH 16 bits of each i32 lane (low bits zero) to f32.
 * fast (exact for finite halves incl. subnormals and signed zero): move sign/exponent/mantissa into
 * f32 position with an arithmetic shift, clear the 3 sign copies, scale by 2^112 (rebias).
 * exact: the general converter (also inf/NaN); used when a packed weight has a non-finite half.
 */
// @ts-ignore: decorator
@inline function widenHi16(v: v128, exact: bool): v128 {
  if (exact) return f16x4ToF32x4(i32x4.shr_u(v, 16));
  const x = v128.and(i32x4.shr_s(v, 3), i32x4.splat(0x8fffffff));
  return f32x4.mul(x, f32x4.splat(reinterpret<f32>(0x77800000))); // 2^112
}

/** Widen 8 permuted halves (one packed f16 panel row) into columns 0..3 and 4..7. */
// @ts-ignore: decorator
@inline function widenLo(h: v128, exact: bool): v128 { return widenHi16(i32x4.shl(h, 16), exact); }
// @ts-ignore: decorator
@inline function widenHi(h: v128, exact: bool): v128 { return widenHi16(v128.and(h, i32x4.splat(0xffff0000)), exact); }

/** Widen `rows` rows of one f16 B panel (8 permuted halves per row) to f32 rows of 8 (natural order). */
export function f16_widen_panel(src: usize, dst: usize, rows: i32, exact: i32): void {
  if (exact) {
    for (let i = 0; i < rows; i++) {
      const h = v128.load(src + (<usize>i << 4));
      v128.store(dst + (<usize>i << 5), widenLo(h, true));
      v128.store(dst + (<usize>i << 5), widenHi(h, true), 16);
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const h = v128.load(src + (<usize>i << 4));
      v128.store(dst + (<usize>i << 5), widenLo(h, false));
      v128.store(dst + (<usize>i << 5), widenHi(h, false), 16);
    }
  }
}

/** Widen n halves (natural order, n multiple of 8 not required) to f32: exact, for conv A panels. */
export function f16_widen_n(src: usize, dst: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    v128.store(dst + (<usize>i << 2), f16x4ToF32x4(i32x4.extend_low_i16x8_u(h)));
    v128.store(dst + (<usize>i << 2), f16x4ToF32x4(i32x4.extend_high_i16x8_u(h)), 16);
  }
  for (; i < n; i++) {
    const h = i32x4.splat(<i32>load<u16>(src + (<usize>i << 1)));
    store<f32>(dst + (<usize>i << 2), f32x4.extract_lane(f16x4ToF32x4(h), 0));
  }
}

// ---------------------------------------------------------------- GEMM driver

/** Scratch bytes f32_gemm_nc needs: edge tile (MR*8) + packed A block (MC x KC) + a widened f16 B chunk (KC x 8). */
export function f32_gemm_nc_scratch(): i32 {
  return 6 * NR * 4 + MC * KC * 4 + (MC * KC / 4) * NR * 4 + 128;
}

/**
 * C[m x n] = act(A[m x k] . B[k x n] + bias) with B pre-packed in 8-column panels (f32, or f16 when
 * bf16 != 0; exact16 selects the exact f16 widening). lda/ldc are row strides in elements.
 * bias: 0 or ceil(n/8)*8 f32 (zero-padded). clampOn: apply [vmin, vmax].
 * Loop nest: K blocks of KC (B panel chunk and A panel in L1) > M blocks of MC (packed A block in
 * L2) > 8-column panels > MR-row panels. With at most 2 row panels (m <= 2*MR) there is no B reuse
 * to protect, and short K blocks would read B in 8 KiB pieces 128 KiB apart: the K block then
 * grows to what the A scratch holds (MC*KC floats), so B streams in long contiguous runs.
 */
export function f32_gemm_nc(mr: i32, m: i32, n: i32, k: i32, a: usize, lda: i32, bp: usize, bf16: i32, exact16: i32,
  c: usize, ldc: i32, bias: usize, clampOn: i32, vmin: f32, vmax: f32, scratch: usize): void {
  const tile = scratch;
  const apack = (scratch + 6 * NR * 4 + 63) & ~(<usize>63);
  const bwide = (apack + <usize>(MC * KC * 4) + 63) & ~(<usize>63);
  const panels = (n + NR - 1) / NR;
  const ldcb = <usize>ldc << 2;
  const mcBlock = (MC / mr) * mr;
  const mpad = (m + mr - 1) / mr * mr;
  const kcMax = mpad <= 2 * mr ? (MC * KC) / mpad : KC;
  for (let k0 = 0; k0 < k; k0 += kcMax) {
    const kc = min(kcMax, k - k0);
    const last = k0 + kc == k;
    let flags = k0 > 0 ? F_ACC : (bias ? F_BIAS_COL : 0);
    if (last && clampOn) flags |= F_CLAMP;
    for (let m0 = 0; m0 < m; m0 += mcBlock) {
      const mc = min(mcBlock, m - m0);
      f32_pack_a(mr, mc, kc, a + ((<usize>m0 * <usize>lda + <usize>k0) << 2), lda, apack);
      for (let j = 0; j < panels; j++) {
        const cols = min(NR, n - j * NR);
        let b: usize;
        if (bf16) {
          f16_widen_panel(bp + ((<usize>j * <usize>k + <usize>k0) << 4), bwide, kc, exact16);
          b = bwide;
        } else {
          b = bp + ((<usize>j * <usize>k + <usize>k0) << 5);
        }
        const bj = bias + (<usize>j << 5);
        for (let i = 0; i < mc; i += mr) {
          const rows = min(mr, mc - i);
          const ci = c + <usize>(m0 + i) * ldcb + (<usize>j << 5);
          runTile(mr, rows, cols, kc, apack + <usize>i * <usize>kc * 4, b, NR * 4, false, ci, ldcb, flags, bj, vmin, vmax, tile);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- GEMV (M = 1)

// @ts-ignore: decorator
@inline function storeCols(y: usize, v0: v128, v1: v128, cols: i32, tile: usize): void {
  if (cols == NR) {
    v128.store(y, v0);
    v128.store(y, v1, 16);
  } else {
    v128.store(tile, v0);
    v128.store(tile, v1, 16);
    memory.copy(y, tile, <usize>cols << 2);
  }
}

// @ts-ignore: decorator
@inline function finish(acc0: v128, acc1: v128, j: i32, cols: i32, y: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize): void {
  let v0 = acc0, v1 = acc1;
  if (bias) {
    v0 = f32x4.add(v0, v128.load(bias + (<usize>j << 5)));
    v1 = f32x4.add(v1, v128.load(bias + (<usize>j << 5), 16));
  }
  if (clampOn) {
    const lo = f32x4.splat(vmin), hi = f32x4.splat(vmax);
    v0 = clamp(v0, lo, hi);
    v1 = clamp(v1, lo, hi);
  }
  storeCols(y + (<usize>j << 5), v0, v1, cols, tile);
}

/**
 * y[n] = act(x[k] . B + bias), B packed f32 panels. Three panels per pass (three sequential
 * streams, 6 accumulators). Register budget on x64 V8: TurboFan issues all loads of an iteration
 * before the arithmetic, so loads + accumulators + invariants must stay <= 15 xmm or it spills.
 */
export function f32_gemv_nc(n: i32, k: i32, x: usize, bp: usize, y: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize): void {
  const panels = (n + NR - 1) / NR;
  const pstride = <usize>k << 5;
  let j = 0;
  for (; j + 3 <= panels; j += 3) {
    let p0 = bp + <usize>j * pstride;
    let p1 = p0 + pstride, p2 = p1 + pstride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    let xp = x;
    for (let kk = 0; kk < k; kk++) {
      const x0 = v128.load32_splat(xp);
      a0 = madd(x0, v128.load(p0), a0);
      a1 = madd(x0, v128.load(p0, 16), a1);
      a2 = madd(x0, v128.load(p1), a2);
      a3 = madd(x0, v128.load(p1, 16), a3);
      a4 = madd(x0, v128.load(p2), a4);
      a5 = madd(x0, v128.load(p2, 16), a5);
      p0 += 32; p1 += 32; p2 += 32; xp += 4;
    }
    finish(a0, a1, j, NR, y, bias, clampOn, vmin, vmax, tile);
    finish(a2, a3, j + 1, NR, y, bias, clampOn, vmin, vmax, tile);
    finish(a4, a5, j + 2, min(NR, n - (j + 2) * NR), y, bias, clampOn, vmin, vmax, tile);
  }
  for (; j < panels; j++) {
    let p = bp + <usize>j * pstride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), e0 = f32x4.splat(0), e1 = f32x4.splat(0);
    let xp = x;
    let kk = 0;
    for (; kk + 2 <= k; kk += 2) {
      const x0 = v128.load32_splat(xp);
      const x1 = v128.load32_splat(xp, 4);
      a0 = madd(x0, v128.load(p), a0);
      a1 = madd(x0, v128.load(p, 16), a1);
      e0 = madd(x1, v128.load(p, 32), e0);
      e1 = madd(x1, v128.load(p, 48), e1);
      p += 64; xp += 8;
    }
    if (kk < k) {
      const x0 = v128.load32_splat(xp);
      a0 = madd(x0, v128.load(p), a0);
      a1 = madd(x0, v128.load(p, 16), a1);
    }
    finish(f32x4.add(a0, e0), f32x4.add(a1, e1), j, min(NR, n - j * NR), y, bias, clampOn, vmin, vmax, tile);
  }
}

// Constants for the f16 GEMV loops, loaded from memory before the loops: a v128.const inside a
// loop is re-materialised on every use by V8 (no loop-invariant hoisting), a loaded value stays in
// a register. [0]: 0x8fffe000 (clear the 3 sign copies and the 13 junk low bits), [1]: 2^112.
const GEMV_CONSTS = memory.data<u32>([0x8fffe000, 0x8fffe000, 0x8fffe000, 0x8fffe000, 0x77800000, 0x77800000, 0x77800000, 0x77800000], 16);

/**
 * Widen the 4 low (HI=false) or high (HI=true) halves of the i32 lanes of h (8 halves of one packed
 * panel row) to f32. Fast form: put the half in the top 16 bits (hi: already there), arithmetic
 * shift right by 3 (exponent/mantissa land in f32 position, w * 2^-112), then one AND clears the 3
 * sign copies and, for hi, the other half's bits that slid into the low 13 mantissa bits.
 * MODE (by sizeof): 1 -> x was pre-scaled by 2^112, use as is (exact); 2 -> multiply by 2^112;
 * 8 -> exact general converter (inf/NaN present).
 */
// @ts-ignore: decorator
@inline function widenM<MODE>(h: v128, hi: bool, msk: v128, scale: v128): v128 {
  if (sizeof<MODE>() == 8) return f16x4ToF32x4(hi ? i32x4.shr_u(h, 16) : v128.and(h, i32x4.splat(0xffff)));
  const x = v128.and(i32x4.shr_s(hi ? h : i32x4.shl(h, 16), 3), msk);
  if (sizeof<MODE>() == 2) return f32x4.mul(x, scale);
  return x;
}

// @ts-ignore: decorator
@inline function gemvF16<MODE>(n: i32, k: i32, x: usize, bp: usize, y: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize): void {
  const msk = v128.load(GEMV_CONSTS), scale = v128.load(GEMV_CONSTS, 16);
  const panels = (n + NR - 1) / NR;
  const pstride = <usize>k << 4;
  let j = 0;
  // 3 panels per pass: 3 sequential streams, 6 accumulators (see the register budget note above)
  for (; j + 3 <= panels; j += 3) {
    let p0 = bp + <usize>j * pstride;
    let p1 = p0 + pstride, p2 = p1 + pstride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    let xp = x;
    for (let kk = 0; kk < k; kk++) {
      const x0 = v128.load32_splat(xp);
      const h0 = v128.load(p0), h1 = v128.load(p1), h2 = v128.load(p2);
      a0 = madd(x0, widenM<MODE>(h0, false, msk, scale), a0);
      a1 = madd(x0, widenM<MODE>(h0, true, msk, scale), a1);
      a2 = madd(x0, widenM<MODE>(h1, false, msk, scale), a2);
      a3 = madd(x0, widenM<MODE>(h1, true, msk, scale), a3);
      a4 = madd(x0, widenM<MODE>(h2, false, msk, scale), a4);
      a5 = madd(x0, widenM<MODE>(h2, true, msk, scale), a5);
      p0 += 16; p1 += 16; p2 += 16; xp += 4;
    }
    finish(a0, a1, j, NR, y, bias, clampOn, vmin, vmax, tile);
    finish(a2, a3, j + 1, NR, y, bias, clampOn, vmin, vmax, tile);
    finish(a4, a5, j + 2, min(NR, n - (j + 2) * NR), y, bias, clampOn, vmin, vmax, tile);
  }
  for (; j < panels; j++) {
    let p = bp + <usize>j * pstride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), e0 = f32x4.splat(0), e1 = f32x4.splat(0);
    let xp = x;
    let kk = 0;
    for (; kk + 2 <= k; kk += 2) {
      const x0 = v128.load32_splat(xp), x1 = v128.load32_splat(xp, 4);
      const h0 = v128.load(p), h1 = v128.load(p, 16);
      a0 = madd(x0, widenM<MODE>(h0, false, msk, scale), a0);
      a1 = madd(x0, widenM<MODE>(h0, true, msk, scale), a1);
      e0 = madd(x1, widenM<MODE>(h1, false, msk, scale), e0);
      e1 = madd(x1, widenM<MODE>(h1, true, msk, scale), e1);
      p += 32; xp += 8;
    }
    if (kk < k) {
      const x0 = v128.load32_splat(xp);
      const h0 = v128.load(p);
      a0 = madd(x0, widenM<MODE>(h0, false, msk, scale), a0);
      a1 = madd(x0, widenM<MODE>(h0, true, msk, scale), a1);
    }
    finish(f32x4.add(a0, e0), f32x4.add(a1, e1), j, min(NR, n - j * NR), y, bias, clampOn, vmin, vmax, tile);
  }
}

/**
 * y[n] = act(x[k] . B + bias) with B packed as f16 panels, widened in registers, f32 accumulation.
 * xs: k f32 of scratch. When every |x| < 2^16 the 2^112 rebias of the fast widening is folded into
 * a scaled copy of x (x * 2^112 stays finite; each product x*w is then formed exactly as before,
 * so results are identical), saving a multiply per 4 weights. exact: packed weights hold inf/NaN.
 */
export function f16w_gemv_nc(n: i32, k: i32, x: usize, bp: usize, y: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize, exact: i32, xs: usize): void {
  if (exact) { gemvF16<i64>(n, k, x, bp, y, bias, clampOn, vmin, vmax, tile); return; }
  let big = false;
  for (let i = 0; i < k; i++) {
    const v = abs<f32>(load<f32>(x + (<usize>i << 2)));
    if (!(v < 65536.0)) { big = true; break; }
    store<f32>(xs + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * reinterpret<f32>(0x77800000));
  }
  if (big) gemvF16<i16>(n, k, x, bp, y, bias, clampOn, vmin, vmax, tile);
  else gemvF16<i8>(n, k, xs, bp, y, bias, clampOn, vmin, vmax, tile);
}

// ---------------------------------------------------------------- small-M GEMM with f16 weights

// ROWS (sizeof<R>: 2 -> 2 rows, 4 -> 3 rows) rows x one f16 panel per pass.
// Register budget (x64 V8 issues an iteration's loads first): 2*ROWS accumulators + 1 panel load +
// ROWS broadcasts + mask + the two widened vectors + a temporary stays <= 15 for ROWS <= 3
// (4 rows spilled and ran at half speed). Rows past `rows` read a zero row and are not stored.
// @ts-ignore: decorator
@inline function gemmRowsF16<MODE, R>(rows: i32, n: i32, k: i32, x: usize, ldx: usize, bp: usize, y: usize, ldy: usize,
  bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize): void {
  const three = sizeof<R>() == 4;
  const msk = v128.load(GEMV_CONSTS), scale = v128.load(GEMV_CONSTS, 16);
  const panels = (n + NR - 1) / NR;
  const pstride = <usize>k << 4;
  for (let j = 0; j < panels; j++) {
    let p = bp + <usize>j * pstride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    let xp = x;
    for (let kk = 0; kk < k; kk++) {
      const h = v128.load(p);
      const s0 = v128.load32_splat(xp), s1 = v128.load32_splat(xp + ldx);
      const lo = widenM<MODE>(h, false, msk, scale);
      a0 = madd(s0, lo, a0);
      b0 = madd(s1, lo, b0);
      if (three) c0 = madd(v128.load32_splat(xp + 2 * ldx), lo, c0);
      const hi = widenM<MODE>(h, true, msk, scale);
      a1 = madd(s0, hi, a1);
      b1 = madd(s1, hi, b1);
      if (three) c1 = madd(v128.load32_splat(xp + 2 * ldx), hi, c1);
      p += 16; xp += 4;
    }
    const cols = min(NR, n - j * NR);
    finish(a0, a1, j, cols, y, bias, clampOn, vmin, vmax, tile);
    if (rows > 1) finish(b0, b1, j, cols, y + ldy, bias, clampOn, vmin, vmax, tile);
    if (three && rows > 2) finish(c0, c1, j, cols, y + 2 * ldy, bias, clampOn, vmin, vmax, tile);
  }
}

/** Rows per pass of f16w_gemm_small. */
const SMALL_ROWS: i32 = 3;

/** Scratch bytes for f16w_gemm_small: SMALL_ROWS scaled rows of x (+ slack). */
export function f16w_gemm_small_scratch(k: i32): i32 {
  return SMALL_ROWS * k * 4 + 64;
}

/**
 * C[m x n] = act(A[m x k] . B + bias) for small m (bandwidth-bound) with f16 panels widened in
 * registers: 3 rows per pass over B, so B (half the bytes of f32) is read ceil(m/3) times.
 * Rows are pre-scaled by 2^112 when every |a| < 2^16 (see f16w_gemv_nc).
 */
export function f16w_gemm_small(m: i32, n: i32, k: i32, a: usize, bp: usize, c: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32,
  tile: usize, exact: i32, xs: usize): void {
  const ldx = <usize>k << 2, ldy = <usize>n << 2;
  for (let r0 = 0; r0 < m; r0 += SMALL_ROWS) {
    const rows = min(SMALL_ROWS, m - r0);
    const src = a + <usize>r0 * ldx;
    let big = exact != 0;
    for (let i = 0; i < rows * k && !big; i++) {
      const v = load<f32>(src + (<usize>i << 2));
      if (!(abs<f32>(v) < 65536.0)) big = true;
      store<f32>(xs + (<usize>i << 2), v * reinterpret<f32>(0x77800000));
    }
    if (big) memory.copy(xs, src, <usize>(rows * k) << 2);
    memory.fill(xs + (<usize>(rows * k) << 2), 0, <usize>((SMALL_ROWS - rows) * k) << 2);
    const y = c + <usize>r0 * ldy;
    if (rows <= 2) {
      if (exact) gemmRowsF16<i64, u16>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile);
      else if (big) gemmRowsF16<i16, u16>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile);
      else gemmRowsF16<i8, u16>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile);
    } else {
      if (exact) gemmRowsF16<i64, u32>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile);
      else if (big) gemmRowsF16<i16, u32>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile);
      else gemmRowsF16<i8, u32>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile);
    }
  }
}
