// The fuzzer's op registry types. One OpSpec per public op: adding a kernel family to the fuzzer
// is adding its specs to tests/fuzz/ops.ts (input generator, call, f64 reference, tolerance with
// its justification, and a generator of hostile calls).
import type { Tessera, TesseraError } from '../../bindings/index.js';
import type { Rng } from './rng.js';

/** Size class of a dimension: the fuzzer cycles through all of them for every op. */
export type SizeClass = 'zero' | 'one' | 'small' | 'prime' | 'large';
export const SIZE_CLASSES: readonly SizeClass[] = ['zero', 'one', 'small', 'prime', 'large'];

export type ErrorClass = abstract new (...a: any[]) => TesseraError;

export interface FuzzCase {
  /** shapes / options, enough to understand a failure (the seed reproduces it exactly) */
  desc: string;
  /** JS buffers the op reads: their whole backing store must be unchanged afterwards */
  inputs?: ArrayBufferView[];
  /** JS buffers the op writes: inside their backing store only the view itself may change */
  jsOutputs?: ArrayBufferView[];
  /** arena pointers of the tensors the op writes (everything else in linear memory must stay) */
  arenaOutputs?: number[];
  /** this (valid-looking) case must be rejected with this typed error, e.g. a 0-sized dim */
  expectError?: ErrorClass;
  run(): unknown | Promise<unknown>;
  /** compare with the f64 reference: null when within tolerance, else what is wrong */
  check(got: unknown): string | null;
  /** free tensors/layers created by the generator (after the checks) */
  dispose?(): void;
}

export interface HostileCase {
  desc: string;
  call(): unknown | Promise<unknown>;
  /** accepted typed errors */
  expect: ErrorClass[];
  /** message must match (names the problem) */
  msg?: RegExp;
  /**
   * Some mutations may stay valid (a flipped value byte, a detached buffer on engines that show it as
   * empty): then the call may also succeed, and this checks the result (null = fine).
   */
  orValid?: (got: unknown) => string | null;
  dispose?(): void;
}

export interface FuzzContext {
  tk: Tessera;
  /** a second, independent instance (for cross-instance tensors) */
  other: Tessera;
  /** after a corruption the instance cannot be trusted: replace ctx.tk (and other) with fresh ones */
  renew?: () => Promise<void>;
}

export interface OpSpec {
  /** public op, as called: 'sparse.matmul', 'f16.fromF32', 'SparseLayer.run' ... */
  name: string;
  family: string;
  /** the tolerance and why (shown by `npm run fuzz -- --list`) */
  tolerance: string;
  /** async op on tk.parallel / tk.pool */
  async?: boolean;
  gen(ctx: FuzzContext, r: Rng, size: SizeClass): FuzzCase;
  hostile?(ctx: FuzzContext, r: Rng): HostileCase;
}
