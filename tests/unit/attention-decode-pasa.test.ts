// The PASA decode kernel (assembly/attention/decode.ts, pasa_attn_decode_1x4__wasmsimd): seqQ = 1, precision 'pasa',
// <= 8 query heads per KV head; one PASA block of blockK keys per online-softmax step, K' formed per block instead of
// prepared for the whole cache. bindings/ops/attention.ts routes those calls to it (attentionInternals.decodeKernelPasa
// = false restores the path it replaced: attention_prep_kv over the whole cache, then the tile kernel).
import { describe, expect, it } from 'vitest';
import { attentionInternals } from '../../bindings/ops/attention.js';
import { refAttention, rms, rmse } from '../helpers/ref-attention.js';
import { refRoundHalf } from '../helpers/ref-f16.js';
import { randomF32, sameBits, tk } from '../helpers/tiers.js';
import { TIERS } from '../helpers/engine.js';

const u16 = 2 ** -11;

interface Shape { heads: number; kvHeads: number; seqK: number; d: number; cap: number; blockK: number; scale?: number; beta?: number }

function tilePath<T>(fn: () => T): T {
  attentionInternals.decodeKernelPasa = false;
  try { return fn(); } finally { attentionInternals.decodeKernelPasa = true; }
}

/**
 * Bound on |decode kernel − tile path| for one query head. The two compute the same PASA recurrence and the same K'
 * (attention_prep_kv's ops, bit for bit); they sum the q·K' dot products and the block's scores in other orders, so
 * a score S' = f16(q·K') may round to a neighbouring half in one of them (|ΔS'| ≤ 2 u16 |S'| counting both sides'
 * f32 error), and the block mean a_j moves by at most the mean of those flips, amplified by c = β/(1−β) in the logit.
 * A logit change within ±L changes each softmax weight by a factor within e^{±2L}, so the output moves by at most
 * V (e^{4L} − 1) (the 2× covers the numerator and the normaliser), plus one fp16 ulp each for the rounded P·V, the
 * rounded P and the rounded output (4 u16 V). S' is taken from an f64 emulation of K' (same roundings).
 */
function flipBound(q: Float32Array, k: Float32Array, v: Float32Array, s: Shape, h: number): number {
  const { d, seqK, blockK } = s, group = s.heads / s.kvHeads, g = Math.floor(h / group);
  const scale = s.scale ?? 1 / Math.sqrt(d), beta = s.beta ?? 31 / 32, c = beta / (1 - beta);
  let L = 0, V = 0;
  for (let c0 = 0; c0 < seqK; c0 += blockK) {
    const nv = Math.min(blockK, seqK - c0);
    const kbar = new Float64Array(d);
    for (let t = 0; t < nv; t++) for (let x = 0; x < d; x++) kbar[x] += refRoundHalf(k[(g * s.cap + c0 + t) * d + x]) / nv;
    let maxS = 0;
    for (let t = 0; t < nv; t++) {
      let acc = 0;
      for (let x = 0; x < d; x++) acc += refRoundHalf(q[h * d + x]) * refRoundHalf(scale * (refRoundHalf(k[(g * s.cap + c0 + t) * d + x]) - beta * kbar[x]));
      maxS = Math.max(maxS, Math.abs(acc));
      for (let x = 0; x < d; x++) V = Math.max(V, Math.abs(refRoundHalf(v[(g * s.cap + c0 + t) * d + x])));
    }
    L = Math.max(L, 2 * u16 * maxS * (1 + c) + 1e-6);
  }
  return V * Math.expm1(4 * L) + 4 * u16 * V;
}

describe('PASA decode kernel (seqQ = 1)', () => {
  for (const tier of TIERS) {
    it(`pasaStorage 'f32' (no fp16 rounding: the exact recurrence) equals the golden, relRMSE < 1e-4 as T13 of attention.test.ts; groups 1..8, blocks 4..192, tails, beta, frames [${tier}]`, async () => {
      const t = await tk(tier);
      let i = 0;
      for (const blockK of [4, 12, 64, 128, 192]) {
        for (const seqK of [1, 3, 5, blockK - 1, blockK, blockK + 1, 2 * blockK + 3, 333]) {
          if (seqK < 1) continue;
          const group = 1 + (i % 8), kvHeads = 1 + (i % 2), d = [4, 12, 64, 68, 128][i % 5];
          const beta = [0.5, 31 / 32, 0.9689941][i % 3], frame = i % 4 < 2 ? 'running' as const : 'first' as const;
          const heads = group * kvHeads, cap = seqK + (i % 3) * 5;
          // biased data (mean 3), so the shift and the frame recovery matter
          const q = randomF32(heads * d, 100 + i, 2, 4), k = randomF32(kvHeads * cap * d, 200 + i, 2, 4), v = randomF32(kvHeads * cap * d, 300 + i, -1, 1);
          for (let g = 0; g < kvHeads; g++) { k.fill(NaN, (g * cap + seqK) * d, (g + 1) * cap * d); v.fill(NaN, (g * cap + seqK) * d, (g + 1) * cap * d); } // never read
          const gold = refAttention(q, k, v, { heads, kvHeads, seqQ: 1, seqK, headDim: d, kvCapacity: cap });
          const o = t.attentionDecode(q, k, v, { heads, kvHeads, headDim: d, kvLength: seqK, precision: 'pasa', pasaStorage: 'f32', beta, pasaFrame: frame, blockK });
          const g = rms(gold);
          expect(rmse(o, gold) / g, `blockK ${blockK} seqK ${seqK} group ${group} kvHeads ${kvHeads} d ${d} beta ${beta} ${frame}`).toBeLessThan(1e-4);
          i++;
        }
      }
    });

    it(`fp16 PASA: the decode kernel agrees with the tile path within the S'-flip bound; unbiased and biased data, groups 1..8 [${tier}]`, async () => {
      const t = await tk(tier);
      let i = 0;
      for (const [blockK, seqK, d, bias] of [[128, 1000, 64, 0], [12, 301, 32, 5], [128, 77, 16, 0], [128, 1407, 128, 30], [4, 37, 8, 3], [64, 200, 68, 0]] as const) {
        const group = 1 + (i * 3) % 8, kvHeads = 1 + (i % 2), heads = group * kvHeads;
        const q = randomF32(heads * d, 10 + i), k = randomF32(kvHeads * seqK * d, 20 + i, bias - 2, bias + 2), v = randomF32(kvHeads * seqK * d, 30 + i);
        const s: Shape = { heads, kvHeads, seqK, d, cap: seqK, blockK };
        const opts = { heads, kvHeads, headDim: d, kvLength: seqK, precision: 'pasa' as const, blockK };
        const fast = t.attentionDecode(q, k, v, opts);
        const tile = tilePath(() => t.attentionDecode(q, k, v, opts));
        // Most outputs are bit-identical (97-100 % per case when written): the bound alone is too loose to notice a
        // missing fp16 rounding of P or P·V (one u16 each), this count does.
        let same = 0;
        for (let j = 0; j < fast.length; j++) if (Object.is(fast[j], tile[j])) same++;
        expect(same / fast.length, `case ${i}: bit-identical share`).toBeGreaterThanOrEqual(0.9);
        for (let h = 0; h < heads; h++) {
          const tol = flipBound(q, k, v, s, h);
          for (let x = 0; x < d; x++) {
            const a = fast[h * d + x], b = tile[h * d + x];
            expect(Math.abs(a - b), `case ${i} head ${h} [${x}]: ${a} vs ${b}, tol ${tol}`).toBeLessThanOrEqual(tol);
          }
        }
        i++;
      }
    });

    it(`f16 q / k / v holding the same halves as f32 inputs give the same bits; tensor and array forms agree [${tier}]`, async () => {
      const t = await tk(tier);
      const H = 6, KH = 2, S = 259, d = 20;
      const q = randomF32(H * d, 1, -2, 2), k = randomF32(KH * S * d, 2, 1, 3), v = randomF32(KH * S * d, 3);
      const opts = { heads: H, kvHeads: KH, headDim: d, kvLength: S, precision: 'pasa' as const, blockK: 64 };
      const o32 = t.attentionDecode(q, k, v, opts);
      const q16 = t.f16.fromF32(q), k16 = t.f16.fromF32(k), v16 = t.f16.fromF32(v);
      expect(sameBits(t.attentionDecode(q16, k16, v16, opts), o32)).toBe(true);
      expect(sameBits(t.attentionDecode(q, k16, v16, opts), o32)).toBe(true);
      const qt = t.tensorFrom(q16, [H, 1, d]), kt = t.tensorFrom(k16, [KH, S, d]), vt = t.tensorFrom(v16, [KH, S, d]);
      try {
        const before = t.arena.stats().usedBytes;
        t.arena.resetPeak();
        const ot = t.attentionDecode(qt, kt, vt, opts);
        // the output tensor plus the kernel's scratch (from d, the group and blockK: independent of seqK)
        expect(t.arena.stats().peakBytes - before).toBeLessThanOrEqual(H * d * 4 + t.kernels.pasa_attn_decode_scratch_bytes(d, H / KH, 64) + 256);
        expect(sameBits(ot.read(), o32)).toBe(true);
        ot.dispose();
      } finally {
        for (const x of [qt, kt, vt]) x.dispose();
      }
      expect(t.kernels.pasa_attn_decode_scratch_bytes(128, 8, 128)).toBeLessThan(90_000);
    });

    it(`a tail block whose scores are all far below 0: the lanes past nv stay out of the block max (regression) [${tier}]`, async () => {
      const t = await tk(tier);
      // one block of 3 keys (blockK 4): S' ~ -200 for every key, while the 4th lane of the key group holds 0; a max over
      // all 4 lanes would take m_loc = 0, and every P = f16(exp(S' - 0)) would underflow to 0 (output 0)
      const q = Float32Array.of(1, 0, 0, 0), v = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
      for (const k of [Float32Array.of(-6400, 0, 0, 0, -6404, 0, 0, 0, -6408, 0, 0, 0), Float32Array.of(0, 0, 0, 0, -240, 0, 0, 0, 240, 0, 0, 0)]) {
        const opts = { heads: 1, headDim: 4, kvLength: 3, precision: 'pasa' as const, blockK: 4, scale: 1 };
        const o = t.attentionDecode(q, k, v, opts);
        expect(sameBits(o, tilePath(() => t.attentionDecode(q, k, v, opts)))).toBe(true);
        const gold = refAttention(q, k, v, { heads: 1, seqQ: 1, seqK: 3, headDim: 4, scale: 1 });
        for (let x = 0; x < 4; x++) expect(Math.abs(o[x] - gold[x]), `[${x}] ${o[x]} vs ${gold[x]}`).toBeLessThan(0.02 * 12);
        expect(o.some((x) => x !== 0)).toBe(true);
      }
    });

    it(`non-finite values: NaN in a K row makes the rows that see its block NaN (pasa.md §5); NaN / Inf in v reach the output [${tier}]`, async () => {
      const t = await tk(tier);
      const H = 2, d = 8, S = 40, bk = 16;
      const q = randomF32(H * d, 4), k = randomF32(S * d, 5), v = randomF32(S * d, 6);
      const opts = { heads: H, kvHeads: 1, headDim: d, kvLength: S, precision: 'pasa' as const, blockK: bk };
      const kn = k.slice(); kn[20 * d + 3] = NaN; // block 1
      expect(t.attentionDecode(q, kn, v, opts).every(Number.isNaN)).toBe(true);
      const vn = v.slice(); vn[33 * d] = NaN; vn[33 * d + 1] = Infinity;
      const o = t.attentionDecode(q, k, vn, opts);
      for (let h = 0; h < H; h++) {
        expect(Number.isNaN(o[h * d])).toBe(true);
        expect(o[h * d + 1]).toBe(Infinity);
        expect(o.subarray(h * d + 2, (h + 1) * d).every(Number.isFinite)).toBe(true);
      }
      // both agree with the tile path on these
      expect(sameBits(tilePath(() => t.attentionDecode(q, k, vn, opts)), o)).toBe(true);
    });
  }
});
