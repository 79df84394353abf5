// Linear-memory contract between the wasm modules and the TypeScript bindings.
// The module IMPORTS its memory (env.memory). AssemblyScript static data sits below __heap_base;
// everything above belongs to the bindings' arena. Kernels never allocate: they take raw byte
// pointers to buffers the bindings placed, and may over-read (never over-write) up to 16 bytes
// past the end of an input, which the arena's tail pad covers.

/** First byte the bindings may use (AssemblyScript static data lies below). */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 on the relaxed tier, 0 on simd128: lets the bindings check they got the binary they asked for. */
export function tierRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** 1 when built for shared memory (threads), else 0. */
export function tierShared(): i32 {
  return ASC_FEATURE_THREADS ? 1 : 0;
}

// Short copies and fills inside kernels. V8 lowers memory.copy / memory.fill to a call into C (a
// few tens of ns each), which dominates when a kernel stages thousands of short rows (a depthwise
// plane is 112 rows of 448 bytes); JavaScriptCore's optimising tier (WebKitGTK 2.50.6) does too, and
// every xmm register is caller-saved across that call, so a SIMD kernel containing one keeps its
// loop-invariant vectors on the stack for the whole function (f16 GEMV in WebKit: +11-12 % once its
// edge memory.copy became copyF32). Kernels with SIMD loops use these inline loops instead. n counts f32 elements; they may not
// over-read or over-write: the tail is scalar.

/** dst[0..n) = src[0..n) (f32 elements; the ranges must not overlap). */
// @ts-ignore: decorator
@inline export function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** dst[0..n) = 0 (f32 elements). */
// @ts-ignore: decorator
@inline export function zeroF32(dst: usize, n: i32): void {
  const z = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), z);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}
