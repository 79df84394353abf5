// Threaded attention ((head, query-block) tiles across the pool) is bit-identical to tk.attention.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Tessera } from '../../bindings/index.js';
import { randomF32, sameBits } from '../helpers/tiers.js';


describe('threaded attention', () => {
  let tk: Tessera;
  beforeAll(async () => { tk = await init({ threads: 2, debug: true }); });
  afterAll(() => tk?.dispose());

  const cases = [
    { name: 'f32, 1 head (query rows split), seqK != seqQ', heads: 1, kvHeads: 1, seqQ: 300, seqK: 333, headDim: 64, causal: false, precision: 'f32' },
    { name: 'f32 causal GQA (3 heads on 1 KV head)', heads: 3, kvHeads: 1, seqQ: 130, seqK: 200, headDim: 32, causal: true, precision: 'f32' },
    { name: 'pasa (fp16, prepared KV), 2 heads', heads: 2, kvHeads: 2, seqQ: 150, seqK: 260, headDim: 64, causal: false, precision: 'pasa' },
    { name: 'naive f16, causal, f16 k/v', heads: 4, kvHeads: 2, seqQ: 64, seqK: 64, headDim: 16, causal: true, precision: 'f16', kv16: true },
    { name: 'f32 prefill, causal GQA, f16 k/v (read as halves by the tile kernel)', heads: 4, kvHeads: 2, seqQ: 100, seqK: 130, headDim: 36, causal: true, precision: 'f32', kv16: true },
    // seqQ = 1, f32, <= 8 query heads per KV head: the decode kernel (one call per KV head)
    { name: 'f32 decode MHA, 4 heads', heads: 4, kvHeads: 4, seqQ: 1, seqK: 300, headDim: 64, causal: true, precision: 'f32' },
    { name: 'f32 decode GQA 8/2', heads: 8, kvHeads: 2, seqQ: 1, seqK: 97, headDim: 12, causal: false, precision: 'f32' },
    { name: 'f32 decode GQA 6/2, f16 k/v (decode kernel reads halves)', heads: 6, kvHeads: 2, seqQ: 1, seqK: 97, headDim: 20, causal: false, precision: 'f32', kv16: true },
    { name: 'f32 decode MQA 12/1 (tile kernel: group > 8)', heads: 12, kvHeads: 1, seqQ: 1, seqK: 97, headDim: 32, causal: false, precision: 'f32' },
    // seqQ = 1, PASA, <= 8 query heads per KV head: the PASA decode kernel (one call per KV head, K' formed per block)
    { name: 'pasa decode GQA 8/2', heads: 8, kvHeads: 2, seqQ: 1, seqK: 300, headDim: 64, causal: false, precision: 'pasa' },
    { name: 'pasa decode MHA 3/3, f16 k/v', heads: 3, kvHeads: 3, seqQ: 1, seqK: 131, headDim: 20, causal: true, precision: 'pasa', kv16: true },
  ] as const;
  it('pasaDecode on a tk.pasaKVCache: same bits as cache.decode, more than one tile (MQA: the group\'s rows split); the cache is held while it runs', async () => {
    for (const [heads, kvHeads, d] of [[8, 8, 64], [12, 3, 20], [40, 1, 16]] as const) {
      const cap = 300, len = 257;
      const cache = tk.pasaKVCache({ heads, kvHeads, headDim: d, capacity: cap, blockK: 64 });
      const k = randomF32(kvHeads * len * d, 11, -2, 2), v = randomF32(kvHeads * len * d, 12);
      cache.append(k, v);
      const q = tk.tensorFrom(randomF32(heads * d, 13), [heads, 1, d]);
      const o1 = cache.decode(q);
      const before = tk.pool.stats.tiles;
      const pending = tk.parallel.pasaDecode(cache, q);
      // rows must not change under the tiles; dispose is deferred until they are done
      expect(() => cache.append(k.subarray(0, kvHeads * d), v.subarray(0, kvHeads * d))).toThrow(/parallel decode/);
      expect(() => cache.truncate(1)).toThrow(/parallel decode/);
      const o2 = await pending;
      try {
        expect(tk.pool.stats.tiles - before).toBeGreaterThan(1);
        expect(sameBits(o2.read(), o1.read())).toBe(true);
        cache.append(k.subarray(0, kvHeads * d), v.subarray(0, kvHeads * d)); // free again
        expect(cache.length).toBe(len + 1);
      } finally {
        for (const t of [q, o1, o2]) t.dispose();
        cache.dispose();
      }
    }
    const other = await init({ threads: 1 });
    const foreign = other.pasaKVCache({ heads: 1, headDim: 4, capacity: 2 });
    const q = tk.tensorFrom(new Float32Array(4));
    await expect(tk.parallel.pasaDecode(foreign, q)).rejects.toThrow(/another tessera instance/);
    await expect(tk.parallel.pasaDecode({} as never, q)).rejects.toThrow(/PasaKVCache/);
    q.dispose(); other.dispose();
  });

  for (const c of cases) {
    it(`${c.name}: same bits as one thread`, async () => {
      const o = { heads: c.heads, kvHeads: c.kvHeads, seqQ: c.seqQ, seqK: c.seqK, headDim: c.headDim, causal: c.causal, precision: c.precision };
      const qa = randomF32(c.heads * c.seqQ * c.headDim, 1, -2, 2);
      const ka = randomF32(c.kvHeads * c.seqK * c.headDim, 2, -2, 2), va = randomF32(c.kvHeads * c.seqK * c.headDim, 3);
      const kv16 = 'kv16' in c && c.kv16;
      const q = tk.tensorFrom(qa), k = kv16 ? tk.tensorFrom(tk.f16.fromF32(ka)) : tk.tensorFrom(ka), v = kv16 ? tk.tensorFrom(tk.f16.fromF32(va)) : tk.tensorFrom(va);
      const before = tk.pool.stats.tiles;
      const o1 = tk.attention(q, k, v, o);
      const o2 = await tk.parallel.attention(q, k, v, o);
      try {
        expect(tk.pool.stats.tiles - before).toBeGreaterThan(1);
        expect(sameBits(o2.read(), o1.read())).toBe(true);
      } finally {
        for (const t of [q, k, v, o1, o2]) t.dispose();
      }
    });
  }
});
