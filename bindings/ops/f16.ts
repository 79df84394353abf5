/**
 * Emulated half precision ops. Storage is IEEE binary16 bits (Uint16Array, or Float16Array where
 * the runtime has it); conversions round to nearest even. Large arrays stream through a fixed-size
 * scratch tile, so the wasm memory needed is bounded whatever the input size.
 */
import { ArgumentError, DTypeError, DisposedError, ShapeError } from '../errors.js';
import { f16bits, f32, tensor } from '../validate.js';
import type { Tensor } from '../memory.js';
import type { Tessera } from '../tessera.js';

/** Elements per streamed tile: 64 Ki elements = 256 KiB f32 + 128 KiB f16 of scratch. */
export const F16_TILE = 64 * 1024;

export class F16Ops {
  constructor(private tk: Tessera) {}

  /** f32 -> f16 bits (round to nearest even). Pass `out` to reuse an output buffer. */
  fromF32(x: Float32Array, out?: Uint16Array): Uint16Array {
    f32('f16.fromF32', 'x', x);
    const o = f16bits('f16.fromF32', 'out', out ?? new Uint16Array(x.length), x.length);
    const k = this.tk.kernels;
    return this.stream(x, o, (pi, po, n) => k.f32_f16_vcvt__wasmsimd_u16(pi, po, n));
  }

  /** f16 bits (Uint16Array or Float16Array) -> f32 (exact). */
  toF32(h: Uint16Array | ArrayBufferView, out?: Float32Array): Float32Array {
    const bits = f16bits('f16.toF32', 'h', h);
    const o = f32('f16.toF32', 'out', out ?? new Float32Array(bits.length), bits.length);
    const k = this.tk.kernels;
    return this.stream(bits, o, (pi, po, n) => k.f16_f32_vcvt__wasmsimd_u16(pi, po, n));
  }

  /** Strict emulation: round every f32 to the nearest half value, keeping f32 storage. */
  round(x: Float32Array, out?: Float32Array): Float32Array {
    f32('f16.round', 'x', x);
    const o = f32('f16.round', 'out', out ?? new Float32Array(x.length), x.length);
    const k = this.tk.kernels;
    return this.stream(x, o, (pi, po, n) => { k.f32_f16round__wasmsimd_u4(pi, n); return po; }, true);
  }

  /** Zero-copy: convert an f32 tensor into an f16 tensor of the same length, or f16 into f32 (both in the arena). */
  convert(src: Tensor, dst: Tensor): void {
    if (this.tk.disposed) throw new DisposedError('tessera instance');
    tensor('f16.convert', 'src', src, this.tk.arena, ['f32', 'f16']);
    tensor('f16.convert', 'dst', dst, this.tk.arena, ['f32', 'f16']);
    if (src.length !== dst.length) throw new ShapeError(`f16.convert: src has ${src.length} elements, dst ${dst.length}`);
    this.tk.run(() => {
      if (src.dtype === 'f32' && dst.dtype === 'f16') this.tk.kernels.f32_f16_vcvt__wasmsimd_u16(src.ptr, dst.ptr, src.length);
      else if (src.dtype === 'f16' && dst.dtype === 'f32') this.tk.kernels.f16_f32_vcvt__wasmsimd_u16(src.ptr, dst.ptr, src.length);
      else throw new DTypeError(`f16.convert: needs f32 -> f16 or f16 -> f32, got ${src.dtype} -> ${dst.dtype}`);
    });
  }

  /**
   * Copy `src` through wasm in tiles of F16_TILE elements: copy a tile in, run `kernel(in, out, n)`,
   * copy the result out into `dst`. In-place kernels read and write the input tile.
   */
  private stream<S extends Float32Array | Uint16Array, D extends Float32Array | Uint16Array>(
    src: S, dst: D, kernel: (pi: number, po: number, n: number) => unknown, inPlace = false): D {
    const total = src.length;
    // tiles are read then written in order: only exact aliasing (same bytes, same element size) is safe; a partial
    // overlap would overwrite input not read yet (toF32 into the halves' own buffer)
    if (src.buffer === dst.buffer && src.byteOffset < dst.byteOffset + dst.byteLength && dst.byteOffset < src.byteOffset + src.byteLength &&
      !(src.byteOffset === dst.byteOffset && src.BYTES_PER_ELEMENT === dst.BYTES_PER_ELEMENT)) {
      throw new ArgumentError('f16: out overlaps the input (only out === input is allowed, for round)');
    }
    this.tk.run(() => {
      const tile = Math.min(F16_TILE, Math.max(total, 1));
      const pi = this.tk.arena.alloc(tile * src.BYTES_PER_ELEMENT);
      const po = inPlace ? pi : this.tk.arena.alloc(tile * dst.BYTES_PER_ELEMENT);
      const viewOf = (a: Float32Array | Uint16Array, p: number, n: number) =>
        a instanceof Float32Array ? this.tk.memory.f32.subarray(p >> 2, (p >> 2) + n) : this.tk.memory.u16.subarray(p >> 1, (p >> 1) + n);
      for (let off = 0; off < total; off += tile) {
        const n = Math.min(tile, total - off);
        viewOf(src, pi, n).set(src.subarray(off, off + n) as any);
        kernel(pi, po, n);
        dst.set(viewOf(dst, po, n) as any, off);
      }
    });
    return dst;
  }
}
