// Threaded dense GEMM (row panels of C across the pool) is bit-identical to the single-thread GEMM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type PackedMatmul, type Tensor, type Tessera } from '../../bindings/index.js';
import { randomF32, sameBits } from '../helpers/tiers.js';


describe('threaded dense GEMM', () => {
  let tk: Tessera;
  beforeAll(async () => { tk = await init({ threads: 2, debug: true }); });
  afterAll(() => tk?.dispose());

  /**
   * packed.run and tk.parallel.matmulRun on the same a into two outputs pre-filled differently; returns
   * how many pool tiles the parallel call ran and whether the outputs have the same bits.
   */
  async function singleVsParallel(packed: PackedMatmul, a: Tensor, m: number, n: number): Promise<{ tiles: number; same: boolean }> {
    const c1 = tk.tensor('f32', [m * n]), c2 = tk.tensor('f32', [m * n]);
    try {
      c1.view().fill(1); c2.view().fill(2);
      packed.run(a, c1, m);
      const before = tk.pool.stats.tiles;
      await tk.parallel.matmulRun(packed, a, c2, m);
      return { tiles: tk.pool.stats.tiles - before, same: sameBits(c2.read(), c1.read()) };
    } finally {
      c1.dispose(); c2.dispose();
    }
  }

  // odd m (edge row panel), n not a multiple of 8 (edge column panel), k > KC (several K blocks)
  for (const [m, k, n, f16, act] of [[301, 300, 77, false, 'relu'], [256, 520, 64, true, 'none'], [7, 33, 9, false, 'relu6']] as const) {
    it(`m=${m} k=${k} n=${n} ${f16 ? 'f16' : 'f32'} weights, ${act}: same bits as one thread, all threads used`, async () => {
      const b = randomF32(k * n, 2);
      const w = f16 ? tk.f16.fromF32(b) : b;
      const packed = tk.dense.packMatmul(w, k, n, { bias: randomF32(n, 3), activation: act });
      const a = tk.tensorFrom(randomF32(m * k, 1));
      try {
        const r = await singleVsParallel(packed, a, m, n);
        if (m >= 4 * tk.dense.mr * 2) expect(r.tiles).toBeGreaterThan(1);
        expect(r.same).toBe(true);
      } finally {
        packed.dispose(); a.dispose();
      }
    });
  }

  // GEMV shapes split by columns (24-column ranges; f16 panels interleaved in groups of 3): n = 1000
  // (125 panels: last f16 group of 2 panels), 4100 (513 panels, last one partial), 1020 (both), m = 2 f16
  // (one GEMV per row), inf/NaN f16 weights (the exact widening), bias + activation on the edges
  for (const [m, k, n, f16, act, nonFinite] of [[1, 300, 1000, false, 'relu', false], [1, 300, 1000, true, 'relu6', false],
    [2, 70, 4100, true, 'none', false], [1, 512, 1020, true, 'relu', true], [1, 1024, 4096, false, 'none', false]] as const) {
    it(`GEMV m=${m} k=${k} n=${n} ${f16 ? 'f16' : 'f32'} weights${nonFinite ? ' with inf/NaN' : ''}, ${act}: column split, same bits as one thread`, async () => {
      const b = randomF32(k * n, 12);
      if (nonFinite) { b[5] = Infinity; b[k * n - 3] = NaN; }
      const w = f16 ? tk.f16.fromF32(b) : b;
      const packed = tk.dense.packMatmul(w, k, n, { bias: randomF32(n, 13), activation: act });
      const a = tk.tensorFrom(randomF32(m * k, 11));
      try {
        const r = await singleVsParallel(packed, a, m, n);
        expect(r.tiles).toBeGreaterThan(m); // split into column ranges
        expect(r.same).toBe(true);
      } finally {
        packed.dispose(); a.dispose();
      }
    });
  }

  it('a small GEMV (under PARALLEL_GEMV_MIN_MACS) runs as one call with the same bits', async () => {
    const k = 64, n = 100;
    const packed = tk.dense.packMatmul(randomF32(k * n, 14), k, n);
    const a = tk.tensorFrom(randomF32(k, 15));
    try {
      const r = await singleVsParallel(packed, a, 1, n);
      expect(r.tiles).toBe(0);
      expect(r.same).toBe(true);
    } finally {
      packed.dispose(); a.dispose();
    }
  });

  it('copying parallel.matmul equals tk.matmul', async () => {
    const m = 130, k = 70, n = 40;
    const a = randomF32(m * k, 5), b = randomF32(k * n, 6);
    expect(sameBits(await tk.parallel.matmul(a, b, m, k, n), tk.matmul(a, b, m, k, n))).toBe(true);
  });
});
