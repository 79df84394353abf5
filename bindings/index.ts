/**
 * tessera — WebAssembly SIMD kernels with one TypeScript API across browsers, Node, Deno and Bun.
 *
 *   import { init } from 'tessera';
 *   const tk = await init();              // picks relaxed or simd128, runs a self-test
 *   tk.features;                          // { tier, relaxedSimd, threads, runtime, ... }
 *   const h = tk.f16.fromF32(x);          // Uint16Array of half bits
 */
export { init, Tessera, DEFAULT_MAX_MEMORY } from './tessera.js';
export type { InitOptions, Features } from './tessera.js';
export type { Tier, Flavor, WasmSource } from './loader.js';
export { defaultKernelProfile, KERNEL_PROFILE_KEYS } from './env.js';
export type { JsEngine, KernelProfile, RuntimeName } from './env.js';
export { Tensor, Arena, LinearMemory } from './memory.js';
export { ThreadPool } from './threads/pool.js';
export type { TileCall, RunOptions, PoolStats } from './threads/pool.js';
export { splitRange } from './threads/split.js';
export type { DType, MemoryStats } from './memory.js';
export * from './errors.js';
export { SparseMatrix, packSparse, pruneSparse, deserializeSparse, validateSparse } from './sparse-format.js';
export type { SparseBlock, KernelSize, PackOptions, PruneOptions } from './sparse-format.js';
export { SparseOps, SparseLayer, AutoLayer } from './ops/sparse.js';
export type { LayerRunner, AutoChoice } from './ops/sparse.js';
export type { MatmulOptions as SparseMatmulOptions, ConvOptions as SparseConvOptions, LayerGeometry, AutoOptions, SpmmTile } from './ops/sparse.js';
export { DenseOps, PackedMatmul, PackedConv2d } from './ops/dense.js';
export type { Activation, MatmulOptions, Conv2dOptions, WeightArray } from './ops/dense.js';
export type { AttentionOptions, AttentionDecodeOptions, AttentionPrecision } from './ops/attention.js';
export { PasaKVCache, type PasaKVCacheOptions } from './ops/pasa-cache.js';
