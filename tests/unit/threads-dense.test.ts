// Threaded dense GEMM (row panels of C across the pool) is bit-identical to the single-thread GEMM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Tessera } from '../../bindings/index.js';
import { randomF32, sameBits } from '../helpers/tiers.js';


describe('threaded dense GEMM', () => {
  let tk: Tessera;
  beforeAll(async () => { tk = await init({ threads: 2, debug: true }); });
  afterAll(() => tk?.dispose());

  // odd m (edge row panel), n not a multiple of 8 (edge column panel), k > KC (several K blocks)
  for (const [m, k, n, f16, act] of [[301, 300, 77, false, 'relu'], [256, 520, 64, true, 'none'], [7, 33, 9, false, 'relu6']] as const) {
    it(`m=${m} k=${k} n=${n} ${f16 ? 'f16' : 'f32'} weights, ${act}: same bits as one thread, all threads used`, async () => {
      const b = randomF32(k * n, 2);
      const w = f16 ? tk.f16.fromF32(b) : b;
      const packed = tk.dense.packMatmul(w, k, n, { bias: randomF32(n, 3), activation: act });
      const a = tk.tensorFrom(randomF32(m * k, 1));
      const c1 = tk.tensor('f32', [m * n]), c2 = tk.tensor('f32', [m * n]);
      try {
        c1.view().fill(1); c2.view().fill(2);
        packed.run(a, c1, m);
        const before = tk.pool.stats.tiles;
        await tk.parallel.matmulRun(packed, a, c2, m);
        if (m >= 4 * tk.dense.mr * 2) expect(tk.pool.stats.tiles - before).toBeGreaterThan(1);
        expect(sameBits(c2.read(), c1.read())).toBe(true);
      } finally {
        packed.dispose(); a.dispose(); c1.dispose(); c2.dispose();
      }
    });
  }

  it('copying parallel.matmul equals tk.matmul', async () => {
    const m = 130, k = 70, n = 40;
    const a = randomF32(m * k, 5), b = randomF32(k * n, 6);
    expect(sameBits(await tk.parallel.matmul(a, b, m, k, n), tk.matmul(a, b, m, k, n))).toBe(true);
  });
});
