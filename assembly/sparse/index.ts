// Fine-grained sparse matmul / conv kernels (see bindings/ops/sparse.ts for the packed format).
export * from "./gen/spmm";
export * from "./gen/spconv3x3";
export * from "./gen/spmv";
export * from "./spmv";
export * from "./pad";
