// API contracts a new user tripped over (an outside review exercising every documented API, 2026-11-24): each of these
// was accepted silently, read the caller's mutable objects after validation, or wrote where it must not.
import { describe, expect, it } from 'vitest';
import { ArgumentError, DisposedError, OutOfMemoryError, ShapeError, init } from '../../bindings/index.js';
import { refMatmul, sparseWeights } from '../helpers/ref-sparse.js';
import { randomF32 } from '../helpers/tiers.js';

describe('API contracts', () => {
  it('a sparse layer keeps its own frozen copy of the matrix: later writes to the caller\'s matrix reach no kernel', async () => {
    const tk = await init({ simd: 'simd128', debug: true });
    const w = sparseWeights(8, 6, 0.5, 11, [4, 1]);
    const sp = tk.sparse.pack(w, 8, 6);
    const x = randomF32(6 * 5, 12);
    const L = tk.sparse.layer(sp, { n: 5 });
    const want = L.apply(x);
    // the f64 reference, within the f32 summation bound (cols + 2) * 2^-23 * sum|w x|
    const ref = refMatmul(w, undefined, 8, 6, x, 5);
    for (let i = 0; i < want.length; i++) expect(Math.abs(want[i] - ref.y[i])).toBeLessThanOrEqual(8 * 2 ** -23 * ref.mag[i]);
    const victim = tk.tensorFrom(new Float32Array(256).fill(7));
    // readonly only to TypeScript: the caller's object can still be written
    const m = sp as unknown as { rows: number; first: number; blockRows: number };
    m.rows = 40; m.first += 3; m.blockRows = 1;
    expect(Array.from(L.apply(x))).toEqual(Array.from(want));
    expect(Array.from(victim.read())).toEqual(new Array(256).fill(7));
    // the layer's own matrix: fields frozen, arrays its own copies
    expect(() => { (L.matrix as unknown as { rows: number }).rows = 40; }).toThrow(TypeError);
    expect(L.matrix.rows).toBe(8);
    expect(L.matrix.vals).not.toBe(sp.vals);
    const before = L.matrix.toDense().weights.slice();
    sp.vals[0] += 1000; sp.nnz[0] = 0;
    expect(Array.from(L.matrix.toDense().weights)).toEqual(Array.from(before));
    expect(() => tk.sparse.validate(L.matrix)).not.toThrow();
    // and the ops that take the (now corrupted) matrix directly still reject it
    expect(() => tk.sparse.matmul(sp, x, 5)).toThrow();
    tk.arena.check();
    L.dispose(); victim.dispose();
  });

  it('SparseLayer.runPtr takes only ranges inside one live arena block', async () => {
    const tk = await init({ simd: 'simd128', debug: true });
    const sp = tk.sparse.pack(new Float32Array(64 * 4).fill(3), 64, 4, { bias: new Float32Array(64).fill(12345) });
    const L = tk.sparse.layer(sp, { n: 1 });
    const x = tk.tensorFrom(new Float32Array(4).fill(1)), y = tk.tensor('f32', [64]);
    const base = tk.arena.base;
    for (const yPtr of [1024, base - 256, x.ptr + 4]) expect(() => L.runPtr(x.ptr, yPtr)).toThrow(ArgumentError);
    expect(() => L.runPtr(16, y.ptr)).toThrow(ArgumentError); // static data below the arena
    // tessera's own blocks (this layer's staged index walk, which drives the kernel's addresses) are not the caller's
    const st = L.internals().st;
    for (const own of [st.dm, st.w, st.nz]) expect(() => L.runPtr(x.ptr, own)).toThrow(ArgumentError);
    L.runPtr(x.ptr, y.ptr);
    expect(Array.from(y.read())).toEqual(new Array(64).fill(12345 + 12));
    // the module's constants are intact: a PASA attention call still matches the f32 path closely
    const q = randomF32(16 * 8, 1), k = randomF32(16 * 8, 2), v = randomF32(16 * 8, 3);
    const o = { heads: 1, seqQ: 16, seqK: 16, headDim: 8 };
    const a = tk.attention(q, k, v, o), b = tk.attention(q, k, v, { ...o, precision: 'pasa' });
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-2);
    tk.arena.check();
  });

  it('conv geometry whose padded extents or stride x tile pitches pass 2^29 is a ShapeError (it wrapped in the kernels)', async () => {
    const tk = await init({ simd: 'simd128', debug: true });
    const M = 2 ** 31 - 1;
    const victim = tk.tensorFrom(new Float32Array(64).fill(7));
    const depthwise = { c: 4, h: 1, w: 1, cout: 4, kh: 1, kw: 1, groups: 4 };
    for (const g of [{ ...depthwise, stride: [1, M] as [number, number], pad: [0, M, 0, M] as [number, number, number, number] },
      { c: 1, h: 1, w: 1, cout: 1, kh: 1, kw: 1, stride: [1, M] as [number, number], pad: [0, M, 0, M] as [number, number, number, number] },
      { c: 1, h: 3, w: 3, cout: 1, kh: 3, kw: 3, stride: 2 ** 28 }, { c: 1, h: 1, w: 1, cout: 1, kh: 1, kw: 1, pad: 2 ** 29 }]) {
      const w = new Float32Array(g.cout * ('groups' in g ? 1 : g.c) * g.kh * g.kw).fill(1);
      expect(() => tk.dense.packConv2d(w, g)).toThrow(ShapeError);
      expect(() => tk.conv2d(new Float32Array(g.c * g.h * g.w), w, g)).toThrow(ShapeError);
    }
    // a random sweep of large strides / pads / dilations: a result or a typed error, never a trap or a corruption
    let seed = 5; const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32; };
    const big = () => [1, 2, 3, 7, 2 ** 10, 2 ** 20, 2 ** 28, 2 ** 29 - 1, 2 ** 30, M][Math.floor(rnd() * 10)];
    for (let i = 0; i < 300; i++) {
      const dw = rnd() < 0.5, c = dw ? 4 : 2, k = 1 + Math.floor(rnd() * 3);
      const g = { c, h: 3, w: 3, cout: dw ? 4 : 3, kh: k, kw: k, groups: dw ? 4 : 1, stride: [big(), big()] as [number, number],
        pad: [big() % 64, big(), big() % 64, big()] as [number, number, number, number], dilation: dw ? 1 : big() % 4 + 1 };
      try { tk.conv2d(new Float32Array(c * 9).fill(1), new Float32Array(g.cout * (dw ? 1 : c) * k * k).fill(1), g); } catch (e) {
        expect(e instanceof ShapeError || e instanceof OutOfMemoryError, String(e)).toBe(true); // too large, or too big an output
      }
    }
    expect(Array.from(victim.read())).toEqual(new Array(64).fill(7));
    tk.arena.check();
  });

  it('conv strides, pads and dilations past 2^31 - 1 are ShapeErrors (the kernels take i32)', async () => {
    const tk = await init({ simd: 'simd128' });
    const o = { c: 1, h: 1, w: 1, cout: 1, kh: 1, kw: 1 };
    for (const extra of [{ stride: 2 ** 32 + 1 }, { pad: 5 * 2 ** 32 }, { dilation: 2 ** 31 }, { stride: [1, 2 ** 31] as [number, number] }]) {
      expect(() => tk.conv2d(new Float32Array([1]), new Float32Array([1]), { ...o, ...extra })).toThrow(ShapeError);
    }
  });

  it('unknown or misspelt options are ArgumentErrors; null options too', async () => {
    const tk = await init({ simd: 'simd128' });
    const a = randomF32(6, 1), b = randomF32(6, 2);
    expect(() => tk.matmul(a, b, 2, 3, 2, { bais: new Float32Array(2) } as never)).toThrow(/unknown option 'bais'/);
    expect(() => tk.matmul(a, b, 2, 3, 2, null as never)).toThrow(ArgumentError);
    expect(() => tk.dense.packMatmul(b, 3, 2, { activaton: 'relu' } as never)).toThrow(ArgumentError);
    expect(() => tk.conv2d(new Float32Array(4), new Float32Array(1), { c: 1, h: 2, w: 2, cout: 1, kh: 1, kw: 1, strides: 2 } as never)).toThrow(/unknown option 'strides'/);
    const q = randomF32(4 * 4, 3);
    const ao = { heads: 1, seqQ: 4, seqK: 4, headDim: 4 };
    expect(() => tk.attention(q, q, q, { ...ao, mask: true } as never)).toThrow(/unknown option 'mask'/);
    expect(() => tk.attention(q, q, q, { ...ao, precision: 'toString' as never })).toThrow(/precision/);
    expect(() => tk.attention(q, q, q, { ...ao, precision: '__proto__' as never })).toThrow(/precision/);
    expect(() => tk.attentionDecode(q.subarray(0, 4), q, q, { heads: 1, headDim: 4, kvLength: 4, causal: true } as never)).toThrow(/unknown option 'causal'/);
    expect(() => tk.sparse.pack(randomF32(8, 4), 2, 4, { blocks: [4, 1] } as never)).toThrow(/unknown option 'blocks'/);
    expect(() => tk.sparse.auto(randomF32(8, 4), 2, 4, { n: 3 }, { policy: 'density', breakEven: NaN })).toThrow(/breakEven/);
    await expect(init({ simd: 'simd128', treads: 2 } as never)).rejects.toThrow(/unknown option 'treads'/);
    expect(() => tk.sparse.pack(randomF32(8, 4), 2, 4, null as never)).toThrow(ArgumentError);
    expect(() => tk.sparse.layer(tk.sparse.pack(randomF32(8, 4), 2, 4), { n: 1 }, null as never)).toThrow(ArgumentError);
    expect(() => tk.pool.runCalls([], { usemain: false } as never)).toThrow(/unknown option 'usemain'/);
    // keys holding undefined are fine (spread defaults)
    expect(tk.matmul(a, b, 2, 3, 2, { bias: undefined, other: undefined } as never)).toHaveLength(4);
  });

  it('attentionDecode names the cache geometry in its own terms; the array form of attention has no out', async () => {
    const tk = await init({ simd: 'simd128' });
    const q = randomF32(4, 1), kv = randomF32(10 * 4, 2);
    expect(() => tk.attentionDecode(q, kv, kv, { heads: 1, headDim: 4, kvLength: 11 })).toThrow(/kvLength 11 is more than the 10 rows/);
    expect(() => tk.attentionDecode(q, randomF32(41, 3), randomF32(41, 3), { heads: 1, headDim: 4, kvLength: 4 })).toThrow(/whole number of rows/);
    expect(() => tk.attentionDecode(q, kv, kv, { heads: 1, headDim: 4, kvLength: 0 })).toThrow(/kvLength must be a positive integer/);
    const o = tk.tensor('f32', [4]);
    expect(() => (tk.attention as (...a: unknown[]) => unknown)(q, kv, kv, { heads: 1, seqQ: 1, seqK: 10, headDim: 4 }, o)).toThrow(/out is for the tensor form/);
    o.dispose();
  });

  it('packConv2d remembers the batch n of its options; parallel.matmul names its own bad m', async () => {
    const tk = await init({ simd: 'simd128' });
    const x = randomF32(2 * 3 * 4 * 4, 1), w = randomF32(5 * 3, 2);
    const opts = { n: 2, c: 3, h: 4, w: 4, cout: 5, kh: 1, kw: 1 };
    const cv = tk.dense.packConv2d(w, opts);
    expect(cv.n).toBe(2);
    expect(Array.from(cv.apply(x))).toEqual(Array.from(tk.conv2d(x, w, opts)));
    cv.dispose();
    await expect(tk.parallel.matmul(randomF32(6, 3), randomF32(6, 4), 2.5, 3, 2)).rejects.toThrow(/parallel\.matmul: m must be/);
  });

  it('f16 conversions refuse an out that partly overlaps the input', async () => {
    const tk = await init({ simd: 'simd128' });
    const buf = new ArrayBuffer(8 * 1024);
    const h = new Uint16Array(buf, 0, 1024).fill(0x3c00);
    expect(() => tk.f16.toF32(h, new Float32Array(buf, 0, 1024))).toThrow(ArgumentError);
    expect(() => tk.f16.fromF32(new Float32Array(buf, 0, 1024), new Uint16Array(buf, 2048, 1024))).toThrow(ArgumentError);
    const r = new Float32Array(buf, 4096, 1024).fill(1 / 3);
    expect(tk.f16.round(r, r)[0]).toBe(0.333251953125); // exact aliasing is fine
    expect(Array.from(tk.f16.toF32(h, new Float32Array(buf, 4096, 1024)).subarray(0, 2))).toEqual([1, 1]); // disjoint is fine
  });

  it('after tk.dispose() a tensor\'s data is out of reach (DisposedError), disposing it is still fine', async () => {
    const tk = await init({ simd: 'simd128' });
    const t = tk.tensorFrom(new Float32Array([1, 2, 3]));
    tk.dispose();
    expect(() => t.read()).toThrow(DisposedError);
    expect(() => t.write(new Float32Array(3))).toThrow(DisposedError);
    expect(() => t.view()).toThrow(DisposedError);
    expect(t.disposed).toBe(true);
    expect(() => t.dispose()).not.toThrow();
  });
});
