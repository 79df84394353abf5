// Attention: f32 flash, naive fp16, PASA and PASA-faithful against a float64 golden
// (softmax(Q K^T * scale) V on the same rounded inputs, tests/helpers/ref-attention.ts), the pasa.md §6
// cases, GQA, decode / KV cache, tails, masking, typed errors, memory, and simd128 vs relaxed.
//
// About the pasa.md §6 bounds: they were measured with the authors' numpy generator; ours draws the same
// distributions from a different PRNG (mulberry32, tests/helpers/tiers.ts), so single seeds differ from
// their per-seed numbers, but every bound below is the pasa.md bound, unchanged.
// Runtime: every case runs in both projects (Node and Chromium); the goldens are cached per dataset.
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, ShapeError, type Tessera } from '../../bindings/index.js';
import type { AttentionOptions } from '../../bindings/index.js';
import { attentionInternals } from '../../bindings/ops/attention.js';
import { ABI } from '../../bindings/abi.js';
import { f16round } from '@petamoriken/float16';
import {
  allFinite, countNonFinite, genHybrid, genUniform, refAttention, rms, rmse, roundF16Array, type RefShape,
} from '../helpers/ref-attention.js';
import { randomF32, rng, sameBits, tk } from '../helpers/tiers.js';
import { HAS_RELAXED, TIERS } from '../helpers/engine.js';

const D = 128;
const TAU = 1 / Math.sqrt(D);

/** Lazily computed datasets + goldens shared by both tiers. */
const cache = new Map<string, unknown>();
function memo<T>(key: string, f: () => T): T {
  if (!cache.has(key)) cache.set(key, f());
  return cache.get(key) as T;
}

interface Case { q: Float32Array; k: Float32Array; v: Float32Array; shape: RefShape; gold: Float64Array }
function makeCase(key: string, gen: (n: number, seed: number) => Float32Array, s1: number, s2: number, causal = false, vgen = gen): Case {
  return memo(key, () => {
    const q = gen(s1 * D, 11), k = gen(s2 * D, 12), v = vgen(s2 * D, 13);
    const shape = { heads: 1, seqQ: s1, seqK: s2, headDim: D, causal };
    return { q, k, v, shape, gold: refAttention(q, k, v, shape) };
  });
}
const uni = (mean: number, am: number) => (n: number, seed: number) => genUniform(n, seed, mean, am);

function run(t: Tessera, c: Case, precision: AttentionOptions['precision'], extra: Partial<AttentionOptions> = {}): Float32Array {
  return t.attention(c.q, c.k, c.v, { ...c.shape, precision, ...extra });
}
/** naive_pre (pasa.md §3.2): fp16 FA with Q pre-scaled by tau = our 'f16' kernel on f16(q*tau) with scale 1. */
function naivePre(t: Tessera, c: Case): Float32Array {
  const qs = roundF16Array(c.q.map((x) => x * TAU));
  return t.attention(qs, c.k, c.v, { ...c.shape, precision: 'f16', scale: 1 });
}

describe('attention building blocks', () => {
  for (const tier of TIERS) {
    it(`vectorised exp: <= 4e-7 relative on [-87, 0]; -inf -> 0, NaN -> NaN, 0 -> 1 [${tier}]`, async () => {
      const t = await tk(tier);
      const n = 1 << 16;
      const x = new Float32Array(n);
      for (let i = 0; i < n - 8; i++) x[i] = -87 * (i / (n - 8)) + (i % 13) * 1e-4;
      x.set([0, -0, -Infinity, NaN, -1e-30, -87.3, -88, -200], n - 8);
      const y = t.run(() => {
        const p = t.arena.alloc(n * 4), o = t.arena.alloc(n * 4);
        t.memory.f32.set(x, p >> 2);
        t.kernels.f32_vexp__wasmsimd_u4(p, o, n);
        return t.memory.f32.slice(o >> 2, (o >> 2) + n);
      });
      let worst = 0;
      for (let i = 0; i < n - 8; i++) worst = Math.max(worst, Math.abs(y[i] / Math.exp(x[i]) - 1));
      // degree-4 minimax fit (9.5e-8 in exact arithmetic) + a few f32 roundings; measured 1.9e-7
      expect(worst).toBeLessThan(4e-7);
      const sp = y.slice(n - 8);
      expect([sp[0], sp[1], sp[2], sp[4], sp[6], sp[7]]).toEqual([1, 1, 0, 1, 0, 0]); // -88 and -200 are below the normal range: 0
      expect(Number.isNaN(sp[3])).toBe(true);
      // exp(-87.3) = 1.19e-38 is just above the smallest normal, but 2^-126 * (1 + t p) with (1 + t p) < 1 lands in
      // the subnormal range, where f32 keeps fewer bits: 1e-5 relative there
      expect(Math.abs(sp[5] / Math.exp(-87.3) - 1)).toBeLessThan(1e-5);
    });

    it(`fast in-f32 fp16 rounding is bit-identical to tk.f16.round (ties, random bits) [${tier}]`, async () => {
      const t = await tk(tier);
      const n = 1 << 19;
      const u = new Uint32Array(n);
      const r = rng(77);
      for (let i = 0; i < n; i++) {
        u[i] = (r() * 4294967296) >>> 0;
      }
      // exact f16 ties and their neighbours at every f32 exponent
      for (let i = 0; i < 1 << 16; i++) u[i] = (((i & 0x7fff) << 13) | 0x1000 | ((i & 0x8000) << 16)) >>> 0;
      for (let i = 0; i < 1 << 16; i++) u[(1 << 16) + i] = (u[i] + ((i & 1) ? 1 : -1)) >>> 0;
      const x = new Float32Array(u.buffer);
      const want = t.f16.round(x);
      const got = t.run(() => {
        const p = t.arena.alloc(n * 4);
        t.memory.f32.set(x, p >> 2);
        t.kernels.f32_f16round_fast__wasmsimd_u4(p, n);
        return t.memory.f32.slice(p >> 2, (p >> 2) + n);
      });
      let bad = 0;
      for (let i = 0; i < n; i++) if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) bad++;
      expect(bad).toBe(0);
    });

    it(`fp16 rounding of probabilities (x in [0, 1], the exp pass) is bit-identical to tk.f16.round [${tier}]`, async () => {
      const t = await tk(tier);
      // every f32 in [0, 1] whose low 12 bits are 0x000, 0x001, 0xfff or a tie (0x1000 +- 1): each fp16 rounding
      // boundary of the range, with random bits in between, plus 0, 1 and NaN
      const r = rng(78);
      const u: number[] = [0, 0x3f800000, 0x7fc00000];
      for (let hi = 0; hi <= 0x3f800000 >>> 13; hi++) {
        const b = hi << 13;
        for (const lo of [0, 1, 0xfff, 0x1000, 0x1001, 0x1fff, (r() * 0x2000) >>> 0]) if (b + lo <= 0x3f800000) u.push(b + lo);
      }
      while (u.length % 4) u.push(0);
      const x = new Float32Array(new Uint32Array(u).buffer);
      const want = t.f16.round(x);
      const got = t.run(() => {
        const p = t.arena.alloc(x.length * 4);
        t.memory.f32.set(x, p >> 2);
        t.kernels.f32_f16round_unit__wasmsimd_u4(p, x.length);
        return t.memory.f32.slice(p >> 2, (p >> 2) + x.length);
      });
      let bad = 0;
      for (let i = 0; i < x.length; i++) if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) bad++;
      expect(bad).toBe(0);
    });
  }
});

describe('attention accuracy vs float64 golden (random shapes)', () => {
  const shapes: (RefShape & { name: string })[] = [
    { name: 'MHA 3 heads, S1=37 S2=53, d=64', heads: 3, seqQ: 37, seqK: 53, headDim: 64 },
    { name: 'GQA 8/2, causal S1=S2=70, d=128', heads: 8, kvHeads: 2, seqQ: 70, seqK: 70, headDim: 128, causal: true },
    { name: 'MQA 4/1, causal S1=29 < S2=131, d=8', heads: 4, kvHeads: 1, seqQ: 29, seqK: 131, headDim: 8, causal: true },
    { name: 'causal S1=100 > S2=30 (fully masked rows), d=4', heads: 1, seqQ: 100, seqK: 30, headDim: 4, causal: true },
    { name: 'decode S1=1, S2=257, d=68, kvCapacity 300', heads: 2, seqQ: 1, seqK: 257, headDim: 68, kvCapacity: 300 },
    { name: 'tails S1=S2=129, d=64', heads: 1, seqQ: 129, seqK: 129, headDim: 64 },
  ];
  for (const tier of TIERS) {
    for (const s of shapes) {
      it(`${s.name} [${tier}]`, async () => {
        const t = await tk(tier);
        const kvh = s.kvHeads ?? s.heads, cap = s.kvCapacity ?? s.seqK;
        const q = randomF32(s.heads * s.seqQ * s.headDim, 1), k = randomF32(kvh * cap * s.headDim, 2), v = randomF32(kvh * cap * s.headDim, 3, -2, 2);
        const opts = { heads: s.heads, kvHeads: s.kvHeads, seqQ: s.seqQ, seqK: s.seqK, headDim: s.headDim, causal: s.causal, kvCapacity: s.kvCapacity };
        const gold = refAttention(q, k, v, s);
        const g16 = refAttention(roundF16Array(q), roundF16Array(k), roundF16Array(v), s);
        const scaleV = 2; // max |v|
        // f32: each output is a convex combination of v rows computed in f32: error ~ a few ulp of |v|
        const o32 = t.attention(q, k, v, { ...opts, precision: 'f32' });
        let worst = 0;
        for (let i = 0; i < o32.length; i++) worst = Math.max(worst, Math.abs(o32[i] - gold[i]));
        expect(worst).toBeLessThan(2e-6 * scaleV);
        // fp16 modes against the golden on fp16-rounded inputs: outputs are fp16 (|o| <= 2: spacing <= 2^-10),
        // P and P.V are fp16 too, so a few fp16 ulps: RMSE < 2e-3, and every output finite
        for (const precision of ['pasa', 'pasa-faithful', 'f16'] as const) {
          const o = t.attention(q, k, v, { ...opts, precision });
          expect(allFinite(o)).toBe(true);
          expect(rmse(o, g16)).toBeLessThan(2e-3);
        }
        // the exact PASA recurrence in f32 (no fp16 rounding)
        const oe = t.attention(q, k, v, { ...opts, precision: 'pasa', pasaStorage: 'f32' });
        let w2 = 0;
        for (let i = 0; i < oe.length; i++) w2 = Math.max(w2, Math.abs(oe[i] - gold[i]));
        expect(w2).toBeLessThan(2e-6 * scaleV * 4); // the frame shifts add a few f32 roundings of the logits
        if (s.causal && s.seqQ > s.seqK) {
          // rows with no visible key (r + S2 - S1 < 0) are exactly 0 in every precision
          const dead = (s.seqQ - s.seqK) * s.headDim;
          for (const precision of ['f32', 'pasa', 'pasa-faithful', 'f16'] as const) {
            const o = t.attention(q, k, v, { ...opts, precision });
            expect(o.subarray(0, dead).every((x) => x === 0)).toBe(true);
          }
        }
      });
    }
  }
});

describe('attention: 4-row tiles on the relaxed tier (FLAG_TILE4, chosen under explicit bounds checks)', () => {
  // the key-tile height only changes how keys are grouped for the GEMMs: every score and every P.V sum
  // keeps its order, so the outputs are the same bits (causal diagonal blocks and padded key groups included)
  it('give the same bits as the 6-row tiles for f32, f16, pasa and pasa-faithful, causal or not, odd shapes', async () => {
    const { init } = await import('../../bindings/index.js');
    const a = await tk(TIERS[TIERS.length - 1]);
    const b = await init({ simd: a.features.tier, boundsChecks: 'explicit' });
    expect(b.features.boundsChecks).toBe('explicit');
    try {
      const cases: [number, number, number, number, boolean, AttentionOptions['precision'], number, number][] = [
        [2, 37, 37, 64, false, 'f32', 48, 72], [1, 100, 130, 32, true, 'f32', 48, 72], [2, 64, 64, 64, true, 'pasa', 48, 128],
        [1, 9, 50, 16, false, 'f16', 8, 4], [3, 1, 77, 64, false, 'f32', 48, 72], [1, 130, 130, 128, true, 'pasa-faithful', 24, 128],
        [2, 25, 31, 8, true, 'f32', 16, 12], [1, 5, 7, 4, false, 'pasa', 8, 4]];
      for (const [i, [H, S1, S2, d, causal, precision, blockQ, blockK]] of cases.entries()) {
        const q = randomF32(H * S1 * d, 700 + 3 * i, -2, 2), k = randomF32(H * S2 * d, 701 + 3 * i, -2, 2), v = randomF32(H * S2 * d, 702 + 3 * i, -2, 2);
        const o = { heads: H, seqQ: S1, seqK: S2, headDim: d, causal, precision, blockQ, blockK };
        expect(b.attention(q, k, v, o), `${precision} H${H} ${S1}x${S2} d${d}${causal ? ' causal' : ''}`).toEqual(a.attention(q, k, v, o));
      }
    } finally {
      b.dispose();
    }
  });
});

describe('attention: causal, non-finite v of masked keys never reaches a row', () => {
  // Regression: P is exactly 0 for a masked (row, key) pair, but 0 * NaN = 0 * Inf = NaN, so the P.V step of a
  // diagonal key block must not read the v rows of keys a query row cannot see. One poisoned v row (NaN, +Inf,
  // -Inf in dims 0..2, finite elsewhere) per run at key t; rows r with t > r + S2 - S1 cannot see it.
  const shapes: (RefShape & { name: string; blockQ?: number; blockK?: number; keys: number[] })[] = [
    { name: 'S1=S2=70, GQA 8/2, d=64', heads: 8, kvHeads: 2, seqQ: 70, seqK: 70, headDim: 64, causal: true, keys: [1, 35, 69] },
    { name: 'S1=29 < S2=131, MQA 4/1, d=8, blocks 16x32', heads: 4, kvHeads: 1, seqQ: 29, seqK: 131, headDim: 8, causal: true, blockQ: 16, blockK: 32, keys: [103, 117, 130] },
    { name: 'S1=100 > S2=30, d=4 (fully masked rows)', heads: 1, seqQ: 100, seqK: 30, headDim: 4, causal: true, keys: [0, 13, 29] },
    { name: 'S1=S2=129 tails, d=68, blocks 24x20, kvCapacity 133', heads: 2, seqQ: 129, seqK: 129, headDim: 68, causal: true, blockQ: 24, blockK: 20, kvCapacity: 133, keys: [2, 64, 127] },
  ];
  for (const tier of TIERS) {
    it(`poisoned rows equal the clean run bit for bit and the golden within the accuracy-test tolerances [${tier}]`, async () => {
      const t = await tk(tier);
      for (const s of shapes) {
        const kvh = s.kvHeads ?? s.heads, cap = s.kvCapacity ?? s.seqK, D2 = s.headDim, off = s.seqK - s.seqQ;
        const q = randomF32(s.heads * s.seqQ * D2, 21), k = randomF32(kvh * cap * D2, 22), v = randomF32(kvh * cap * D2, 23, -2, 2);
        const opts = { heads: s.heads, kvHeads: s.kvHeads, seqQ: s.seqQ, seqK: s.seqK, headDim: D2, causal: true, kvCapacity: s.kvCapacity, blockQ: s.blockQ, blockK: s.blockK };
        const gold = refAttention(q, k, v, s);
        const g16 = refAttention(roundF16Array(q), roundF16Array(k), roundF16Array(v), s);
        const precisions = [['f32', {}], ['pasa', {}], ['pasa', { pasaStorage: 'f32' }], ['pasa-faithful', {}], ['f16', {}]] as const;
        const clean = precisions.map(([precision, x]) => t.attention(q, k, v, { ...opts, precision, ...x }));
        for (const key of s.keys) {
          const bad = v.slice();
          for (let g = 0; g < kvh; g++) bad.set([NaN, Infinity, -Infinity], (g * cap + key) * D2); // every KV head
          // cache rows past seqK are never read either (kvCapacity > seqK)
          for (let g = 0; g < kvh; g++) for (let tt = s.seqK; tt < cap; tt++) bad.fill(NaN, (g * cap + tt) * D2, (g * cap + tt + 1) * D2);
          const hidden = Math.max(0, Math.min(s.seqQ, key - off)); // rows 0 .. hidden-1 cannot see the key
          precisions.forEach(([precision, x], pi) => {
            const o = t.attention(q, k, bad, { ...opts, precision, ...x });
            const what = `${s.name} key ${key} ${precision}${'pasaStorage' in x ? ' f32 storage' : ''}`;
            for (let h = 0; h < s.heads; h++) {
              const base = h * s.seqQ * D2;
              // rows that cannot see the key: identical to the run with clean v (a row does not depend on unseen keys)
              const a = o.subarray(base, base + hidden * D2), c = clean[pi].subarray(base, base + hidden * D2);
              if (!a.every((y, i) => Object.is(y, c[i]))) expect.fail(`${what} head ${h}: a row that cannot see the key changed`);
              // rows that see it: the poisoned dims are non-finite (NaN propagates as in the golden)
              for (let r = hidden; r < s.seqQ; r++) {
                for (let x2 = 0; x2 < 3; x2++) if (Number.isFinite(o[base + r * D2 + x2])) expect.fail(`${what} head ${h} row ${r} dim ${x2}: finite`);
              }
            }
            // hidden rows against the golden (which excludes masked keys), same tolerances as the accuracy test above
            const idx: number[] = [];
            for (let h = 0; h < s.heads; h++) for (let i = 0; i < hidden * D2; i++) idx.push(h * s.seqQ * D2 + i);
            if (idx.length === 0) return;
            const got = Float64Array.from(idx, (i) => o[i]);
            expect(allFinite(got), what).toBe(true);
            if (precision === 'f32' || 'pasaStorage' in x) {
              let worst = 0;
              for (const i of idx) worst = Math.max(worst, Math.abs(o[i] - gold[i]));
              // f32: 2e-6 * max|v|; exact PASA recurrence: 4x that (frame shifts), as in the accuracy test
              expect(worst, what).toBeLessThan(2e-6 * 2 * (precision === 'f32' ? 1 : 4));
            } else {
              expect(rmse(got, Float64Array.from(idx, (i) => g16[i])), what).toBeLessThan(2e-3); // fp16 outputs: a few fp16 ulps
            }
          });
        }
      }
    });
  }
});

describe('attention: NaN in a K row that is causally masked for a row (pasa.md §5 semantics)', () => {
  // pasa.md §5: the pseudo-average a_j is the row mean over exactly the keys that form kbar_j, taken BEFORE the
  // mask, so keys masked for a row still count. A NaN anywhere in K row t therefore makes kbar_j, every K' of
  // block j, and a_j NaN: in 'pasa' every row that processes key block j outputs NaN, including rows for which
  // key t is masked (the reference code behaves the same: S_ave is taken before the mask is added). In 'f32' the
  // masked score is replaced by -inf and the row is unaffected. (Rows for which the whole block is masked may or
  // may not be NaN: the NaN reaches them only through the frame, depending on the query tile; not asserted.)
  for (const tier of TIERS) {
    it(`S1=S2=8, d=8, blockK 4, NaN in k row 5: f32 rows 0-4 finite, 5-7 NaN; pasa rows 4-7 NaN [${tier}]`, async () => {
      const t = await tk(tier);
      const S = 8, D2 = 8;
      const q = randomF32(S * D2, 31), k = randomF32(S * D2, 32), v = randomF32(S * D2, 33);
      k[5 * D2 + 3] = NaN;
      const opts = { heads: 1, seqQ: S, seqK: S, headDim: D2, causal: true, blockK: 4 };
      const rowNaN = (o: Float32Array, r: number) => o.subarray(r * D2, (r + 1) * D2).every(Number.isNaN);
      const rowFinite = (o: Float32Array, r: number) => o.subarray(r * D2, (r + 1) * D2).every(Number.isFinite);
      const f = t.attention(q, k, v, { ...opts, precision: 'f32' });
      for (let r = 0; r < S; r++) expect(r < 5 ? rowFinite(f, r) : rowNaN(f, r), `f32 row ${r}`).toBe(true);
      const p = t.attention(q, k, v, { ...opts, precision: 'pasa' });
      for (let r = 4; r < S; r++) expect(rowNaN(p, r), `pasa row ${r}`).toBe(true);
    });
  }
});

describe('pasa.md §6 cases (d = 128, tau = 1/sqrt(128))', () => {
  const T1 = () => makeCase('T1', uni(30, 0.5), 1407, 1407);
  for (const tier of TIERS) {
    it(`T1 uniform mean 30 Am 0.5, S=1407: naive overflows; PASA finite, rec < 0.05, faithful < 0.25, rec < naive_pre [${tier}]`, async () => {
      const t = await tk(tier);
      const c = T1();
      const naive = run(t, c, 'f16');
      expect(countNonFinite(naive)).toBe(naive.length); // |qk| ~ 1.15e5 > 65504: every score overflows
      const rec = run(t, c, 'pasa'), faithful = run(t, c, 'pasa-faithful'), pre = naivePre(t, c);
      expect(allFinite(rec)).toBe(true);
      expect(allFinite(faithful)).toBe(true);
      const eRec = rmse(rec, c.gold);
      expect(eRec).toBeLessThan(0.05);
      expect(eRec / rms(c.v)).toBeLessThan(1.7e-3);
      expect(rmse(faithful, c.gold)).toBeLessThan(0.25);
      expect(eRec).toBeLessThan(rmse(pre, c.gold));
      // f32 flash is far more accurate still (fp16 inputs are exact in f32)
      expect(rmse(run(t, c, 'f32'), c.gold)).toBeLessThan(1e-3);
    });

    it(`T2 as T1 with S=1280: faithful within ±30% of 0.109; rec < 0.04 [${tier}]`, async () => {
      const t = await tk(tier);
      const c = makeCase('T2', uni(30, 0.5), 1280, 1280);
      // pasa.md's 0.109 is for the authors' seed-2024724 numpy data (bf16-rounded); ours is another draw of the same
      // distribution and gives 0.077 on both tiers, near the lower edge of the ±30% band. With bf16-rounded inputs
      // the faithful RMSE varies 0.014 .. 0.128 between seeds, so this band is a weak check; T1/T3 bound it from above.
      const f = rmse(run(t, c, 'pasa-faithful'), c.gold);
      expect(f).toBeGreaterThan(0.109 * 0.7);
      expect(f).toBeLessThan(0.109 * 1.3);
      expect(rmse(run(t, c, 'pasa'), c.gold)).toBeLessThan(0.04);
    });

    it(`T3 normal+Bernoulli mean 30 Am 10 (p=0.001), S=1407: naive NaN; rec < 0.045; faithful < 0.7 [${tier}]`, async () => {
      const t = await tk(tier);
      const c = makeCase('T3', (n, s) => genHybrid(n, s, 30, 10), 1407, 1407);
      expect(countNonFinite(run(t, c, 'f16'))).toBeGreaterThan(0);
      expect(rmse(run(t, c, 'pasa'), c.gold)).toBeLessThan(0.045);
      expect(rmse(run(t, c, 'pasa-faithful'), c.gold)).toBeLessThan(0.7);
    });

    it(`T7 T1 data, causal: naive NaN; rec < 0.05; no NaN rows [${tier}]`, async () => {
      const t = await tk(tier);
      const c = makeCase('T7', uni(30, 0.5), 1407, 1407, true);
      expect(countNonFinite(run(t, c, 'f16'))).toBeGreaterThan(0);
      const rec = run(t, c, 'pasa');
      expect(allFinite(rec)).toBe(true);
      expect(rmse(rec, c.gold)).toBeLessThan(0.05);
      expect(allFinite(run(t, c, 'pasa-faithful'))).toBe(true);
    });

    it(`T8 tails S=200 / 129 / 100: rec < 0.06 / 0.04 / 0.02 [${tier}]`, async () => {
      const t = await tk(tier);
      for (const [S, bound] of [[200, 0.06], [129, 0.04], [100, 0.02]] as const) {
        const c = makeCase(`T8-${S}`, uni(30, 0.5), S, S);
        expect(rmse(run(t, c, 'pasa'), c.gold)).toBeLessThan(bound);
      }
    });

    it(`T9 decode S1=1, S2=1407 on T1 data: rec < 0.05; attentionDecode on a larger KV cache agrees [${tier}]`, async () => {
      const t = await tk(tier);
      const c = T1();
      const q = c.q.slice(1406 * D), gold = c.gold.subarray(1406 * D);
      const o = t.attention(q, c.k, c.v, { heads: 1, seqQ: 1, seqK: 1407, headDim: D, precision: 'pasa' });
      expect(rmse(o, gold)).toBeLessThan(0.05);
      // same call through a KV cache of capacity 1500 holding 1407 rows
      const kc = new Float32Array(1500 * D), vc = new Float32Array(1500 * D);
      kc.set(c.k); vc.set(c.v);
      kc.fill(1e4, 1407 * D); vc.fill(NaN, 1407 * D); // rows past kvLength must never be read
      const od = t.attentionDecode(q, kc, vc, { heads: 1, headDim: D, kvLength: 1407, precision: 'pasa' });
      expect([...od]).toEqual([...o]);
    });

    it(`T10 bias sweep b in {20, 23, 80, 400, 450}, Am 0.5, S=256 [${tier}]`, async () => {
      const t = await tk(tier);
      for (const b of [20, 23, 80, 400, 450]) {
        const c = makeCase(`T10-${b}`, uni(b, 0.5), 256, 256);
        const post = countNonFinite(run(t, c, 'f16')), pre = countNonFinite(naivePre(t, c)), rec = countNonFinite(run(t, c, 'pasa'));
        if (b === 20) expect(post).toBe(0); else expect(post).toBeGreaterThan(0);
        if (b >= 80) expect(pre).toBeGreaterThan(0); else expect(pre).toBe(0);
        if (b <= 400) expect(rec).toBe(0); else expect(rec).toBeGreaterThan(0);
      }
    });

    it(`T11 controls mean 0: Am 0.5 rec < 2e-5, Am 5 rec < 1.5e-2 [${tier}]`, async () => {
      const t = await tk(tier);
      const c1 = makeCase('T11a', uni(0, 0.5), 1407, 1407);
      const c2 = makeCase('T11b', uni(0, 5), 1407, 1407);
      expect(rmse(run(t, c1, 'pasa'), c1.gold)).toBeLessThan(2e-5);
      expect(rmse(run(t, c2, 'pasa'), c2.gold)).toBeLessThan(1.5e-2);
    });

    it(`T12 near-uniform attention, v ~ 30, S1=256 S2=4096: unnormalised fp16 O overflows; rec < 0.03 [${tier}]`, async () => {
      const t = await tk(tier);
      const c = makeCase('T12', uni(0, 0.1), 256, 4096, false, uni(30, 0.5));
      // sum_t P_t v_t ~ 4096 * 30 > 65504 in the fp16 accumulator of the naive and the faithful kernels
      expect(countNonFinite(run(t, c, 'f16'))).toBeGreaterThan(0);
      expect(countNonFinite(run(t, c, 'pasa-faithful'))).toBeGreaterThan(0);
      const rec = run(t, c, 'pasa');
      expect(allFinite(rec)).toBe(true);
      expect(rmse(rec, c.gold)).toBeLessThan(0.03);
    });

    it(`T13 the PASA recurrence in f32 equals golden (relRMSE < 1e-4) for random shapes, blocks, beta, causal, both frames [${tier}]`, async () => {
      const t = await tk(tier);
      const r = rng(tier === 'simd128' ? 13 : 31);
      const pick = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
      for (let trial = 0; trial < 10; trial++) {
        const s1 = pick(1, 300), s2 = pick(1, 400), d = 4 * pick(1, 34);
        const beta = [0.5, 31 / 32, 0.9689941][trial % 3];
        const causal = trial % 2 === 1, frame = trial % 4 < 2 ? 'running' : 'first';
        const blockQ = 8 * pick(1, 12), blockK = 4 * pick(1, 48);
        // biased data (mean 3), so the shift and the frame recovery really matter
        const q = randomF32(s1 * d, 100 + trial, 2, 4), k = randomF32(s2 * d, 200 + trial, 2, 4), v = randomF32(s2 * d, 300 + trial, -1, 1);
        const shape = { heads: 1, seqQ: s1, seqK: s2, headDim: d, causal };
        const gold = refAttention(q, k, v, shape);
        const o = t.attention(q, k, v, { ...shape, precision: 'pasa', pasaStorage: 'f32', beta, pasaFrame: frame, blockQ, blockK });
        const g = rms(gold);
        const rel = g === 0 ? rmse(o, gold) : rmse(o, gold) / g;
        expect(rel, `s1=${s1} s2=${s2} d=${d} beta=${beta} causal=${causal} frame=${frame} bq=${blockQ} bk=${blockK}`).toBeLessThan(1e-4);
      }
    });
  }
});

describe('attention: forms, caches, dtypes, errors, memory', () => {
  for (const tier of TIERS) {
    it(`tensor form (zero-copy) equals the copying form; f16 inputs equal f32 inputs holding the same halves [${tier}]`, async () => {
      const t = await tk(tier);
      const before = t.arena.stats().usedBytes;
      // f16 k/v: 'f32' and 'f16' read the halves in the tile kernel (widened per key block), the PASA precisions prepare
      // K' / V16 first; d = 68 exercises the widening's 4-half row tail
      for (const [H, KH, S, d] of [[4, 2, 77, 64], [3, 1, 30, 68]]) {
        const q = roundF16Array(randomF32(H * S * d, 5)), k = roundF16Array(randomF32(KH * S * d, 6)), v = roundF16Array(randomF32(KH * S * d, 7));
        const opts = { heads: H, kvHeads: KH, seqQ: S, seqK: S, headDim: d, causal: true };
        for (const precision of ['f32', 'pasa', 'f16', 'pasa-faithful'] as const) {
          const want = t.attention(q, k, v, { ...opts, precision });
          const qt = t.tensorFrom(q, [H, S, d]), kt = t.tensorFrom(k, [KH, S, d]), vt = t.tensorFrom(v, [KH, S, d]);
          const ot = t.attention(qt, kt, vt, { ...opts, precision });
          expect([...ot.read()]).toEqual([...want]);
          const q16 = t.f16.fromF32(q), k16 = t.f16.fromF32(k), v16 = t.f16.fromF32(v);
          expect([...t.attention(q16, k16, v16, { ...opts, precision })]).toEqual([...want]);
          const kt16 = t.tensorFrom(k16, [KH, S, d]), vt16 = t.tensorFrom(v16, [KH, S, d]);
          const qt16 = t.tensorFrom(q16, [H, S, d]);
          t.attention(qt16, kt16, vt16, { ...opts, precision }, ot);
          expect([...ot.read()]).toEqual([...want]);
          for (const x of [qt, kt, vt, ot, qt16, kt16, vt16]) x.dispose();
        }
      }
      // every temporary is freed and the guard bytes are intact
      t.arena.check();
      expect(t.arena.stats().usedBytes).toBe(before);
    });

    it(`short query tiles (decode, last block) compute only their rows: bit-identical to the same rows of a full tile [${tier}]`, async () => {
      const t = await tk(tier);
      // the kernel trims the score GEMM, row passes, P.V and combine to the rows a tile holds (decode fills 1 of 24)
      const D2 = 68, S2 = 150;
      // (f32 decode normally runs f32_attn_decode, tested in attention-decode.test.ts: switched off here)
      const q = randomF32(48 * D2, 41), k = randomF32(S2 * D2, 42), v = randomF32(S2 * D2, 43);
      attentionInternals.decodeKernel = false;
      try {
        for (const precision of ['f32', 'f16', 'pasa', 'pasa-faithful'] as const) {
          const full = t.attention(q, k, v, { heads: 1, seqQ: 48, seqK: S2, headDim: D2, precision, blockK: 32 });
          for (const n of [1, 5, 7, 13, 25]) {
            const o = t.attention(q.subarray(0, n * D2), k, v, { heads: 1, seqQ: n, seqK: S2, headDim: D2, precision, blockK: 32 });
            expect(o.every((x, i) => Object.is(x, full[i])), `${precision} seqQ ${n}`).toBe(true);
          }
        }
      } finally {
        attentionInternals.decodeKernel = true;
      }
    });

    it(`f16 KV cache, prefill in 'f32' and 'f16' precision: the tile kernel reads the halves, scratch O(tile), no widened copy [${tier}]`, async () => {
      const t = await tk(tier);
      const H = 4, KH = 2, cap = 1000, S = 900, d = 64;
      const kc = t.tensorFrom(t.f16.fromF32(randomF32(KH * cap * d, 21)), [KH, cap, d]), vc = t.tensorFrom(t.f16.fromF32(randomF32(KH * cap * d, 22)), [KH, cap, d]);
      const q = t.tensorFrom(randomF32(H * 40 * d, 23), [H, 40, d]);
      try {
        for (const precision of ['f32', 'f16'] as const) {
          const before = t.arena.stats().usedBytes;
          t.arena.resetPeak();
          const o = t.attention(q, kc, vc, { heads: H, kvHeads: KH, seqQ: 40, seqK: S, headDim: d, kvCapacity: cap, causal: true, precision });
          // the output tensor + the tile scratch (a widened K and V of one KV head would be 2 * 900 * 64 * 4 = 461 KB)
          const tile = t.kernels.attention_scratch_bytes(d, 48, precision === 'f32' ? 72 : 128, ABI.ATTN_FLAG_KV_F16);
          expect(t.arena.stats().peakBytes - before).toBeLessThan(H * 40 * d * 4 + tile + 1024);
          // the same bits as f32 tensors holding the halves (attention_prep_kv's widening / fp16 rounding is exact here)
          const k32 = t.tensorFrom(t.f16.toF32(kc.read() as Uint16Array), [KH, cap, d]), v32 = t.tensorFrom(t.f16.toF32(vc.read() as Uint16Array), [KH, cap, d]);
          const o32 = t.attention(q, k32, v32, { heads: H, kvHeads: KH, seqQ: 40, seqK: S, headDim: d, kvCapacity: cap, causal: true, precision });
          expect(sameBits(o.read(), o32.read())).toBe(true);
          for (const x of [o, k32, v32, o32]) x.dispose();
        }
      } finally {
        for (const x of [kc, vc, q]) x.dispose();
      }
    });

    it(`KV cache: tensor decode reads only kvLength rows of a larger cache, no copy; GQA [${tier}]`, async () => {
      const t = await tk(tier);
      const H = 8, KH = 2, cap = 64, d = 64;
      const kc = t.tensor('f32', [KH, cap, d]), vc = t.tensor('f32', [KH, cap, d]);
      kc.write(randomF32(KH * cap * d, 8)); vc.write(randomF32(KH * cap * d, 9));
      const q = t.tensorFrom(randomF32(H * d, 10), [H, 1, d]);
      const out = t.tensor('f32', [H, 1, d]);
      for (let len = 1; len <= cap; len += 21) {
        const before = t.arena.stats().usedBytes;
        t.arena.resetPeak();
        t.attentionDecode(q, kc, vc, { heads: H, kvHeads: KH, headDim: d, kvLength: len }, out);
        // f32 decode with f32 tensors: only the O(tile) scratch is allocated (no copy of the cache)
        expect(t.arena.stats().peakBytes - before).toBeLessThan(t.kernels.attention_scratch_bytes(d, 48, 72, 0) + 1024);
        const gold = refAttention(q.read(), kc.read(), vc.read(), { heads: H, kvHeads: KH, seqQ: 1, seqK: len, headDim: d, kvCapacity: cap });
        let worst = 0;
        const o = out.read();
        for (let i = 0; i < o.length; i++) worst = Math.max(worst, Math.abs(o[i] - gold[i]));
        expect(worst).toBeLessThan(2e-6);
      }
      // GQA decode runs a group's query rows as one block: bit-identical to one head at a time, causal or not
      for (const precision of ['f32', 'pasa'] as const) {
        for (const causal of [false, true]) {
          const allT = t.attention(q, kc, vc, { heads: H, kvHeads: KH, seqQ: 1, seqK: 40, headDim: d, kvCapacity: cap, precision, causal });
          const all = allT.read();
          allT.dispose();
          const qa = q.read(), ka = kc.read(), va = vc.read();
          for (let h = 0; h < H; h++) {
            const g = Math.floor(h / (H / KH));
            const one = t.attention(qa.slice(h * d, (h + 1) * d), ka.slice(g * cap * d, (g + 1) * cap * d), va.slice(g * cap * d, (g + 1) * cap * d),
              { heads: 1, seqQ: 1, seqK: 40, headDim: d, kvCapacity: cap, precision, causal });
            expect([...all.subarray(h * d, (h + 1) * d)]).toEqual([...one]);
          }
        }
      }
      for (const x of [kc, vc, q, out]) x.dispose();
    });

    it(`typed errors before any kernel; arena back to baseline [${tier}]`, async () => {
      const t = await tk(tier);
      const q = new Float32Array(2 * 8 * 16), kv = new Float32Array(2 * 8 * 16);
      const ok: AttentionOptions = { heads: 2, seqQ: 8, seqK: 8, headDim: 16 };
      const base = t.arena.stats();
      const bad: [unknown, AttentionOptions, Function][] = [
        [q, { ...ok, kvHeads: 3 }, ShapeError],
        [q, { ...ok, headDim: 6 }, ShapeError],
        [q, { ...ok, seqQ: 0 }, ShapeError],
        [q, { ...ok, seqK: 7.5 }, ShapeError],
        [q, { ...ok, kvCapacity: 4 }, ShapeError],
        [q.subarray(1), ok, ShapeError],
        [new Float64Array(q.length), ok, DTypeError],
        [q, { ...ok, precision: 'bf16' as never }, ArgumentError],
        [q, { ...ok, precision: 'pasa', beta: 1 }, ArgumentError],
        [q, { ...ok, scale: -1 }, ArgumentError],
        [q, { ...ok, blockQ: 12 }, ArgumentError],
        [q, { ...ok, blockK: 6 }, ArgumentError],
        [q, { ...ok, pasaFrame: 'last' as never }, ArgumentError],
      ];
      for (const [qq, o, E] of bad) expect(() => t.attention(qq as Float32Array, kv, kv, o)).toThrow(E as never);
      expect(() => t.attention(q, kv, new Uint16Array(kv.length), ok)).toThrow(DTypeError);
      expect(() => t.attention(q, kv, kv.subarray(16), ok)).toThrow(ShapeError);
      expect(() => t.attentionDecode(q.subarray(0, 32), kv, kv, { heads: 2, headDim: 16, kvLength: 9 })).toThrow(ShapeError);
      const qt = t.tensorFrom(q, [2, 8, 16]), wrong = t.tensor('f32', [2, 8, 15]);
      expect(() => t.attention(qt, qt, qt, ok, wrong as never)).toThrow(ShapeError);
      const it32 = t.tensor('i32', [256]);
      expect(() => t.attention(qt, qt, it32 as never, ok)).toThrow(DTypeError);
      for (const x of [qt, wrong, it32]) x.dispose();
      t.attention(q, kv, kv, { ...ok, precision: 'pasa' });
      const after = t.arena.stats();
      expect(after.usedBytes).toBe(base.usedBytes);
      expect(after.blocks).toBe(base.blocks);
    });
  }
});

describe.skipIf(!HAS_RELAXED)('attention: simd128 vs relaxed (differential; needs relaxed SIMD)', () => {
  it('same shapes on both tiers: f32 within f32 rounding; fp16 modes differ only where FMA flips an fp16 rounding', async () => {
    const a = await tk('simd128'), b = await tk('relaxed');
    const H = 6, KH = 3, S1 = 90, S2 = 170, d = 64;
    const q = randomF32(H * S1 * d, 41, -2, 2), k = randomF32(KH * S2 * d, 42, -2, 2), v = randomF32(KH * S2 * d, 43, -2, 2);
    const opts = { heads: H, kvHeads: KH, seqQ: S1, seqK: S2, headDim: d, causal: true };
    for (const precision of ['f32', 'pasa', 'pasa-faithful', 'f16'] as const) {
      const oa = a.attention(q, k, v, { ...opts, precision }), ob = b.attention(q, k, v, { ...opts, precision });
      let maxDiff = 0, differing = 0;
      for (let i = 0; i < oa.length; i++) { const e = Math.abs(oa[i] - ob[i]); maxDiff = Math.max(maxDiff, e); if (e) differing++; }
      if (precision === 'f32') {
        // |o| <= 2 (f32 ulp 2.4e-7); the tiers differ only by fused vs unfused madd roundings: < 8 ulps (measured 5.4e-7)
        expect(maxDiff).toBeLessThan(2e-6);
      } else {
        // outputs are fp16 values (|o| <= 2: spacing <= 2^-10); an unfused vs fused madd can move an fp16 rounding of
        // S, P or P.V by one ulp, which moves an output by a few of its ulps at most
        expect(maxDiff).toBeLessThanOrEqual(4 * 2 ** -10);
        expect(differing / oa.length).toBeLessThan(0.25);
      }
    }
  });
});
