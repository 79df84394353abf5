/**
 * Argument validation shared by every op. Everything a kernel relies on is checked here, in
 * JavaScript, before any pointer reaches wasm: a bad call throws a typed error naming the problem
 * and leaves the instance and its tensors untouched.
 */
import { ArgumentError, DTypeError, DisposedError, OutOfMemoryError, ShapeError } from './errors.js';
import { isFloat16Array } from './f16js.js';
import { detached, Tensor, type Arena, type DType } from './memory.js';

/** Largest dimension we accept: products of dims are kept below 2^31 elements separately. */
export const MAX_DIM = 2 ** 31 - 1;

/**
 * A dimension / stride / pad: an integer in [min, MAX_DIM] (the kernels take i32 arguments: a larger value would
 * wrap). Thrown as ArgumentError, or as ShapeError where an op's contract says so (the dense ops).
 */
export function dim(op: string, name: string, v: unknown, min = 0, E: new (message: string) => Error = ArgumentError): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new E(`${op}: ${name} must be an integer, got ${fmt(v)}`);
  if (v < min) throw new E(`${op}: ${name} must be >= ${min}, got ${v}`);
  if (v > MAX_DIM) throw new E(`${op}: ${name} = ${v} is too large (max ${MAX_DIM})`);
  return v;
}

/** Largest kernel scratch block: the kernels address their scratch with 32-bit offsets. */
export const SCRATCH_MAX_BYTES = 2 ** 31 - 1;

/**
 * A kernel's scratch size (its *_scratch function returns an exact f64 byte count, so it cannot wrap around) checked
 * against SCRATCH_MAX_BYTES: larger is an OutOfMemoryError before any kernel runs, never a short block written past.
 */
export function scratchBytes(op: string, bytes: number): number {
  if (!(bytes >= 0 && bytes <= SCRATCH_MAX_BYTES)) throw new OutOfMemoryError(bytes, SCRATCH_MAX_BYTES, `${op}: kernel scratch must stay below 2 GiB; split the problem`);
  return bytes;
}

/** Product of dims with an overflow check (element counts must stay addressable in wasm32). */
export function elements(op: string, what: string, ...dims: number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  if (n > 2 ** 31) throw new ShapeError(`${op}: ${what} would have ${n} elements, more than a 32-bit wasm memory can hold`);
  return n;
}

function checkView(op: string, name: string, a: ArrayBufferView): void {
  if (detached(a)) throw new ArgumentError(`${op}: ${name} is backed by a detached ArrayBuffer (transferred to a worker?)`);
}

function lengthError(op: string, name: string, a: ArrayBufferView & { length: number }, len: number): ShapeError | ArgumentError {
  // engines without ArrayBuffer.prototype.detached (Node 20) show a detached buffer as byteLength 0
  if (a.length === 0 && a.buffer.byteLength === 0) return new ArgumentError(`${op}: ${name} has 0 elements, expected ${len}: its ArrayBuffer is empty or detached (e.g. transferred to a worker)`);
  return new ShapeError(`${op}: ${name} has ${a.length} elements, expected ${len}`);
}

/** A Float32Array of exactly `len` elements. */
export function f32(op: string, name: string, a: unknown, len?: number): Float32Array {
  if (!(a instanceof Float32Array)) throw new DTypeError(`${op}: ${name} must be a Float32Array, got ${typeName(a)}`);
  checkView(op, name, a);
  if (len !== undefined && a.length !== len) throw lengthError(op, name, a, len);
  return a;
}

/** Half bits: a Uint16Array, or a Float16Array viewed as bits (no copy). */
export function f16bits(op: string, name: string, a: unknown, len?: number): Uint16Array {
  let bits: Uint16Array;
  if (a instanceof Uint16Array) bits = a;
  else if (isFloat16Array(a)) { const h = a as unknown as Uint16Array; bits = new Uint16Array(h.buffer, h.byteOffset, h.length); }
  else throw new DTypeError(`${op}: ${name} must be a Uint16Array (half bits) or Float16Array, got ${typeName(a)}`);
  checkView(op, name, bits);
  if (len !== undefined && bits.length !== len) throw lengthError(op, name, bits, len);
  return bits;
}

/** Either f32 or f16 data; returns which. */
export function f32or16(op: string, name: string, a: unknown, len?: number): { dtype: 'f32'; data: Float32Array } | { dtype: 'f16'; data: Uint16Array } {
  if (a instanceof Float32Array) return { dtype: 'f32', data: f32(op, name, a, len) };
  if (a instanceof Uint16Array || isFloat16Array(a)) return { dtype: 'f16', data: f16bits(op, name, a, len) };
  throw new DTypeError(`${op}: ${name} must be a Float32Array, Uint16Array (half bits) or Float16Array, got ${typeName(a)}`);
}

/**
 * A live Tensor of THIS instance (optionally of a dtype and length). A tensor's ptr is an offset into
 * its own instance's memory: used with another instance (or faked by a plain object) it would make
 * a kernel read or write arbitrary bytes of this one, so both are rejected.
 */
export function tensor(op: string, name: string, t: unknown, arena: Arena, dtype?: DType | readonly DType[], len?: number): Tensor {
  if (!(t instanceof Tensor)) throw new DTypeError(`${op}: ${name} must be a Tensor (tk.tensor / tk.tensorFrom), got ${typeName(t)}`);
  if (t.disposed) throw new DisposedError(`${op}: ${name} (Tensor)`);
  if (!t.ownedBy(arena)) throw new ArgumentError(`${op}: ${name} belongs to another tessera instance (tensors live in their own instance's memory)`);
  if (dtype !== undefined && !(typeof dtype === 'string' ? [dtype] : dtype).includes(t.dtype)) throw new DTypeError(`${op}: ${name} must be ${typeof dtype === 'string' ? dtype : dtype.join(' or ')}, got ${t.dtype}`);
  if (len !== undefined && t.length !== len) throw new ShapeError(`${op}: ${name} has ${t.length} elements, expected ${len}`);
  return t;
}

/** One of a fixed set of string options. */
export function oneOf<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[], dflt?: T): T {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new ArgumentError(`${op}: ${name} must be one of ${allowed.map((x) => `'${x}'`).join(', ')}, got ${fmt(v)}`);
  return v as T;
}

/** A finite number. */
export function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${op}: ${name} must be a finite number, got ${fmt(v)}`);
  return v;
}

export function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

function fmt(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : typeof v === 'object' ? typeName(v) : String(v);
}

/**
 * An options object: undefined -> {}; null or a non-object -> ArgumentError; a key outside `allowed` with a defined
 * value -> ArgumentError (a misspelt option would otherwise be ignored: { activaton: 'relu' } would run without the ReLU).
 */
export function options<T extends object>(op: string, o: T | undefined | null, allowed: readonly string[]): T {
  if (o === undefined) return {} as T;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new ArgumentError(`${op}: options must be an object, got ${o === null ? 'null' : Array.isArray(o) ? 'an array' : typeof o}`);
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key) && (o as Record<string, unknown>)[key] !== undefined) {
      throw new ArgumentError(`${op}: unknown option '${key}' (known: ${allowed.join(', ')})`);
    }
  }
  return o;
}
