// Reliability of the whole public surface under repetition and memory pressure:
//  - 10^4 calls of every op family leave the arena exactly where it started;
//  - an allocation failure at ANY allocation point of an op (fault injection, Arena.failAfter) is a
//    typed OutOfMemoryError that unwinds completely: no leaked block, no byte of memory changed,
//    and the same call succeeds afterwards;
//  - real growth failure at the configured maximum is typed, and smaller work then succeeds;
//  - threaded mode survives trapping tiles and dying workers without leaking pool state.
import { describe, expect, it } from 'vitest';
import { init, OutOfMemoryError, TesseraError, ThreadError, type Tessera } from '../../bindings/index.js';
import { randomF32 } from '../helpers/tiers.js';

const MiB = 1024 * 1024;

function sparseFixture(tk: Tessera, rows = 9, cols = 7, ks: 1 | 3 = 1) {
  const w = randomF32(rows * cols * ks * ks, 11);
  for (let i = 0; i < w.length; i += 3) w[i] = 0;
  return { w, sp: tk.sparse.pack(w, rows, cols, { kernelSize: ks, bias: randomF32(rows, 12) }), rows, cols };
}

/** Every public op once, small: [name, call] (each call allocates and frees its own temporaries). */
function opCalls(tk: Tessera): [string, () => unknown][] {
  const m = sparseFixture(tk), c = sparseFixture(tk, 6, 3, 3);
  const x = randomF32(m.cols * 5, 13), xc = randomF32(3 * 6 * 7, 14);
  const bytes = m.sp.serialize();
  const layer = tk.sparse.layer(m.sp, { n: 5 }), conv = tk.sparse.layer(c.sp, { h: 6, w: 7 });
  const tx = tk.tensorFrom(x), ty = tk.tensor('f32', [m.rows * 5]);
  const h = tk.f16.fromF32(x), t16 = tk.tensor('f16', [x.length]);
  return [
    ['f16.fromF32', () => tk.f16.fromF32(x)],
    ['f16.toF32', () => tk.f16.toF32(h)],
    ['f16.round', () => tk.f16.round(x)],
    ['f16.convert', () => tk.f16.convert(tx, t16)],
    ['tensor', () => tk.tensorFrom(x).dispose()],
    ['sparse.matmul', () => tk.sparse.matmul(m.sp, x, 5, { activation: 'relu' })],
    ['sparse.matmul n=1', () => tk.sparse.matmul(m.sp, x.subarray(0, m.cols), 1)],
    ['sparse.conv2d', () => tk.sparse.conv2d(c.sp, xc, { c: 3, h: 6, w: 7, stride: 2 })],
    ['sparse.deserialize', () => tk.sparse.deserialize(bytes)],
    ['SparseLayer.run', () => layer.run(tx, ty)],
    ['SparseLayer.apply conv', () => conv.apply(xc)],
    ['sparse.layer + dispose', () => tk.sparse.layer(m.sp, { n: 5 }).dispose()],
    ['sparse.denseLayer + dispose', () => tk.sparse.denseLayer(m.w, m.rows, m.cols, { n: 5 }).dispose()],
  ];
}

describe('repetition', () => {
  it('10^4 calls of every op leave the arena where it started (blocks, bytes, memory size)', async () => {
    const tk = await init({ simd: 'simd128' });
    for (const [name, call] of opCalls(tk)) {
      call();
      const s0 = tk.memoryStats();
      for (let i = 0; i < 10_000; i++) call();
      const s1 = tk.memoryStats();
      expect({ name, used: s1.usedBytes, blocks: s1.blocks, mem: s1.memoryBytes }).toEqual({ name, used: s0.usedBytes, blocks: s0.blocks, mem: s0.memoryBytes });
    }
  });
});

describe('allocation failure at every allocation point (fault injection)', () => {
  it('is a typed OutOfMemoryError that leaks nothing and changes no byte; the retry succeeds', async () => {
    const tk = await init({ simd: 'simd128', debug: true });
    const extra: [string, () => unknown][] = [
      ['sparse.auto density', () => { const f = sparseFixture(tk); tk.sparse.auto(f.w, f.rows, f.cols, { n: 4 }, { policy: 'density' }).dispose(); }],
      ['sparse.auto measure', () => { const f = sparseFixture(tk); tk.sparse.auto(f.w, f.rows, f.cols, { n: 4 }, { policy: 'measure' }).dispose(); }],
    ];
    let points = 0;
    for (const [name, call] of [...opCalls(tk), ...extra]) {
      for (let n = 0; ; n++) {
        const s0 = tk.memoryStats();
        const snap = tk.arena.snapshot();
        tk.arena.failAfter(n);
        let err: unknown = null;
        try { call(); } catch (e) { err = e; }
        tk.arena.failAfter(null);
        if (err === null) break; // the op needs fewer than n + 1 allocations: done
        points++;
        expect(err, `${name}, failing allocation #${n}`).toBeInstanceOf(OutOfMemoryError);
        const s1 = tk.memoryStats();
        expect({ name, n, blocks: s1.blocks, used: s1.usedBytes }).toEqual({ name, n, blocks: s0.blocks, used: s0.usedBytes });
        snap.verify();
      }
      expect(() => call(), name).not.toThrow();
    }
    expect(points).toBeGreaterThan(20);
  });

  it('threaded ops: failing allocations in tk.parallel and the pool unwind too', async () => {
    const tk = await init({ threads: 2, debug: true });
    const x = randomF32(70_000, 3);
    const a = tk.tensorFrom(x), b = tk.tensor('f16', [x.length]);
    const calls: [string, () => Promise<unknown>][] = [
      ['parallel.f16FromF32', () => tk.parallel.f16FromF32(x)],
      ['parallel.f16Convert', () => tk.parallel.f16Convert(a, b)],
    ];
    for (const [name, call] of calls) {
      for (let n = 0; ; n++) {
        const s0 = tk.memoryStats();
        tk.arena.failAfter(n);
        let err: unknown = null;
        try { await call(); } catch (e) { err = e; }
        tk.arena.failAfter(null);
        if (err === null) break;
        expect(err, `${name} #${n}`).toBeInstanceOf(OutOfMemoryError);
        expect(tk.memoryStats().blocks, `${name} #${n}`).toBe(s0.blocks);
      }
      await call(); // succeeds without the injected failure
    }
    tk.arena.check();
    tk.dispose();
  });
});

describe('growth failure at the configured maximum', () => {
  it('sparse ops: typed OutOfMemoryError naming the limit, nothing leaked, smaller work succeeds', async () => {
    const tk = await init({ simd: 'simd128', initialMemoryBytes: 1 * MiB, maxMemoryBytes: 4 * MiB, debug: true });
    const { sp, cols, rows } = sparseFixture(tk, 8, 4);
    const keep = tk.tensorFrom(new Float32Array([1, 2, 3]));
    const s0 = tk.memoryStats();
    const bigN = 400_000; // x: 4 x 400k f32 = 6.4 MB > 4 MiB
    const big = new Float32Array(cols * bigN);
    const e = (() => { try { tk.sparse.matmul(sp, big, bigN); } catch (x) { return x; } })() as OutOfMemoryError;
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.limitBytes).toBe(4 * MiB);
    expect(e.message).toMatch(/limit/);
    expect(() => tk.tensor('f32', [cols * bigN])).toThrow(OutOfMemoryError);
    expect(() => tk.sparse.conv2d(tk.sparse.pack(randomF32(4 * 4 * 9, 1), 4, 4, { kernelSize: 3 }), new Float32Array(4 * 700 * 700), { c: 4, h: 700, w: 700 })).toThrow(OutOfMemoryError);
    expect(tk.memoryStats().blocks).toBe(s0.blocks);
    expect(tk.memoryStats().usedBytes).toBe(s0.usedBytes);
    const y = tk.sparse.matmul(sp, randomF32(cols * 1000, 5), 1000);
    expect(y.length).toBe(rows * 1000);
    expect(Array.from(keep.view())).toEqual([1, 2, 3]);
    tk.arena.check();
  });
});

describe('threaded mode survives worker errors', () => {
  it('a tensor disposed while an async op uses it stays allocated until the op ends (no write into a new tensor)', async () => {
    const tk = await init({ threads: 2, debug: true });
    const x = randomF32(1 << 20, 4);
    const a = tk.tensorFrom(x), b = tk.tensor('f16', [x.length]);
    const s0 = tk.memoryStats();
    const p = tk.parallel.f16Convert(a, b);
    b.dispose(); // while the tiles are queued / running
    expect(b.disposed).toBe(true);
    expect(() => b.view()).toThrow();
    const other = tk.tensor('f32', [x.length / 2]);
    other.view().fill(7);
    await p;
    expect(other.view().every((v) => v === 7)).toBe(true); // nothing wrote into the new tensor
    expect(tk.memoryStats().blocks).toBe(s0.blocks); // b freed after the op, other allocated
    tk.arena.check();
    const q = tk.parallel.f16FromF32(x);
    tk.dispose();
    await expect(q).rejects.toBeInstanceOf(TesseraError);
  });

  it('trapping tiles and a killed worker: typed ThreadError, no leaked pool state, results still bit-identical', async () => {
    const tk = await init({ threads: 2, debug: true });
    const x = randomF32(100_000, 9);
    const want = tk.f16.fromF32(x);
    const s0 = tk.memoryStats();
    for (let round = 0; round < 3; round++) {
      // a tile that traps (out-of-bounds pointer) in whichever thread claims it
      const tiles = [[0, 0, 16], [0x7ffffff0, 0, 1 << 20], [0, 0, 16], [0, 0, 16]];
      await expect(tk.pool.run('f32_f16_vcvt__wasmsimd_u16', tiles)).rejects.toBeInstanceOf(ThreadError);
      if (tk.features.threads > 1) await tk.pool.crashWorkerForTest(1);
      expect(await tk.parallel.f16FromF32(x)).toEqual(want);
      expect(tk.memoryStats().blocks).toBe(s0.blocks);
      expect(tk.memoryStats().usedBytes).toBe(s0.usedBytes);
      tk.arena.check();
    }
    tk.dispose();
  });
});
