/**
 * tk.parallel: async ops whose tiles run on tk.pool (all threads, shared memory). Results are
 * bit-identical to the synchronous ops: the same kernels run on the same bytes, only the thread
 * that runs each tile changes. With one thread they still work (all tiles on the main thread).
 *
 * Buffers used by an in-flight async op are persistent arena blocks freed in `finally`, so a
 * synchronous op called while one is awaiting cannot reset them.
 */
import { DTypeError, DisposedError, ShapeError } from '../errors.js';
import { halfBits, isFloat16Array } from '../f16js.js';
import type { Tensor } from '../memory.js';
import { F16_TILE } from '../ops/f16.js';
import type { Tessera } from '../tessera.js';
import { tensor } from '../validate.js';
import { splitF16Convert, type KernelName } from './split.js';

export class ParallelOps {
  constructor(private tk: Tessera) {}

  /** Threads the ops use (tk.pool.size). */
  get threads(): number { return this.tk.pool.size; }

  /** Zero-copy f32 <-> f16 conversion between two arena tensors of the same length. */
  async f16Convert(src: Tensor, dst: Tensor): Promise<void> {
    this.alive();
    tensor('parallel.f16Convert', 'src', src, this.tk.arena, ['f32', 'f16']);
    tensor('parallel.f16Convert', 'dst', dst, this.tk.arena, ['f32', 'f16']);
    if (src.length !== dst.length) throw new ShapeError(`parallel.f16Convert: src has ${src.length} elements, dst ${dst.length}`);
    let calls;
    if (src.dtype === 'f32' && dst.dtype === 'f16') calls = splitF16Convert('f32_f16_vcvt__wasmsimd_u16', src.ptr, 4, dst.ptr, 2, src.length, this.threads);
    else if (src.dtype === 'f16' && dst.dtype === 'f32') calls = splitF16Convert('f16_f32_vcvt__wasmsimd_u16', src.ptr, 2, dst.ptr, 4, src.length, this.threads);
    else throw new DTypeError(`parallel.f16Convert: needs f32 -> f16 or f16 -> f32, got ${src.dtype} -> ${dst.dtype}`);
    // the tiles run later (queued jobs, workers): keep both blocks allocated even if disposed meanwhile
    const release = [src.pin(), dst.pin()];
    try {
      await this.tk.pool.runCalls(calls);
    } finally { release.forEach((r) => r()); }
  }

  /** f32 -> f16 bits, like tk.f16.fromF32 but split across threads (streams through threads x 64 Ki-element tiles). */
  async f16FromF32(x: Float32Array): Promise<Uint16Array> {
    this.alive();
    if (!(x instanceof Float32Array)) throw new DTypeError(`parallel.f16FromF32 expects a Float32Array, got ${x === null ? 'null' : typeof x}`);
    const out = new Uint16Array(x.length);
    await this.stream(x.length, 4, 2, 'f32_f16_vcvt__wasmsimd_u16',
      (pi, off, n) => this.tk.memory.f32.set(x.subarray(off, off + n), pi >> 2),
      (po, off, n) => out.set(this.tk.memory.u16.subarray(po >> 1, (po >> 1) + n), off));
    return out;
  }

  /** f16 bits (Uint16Array / Float16Array) -> f32, like tk.f16.toF32 but split across threads. */
  async f16ToF32(h: Uint16Array | ArrayBufferView): Promise<Float32Array> {
    this.alive();
    if (!(h instanceof Uint16Array) && !isFloat16Array(h)) throw new DTypeError('parallel.f16ToF32 expects a Uint16Array (half bits) or Float16Array');
    const bits = halfBits(h as Uint16Array);
    const out = new Float32Array(bits.length);
    await this.stream(bits.length, 2, 4, 'f16_f32_vcvt__wasmsimd_u16',
      (pi, off, n) => this.tk.memory.u16.set(bits.subarray(off, off + n), pi >> 1),
      (po, off, n) => out.set(this.tk.memory.f32.subarray(po >> 2, (po >> 2) + n), off));
    return out;
  }

  private async stream(total: number, inBytes: number, outBytes: number, kernel: KernelName,
    copyIn: (pi: number, off: number, n: number) => void, copyOut: (po: number, off: number, n: number) => void): Promise<void> {
    const chunk = Math.min(F16_TILE * 4 * this.threads, Math.max(total, 8));
    const a = this.tk.arena;
    const pi = a.allocPersistent(chunk * inBytes, 64, 'parallel-in');
    let po = -1;
    try {
      po = a.allocPersistent(chunk * outBytes, 64, 'parallel-out');
      for (let off = 0; off < total; off += chunk) {
        const n = Math.min(chunk, total - off);
        copyIn(pi, off, n);
        await this.tk.pool.runCalls(splitF16Convert(kernel, pi, inBytes, po, outBytes, n, this.threads));
        copyOut(po, off, n);
      }
    } finally {
      a.free(pi);
      if (po >= 0) a.free(po);
      if (a.debug) a.check();
    }
  }

  private alive(): void {
    if (this.tk.disposed) throw new DisposedError('tessera instance');
  }
}
