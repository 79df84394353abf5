// Dense family exports: GEMM/GEMV drivers and packing (gemm.ts), NCHW convs (conv.ts), peak probes.
export { denseDefaultMR, f32_pack_b_nr8, f16_pack_b_nr8, f32_pack_a, f16_pack_a, f16_has_nonfinite, f32_to_f16_n,
  f16_widen_panel, f16_widen_n, f32_gemm_nc_scratch, f32_gemm_nc, f32_gemv_nc, f16w_gemv_nc, gemv_nc_cols, f16_prescale_x, f32_gemv_rows, f16w_gemv_rows,
  f16w_gemm_small_scratch, f16w_gemm_small } from "./gemm";
export { f32_conv1x1_scratch, f32_conv1x1_nchw, conv_s1_band_rows, f32_conv_s1_scratch, f32_conv_s1_nchw, conv_im2col_block,
  f32_conv_im2col_scratch, f32_conv_im2col_nchw, f32_dwconv_scratch, dwconv_pitch, f32_dwconv_nchw } from "./conv";
export { bench_peak_muladd_12, bench_peak_madd_12 } from "../bench/peak";
