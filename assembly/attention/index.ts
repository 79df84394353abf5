// Attention family: f32 flash attention, naive fp16, PASA (pasa.md) and the reference's all-fp16 PASA.
export { attention_fwd, attention_prep_kv, attention_scratch_bytes, attention_prep_rows } from "./flash";
export { f32_vexp__wasmsimd_u4 } from "./exp";
export { f32_attn_decode_1x4__wasmsimd, f32_attn_decode_scratch_bytes, pasa_attn_decode_1x4__wasmsimd, pasa_attn_decode_scratch_bytes,
  pasa_kv_prepare_block, pasa_kv_prepare_scratch_bytes } from "./decode";
