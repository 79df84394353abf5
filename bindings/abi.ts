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
  f32_f16_vcvt__wasmsimd_u8(src: number, dst: number, n: number): void;
  f16_f32_vcvt__wasmsimd_u8(src: number, dst: number, n: number): void;
  f32_f16round__wasmsimd_u4(buf: number, n: number): void;
}

/** assembly/attention (see assembly/attention/flash.ts for the argument contract). */
export interface AttentionExports {
  attention_fwd(q: number, qHeadStride: number, o: number, oHeadStride: number, nh: number, s1: number,
    k: number, v: number, kvRows: number, kRowStride: number, vRowStride: number, s2: number, d: number,
    scratch: number, mode: number, flags: number, scale: number, beta: number, br: number, bc: number): void;
  attention_prep_kv(k: number, v: number, kRowStride: number, vRowStride: number, s2: number, d: number,
    kOut: number, vOut: number, mode: number, flags: number, scale: number, beta: number, bc: number): void;
  attention_scratch_bytes(d: number, br: number, bc: number): number;
  attention_prep_rows(s2: number, bc: number, mode: number): number;
  f32_vexp__wasmsimd_u4(src: number, dst: number, n: number): void;
  f32_f16round_fast__wasmsimd_u4(buf: number, n: number): void;
}

export type KernelExports = CoreExports & F16Exports & AttentionExports;
