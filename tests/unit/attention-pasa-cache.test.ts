// tk.pasaKVCache (bindings/ops/pasa-cache.ts): K' prepared block by block as rows are appended, decode over the
// prepared halves. Its contract is to give exactly what tk.attentionDecode(..., { precision: 'pasa' }) gives on the
// same rows (which attention-decode-pasa.test.ts checks against the golden and the tile path), so most checks here
// are bit-for-bit comparisons with that call.
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, DisposedError, OutOfMemoryError, ShapeError, init, type Tessera } from '../../bindings/index.js';
import { randomF32, sameBits, tk } from '../helpers/tiers.js';
import { HAS_RELAXED, TIERS } from '../helpers/engine.js';

/** rows [from, from + n) of every KV head of a [kvHeads][cap][d] array, as [kvHeads][n][d] */
function rowsOf(a: Float32Array, kvHeads: number, cap: number, d: number, from: number, n: number): Float32Array {
  const o = new Float32Array(kvHeads * n * d);
  for (let g = 0; g < kvHeads; g++) o.set(a.subarray((g * cap + from) * d, (g * cap + from + n) * d), g * n * d);
  return o;
}

function stateless(t: Tessera, q: Float32Array | Uint16Array, k: Float32Array, v: Float32Array, heads: number, kvHeads: number, d: number, len: number, blockK: number,
  extra: { scale?: number; beta?: number; pasaFrame?: 'running' | 'first' } = {}): Float32Array {
  return t.attentionDecode(q, k, v, { heads, kvHeads, headDim: d, kvLength: len, precision: 'pasa', blockK, ...extra });
}

describe('PASA KV cache', () => {
  for (const tier of TIERS) {
    it(`decode equals attentionDecode(precision 'pasa') bit for bit while rows are appended across block boundaries; MHA, GQA, MQA; f32 and f16 rows, tensors, options [${tier}]`, async () => {
      const t = await tk(tier);
      const cases = [
        { heads: 4, kvHeads: 4, d: 64, blockK: 128, cap: 700, extra: {} }, // MHA: K' and V widened in registers
        { heads: 8, kvHeads: 2, d: 20, blockK: 12, cap: 300, extra: { pasaFrame: 'first' as const } },
        { heads: 6, kvHeads: 2, d: 132, blockK: 64, cap: 260, extra: { scale: 0.3, beta: 0.9 } },
        { heads: 8, kvHeads: 1, d: 8, blockK: 4, cap: 90, extra: {} },
        // groups above 8 query heads per KV head: the tile kernel on the cache's K' / V16 halves (attentionDecode: on
        // K' / V16 it forms from the raw rows); d % 8 == 4 exercises the widening's 4-half tail
        { heads: 16, kvHeads: 1, d: 36, blockK: 32, cap: 200, extra: {} },
        { heads: 20, kvHeads: 2, d: 12, blockK: 8, cap: 100, extra: { pasaFrame: 'first' as const, scale: 0.7 } },
      ];
      let seed = 1;
      for (const c of cases) {
        const { heads, kvHeads, d, blockK, cap, extra } = c;
        const K = randomF32(kvHeads * cap * d, seed++, 1, 5), V = randomF32(kvHeads * cap * d, seed++);
        const cache = t.pasaKVCache({ heads, kvHeads, headDim: d, capacity: cap, blockK, ...extra });
        try {
          let len = 0, step = 0;
          for (const n of [1, 1, 2, blockK - 4 > 0 ? blockK - 4 : 1, 1, blockK + 3, 1, 7, 2 * blockK, 1]) {
            if (len + n > cap) break;
            const kr = rowsOf(K, kvHeads, cap, d, len, n), vr = rowsOf(V, kvHeads, cap, d, len, n);
            // alternate the row forms: f32 arrays, f16 bits, f32 tensors (all the same halves after rounding)
            if (step % 3 === 0) cache.append(kr, vr);
            else if (step % 3 === 1) cache.append(t.f16.fromF32(kr), t.f16.fromF32(vr));
            else {
              const kt = t.tensorFrom(kr), vt = t.tensorFrom(vr);
              try { cache.append(kt, vt); } finally { kt.dispose(); vt.dispose(); }
            }
            len += n;
            expect(cache.length).toBe(len);
            const q = randomF32(heads * d, 1000 + step, -2, 2);
            const want = stateless(t, q, K, V, heads, kvHeads, d, len, blockK, extra);
            expect(sameBits(cache.decode(q), want), `${JSON.stringify(c)} after ${len} rows`).toBe(true);
            // f16 q and the tensor form
            const q16 = t.f16.fromF32(q);
            const qt = t.tensorFrom(q16, [heads, 1, d]);
            try {
              const ot = cache.decode(qt);
              expect(sameBits(ot.read(), stateless(t, q16, K, V, heads, kvHeads, d, len, blockK, extra))).toBe(true);
              ot.dispose();
            } finally { qt.dispose(); }
            step++;
          }
          // roll back into the middle of a block, then grow again: K' of that block is rebuilt from the kept keys
          const back = Math.max(1, len - Math.floor(blockK / 2) - 3);
          cache.truncate(back);
          const q = randomF32(heads * d, 77, -2, 2);
          expect(sameBits(cache.decode(q), stateless(t, q, K, V, heads, kvHeads, d, back, blockK, extra))).toBe(true);
          const K2 = K.slice(), n2 = Math.min(5, cap - back);
          for (let i = 0; i < K2.length; i++) K2[i] = -K2[i]; // different rows after the rollback point
          for (let g = 0; g < kvHeads; g++) K2.set(K.subarray(g * cap * d, (g * cap + back) * d), g * cap * d);
          cache.append(rowsOf(K2, kvHeads, cap, d, back, n2), rowsOf(V, kvHeads, cap, d, back, n2));
          expect(sameBits(cache.decode(q), stateless(t, q, K2, V, heads, kvHeads, d, back + n2, blockK, extra))).toBe(true);
        } finally {
          cache.dispose();
        }
      }
    });

    it(`groups above 8 query heads per KV head (tile kernel): rows are independent, so any split of the heads gives the same bits [${tier}]`, async () => {
      const t = await tk(tier);
      const d = 16, cap = 150, len = 140;
      const K = randomF32(cap * d, 3, -3, 3), V = randomF32(cap * d, 4);
      const big = t.pasaKVCache({ heads: 40, kvHeads: 1, headDim: d, capacity: cap, blockK: 32 });
      const head24 = t.pasaKVCache({ heads: 24, kvHeads: 1, headDim: d, capacity: cap, blockK: 32 });
      const head16 = t.pasaKVCache({ heads: 16, kvHeads: 1, headDim: d, capacity: cap, blockK: 32 });
      try {
        for (const c of [big, head24, head16]) c.append(K.subarray(0, len * d), V.subarray(0, len * d));
        const q = randomF32(40 * d, 5, -2, 2);
        const o = big.decode(q);
        expect(sameBits(o.subarray(0, 24 * d), head24.decode(q.subarray(0, 24 * d)))).toBe(true);
        expect(sameBits(o.subarray(24 * d), head16.decode(q.subarray(24 * d)))).toBe(true);
        expect(sameBits(o.subarray(0, 16 * d), head16.decode(q.subarray(0, 16 * d)))).toBe(true);
        // and the threaded split (parallel.pasaDecode chunks an MQA group's rows across the workers) in its own test
      } finally {
        for (const c of [big, head24, head16]) c.dispose();
      }
    });

    it(`the threaded split of a large group: even chunks of >= 8 rows covering the group once, only with fewer KV heads than threads [${tier}]`, async () => {
      const t = await tk(tier);
      for (const [heads, kvHeads] of [[9, 1], [16, 1], [49, 1], [57, 1], [65, 1], [40, 2], [36, 4]] as const) {
        const c = t.pasaKVCache({ heads, kvHeads, headDim: 8, capacity: 4 });
        try {
          c.append(randomF32(kvHeads * 8, 1), randomF32(kvHeads * 8, 2));
          const group = heads / kvHeads;
          for (const parts of [1, 2, 3, 6, 8]) {
            const { calls } = c._decodeCalls(0, 'f32', 0, parts);
            const rows = calls.map((x) => x[6]); // attention_fwd's s1: the chunk's query rows
            const perHead = rows.length / kvHeads;
            expect(rows.reduce((a, b) => a + b, 0)).toBe(heads);
            expect(perHead).toBe(Math.max(1, Math.min(Math.ceil(parts / kvHeads), Math.floor(group / 8))));
            if (perHead > 1) expect(Math.min(...rows)).toBeGreaterThanOrEqual(8);
            expect(Math.max(...rows) - Math.min(...rows)).toBeLessThanOrEqual(1);
          }
        } finally {
          c.dispose();
        }
      }
    });

    it(`bad input is a typed error and leaves the cache unchanged; memory: fixed tensors, nothing leaks per call [${tier}]`, async () => {
      const t = await tk(tier);
      const d = 8, cap = 20;
      const base0 = t.arena.stats().usedBytes;
      expect(() => t.pasaKVCache({ heads: 3, kvHeads: 2, headDim: d, capacity: cap })).toThrow(ShapeError);
      expect(() => t.pasaKVCache({ heads: 2, headDim: 6, capacity: cap })).toThrow(ShapeError);
      expect(() => t.pasaKVCache({ heads: 2, headDim: d, capacity: 0 })).toThrow(ShapeError);
      expect(() => t.pasaKVCache({ heads: 2, headDim: d, capacity: 2 ** 53 - 1 })).toThrow(ShapeError);
      expect(() => t.pasaKVCache({ heads: 2, headDim: d, capacity: 2 ** 26 })).toThrow(OutOfMemoryError); // 3 x 2 GiB of halves
      for (const n of [1, 2, 3]) { // the 2nd, 3rd or 4th of its blocks fails (injected)
        t.arena.failAfter(n);
        try { expect(() => t.pasaKVCache({ heads: 2, headDim: d, capacity: cap })).toThrow(OutOfMemoryError); } finally { t.arena.failAfter(null); }
      }
      expect(() => t.pasaKVCache({ heads: 2, headDim: d, capacity: cap, blockK: 6 })).toThrow(ArgumentError);
      expect(() => t.pasaKVCache({ heads: 2, headDim: d, capacity: cap, pasaStorage: 'f32' } as never)).toThrow(ArgumentError);
      const base = t.arena.stats().usedBytes;
      expect(base).toBe(base0); // a constructor that failed part-way freed what it had allocated
      const cache = t.pasaKVCache({ heads: 2, headDim: d, capacity: cap, blockK: 8 });
      const held = t.arena.stats().usedBytes - base;
      expect(held).toBeGreaterThanOrEqual(3 * 2 * cap * d * 2 + 2 * d * 4); // keys, K', values as halves + the K' rebuild's scratch
      expect(held).toBeLessThanOrEqual(3 * (2 * cap * d * 2 + 128) + 2 * d * 4 + 144); // + alignment and block rounding per tensor
      const K = randomF32(2 * cap * d, 8), V = randomF32(2 * cap * d, 9);
      expect(() => cache.decode(new Float32Array(2 * d))).toThrow(ShapeError); // empty
      cache.append(rowsOf(K, 2, cap, d, 0, 15), rowsOf(V, 2, cap, d, 0, 15));
      const q = randomF32(2 * d, 10);
      const before = cache.decode(q);
      const used = t.arena.stats().usedBytes;
      expect(() => cache.append(rowsOf(K, 2, cap, d, 0, 6), rowsOf(V, 2, cap, d, 0, 6))).toThrow(ShapeError); // 21 > capacity
      expect(() => cache.append(new Float32Array(2 * d), new Float32Array(4 * d))).toThrow(ShapeError);
      expect(() => cache.append(new Float32Array(2 * d + 4), new Float32Array(2 * d + 4))).toThrow(ShapeError);
      expect(() => cache.append(new Float64Array(2 * d) as never, new Float32Array(2 * d))).toThrow(DTypeError);
      expect(() => cache.append(new Float32Array(0), new Float32Array(0))).toThrow(ShapeError);
      expect(() => cache.decode(new Float32Array(3 * d))).toThrow(ShapeError);
      expect(() => cache.decode(new Int32Array(2 * d) as never)).toThrow(DTypeError);
      const wrong = t.tensor('i32', [2 * d]);
      expect(() => cache.decode(wrong as never)).toThrow(DTypeError);
      wrong.dispose();
      for (const bad of [-1, 16, 1.5, NaN]) expect(() => cache.truncate(bad)).toThrow(ShapeError);
      expect(cache.length).toBe(15);
      expect(sameBits(cache.decode(q), before)).toBe(true);
      expect(t.arena.stats().usedBytes).toBe(used); // decode and the rejected calls allocate nothing that stays
      // out of memory (injected): f32 rows are converted before anything changes (the error leaves the cache as it was);
      // f16 rows and truncate allocate nothing (the K' rebuild uses the cache's own scratch), so they cannot fail midway
      t.arena.failAfter(0);
      try {
        expect(() => cache.append(rowsOf(K, 2, cap, d, 15, 2), rowsOf(V, 2, cap, d, 15, 2))).toThrow(OutOfMemoryError);
      } finally { t.arena.failAfter(null); }
      expect(cache.length).toBe(15);
      expect(sameBits(cache.decode(q), before)).toBe(true);
      const k16 = t.f16.fromF32(rowsOf(K, 2, cap, d, 15, 2)), v16 = t.f16.fromF32(rowsOf(V, 2, cap, d, 15, 2));
      t.arena.failAfter(0);
      try {
        cache.append(k16, v16);
        cache.truncate(11);
      } finally { t.arena.failAfter(null); }
      expect(sameBits(cache.decode(q), stateless(t, q, K, V, 2, 2, d, 11, 8))).toBe(true);
      cache.append(rowsOf(K, 2, cap, d, 11, 4), rowsOf(V, 2, cap, d, 11, 4));
      expect(sameBits(cache.decode(q), before)).toBe(true);
      expect(() => t.pasaKVCache({ heads: 1, headDim: 16388, capacity: 1 })).toThrow(ShapeError); // scratch sizes must fit i32
      const other = HAS_RELAXED ? await tk(tier === 'simd128' ? 'relaxed' : 'simd128') : await init({ simd: tier }); // a tensor of another instance
      const foreign = other.tensorFrom(q);
      expect(() => cache.decode(foreign)).toThrow(ArgumentError);
      foreign.dispose();
      cache.dispose();
      cache.dispose(); // idempotent
      expect(t.arena.stats().usedBytes).toBe(base);
      expect(() => cache.decode(q)).toThrow(DisposedError);
      expect(() => cache.append(K, V)).toThrow(DisposedError);
    });
  }
});
