// Shared emitter for the register-blocked f32x4 tiles that the kernel generators write
// (scripts/gen-dense.mjs: GEMM / implicit-GEMM micro-kernels; scripts/gen-attention.mjs: the inner
// GEMMs of flash attention). A tile is MR rows broadcast from A (one v128.load32_splat per row and k)
// times NV f32x4 vectors of one B row, accumulated into MR*NV locals c{r}{j} with madd (relaxed_madd on
// the relaxed tier, mul+add on simd128). The families differ only in how A, B and C are addressed and
// in what happens before and after the k loop; those lines are passed in as functions.

/** Accumulator name of row r, vector j. */
export const acc = (r, j) => `c${r}${j}`;

/** `let c{r}{j} = f32x4.splat(0);` for the whole tile. */
export function declareAccumulators(L, mr, nv, ind = '  ') {
  for (let r = 0; r < mr; r++) for (let j = 0; j < nv; j++) L.push(`${ind}let ${acc(r, j)} = f32x4.splat(0);`);
}

/**
 * One k step: the NV B vectors (bLine(j) declares b{j}), then per row the broadcast of A (aLine(r),
 * a local named aName(r)) and its NV multiply-adds.
 */
export function emitStep(L, mr, nv, ind, { bLine, aLine, aName }) {
  for (let j = 0; j < nv; j++) L.push(`${ind}${bLine(j)}`);
  for (let r = 0; r < mr; r++) {
    L.push(`${ind}${aLine(r)}`);
    for (let j = 0; j < nv; j++) L.push(`${ind}${acc(r, j)} = madd(${aName(r)}, b${j}, ${acc(r, j)});`);
  }
}

/** One line per accumulator (stores, clamps, loads), row-major. */
export function eachAccumulator(L, mr, nv, line) {
  for (let r = 0; r < mr; r++) for (let j = 0; j < nv; j++) L.push(line(r, j));
}
