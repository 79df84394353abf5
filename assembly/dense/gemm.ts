// Dense f32 GEMM / GEMV drivers, weight packing and f16-weight widening.
//
// Layouts (all byte pointers into linear memory, row-major unless stated):
//   packed B (matmul weights, K x N):  ceil(N/8) panels, panel j = [K][8] f32 (columns 8j..8j+7,
//        zero-padded past N), panel stride K*8*4 bytes. The column panel is the micro-kernel's
//        vector operand (NR = 8).
//   packed B f16: 8-column panels with 8 halves per k row (16 bytes), stored in the lane order
//        [c0 c4 c1 c5 c2 c6 c3 c7] so that, viewed as i32x4, the low halves are columns 0..3 and
//        the high halves columns 4..7 (widening needs no shuffles). Panels are interleaved in
//        groups of 3: group of panels j0..j0+2 (j0 = 3g) = [K][3 x 16 bytes] at j0*K*16, so the GEMV
//        reads one sequential stream per pass (measured ~10% faster than 3 streams from DRAM); the
//        last group may hold 1 or 2 panels (row stride 16 or 32). See f16PanelAddr / f16PanelStride.
//   packed A (conv weights, Cout x K): ceil(Cout/MR) panels [K][MR] (broadcast operand), zero-padded.
// The tile shape is MR x 8 with MR in {4,5,6} ("shape" = MR), chosen per tier by the bindings
// (denseDefaultMR; tk.dense.mr overrides it for tuning), except that f32_gemm_nc with MR_PRE_A (the
// JavaScriptCore default, tk.kernelProfile.denseMatmulPreA) always runs the 6x8 `_pre` tile.
import { f32_gemm_4x8__wasmsimd, f32_gemm_5x8__wasmsimd, f32_gemm_6x8__wasmsimd,
  f32_igemm_4x8__wasmsimd, f32_igemm_5x8__wasmsimd, f32_igemm_6x8__wasmsimd,
  f32_gemm_4x8__wasmsimd_splat, f32_gemm_5x8__wasmsimd_splat, f32_igemm_4x8__wasmsimd_splat, f32_igemm_5x8__wasmsimd_splat,
  f32_gemm_6x8__wasmsimd_pre } from "./gen/gemm";
import { madd, clamp } from "../common/simd";
import { copyF32, zeroF32 } from "../common/memory";
import { f16x4ToF32x4, f16ToF32, f32ToF16 } from "../f16/half";

export const NR: i32 = 8;
/** K block of the GEMM driver (A and B panel chunks stay in L1). */
export const KC: i32 = 256;
/** Rows of A packed per block (multiple of every MR). */
export const MC: i32 = 120;

/**
 * Default MR of this tier. Measured on x64 V8 (scratch tuning run, same process, best of 7):
 * 4x8 reaches 85-87% of the best 12-chain peak probe on both tiers (~97% of the older constant-only
 * probe), while 5x8 and 6x8 drop to ~60-70% (V8's register allocator spills with 10-12 accumulators +
 * operands), so 4x8 everywhere.
 */
export function denseDefaultMR(): i32 {
  return 4;
}

/** flags of the micro-kernels (see scripts/gen-dense.mjs) */
export const F_ACC: i32 = 1, F_BIAS_ROW: i32 = 2, F_BIAS_COL: i32 = 4, F_CLAMP: i32 = 8;

/**
 * The drivers' `mr` argument: MR (4, 5 or 6) in the low byte, plus MR_SPLAT_A to run the `_splat`
 * micro-kernels (A values of a k step as one v128 load + lane shuffles; 4x8 and 5x8 only, 6x8 keeps
 * load32_splat). Bit-identical to the default kernels: same madds, same order. Drivers take the
 * geometry from `mr & MR_MASK` and hand the whole value to runTile. (Values in ../common/abi.ts.)
 */
import { DENSE_MR_SPLAT_A as MR_SPLAT_A, DENSE_MR_MASK as MR_MASK, DENSE_MR_PRE_A as MR_PRE_A, DENSE_GEMV_F16_DOT as GEMV_F16_DOT } from "../common/abi";
export { MR_SPLAT_A, MR_MASK, MR_PRE_A };

// @ts-ignore: decorator
@inline export function ukernel(mrv: i32, kc: i32, a: usize, b: usize, bstride: usize, c: usize, ldc: usize, flags: i32, bias: usize, vmin: f32, vmax: f32): void {
  const mr = mrv & MR_MASK, sa = (mrv & MR_SPLAT_A) != 0;
  if (mrv & MR_PRE_A) f32_gemm_6x8__wasmsimd_pre(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax); // A pre-broadcast, MR 6 (f32_gemm_nc only)
  else if (mr == 6) f32_gemm_6x8__wasmsimd(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
  else if (mr == 5) {
    if (sa) f32_gemm_5x8__wasmsimd_splat(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
    else f32_gemm_5x8__wasmsimd(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
  } else if (sa) f32_gemm_4x8__wasmsimd_splat(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
  else f32_gemm_4x8__wasmsimd(kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
}

// @ts-ignore: decorator
@inline export function ukernelIndirect(mrv: i32, kc: i32, a: usize, b: usize, offs: usize, c: usize, ldc: usize, flags: i32, bias: usize, vmin: f32, vmax: f32): void {
  const mr = mrv & MR_MASK, sa = (mrv & MR_SPLAT_A) != 0;
  if (mr == 6) f32_igemm_6x8__wasmsimd(kc, a, b, offs, c, ldc, flags, bias, vmin, vmax);
  else if (mr == 5) {
    if (sa) f32_igemm_5x8__wasmsimd_splat(kc, a, b, offs, c, ldc, flags, bias, vmin, vmax);
    else f32_igemm_5x8__wasmsimd(kc, a, b, offs, c, ldc, flags, bias, vmin, vmax);
  } else if (sa) f32_igemm_4x8__wasmsimd_splat(kc, a, b, offs, c, ldc, flags, bias, vmin, vmax);
  else f32_igemm_4x8__wasmsimd(kc, a, b, offs, c, ldc, flags, bias, vmin, vmax);
}

/** Copy a rows x cols block between two row-major f32 matrices (strides in bytes). */
export function copyBlock(src: usize, lds: usize, dst: usize, ldd: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    copyF32(dst + <usize>r * ldd, src + <usize>r * lds, cols);
  }
}

/**
 * Run one MR x 8 tile whose valid part is rows x cols (rows <= MR, cols <= 8). Full tiles go straight
 * to C; edge tiles go through `tile` (MR*8 f32 scratch) so the kernel never writes outside C.
 */
// @ts-ignore: decorator
@inline export function runTile(mrv: i32, rows: i32, cols: i32, kc: i32, a: usize, b: usize, bstride: usize, indirect: bool,
  c: usize, ldc: usize, flags: i32, bias: usize, vmin: f32, vmax: f32, tile: usize): void {
  if (rows == (mrv & MR_MASK) && cols == NR) {
    if (indirect) ukernelIndirect(mrv, kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
    else ukernel(mrv, kc, a, b, bstride, c, ldc, flags, bias, vmin, vmax);
  } else {
    if (flags & F_ACC) copyBlock(c, ldc, tile, NR * 4, rows, cols);
    if (indirect) ukernelIndirect(mrv, kc, a, b, bstride, tile, NR * 4, flags, bias, vmin, vmax);
    else ukernel(mrv, kc, a, b, bstride, tile, NR * 4, flags, bias, vmin, vmax);
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

/** Row stride in bytes of f16 B panel j (16 x the number of panels in its group of 3). */
// @ts-ignore: decorator
@inline export function f16PanelStride(panels: i32, j: i32): usize {
  return <usize>min(3, panels - (j - j % 3)) << 4;
}

/** Address of row kk of f16 B panel j (panels grouped by 3, see the header). */
// @ts-ignore: decorator
@inline export function f16PanelAddr(bp: usize, k: i32, panels: i32, j: i32, kk: i32): usize {
  const j0 = j - j % 3;
  return bp + ((<usize>j0 * <usize>k) << 4) + <usize>kk * f16PanelStride(panels, j) + (<usize>(j - j0) << 4);
}

/** Pack rows [k0, k0+kr) of B given as f16 bits (row stride ldb halves) into f16 panels in the permuted lane order. */
export function f16_pack_b_nr8(k: i32, n: i32, k0: i32, kr: i32, b: usize, ldb: i32, dst: usize): void {
  const panels = (n + NR - 1) / NR;
  for (let j = 0; j < panels; j++) {
    const c0 = j * NR;
    const cols = min(NR, n - c0);
    let d = f16PanelAddr(dst, k, panels, j, k0);
    const ds = f16PanelStride(panels, j);
    let s = b + (<usize>c0 << 1);
    for (let kk = 0; kk < kr; kk++) {
      for (let i = 0; i < 4; i++) {
        const lo: u16 = i < cols ? load<u16>(s + (<usize>i << 1)) : 0;
        const hi: u16 = i + 4 < cols ? load<u16>(s + (<usize>(i + 4) << 1)) : 0;
        store<u16>(d + (<usize>i << 2), lo);
        store<u16>(d + (<usize>i << 2) + 2, hi);
      }
      d += ds;
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

/**
 * Pack A (rows x K, row stride lda elements) into pre-broadcast MR-row panels [K][MR][4]: each value
 * splatted to a v128 (4x the bytes of f32_pack_a), for the `_pre` micro-kernels (MR_PRE_A).
 */
export function f32_pack_a_pre(mr: i32, rows: i32, k: i32, a: usize, lda: i32, dst: usize): void {
  const panels = (rows + mr - 1) / mr;
  const ldab = <usize>lda << 2, dstep = <usize>mr << 4;
  for (let p = 0; p < panels; p++) {
    const r0 = p * mr;
    const nr = min(mr, rows - r0);
    const d0 = dst + <usize>p * <usize>k * dstep;
    for (let r = 0; r < mr; r++) {
      let d = d0 + (<usize>r << 4);
      if (r < nr) {
        let s = a + <usize>(r0 + r) * ldab;
        for (let kk = 0; kk < k; kk++) { v128.store(d, v128.load32_splat(s)); s += 4; d += dstep; }
      } else {
        for (let kk = 0; kk < k; kk++) { v128.store(d, i32x4.splat(0)); d += dstep; }
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

/**
 * 1 if any of the n halves at p is inf or NaN (those need the exact widening path). The exponent
 * field (h & 0x7c00) is max-reduced (unsigned) over 32 halves per step; it reaches 0x7c00 only for
 * inf/NaN.
 */
export function f16_has_nonfinite(p: usize, n: i32): i32 {
  const e = i16x8.splat(0x7c00);
  let m0 = i16x8.splat(0), m1 = i16x8.splat(0);
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const q = p + (<usize>i << 1);
    m0 = i16x8.max_u(m0, v128.and(v128.load(q), e));
    m1 = i16x8.max_u(m1, v128.and(v128.load(q, 16), e));
    m0 = i16x8.max_u(m0, v128.and(v128.load(q, 32), e));
    m1 = i16x8.max_u(m1, v128.and(v128.load(q, 48), e));
  }
  for (; i + 8 <= n; i += 8) m0 = i16x8.max_u(m0, v128.and(v128.load(p + (<usize>i << 1)), e));
  if (v128.any_true(i16x8.eq(i16x8.max_u(m0, m1), e))) return 1;
  for (; i < n; i++) if ((load<u16>(p + (<usize>i << 1)) & 0x7c00) == 0x7c00) return 1;
  return 0;
}

/** f32 -> f16 bits (RNE) for packing f32 weights as f16. */
export function f32_to_f16_n(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), f32ToF16(load<f32>(src + (<usize>i << 2))));
}

// ---------------------------------------------------------------- f16 widening in registers

// Constants for the GEMV loops, loaded from memory before the loops: a v128.const inside a loop is
// re-materialised on every use by V8 (no loop-invariant hoisting), a loaded value stays in a register.
// [0]: 0x8fffe000 (keeps sign and exponent/mantissa of a widened half), [1]: 2^112,
// [2]: i16 pairs (8192, 0) for i32x4.dot_i16x8_s (see widenM); [3]: (0, 8192), the high halves' pairs (widenM mode 4).
const GEMV_CONSTS = memory.data<u32>([0x8fffe000, 0x8fffe000, 0x8fffe000, 0x8fffe000, 0x77800000, 0x77800000, 0x77800000, 0x77800000,
  0x00002000, 0x00002000, 0x00002000, 0x00002000, 0x20000000, 0x20000000, 0x20000000, 0x20000000], 16);

/**
 * Widen the 4 low (HI=false) or high (HI=true) halves of the i32 lanes of h (8 halves of one packed
 * panel row) to f32. Fast form, 2 ops per 4 weights: low halves: i32x4.dot_i16x8_s against
 * (8192, 0) sign-extends the half and shifts it left by 13 in one op (pmaddwd): sign copies in bits
 * 31..28, exponent and mantissa in f32 position (value w * 2^-112, also for subnormals and signed
 * zero); high halves: arithmetic shift right by 3 (same picture, plus the low half's top 13 bits in
 * bits 12..0). One AND (0x8fffe000) then clears the extra sign copies and junk bits. pmaddwd and the
 * shift run on different x64 ports; shl + shr_s for the low halves (3 ops) or pmaddwd for both
 * measured slower. Bit-identical to the exact converter for finite halves (tested on all 65,536).
 * MODE (by sizeof): 1 -> x was pre-scaled by 2^112, use as is (exact); 2 -> multiply by 2^112;
 * 4 -> as 1, but the high halves also by pmaddwd, against (0, 8192) (same bits: DENSE_GEMV_F16_DOT, for
 * JavaScriptCore, whose OMG tier lowers a constant vector shift to a GPR->xmm move + a shift by register);
 * 8 -> exact general converter (inf/NaN present).
 */
// @ts-ignore: decorator
@inline function widenM<MODE>(h: v128, hi: bool, msk: v128, scale: v128, dlo: v128, dhi: v128): v128 {
  if (sizeof<MODE>() == 8) return f16x4ToF32x4(hi ? i32x4.shr_u(h, 16) : v128.and(h, i32x4.splat(0xffff)));
  if (sizeof<MODE>() == 4) return v128.and(i32x4.dot_i16x8_s(h, hi ? dhi : dlo), msk);
  const x = v128.and(hi ? i32x4.shr_s(h, 3) : i32x4.dot_i16x8_s(h, dlo), msk);
  if (sizeof<MODE>() == 2) return f32x4.mul(x, scale);
  return x;
}

/**
 * Widen `rows` rows of one f16 B panel (8 permuted halves per row, rows sstride bytes apart) to f32
 * rows of 8 (natural order, contiguous); widenM modes i16 / i64 (exact != 0).
 */
export function f16_widen_panel(src: usize, sstride: usize, dst: usize, rows: i32, exact: i32): void {
  const msk = v128.load(GEMV_CONSTS), scale = v128.load(GEMV_CONSTS, 16);
  const dlo = v128.load(GEMV_CONSTS, 32), dhi = v128.load(GEMV_CONSTS, 48);
  if (exact) {
    for (let i = 0; i < rows; i++) {
      const h = v128.load(src + <usize>i * sstride);
      v128.store(dst + (<usize>i << 5), widenM<i64>(h, false, msk, scale, dlo, dhi));
      v128.store(dst + (<usize>i << 5), widenM<i64>(h, true, msk, scale, dlo, dhi), 16);
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const h = v128.load(src + <usize>i * sstride);
      v128.store(dst + (<usize>i << 5), widenM<i16>(h, false, msk, scale, dlo, dhi));
      v128.store(dst + (<usize>i << 5), widenM<i16>(h, true, msk, scale, dlo, dhi), 16);
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

/**
 * Scratch bytes f32_gemm_nc needs: edge tile (MR*8) + packed A block (MC x KC, pre-broadcast with
 * MR_PRE_A: 16 bytes per value) + a widened f16 B chunk of up to (MC*KC/4) x 8 floats (240 KiB: the
 * K block grows to MC*KC/mpad when m <= 2*MR), reserved for f32 weights too.
 */
export function f32_gemm_nc_scratch(mrv: i32): i32 {
  return 6 * NR * 4 + MC * KC * ((mrv & MR_PRE_A) != 0 ? 16 : 4) + (MC * KC / 4) * NR * 4 + 128;
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
export function f32_gemm_nc(mrv: i32, m: i32, n: i32, k: i32, a: usize, lda: i32, bp: usize, bf16: i32, exact16: i32,
  c: usize, ldc: i32, bias: usize, clampOn: i32, vmin: f32, vmax: f32, scratch: usize): void {
  const pre = (mrv & MR_PRE_A) != 0;
  if (pre) mrv = 6 | MR_PRE_A; // the only _pre tile: 6x8 (whatever the low byte says, packing and kernel agree)
  const mr = mrv & MR_MASK;
  const tile = scratch;
  const apack = (scratch + 6 * NR * 4 + 63) & ~(<usize>63);
  const abytes: usize = pre ? 16 : 4; // bytes per packed A value
  const bwide = (apack + <usize>(MC * KC) * abytes + 63) & ~(<usize>63);
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
      const ablk = a + ((<usize>m0 * <usize>lda + <usize>k0) << 2);
      if (pre) f32_pack_a_pre(mr, mc, kc, ablk, lda, apack);
      else f32_pack_a(mr, mc, kc, ablk, lda, apack);
      for (let j = 0; j < panels; j++) {
        const cols = min(NR, n - j * NR);
        let b: usize;
        if (bf16) {
          f16_widen_panel(f16PanelAddr(bp, k, panels, j, k0), f16PanelStride(panels, j), bwide, kc, exact16);
          b = bwide;
        } else {
          b = bp + ((<usize>j * <usize>k + <usize>k0) << 5);
        }
        const bj = bias + (<usize>j << 5);
        for (let i = 0; i < mc; i += mr) {
          const rows = min(mr, mc - i);
          const ci = c + <usize>(m0 + i) * ldcb + (<usize>j << 5);
          runTile(mrv, rows, cols, kc, apack + <usize>i * <usize>kc * abytes, b, NR * 4, false, ci, ldcb, flags, bj, vmin, vmax, tile);
        }
      }
    }
  }
}

// ---------------------------------------------------------------- GEMV (M = 1)

// The edge copy is an inline loop, not memory.copy: JavaScriptCore's OMG lowers memory.copy to a C
// call, which clobbers every xmm register (SysV), so the GEMV's loop invariants (widening mask and
// constants, held from the function's start across the call) were spilled for the whole function and
// reloaded from the stack on every use inside the hot loop (f16 GEMV 1x1024x1008, WebKitGTK 2.50.6:
// 18.4 -> 20.6 GFLOP/s through PackedMatmul.run; Bun 1.4.5 and V8 keep them in registers, unchanged).
// @ts-ignore: decorator
@inline function storeCols(y: usize, v0: v128, v1: v128, cols: i32, tile: usize): void {
  if (cols == NR) {
    v128.store(y, v0);
    v128.store(y, v1, 16);
  } else {
    v128.store(tile, v0);
    v128.store(tile, v1, 16);
    copyF32(y, tile, cols);
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
 * Columns 0..3 (hi = false) or 4..7 of one packed panel row. W = f32: f32 panels (row = 32 bytes,
 * r = the row's first v128, p = the row); otherwise f16 panels (row = 16 bytes, r = all 8 halves)
 * widened by widenM<W> (W = i8 / i16 / i32 / i64 select the f16 mode).
 */
// @ts-ignore: decorator
@inline function panelCols<W>(r: v128, p: usize, hi: bool, msk: v128, scale: v128, dlo: v128, dhi: v128): v128 {
  if (isFloat<W>()) return hi ? v128.load(p, 16) : r;
  return widenM<W>(r, hi, msk, scale, dlo, dhi);
}

/**
 * y[n] = act(x[k] . B + bias) over packed panels, f32 (W = f32) or f16 (W = i8 / i16 / i32 / i64, see
 * widenM). Three panels per pass, 6 accumulators: f32 reads three panel streams, f16 one stream
 * (panels interleaved by 3). Register budget on x64 V8: TurboFan issues all loads of an iteration
 * before the arithmetic, so loads + accumulators + invariants must stay <= 15 xmm or it spills
 * (4 f16 panels per pass measured 25% slower). Per 8 f16 weights: 1 load, 4 widening ops, 2 madd.
 */
// @ts-ignore: decorator
@inline function gemvPanels<W>(n: i32, k: i32, x: usize, bp: usize, y: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize): void {
  const RB: usize = isFloat<W>() ? 32 : 16; // bytes per panel row
  const msk = v128.load(GEMV_CONSTS), scale = v128.load(GEMV_CONSTS, 16);
  const dlo = v128.load(GEMV_CONSTS, 32), dhi = v128.load(GEMV_CONSTS, 48);
  const panels = (n + NR - 1) / NR;
  const pstride = <usize>k * RB;
  const xend = x + (<usize>k << 2);
  let j = 0;
  for (; j + 3 <= panels; j += 3) {
    // f32: three panel streams p0, p1, p2; f16: one stream, the group's 3 panel rows at p0 + 0/16/32
    let p0 = bp + <usize>j * pstride;
    let p1 = p0 + pstride, p2 = p1 + pstride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    for (let xp = x; xp < xend; xp += 4) {
      const x0 = v128.load32_splat(xp);
      const r0 = v128.load(p0);
      const r1 = isFloat<W>() ? v128.load(p1) : v128.load(p0, 16);
      const r2 = isFloat<W>() ? v128.load(p2) : v128.load(p0, 32);
      a0 = madd(x0, panelCols<W>(r0, p0, false, msk, scale, dlo, dhi), a0);
      a1 = madd(x0, panelCols<W>(r0, p0, true, msk, scale, dlo, dhi), a1);
      a2 = madd(x0, panelCols<W>(r1, p1, false, msk, scale, dlo, dhi), a2);
      a3 = madd(x0, panelCols<W>(r1, p1, true, msk, scale, dlo, dhi), a3);
      a4 = madd(x0, panelCols<W>(r2, p2, false, msk, scale, dlo, dhi), a4);
      a5 = madd(x0, panelCols<W>(r2, p2, true, msk, scale, dlo, dhi), a5);
      if (isFloat<W>()) { p0 += RB; p1 += RB; p2 += RB; } else p0 += 3 * RB;
    }
    finish(a0, a1, j, NR, y, bias, clampOn, vmin, vmax, tile);
    finish(a2, a3, j + 1, NR, y, bias, clampOn, vmin, vmax, tile);
    finish(a4, a5, j + 2, min(NR, n - (j + 2) * NR), y, bias, clampOn, vmin, vmax, tile);
  }
  // leftover panels, one per pass; one accumulator chain per column (as the 3-panel loop and the
  // row-major gemvRows), so packed and unpacked GEMV give bit-identical results
  for (; j < panels; j++) {
    let p = isFloat<W>() ? bp + <usize>j * pstride : f16PanelAddr(bp, k, panels, j, 0);
    const ps = isFloat<W>() ? RB : f16PanelStride(panels, j);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (let xp = x; xp < xend; xp += 4) {
      const x0 = v128.load32_splat(xp);
      const r0 = v128.load(p);
      a0 = madd(x0, panelCols<W>(r0, p, false, msk, scale, dlo, dhi), a0);
      a1 = madd(x0, panelCols<W>(r0, p, true, msk, scale, dlo, dhi), a1);
      p += ps;
    }
    finish(a0, a1, j, min(NR, n - j * NR), y, bias, clampOn, vmin, vmax, tile);
  }
}

/** y[n] = act(x[k] . B + bias), B packed f32 panels (memory-bound). */
export function f32_gemv_nc(n: i32, k: i32, x: usize, bp: usize, y: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize): void {
  gemvPanels<f32>(n, k, x, bp, y, bias, clampOn, vmin, vmax, tile);
}

/**
 * y[n] = act(x[k] . B + bias) with B packed as f16 panels, widened in registers, f32 accumulation.
 * xs: k f32 of scratch. When every |x| < 2^16 the 2^112 rebias of the fast widening is folded into
 * a scaled copy of x (x * 2^112 stays finite; each product x*w is then formed exactly as before,
 * so results are identical), saving a multiply per 4 weights. exact: bit 0 = packed weights hold inf/NaN;
 * DENSE_GEMV_F16_DOT (tk.kernelProfile.denseGemvF16Dot) = high halves by pmaddwd too (widenM mode 4, same bits).
 */
export function f16w_gemv_nc(n: i32, k: i32, x: usize, bp: usize, y: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize, exact: i32, xs: usize): void {
  if (exact & 1) gemvPanels<i64>(n, k, x, bp, y, bias, clampOn, vmin, vmax, tile);
  else if (f16_prescale_x(x, xs, k)) {
    if (exact & GEMV_F16_DOT) gemvPanels<i32>(n, k, xs, bp, y, bias, clampOn, vmin, vmax, tile);
    else gemvPanels<i8>(n, k, xs, bp, y, bias, clampOn, vmin, vmax, tile);
  }
  else gemvPanels<i16>(n, k, x, bp, y, bias, clampOn, vmin, vmax, tile);
}

/**
 * The GEMV over columns [c0, c0 + cc) of packed B (f32 panels, or f16 panels when f16 != 0): y and bias
 * are the whole arrays, offset here with the panel layout. c0 must be a multiple of 24 (3 panels: f16
 * panels are interleaved in groups of 3, and a range must start on a group). One scratch block: 64
 * bytes of edge tile, then (f16) k f32 of scaled x. exact: as f16w_gemv_nc's (bit 0 | DENSE_GEMV_F16_DOT). PackedMatmul's GEMV (c0 = 0, cc = n) and
 * tk.parallel's column ranges both run through here.
 */
export function gemv_nc_cols(f16: i32, k: i32, c0: i32, cc: i32, x: usize, bp: usize, y: usize, bias: usize,
  clampOn: i32, vmin: f32, vmax: f32, exact: i32, scratch: usize): void {
  const cols = <usize>c0 * <usize>k; // elements of B before column c0 (whole panels)
  const yo = y + (<usize>c0 << 2), bo = bias ? bias + (<usize>c0 << 2) : 0;
  if (f16) f16w_gemv_nc(cc, k, x, bp + (cols << 1), yo, bo, clampOn, vmin, vmax, scratch, exact, scratch + 64);
  else f32_gemv_nc(cc, k, x, bp + (cols << 2), yo, bo, clampOn, vmin, vmax, scratch);
}

/**
 * xs[i] = x[i] * 2^112 for the f16 fast widening (products x*w then come out exactly as with the
 * rebias multiply); returns 1, or 0 (xs partly written, unusable) if some |x| >= 2^16 or is NaN.
 */
export function f16_prescale_x(x: usize, xs: usize, k: i32): i32 {
  for (let i = 0; i < k; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (!(abs<f32>(v) < 65536.0)) return 0;
    store<f32>(xs + (<usize>i << 2), v * reinterpret<f32>(0x77800000));
  }
  return 1;
}

// ---------------------------------------------------------------- GEMV over row-major B (no packing)

/**
 * Columns of one row-major B row at p, 4 at a time: f32 (W = f32): columns 4g..4g+3. f16 (W = the
 * widenM modes): 8 halves in natural order are, viewed as i32 lanes, (even, odd) column pairs, so
 * widenM gives the even columns 8(g/2) + 0, 2, 4, 6 (g even) or the odd ones (g odd) with the same 4
 * ops per 8 weights as the packed panels; the accumulators of an 8-column group then hold (even, odd)
 * and pairStart / pairEnd convert from / to the natural order of y once per row block.
 */
// @ts-ignore: decorator
@inline function rowCols<W>(p: usize, g: i32, msk: v128, scale: v128, dlo: v128, dhi: v128): v128 {
  if (isFloat<W>()) return v128.load(p + (<usize>g << 4));
  return widenM<W>(v128.load(p + (<usize>(g >> 1) << 4)), (g & 1) != 0, msk, scale, dlo, dhi);
}

/** Starting accumulator (second = false: first of the pair) of the 8 columns at byte offset o: 0 on the first row block, else y. */
// @ts-ignore: decorator
@inline function pairStart<W>(y: usize, o: usize, first: i32, second: bool): v128 {
  if (first) return f32x4.splat(0);
  if (isFloat<W>()) return v128.load(y + o + (second ? 16 : 0));
  const v0 = v128.load(y + o), v1 = v128.load(y + o, 16);
  return second ? v128.shuffle<f32>(v0, v1, 1, 3, 5, 7) : v128.shuffle<f32>(v0, v1, 0, 2, 4, 6);
}

/** Store 4 columns of y at byte offset o; on the last row block add the bias and clamp first (as finish()). */
// @ts-ignore: decorator
@inline function accEnd(v: v128, y: usize, o: usize, last: i32, bias: usize, clampOn: i32, lo: v128, hi: v128): void {
  let r = v;
  if (last) {
    if (bias) r = f32x4.add(r, v128.load(bias + o));
    if (clampOn) r = clamp(r, lo, hi);
  }
  v128.store(y + o, r);
}

/** Store the accumulator pair of the 8 columns at byte offset o (f16: back from (even, odd) to natural order). */
// @ts-ignore: decorator
@inline function pairEnd<W>(a: v128, b: v128, y: usize, o: usize, last: i32, bias: usize, clampOn: i32, lo: v128, hi: v128): void {
  if (isFloat<W>()) {
    accEnd(a, y, o, last, bias, clampOn, lo, hi);
    accEnd(b, y, o + 16, last, bias, clampOn, lo, hi);
  } else {
    accEnd(v128.shuffle<f32>(a, b, 0, 4, 1, 5), y, o, last, bias, clampOn, lo, hi);
    accEnd(v128.shuffle<f32>(a, b, 2, 6, 3, 7), y, o + 16, last, bias, clampOn, lo, hi);
  }
}

/**
 * y[0..n) (+)= x[0..kr) . B for one block of kr rows of a row-major B (row stride n elements; f32
 * when W = f32, f16 bits when W = i8 / i16 / i64 = the widenM modes, x pre-scaled for i8).
 * first: start from bias (n f32, or 0 = none) instead of y; last: apply the clamp. xr: the unscaled
 * x, used by the scalar column tail (exact f16 widening there). B is never packed: the copying
 * tk.matmul streams it through a bounded staging buffer and calls this once per row block.
 * Column tiles of 24 (6 accumulators, 6 loads/widenings + x + 2 constants <= 15 xmm), then 8, then
 * scalar columns. Rows of a tile are n elements apart; a block stays in L2, so the strided reads are cheap.
 */
// @ts-ignore: decorator
@inline function gemvRows<W>(n: i32, kr: i32, x: usize, xr: usize, b: usize, y: usize, first: i32, last: i32, bias: usize,
  clampOn: i32, vmin: f32, vmax: f32): void {
  const EB: usize = isFloat<W>() ? 4 : 2;
  const ldb = <usize>n * EB;
  const msk = v128.load(GEMV_CONSTS), scale = v128.load(GEMV_CONSTS, 16);
  const dlo = v128.load(GEMV_CONSTS, 32), dhi = v128.load(GEMV_CONSTS, 48);
  const lo = f32x4.splat(vmin), hi = f32x4.splat(vmax);
  const xend = x + (<usize>kr << 2);
  let c = 0;
  for (; c + 24 <= n; c += 24) {
    const o = <usize>c << 2;
    let a0 = pairStart<W>(y, o, first, false), a1 = pairStart<W>(y, o, first, true);
    let a2 = pairStart<W>(y, o + 32, first, false), a3 = pairStart<W>(y, o + 32, first, true);
    let a4 = pairStart<W>(y, o + 64, first, false), a5 = pairStart<W>(y, o + 64, first, true);
    let p = b + <usize>c * EB;
    for (let xp = x; xp < xend; xp += 4) {
      const x0 = v128.load32_splat(xp);
      a0 = madd(x0, rowCols<W>(p, 0, msk, scale, dlo, dhi), a0);
      a1 = madd(x0, rowCols<W>(p, 1, msk, scale, dlo, dhi), a1);
      a2 = madd(x0, rowCols<W>(p, 2, msk, scale, dlo, dhi), a2);
      a3 = madd(x0, rowCols<W>(p, 3, msk, scale, dlo, dhi), a3);
      a4 = madd(x0, rowCols<W>(p, 4, msk, scale, dlo, dhi), a4);
      a5 = madd(x0, rowCols<W>(p, 5, msk, scale, dlo, dhi), a5);
      p += ldb;
    }
    pairEnd<W>(a0, a1, y, o, last, bias, clampOn, lo, hi);
    pairEnd<W>(a2, a3, y, o + 32, last, bias, clampOn, lo, hi);
    pairEnd<W>(a4, a5, y, o + 64, last, bias, clampOn, lo, hi);
  }
  for (; c + 8 <= n; c += 8) {
    const o = <usize>c << 2;
    let a0 = pairStart<W>(y, o, first, false), a1 = pairStart<W>(y, o, first, true);
    let p = b + <usize>c * EB;
    for (let xp = x; xp < xend; xp += 4) {
      const x0 = v128.load32_splat(xp);
      a0 = madd(x0, rowCols<W>(p, 0, msk, scale, dlo, dhi), a0);
      a1 = madd(x0, rowCols<W>(p, 1, msk, scale, dlo, dhi), a1);
      p += ldb;
    }
    pairEnd<W>(a0, a1, y, o, last, bias, clampOn, lo, hi);
  }
  // < 8 columns left: one column at a time in lane 0 with the same madd (results bit-identical to
  // the packed GEMV: f16 widened exactly, and x * w is the same real product in every mode)
  for (; c < n; c++) {
    const o = <usize>c << 2;
    let acc = first ? f32x4.splat(0) : v128.load32_zero(y + o);
    let p = b + <usize>c * EB;
    for (let i = 0; i < kr; i++) {
      const w: f32 = isFloat<W>() ? load<f32>(p) : f16ToF32(load<u16>(p));
      acc = madd(v128.load32_zero(xr + (<usize>i << 2)), f32x4.replace_lane(f32x4.splat(0), 0, w), acc);
      p += ldb;
    }
    if (last) {
      if (bias) acc = f32x4.add(acc, v128.load32_zero(bias + o));
      if (clampOn) acc = clamp(acc, lo, hi);
    }
    store<f32>(y + o, f32x4.extract_lane(acc, 0));
  }
}

/** f32 row-major B block (see gemvRows). */
export function f32_gemv_rows(n: i32, kr: i32, x: usize, b: usize, y: usize, first: i32, last: i32, bias: usize, clampOn: i32, vmin: f32, vmax: f32): void {
  gemvRows<f32>(n, kr, x, x, b, y, first, last, bias, clampOn, vmin, vmax);
}

/**
 * f16 row-major B block (see gemvRows). exact: the block holds inf/NaN (f16_has_nonfinite); else
 * xs = x * 2^112 (f16_prescale_x returned 1, scaled != 0) or the rebias multiply (scaled = 0).
 */
export function f16w_gemv_rows(n: i32, kr: i32, x: usize, xs: usize, scaled: i32, exact: i32, b: usize, y: usize, first: i32, last: i32,
  bias: usize, clampOn: i32, vmin: f32, vmax: f32): void {
  if (exact) gemvRows<i64>(n, kr, x, x, b, y, first, last, bias, clampOn, vmin, vmax);
  else if (scaled) gemvRows<i8>(n, kr, xs, x, b, y, first, last, bias, clampOn, vmin, vmax);
  else gemvRows<i16>(n, kr, x, x, b, y, first, last, bias, clampOn, vmin, vmax);
}

// ---------------------------------------------------------------- small-M GEMM with f16 weights

// ROWS (sizeof<R>: 2 -> 2 rows, 4 -> 3 rows) rows x one f16 panel per pass.
// Register budget (x64 V8 issues an iteration's loads first): 2*ROWS accumulators + 1 panel load +
// ROWS broadcasts + mask + the two widened vectors + a temporary stays <= 15 for ROWS <= 3
// (4 rows spilled and ran at half speed). Rows past `rows` read a zero row and are not stored.
// The 3 panels of a group are interleaved (one 48-byte row per k), so a panel pass reads every cache
// line of its group: passes run over K blocks of SMALL_KB rows (the group block, 12 KiB, stays in L1
// for the group's other panels); accumulators are parked in accs (3 x 6 v128) between blocks, which
// keeps each column's sum in k order.
// @ts-ignore: decorator
@inline function gemmRowsF16<MODE, R>(rows: i32, n: i32, k: i32, x: usize, ldx: usize, bp: usize, y: usize, ldy: usize,
  bias: usize, clampOn: i32, vmin: f32, vmax: f32, tile: usize, accs: usize): void {
  const three = sizeof<R>() == 4;
  const msk = v128.load(GEMV_CONSTS), scale = v128.load(GEMV_CONSTS, 16);
  const dlo = v128.load(GEMV_CONSTS, 32), dhi = v128.load(GEMV_CONSTS, 48);
  const panels = (n + NR - 1) / NR;
  for (let j0 = 0; j0 < panels; j0 += 3) {
   const jEnd = min(panels, j0 + 3);
   for (let k0 = 0; k0 < k; k0 += SMALL_KB) {
    const kb = min(SMALL_KB, k - k0);
    const lastBlock = k0 + kb == k;
    for (let j = j0; j < jEnd; j++) {
    const sa = accs + <usize>(j - j0) * 96;
    let p = f16PanelAddr(bp, k, panels, j, k0);
    const ps = f16PanelStride(panels, j);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    if (k0 > 0) {
      a0 = v128.load(sa); a1 = v128.load(sa, 16); b0 = v128.load(sa, 32); b1 = v128.load(sa, 48);
      if (three) { c0 = v128.load(sa, 64); c1 = v128.load(sa, 80); }
    }
    let xp = x + (<usize>k0 << 2);
    for (let kk = 0; kk < kb; kk++) {
      const h = v128.load(p);
      const s0 = v128.load32_splat(xp), s1 = v128.load32_splat(xp + ldx);
      const lo = widenM<MODE>(h, false, msk, scale, dlo, dhi);
      a0 = madd(s0, lo, a0);
      b0 = madd(s1, lo, b0);
      if (three) c0 = madd(v128.load32_splat(xp + 2 * ldx), lo, c0);
      const hi = widenM<MODE>(h, true, msk, scale, dlo, dhi);
      a1 = madd(s0, hi, a1);
      b1 = madd(s1, hi, b1);
      if (three) c1 = madd(v128.load32_splat(xp + 2 * ldx), hi, c1);
      p += ps; xp += 4;
    }
    if (!lastBlock) {
      v128.store(sa, a0); v128.store(sa, a1, 16); v128.store(sa, b0, 32); v128.store(sa, b1, 48);
      if (three) { v128.store(sa, c0, 64); v128.store(sa, c1, 80); }
      continue;
    }
    const cols = min(NR, n - j * NR);
    finish(a0, a1, j, cols, y, bias, clampOn, vmin, vmax, tile);
    if (rows > 1) finish(b0, b1, j, cols, y + ldy, bias, clampOn, vmin, vmax, tile);
    if (three && rows > 2) finish(c0, c1, j, cols, y + 2 * ldy, bias, clampOn, vmin, vmax, tile);
    }
   }
  }
}

/** Rows per pass of f16w_gemm_small. */
const SMALL_ROWS: i32 = 3;
/** K block of f16w_gemm_small's panel passes (see gemmRowsF16). */
const SMALL_KB: i32 = 256;

/** Scratch bytes for f16w_gemm_small: SMALL_ROWS scaled rows of x, then parked accumulators (3 x 96 bytes) (+ slack). */
export function f16w_gemm_small_scratch(k: i32): f64 {
  return <f64>SMALL_ROWS * <f64>k * 4 + 16 + 3 * 96 + 64;
}

/**
 * C[m x n] = act(A[m x k] . B + bias) for small m (bandwidth-bound) with f16 panels widened in
 * registers: 3 rows per pass over B, so B (half the bytes of f32) is read ceil(m/3) times.
 * Rows are pre-scaled by 2^112 when every |a| < 2^16 (see f16w_gemv_nc).
 */
export function f16w_gemm_small(m: i32, n: i32, k: i32, a: usize, bp: usize, c: usize, bias: usize, clampOn: i32, vmin: f32, vmax: f32,
  tile: usize, exact: i32, xs: usize): void {
  const ldx = <usize>k << 2, ldy = <usize>n << 2;
  const accs = (xs + <usize>(SMALL_ROWS * k * 4) + 15) & ~(<usize>15);
  for (let r0 = 0; r0 < m; r0 += SMALL_ROWS) {
    const rows = min(SMALL_ROWS, m - r0);
    const src = a + <usize>r0 * ldx;
    let big = exact != 0;
    for (let i = 0; i < rows * k && !big; i++) {
      const v = load<f32>(src + (<usize>i << 2));
      if (!(abs<f32>(v) < 65536.0)) big = true;
      store<f32>(xs + (<usize>i << 2), v * reinterpret<f32>(0x77800000));
    }
    if (big) copyF32(xs, src, rows * k); // inline, not memory.copy / fill: see storeCols
    zeroF32(xs + (<usize>(rows * k) << 2), (SMALL_ROWS - rows) * k);
    const y = c + <usize>r0 * ldy;
    if (rows <= 2) {
      if (exact) gemmRowsF16<i64, u16>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile, accs);
      else if (big) gemmRowsF16<i16, u16>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile, accs);
      else gemmRowsF16<i8, u16>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile, accs);
    } else {
      if (exact) gemmRowsF16<i64, u32>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile, accs);
      else if (big) gemmRowsF16<i16, u32>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile, accs);
      else gemmRowsF16<i8, u32>(rows, n, k, xs, ldx, bp, y, ldy, bias, clampOn, vmin, vmax, tile, accs);
    }
  }
}
