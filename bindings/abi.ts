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

export type KernelExports = CoreExports & F16Exports;
