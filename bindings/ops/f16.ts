/**
 * Emulated half precision ops. Storage is IEEE binary16 bits (Uint16Array, or Float16Array where
 * the runtime has it); conversions round to nearest even. Large arrays stream through a fixed-size
 * scratch tile, so the wasm memory needed is bounded whatever the input size.
 */
import { DTypeError, ShapeError } from '../errors.js';
import { halfBits, isFloat16Array } from '../f16js.js';
import type { Tensor } from '../memory.js';
import type { Tessera } from '../tessera.js';

/** Elements per streamed tile: 64 Ki elements = 256 KiB f32 + 128 KiB f16 of scratch. */
export const F16_TILE = 64 * 1024;

export class F16Ops {
  constructor(private tk: Tessera) {}

  /** f32 -> f16 bits (round to nearest even). Pass `out` to reuse an output buffer. */
  fromF32(x: Float32Array, out: Uint16Array = new Uint16Array(x.length)): Uint16Array {
    if (!(x instanceof Float32Array)) throw new DTypeError(`f16.fromF32 expects a Float32Array, got ${describe(x)}`);
    checkOut(out, Uint16Array, x.length, 'f16.fromF32');
    this.stream(x.length, 4, 2, (pi, po, off, n) => {
      this.tk.memory.f32.set(x.subarray(off, off + n), pi >> 2);
      this.tk.kernels.f32_f16_vcvt__wasmsimd_u16(pi, po, n);
      out.set(this.tk.memory.u16.subarray(po >> 1, (po >> 1) + n), off);
    });
    return out;
  }

  /** f16 bits (Uint16Array or Float16Array) -> f32 (exact). */
  toF32(h: Uint16Array | ArrayBufferView, out?: Float32Array): Float32Array {
    if (!(h instanceof Uint16Array) && !isFloat16Array(h)) throw new DTypeError(`f16.toF32 expects a Uint16Array (half bits) or Float16Array, got ${describe(h)}`);
    const bits = halfBits(h as Uint16Array);
    out ??= new Float32Array(bits.length);
    checkOut(out, Float32Array, bits.length, 'f16.toF32');
    this.stream(bits.length, 2, 4, (pi, po, off, n) => {
      this.tk.memory.u16.set(bits.subarray(off, off + n), pi >> 1);
      this.tk.kernels.f16_f32_vcvt__wasmsimd_u16(pi, po, n);
      out.set(this.tk.memory.f32.subarray(po >> 2, (po >> 2) + n), off);
    });
    return out;
  }

  /** Strict emulation: round every f32 to the nearest half value, keeping f32 storage. */
  round(x: Float32Array, out: Float32Array = new Float32Array(x.length)): Float32Array {
    if (!(x instanceof Float32Array)) throw new DTypeError(`f16.round expects a Float32Array, got ${describe(x)}`);
    checkOut(out, Float32Array, x.length, 'f16.round');
    this.stream(x.length, 4, 0, (pi, _po, off, n) => {
      this.tk.memory.f32.set(x.subarray(off, off + n), pi >> 2);
      this.tk.kernels.f32_f16round__wasmsimd_u4(pi, n);
      out.set(this.tk.memory.f32.subarray(pi >> 2, (pi >> 2) + n), off);
    });
    return out;
  }

  /** Zero-copy: convert an f32 tensor into an f16 tensor of the same length (both in the arena). */
  convert(src: Tensor, dst: Tensor): void {
    if (src.length !== dst.length) throw new ShapeError(`f16.convert: src has ${src.length} elements, dst ${dst.length}`);
    this.tk.run(() => {
      if (src.dtype === 'f32' && dst.dtype === 'f16') this.tk.kernels.f32_f16_vcvt__wasmsimd_u16(src.ptr, dst.ptr, src.length);
      else if (src.dtype === 'f16' && dst.dtype === 'f32') this.tk.kernels.f16_f32_vcvt__wasmsimd_u16(src.ptr, dst.ptr, src.length);
      else throw new DTypeError(`f16.convert: needs f32 -> f16 or f16 -> f32, got ${src.dtype} -> ${dst.dtype}`);
    });
  }

  private stream(total: number, inBytes: number, outBytes: number, step: (pi: number, po: number, off: number, n: number) => void): void {
    this.tk.run(() => {
      const tile = Math.min(F16_TILE, Math.max(total, 1));
      const pi = this.tk.arena.alloc(tile * inBytes);
      const po = outBytes ? this.tk.arena.alloc(tile * outBytes) : 0;
      for (let off = 0; off < total; off += tile) step(pi, po, off, Math.min(tile, total - off));
    });
  }
}

function checkOut(out: unknown, ctor: Function, n: number, op: string): void {
  if (!(out instanceof ctor)) throw new DTypeError(`${op}: out must be a ${ctor.name}, got ${describe(out)}`);
  if ((out as ArrayLike<number>).length !== n) throw new ShapeError(`${op}: out has ${(out as ArrayLike<number>).length} elements, input has ${n}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}
