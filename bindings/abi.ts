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
type SpConvFn = (oh: number, ow: number, ng: number, nr1: number, input: number, w: number, nz: number, dm: number, output: number, R: number, rowStep: number, H: number, vmin: number, vmax: number) => void;
type ChwConvFn = (oh: number, ow: number, ng: number, nr1: number, K: number, input: number, w: number, output: number, R: number, rowStep: number, H: number, icStride: number, vmin: number, vmax: number) => void;
export interface SparseExports {
  f32_spmm_32x1__wasmsimd: SpmmFn;
  f32_spmm_16x1__wasmsimd: SpmmFn;
  f32_spmm_8x4__wasmsimd: SpmmFn;
  f32_spmm_12x4__wasmsimd: SpmmFn;
  f32_spmm_16x4__wasmsimd: SpmmFn;
  f32_chwgemm_8x4__wasmsimd: ChwGemmFn;
  f32_chwgemm_12x4__wasmsimd: ChwGemmFn;
  f32_chwgemm_16x4__wasmsimd: ChwGemmFn;
  f32_spconv3x3s1_8x4__wasmsimd: SpConvFn;
  f32_spconv3x3s2_8x4__wasmsimd: SpConvFn;
  f32_chwconv3x3s1_8x4__wasmsimd: ChwConvFn;
  f32_chwconv3x3s2_8x4__wasmsimd: ChwConvFn;
  f32_spmv_4x1__wasmsimd(ng: number, nr1: number, x: number, w: number, nz: number, dm: number, y: number, vmin: number, vmax: number): void;
  f32_spmv_1x1__scalar(nr1: number, x: number, w: number, nz: number, dm: number, y: number, vmin: number, vmax: number): void;
  f32_chwgemv_4x1__wasmsimd(ng: number, nr1: number, K: number, x: number, w: number, y: number, vmin: number, vmax: number): void;
  f32_pad3x3_chw(c: number, h: number, w: number, pad: number, stride: number, input: number, output: number): void;
}

export type KernelExports = CoreExports & F16Exports & SparseExports;
