/**
 * Mode values, flag bits and layout constants the bindings pass to or share with kernels (meanings in assembly/common/abi.ts). Every
 * binary exports the same names as immutable globals; tests/node/abi.test.ts checks they agree.
 */
export const ABI = {
  ATTN_MODE_F32: 0, ATTN_MODE_F16: 1, ATTN_MODE_PASA: 2, ATTN_MODE_FAITHFUL: 3,
  ATTN_FLAG_CAUSAL: 1, ATTN_FLAG_Q_F16: 2, ATTN_FLAG_STORE_F32: 4, ATTN_FLAG_FRAME_FIRST: 8, ATTN_FLAG_KV_F16: 16, ATTN_FLAG_TILE4: 32, ATTN_FLAG_PREPARED: 64,
  DENSE_MR_MASK: 0xff, DENSE_MR_SPLAT_A: 0x100, DENSE_MR_PRE_A: 0x200, DENSE_GEMV_F16_DOT: 2,
  SPMV_RUNS_WORDS: 5,
} as const;

/**
 * The exports of a tessera wasm binary (pointer ABI: all pointers are byte offsets into the shared
 * linear memory, counts are i32). Each kernel family adds its signatures here.
 */
export interface CoreExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  tierRelaxed(): number;
  tierShared(): number;
  selftest(a: number, b: number, c: number, out: number, out16: number, n: number): void;
}

export interface F16Exports {
  f32_f16_vcvt__scalar_u1(src: number, dst: number, n: number): void;
  f16_f32_vcvt__scalar_u1(src: number, dst: number, n: number): void;
  f32_f16_vcvt__wasmsimd_u16(src: number, dst: number, n: number): void;
  f16_f32_vcvt__wasmsimd_u16(src: number, dst: number, n: number): void;
  f32_f16round__wasmsimd_u4(buf: number, n: number): void;
}

/** Sparse family (assembly/sparse): see bindings/ops/sparse.ts for the packed layout. */
type SpmmFn = (mc: number, ng: number, nr1: number, input: number, w: number, nz: number, dm: number, output: number, os: number, vmin: number, vmax: number) => void;
type ChwGemmFn = (mc: number, ng: number, nr1: number, K: number, input: number, w: number, output: number, os: number, stride: number, vmin: number, vmax: number) => void;
type SpConvFn = (oh: number, ow: number, ng: number, nr1: number, input: number, w: number, nz: number, dm: number, output: number, os: number, rowStep: number, vmin: number, vmax: number) => void;
export interface SparseExports {
  f32_spmm_32x1__wasmsimd: SpmmFn;
  f32_spmm_16x1__wasmsimd: SpmmFn;
  f32_spmm_8x4__wasmsimd: SpmmFn;
  f32_spmm_12x4__wasmsimd: SpmmFn;
  f32_spmm_16x4__wasmsimd: SpmmFn;
  f32_chwgemm_8x4__wasmsimd: ChwGemmFn;
  f32_chwgemm_12x4__wasmsimd: ChwGemmFn;
  f32_chwgemm_16x4__wasmsimd: ChwGemmFn;
  f32_spconv3x3_8x4__wasmsimd: SpConvFn;
  f32_spconv3x3_16x4__wasmsimd: SpConvFn;
  f32_spconv3x3_32x4__wasmsimd: SpConvFn;
  // _splat: one v128 weight load per 4x1 block + lane shuffles (bit-identical; chosen by tk.kernelProfile.sparseSplat)
  f32_spmm_8x4__wasmsimd_splat: SpmmFn;
  f32_spmm_16x4__wasmsimd_splat: SpmmFn;
  f32_chwgemm_8x4__wasmsimd_splat: ChwGemmFn;
  f32_chwgemm_16x4__wasmsimd_splat: ChwGemmFn;
  f32_spconv3x3_8x4__wasmsimd_splat: SpConvFn;
  f32_spmv_4x1_runs_u16__wasmsimd(ng: number, nr1: number, x: number, w: number, nz: number, idx: number, y: number, vmin: number, vmax: number): void;
  f32_spmv_4x1_runs_u32__wasmsimd(ng: number, nr1: number, x: number, w: number, nz: number, idx: number, y: number, vmin: number, vmax: number): void;
  f32_spmv_1x1_gather_u16__wasmsimd(nr: number, x: number, w: number, nz: number, idx: number, y: number, vmin: number, vmax: number): void;
  f32_spmv_1x1_gather_u32__wasmsimd(nr: number, x: number, w: number, nz: number, idx: number, y: number, vmin: number, vmax: number): void;
  f32_chwgemv_4x1__wasmsimd(ng: number, nr1: number, K: number, x: number, w: number, y: number, vmin: number, vmax: number): void;
  f32_unpad_rows(planes: number, rows: number, w: number, srcPitch: number, srcPlane: number, src: number, dst: number): void;
  f32_pad3x3_chw(c: number, h: number, w: number, pad: number, stride: number, input: number, output: number): void;
}

/** Dense family (assembly/dense): GEMM/GEMV drivers, packing, NCHW convs, peak probes. */
export interface DenseExports {
  denseDefaultMR(): number;
  f32_pack_b_nr8(k: number, n: number, k0: number, kr: number, b: number, ldb: number, dst: number): void;
  f16_pack_b_nr8(k: number, n: number, k0: number, kr: number, b: number, ldb: number, dst: number): void;
  f32_pack_a(mr: number, rows: number, k: number, a: number, lda: number, dst: number): void;
  f16_pack_a(mr: number, rows: number, k: number, a: number, lda: number, dst: number): void;
  f16_has_nonfinite(p: number, n: number): number;
  f32_to_f16_n(src: number, dst: number, n: number): void;
  f16_widen_panel(src: number, sstride: number, dst: number, rows: number, exact: number): void;
  f16_widen_n(src: number, dst: number, n: number): void;
  f32_gemm_nc_scratch(mrv: number): number;
  f32_gemm_nc(mr: number, m: number, n: number, k: number, a: number, lda: number, bp: number, bf16: number, exact16: number,
    c: number, ldc: number, bias: number, clampOn: number, vmin: number, vmax: number, scratch: number): void;
  f32_gemv_nc(n: number, k: number, x: number, bp: number, y: number, bias: number, clampOn: number, vmin: number, vmax: number, tile: number): void;
  f16w_gemv_nc(n: number, k: number, x: number, bp: number, y: number, bias: number, clampOn: number, vmin: number, vmax: number, tile: number, exact: number, xs: number): void;
  /** the GEMV over columns [c0, c0+cc) (c0 a multiple of 24) of packed f32 / f16 (f16 = 1) B; scratch: 64 bytes (+ 4k for f16) */
  gemv_nc_cols(f16: number, k: number, c0: number, cc: number, x: number, bp: number, y: number, bias: number, clampOn: number, vmin: number, vmax: number, exact: number, scratch: number): void;
  f16_prescale_x(x: number, xs: number, k: number): number;
  f32_gemv_rows(n: number, kr: number, x: number, b: number, y: number, first: number, last: number, bias: number, clampOn: number, vmin: number, vmax: number): void;
  f16w_gemv_rows(n: number, kr: number, x: number, xs: number, scaled: number, exact: number, b: number, y: number, first: number, last: number,
    bias: number, clampOn: number, vmin: number, vmax: number): void;
  f16w_gemm_small_scratch(k: number): number;
  f16w_gemm_small(m: number, n: number, k: number, a: number, bp: number, c: number, bias: number, clampOn: number, vmin: number, vmax: number,
    tile: number, exact: number, xs: number): void;
  f32_conv1x1_scratch(mr: number, k: number): number;
  f32_conv1x1_nchw(mr: number, cout: number, cin: number, hw: number, x: number, w: number, wf16: number, bias: number,
    y: number, clampOn: number, vmin: number, vmax: number, scratch: number): void;
  conv_s1_band_rows(cin: number, kh: number, wp: number, ho: number): number;
  f32_conv_s1_scratch(mr: number, cin: number, kh: number, kw: number, wp: number, bh: number): number;
  f32_conv_s1_nchw(mr: number, cout: number, cin: number, h: number, w: number, kh: number, kw: number, pt: number, pl: number, pr: number,
    ho: number, wo: number, bh: number, x: number, wt: number, wf16: number, bias: number, y: number, clampOn: number, vmin: number, vmax: number, scratch: number): void;
  conv_im2col_block(k: number): number;
  f32_conv_im2col_scratch(mr: number, k: number, pb: number): number;
  f32_conv_im2col_nchw(mr: number, cout: number, cin: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number,
    dh: number, dw: number, pt: number, pl: number, ho: number, wo: number, pb: number, x: number, wt: number, wf16: number, bias: number, y: number,
    clampOn: number, vmin: number, vmax: number, scratch: number): void;
  f32_dwconv_scratch(kh: number, pitch: number): number;
  dwconv_pitch(w: number, pl: number, pr: number, kw: number, sw: number, wo: number): number;
  f32_dwconv_nchw(c: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, pr: number,
    ho: number, wo: number, x: number, wt: number, bias: number, y: number, clampOn: number, vmin: number, vmax: number, scratch: number): void;
  bench_peak_muladd_12(iters: number, seed: number, constMul: number): number;
  bench_peak_madd_12(iters: number, seed: number, constMul: number): number;
}

/** assembly/attention (see assembly/attention/flash.ts for the argument contract). */
export interface AttentionExports {
  attention_fwd(q: number, qHeadStride: number, o: number, oHeadStride: number, nh: number, s1: number,
    k: number, v: number, kvRows: number, kRowStride: number, vRowStride: number, s2: number, d: number,
    scratch: number, mode: number, flags: number, scale: number, beta: number, br: number, bc: number): void;
  attention_prep_kv(k: number, v: number, kRowStride: number, vRowStride: number, s2: number, d: number,
    kOut: number, vOut: number, mode: number, flags: number, scale: number, beta: number, bc: number): void;
  attention_scratch_bytes(d: number, br: number, bc: number, flags: number): number;
  attention_prep_rows(s2: number, bc: number, mode: number): number;
  /** assembly/attention/decode.ts: nr <= 8 query rows against one KV head (f32, or f16 with flags bit 16), K and V streamed once. */
  f32_attn_decode_1x4__wasmsimd(q: number, o: number, nr: number, k: number, v: number, kRowStride: number, vRowStride: number,
    s2: number, d: number, scale: number, flags: number, scratch: number): void;
  f32_attn_decode_scratch_bytes(d: number, nr: number): number;
  /** assembly/attention/decode.ts: PASA decode, nr <= 8 query rows, one PASA block of bc keys per step, K' formed per block. */
  pasa_attn_decode_1x4__wasmsimd(q: number, o: number, nr: number, k: number, v: number, kRowStride: number, vRowStride: number,
    s2: number, d: number, scale: number, beta: number, bc: number, flags: number, scratch: number): void;
  pasa_attn_decode_scratch_bytes(d: number, nr: number, bc: number): number;
  /** assembly/attention/decode.ts: K' (f16 bits) of one PASA block of nv key rows (f16 bits, row stride d); scratch: pasa_kv_prepare_scratch_bytes(d). */
  pasa_kv_prepare_block(k16: number, kp16: number, nv: number, d: number, scale: number, beta: number, scratch: number): void;
  pasa_kv_prepare_scratch_bytes(d: number): number;
  f32_vexp__wasmsimd_u4(src: number, dst: number, n: number): void;
  f32_f16round_fast__wasmsimd_u4(buf: number, n: number): void;
  f32_f16round_unit__wasmsimd_u4(buf: number, n: number): void;
}

export type KernelExports = CoreExports & F16Exports & SparseExports & DenseExports & AttentionExports;
