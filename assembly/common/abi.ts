// Mode values and flag bits the bindings pass to kernels. Exported from every binary as immutable wasm
// globals (assembly/index.ts); bindings/abi.ts mirrors them as TS constants and tests/node/abi.test.ts
// checks the two agree, so a bit changed on one side fails the tests instead of miscomputing.

// attention_fwd / attention_prep_kv `mode`
export const ATTN_MODE_F32: i32 = 0;
export const ATTN_MODE_F16: i32 = 1;
export const ATTN_MODE_PASA: i32 = 2;
export const ATTN_MODE_FAITHFUL: i32 = 3;

// attention_fwd / attention_prep_kv / f32_attn_decode_1x4 / pasa_attn_decode_1x4 `flags`
export const ATTN_FLAG_CAUSAL: i32 = 1;
/** q (prep: k and v) are f16 bits, else f32 */
export const ATTN_FLAG_Q_F16: i32 = 2;
/** MODE_PASA only: no fp16 rounding anywhere */
export const ATTN_FLAG_STORE_F32: i32 = 4;
/** MODE_PASA only: frame = the first block's pseudo-average (else the running mean) */
export const ATTN_FLAG_FRAME_FIRST: i32 = 8;
/** attention_fwd and the decode kernels: k and v are f16 bits (row strides still in elements) */
export const ATTN_FLAG_KV_F16: i32 = 16;
/** attention_fwd: 4-row GEMM key tiles on the relaxed tier too (the simd128 tier always uses 4) */
export const ATTN_FLAG_TILE4: i32 = 32;
/** pasa_attn_decode_1x4 only: k holds K' and v holds V16, as f16 bits (pasa_kv_prepare_block; implies ATTN_FLAG_KV_F16) */
export const ATTN_FLAG_PREPARED: i32 = 64;

// the dense drivers' `mr` argument: MR (4, 5 or 6) in the low byte, plus DENSE_MR_SPLAT_A for the `_splat`
// micro-kernels (4x8 and 5x8; bit-identical to the load32_splat ones), plus DENSE_MR_PRE_A (f32_gemm_nc only):
// A packed pre-broadcast and the 6x8 `_pre` micro-kernel (MR is then 6 whatever the low byte says; bit-identical
// too; overrides SPLAT_A; the conv drivers ignore it)
export const DENSE_MR_MASK: i32 = 0xff;
export const DENSE_MR_SPLAT_A: i32 = 0x100;
export const DENSE_MR_PRE_A: i32 = 0x200;

// f16w_gemv_nc / gemv_nc_cols `exact` argument: bit 0 = the packed f16 weights hold inf/NaN (exact widening), plus
// DENSE_GEMV_F16_DOT: widen the high halves with pmaddwd (i32x4.dot_i16x8_s) like the low ones instead of
// i32x4.shr_s (JavaScriptCore lowers every constant vector shift to a GPR->xmm move + a shift by register)
export const DENSE_GEMV_F16_DOT: i32 = 2;

// f32_spmv_4x1_runs_*: u32 words per 4-row group of the batch-1 plan (bindings/sparse-format.ts planGemv):
// [runs, pairs (c, c+1), pairs (c, c+2), pairs (c, c+3), singles]
export const SPMV_RUNS_WORDS: i32 = 5;
