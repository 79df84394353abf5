// Entry point of every tessera wasm binary. One kernel family per folder; each family adds its
// exports here. The same sources are compiled into each tier (see asconfig.json / scripts/build.mjs).
export { heapBase, tierRelaxed, tierShared } from "./common/memory";
export * from "./common/abi"; // mode / flag constants as immutable globals (bindings/abi.ts mirrors them)
export { selftest } from "./selftest";
export * from "./f16/vcvt";
export { f32_f16round_fast__wasmsimd_u4, f32_f16round_unit__wasmsimd_u4 } from "./f16/round";
export * from "./sparse/index";
export * from "./dense/index";
export * from "./attention";
