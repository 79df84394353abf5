// Hostile input to the foundation's public surface: every bad call is a typed error naming the
// problem, and the instance (and every tensor in it) stays usable and intact afterwards.
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, DisposedError, ShapeError, TesseraError, init } from '../../bindings/index.js';

function detachedF32(n: number): Float32Array {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

describe('hostile input (foundation)', () => {
  it('f16 ops: wrong dtypes, wrong out lengths, detached buffers, shared buffers, offset views', async () => {
    const tk = await init({ simd: 'simd128', debug: true });
    const keep = tk.tensorFrom(new Float32Array([3, 1, 4, 1, 5]));
    const bad: [() => unknown, new (...a: any[]) => TesseraError, RegExp][] = [
      [() => tk.f16.fromF32([1, 2, 3] as any), DTypeError, /Float32Array/],
      [() => tk.f16.fromF32(null as any), DTypeError, /null/],
      [() => tk.f16.fromF32(new Float64Array(2) as any), DTypeError, /Float64Array/],
      [() => tk.f16.fromF32(new Float32Array(4), new Uint16Array(3)), ShapeError, /out has 3 elements, expected 4/],
      [() => tk.f16.fromF32(new Float32Array(4), new Int16Array(4) as any), DTypeError, /out/],
      [() => tk.f16.toF32(new Int16Array(4) as any), DTypeError, /Uint16Array/],
      [() => tk.f16.toF32(new Uint16Array(4), new Float32Array(5)), ShapeError, /expected 4/],
      [() => tk.f16.round(new Float32Array(4), detachedF32(4)), ArgumentError, /detached/],
      [() => tk.tensor('f32', [-1]), ArgumentError, /non-negative/],
      [() => tk.tensor('f32', [2.5]), ArgumentError, /non-negative integers/],
      [() => tk.tensorFrom(new Float32Array(4), [3]), ShapeError, /holds 3 elements/],
    ];
    for (const [fn, cls, msg] of bad) {
      let err: unknown;
      try { fn(); } catch (e) { err = e; }
      expect(err, String(fn)).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(msg);
    }
    // a detached input: an ArgumentError where the engine can tell (ArrayBuffer.prototype.detached, e.g.
    // Chromium), else (Node 20) it is an empty array; either way no kernel sees a stale pointer
    let n = -1;
    try { n = tk.f16.fromF32(detachedF32(8)).length; } catch (e) { expect(e).toBeInstanceOf(ArgumentError); n = 0; }
    expect(n).toBe(0);
    tk.arena.check();
    expect(Array.from(keep.view())).toEqual([3, 1, 4, 1, 5]);
    expect(tk.memoryStats().blocks).toBe(1);
  });

  it('views with offsets and SharedArrayBuffer-backed inputs work', async () => {
    const tk = await init({ simd: 'simd128' });
    const big = new Float32Array([9, 1.5, 2.5, 65504, 9]);
    const view = big.subarray(1, 4);
    expect(Array.from(tk.f16.toF32(tk.f16.fromF32(view)))).toEqual([1.5, 2.5, 65504]);
    if (typeof SharedArrayBuffer !== 'undefined') {
      const s = new Float32Array(new SharedArrayBuffer(16));
      s.set([1, 2, 3, 4]);
      expect(Array.from(tk.f16.toF32(tk.f16.fromF32(s)))).toEqual([1, 2, 3, 4]);
    }
  });

  it('NaN and Inf propagate as documented (NaN stays NaN, |x| >= 65520 becomes inf)', async () => {
    const tk = await init({ simd: 'simd128' });
    const r = tk.f16.toF32(tk.f16.fromF32(new Float32Array([NaN, Infinity, -Infinity, 65520, -1e9])));
    expect(Number.isNaN(r[0])).toBe(true);
    expect(Array.from(r.subarray(1))).toEqual([Infinity, -Infinity, Infinity, -Infinity]);
  });

  it('a disposed instance or tensor is a typed error', async () => {
    const tk = await init({ simd: 'simd128' });
    const t = tk.tensor('f32', [4]);
    t.dispose();
    expect(() => t.view()).toThrow(DisposedError);
    t.dispose(); // idempotent
    const src = tk.tensor('f32', [4]), dst = tk.tensor('f16', [4]);
    tk.dispose();
    expect(() => tk.f16.fromF32(new Float32Array(2))).toThrow(DisposedError);
    expect(() => tk.f16.convert(src, dst)).toThrow(DisposedError);
    expect(() => tk.tensor('f32', [1])).toThrow(DisposedError);
  });

  it('f16.convert rejects mismatched tensors before touching memory', async () => {
    const tk = await init({ simd: 'simd128', debug: true });
    const a = tk.tensor('f32', [8]), b = tk.tensor('f16', [7]), c = tk.tensor('f32', [8]);
    expect(() => tk.f16.convert(a, b)).toThrow(ShapeError);
    expect(() => tk.f16.convert(a, c)).toThrow(DTypeError);
    tk.arena.check();
  });
});
