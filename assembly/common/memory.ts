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
