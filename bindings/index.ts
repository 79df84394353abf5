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
export { Tensor, Arena, LinearMemory } from './memory.js';
export type { DType, MemoryStats } from './memory.js';
export * from './errors.js';
export type { AttentionOptions, AttentionDecodeOptions, AttentionPrecision } from './ops/attention.js';
