// The f32 decode kernel (assembly/attention/decode.ts, f32_attn_decode_1x4__wasmsimd): seqQ = 1, f32 K/V,
// <= 8 query heads per KV head. bindings/ops/attention.ts routes those calls to it; every call below is such a
// call unless it says otherwise. Checked against the f64 golden (tests/helpers/ref-attention.ts).
import { describe, expect, it } from 'vitest';
import { attentionInternals } from '../../bindings/ops/attention.js';
import { refAttention } from '../helpers/ref-attention.js';
import type { Tessera } from '../../bindings/index.js';
import { randomF32, sameBits, tk } from '../helpers/tiers.js';
import { TIERS } from '../helpers/engine.js';

const u = 2 ** -24;
const gamma = (n: number) => (n * u) / (1 - n * u);

interface Case { heads: number; kvHeads: number; seqK: number; d: number; cap: number; causal: boolean; scale?: number }

/**
 * Tensor form of the 8-head / 2-KV-head decode over a [2][1024][64] cache (kvLength 1000, f32 or f16 k/v):
 * it allocates nothing beyond the decode kernel's scratch, and equals `fast` (the copying form) bit for bit.
 */
function bigCacheTensorDecode(t: Tessera, q: Float32Array, k: Float32Array | Uint16Array, v: Float32Array | Uint16Array, fast: Float32Array): void {
  const kc = t.tensorFrom(k, [2, 1024, 64]), vc = t.tensorFrom(v, [2, 1024, 64]), qt = t.tensorFrom(q, [8, 1, 64]);
  const out = t.tensor('f32', [8, 1, 64]);
  try {
    const before = t.arena.stats().usedBytes;
    t.arena.resetPeak();
    t.attentionDecode(qt, kc, vc, { heads: 8, kvHeads: 2, headDim: 64, kvLength: 1000 }, out);
    expect(t.arena.stats().peakBytes - before).toBeLessThanOrEqual(t.kernels.f32_attn_decode_scratch_bytes(64, 4) + 128);
    expect(sameBits(out.read(), fast)).toBe(true);
  } finally {
    for (const x of [kc, vc, qt, out]) x.dispose();
  }
}

/**
 * Per-row tolerance, the f32 bound of tests/fuzz/ops-attention.ts: E = max over keys of the f32 score error
 * (gamma(d)·scale·Σ|q·k| + u·|s|), an output error of at most V·2.5·E from the scores (|e^E − 1| ≤ 2.5·E for the
 * E here), plus V·(gamma(seqK + 8·(chunks + 2)) + 16u·(chunks + 2)) for exp, the sums and the per-chunk rescaling
 * (chunks = ceil(seqK / 16), the kernel's chunk). For U(−1, 1) data this is ~1e-6·V; the accuracy test of attention.test.ts uses
 * 2e-6·max|v| for the same data, which we also assert where the data are U(−1, 1).
 */
function check(got: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, c: Case, uniform: boolean): string | null {
  const { heads, kvHeads, seqK, d, cap } = c;
  const scale = c.scale ?? 1 / Math.sqrt(d);
  const want = refAttention(q, k, v, { heads, kvHeads, seqQ: 1, seqK, headDim: d, kvCapacity: cap, causal: c.causal, scale });
  const group = heads / kvHeads, chunks = Math.ceil(seqK / 16);
  for (let h = 0; h < heads; h++) {
    const kb = Math.floor(h / group) * cap * d;
    let E = 0, V = 0;
    for (let t = 0; t < seqK; t++) {
      let acc = 0, mag = 0;
      for (let x = 0; x < d; x++) { const p = q[h * d + x] * k[kb + t * d + x]; acc += p; mag += Math.abs(p); }
      E = Math.max(E, gamma(d) * scale * mag + u * Math.abs(acc * scale));
      for (let x = 0; x < d; x++) { const a = Math.abs(v[kb + t * d + x]); if (a > V && a !== Infinity) V = a; } // non-finite v: checked exactly
    }
    const tol = V * 2.5 * E + V * (gamma(seqK + 8 * (chunks + 2)) + 16 * u * (chunks + 2));
    for (let x = 0; x < d; x++) {
      const g = got[h * d + x], w = want[h * d + x];
      if (!Number.isFinite(w)) { if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w))) return `head ${h} [${x}]: got ${g}, want ${w}`; continue; }
      const err = Math.abs(g - w);
      if (!(err <= tol) || (uniform && !(err < 2e-6 * V))) return `head ${h} [${x}]: got ${g}, want ${w}, |err| ${err}, tol ${tol}`;
    }
  }
  return null;
}

function data(c: Case, seed: number) {
  return {
    q: randomF32(c.heads * c.d, seed),
    k: randomF32(c.kvHeads * c.cap * c.d, seed + 1),
    v: randomF32(c.kvHeads * c.cap * c.d, seed + 2, -2, 2),
  };
}

describe('attention decode kernel (f32, seqQ = 1) vs the f64 golden', () => {
  // chunk = 16 keys (CK in decode.ts), scores reduced 4 keys at a time: 15/16/17, 31/32/33, 63/64/65 are chunk
  // boundaries +- 1, 2, 3, 5 partial groups of 4
  const seqKs = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 2048];
  const ds = [4, 12, 64, 68, 128];
  for (const tier of TIERS) {
    it(`shapes d ${ds.join('/')} x seqK ${seqKs.join('/')}, groups 1..8, kvCapacity > seqK, causal on/off [${tier}]`, async () => {
      const t = await tk(tier);
      let i = 0;
      for (const d of ds) {
        for (const seqK of seqKs) {
          const group = 1 + (i % 8), kvHeads = 1 + (i % 2), causal = i % 3 === 0;
          const c: Case = { heads: group * kvHeads, kvHeads, seqK, d, cap: seqK + (i % 4) * 3, causal };
          const { q, k, v } = data(c, 100 + i);
          // rows past seqK must never be read
          for (let g = 0; g < kvHeads; g++) { k.fill(NaN, (g * c.cap + seqK) * d, (g + 1) * c.cap * d); v.fill(NaN, (g * c.cap + seqK) * d, (g + 1) * c.cap * d); }
          const o = t.attention(q, k, v, { heads: c.heads, kvHeads, seqQ: 1, seqK, headDim: d, kvCapacity: c.cap, causal });
          expect(check(o, q, k, v, c, true), `d ${d} seqK ${seqK} group ${group} kvHeads ${kvHeads} cap ${c.cap} causal ${causal}`).toBeNull();
          i++;
        }
      }
    });

    it(`GQA / MQA group sizes 1..8 (d 128, seqK 300), tensor and decode forms agree bit for bit [${tier}]`, async () => {
      const t = await tk(tier);
      for (let group = 1; group <= 8; group++) {
        for (const kvHeads of [1, 3]) {
          const c: Case = { heads: group * kvHeads, kvHeads, seqK: 300, d: 128, cap: 320, causal: group % 2 === 0 };
          const { q, k, v } = data(c, 7 * group + kvHeads);
          const o = t.attention(q, k, v, { heads: c.heads, kvHeads, seqQ: 1, seqK: 300, headDim: 128, kvCapacity: 320, causal: c.causal });
          expect(check(o, q, k, v, c, true), `group ${group} kvHeads ${kvHeads}`).toBeNull();
          const qt = t.tensorFrom(q, [c.heads, 1, 128]), kt = t.tensorFrom(k, [kvHeads, 320, 128]), vt = t.tensorFrom(v, [kvHeads, 320, 128]);
          const od = t.attentionDecode(qt, kt, vt, { heads: c.heads, kvHeads, headDim: 128, kvLength: 300 });
          expect(od.read().every((x, i) => Object.is(x, o[i]))).toBe(true);
          for (const x of [qt, kt, vt, od]) x.dispose();
        }
      }
    });

    it(`f16 q (Uint16Array) uses the kernel too; scale option honoured [${tier}]`, async () => {
      const t = await tk(tier);
      const c: Case = { heads: 4, kvHeads: 2, seqK: 77, d: 64, cap: 77, causal: false, scale: 0.37 };
      const { q, k, v } = data(c, 5);
      const o = t.attention(q, k, v, { heads: 4, kvHeads: 2, seqQ: 1, seqK: 77, headDim: 64, scale: 0.37 });
      expect(check(o, q, k, v, c, true)).toBeNull();
      const q16 = t.f16.fromF32(q);
      const qr = t.f16.toF32(q16);
      const o16 = t.attention(q16, k, v, { heads: 4, kvHeads: 2, seqQ: 1, seqK: 77, headDim: 64, scale: 0.37 });
      expect(check(o16, qr, k, v, c, true)).toBeNull();
    });

    it(`large-magnitude scores (|s| ~ 1e3..1e4): no overflow (online max), within the f32 bound [${tier}]`, async () => {
      const t = await tk(tier);
      for (const [mag, seqK] of [[30, 100], [100, 2048], [300, 65]] as const) {
        const c: Case = { heads: 2, kvHeads: 1, seqK, d: 64, cap: seqK, causal: false };
        const { q, k, v } = data(c, mag);
        for (let i = 0; i < q.length; i++) q[i] *= mag;
        for (let i = 0; i < k.length; i++) k[i] *= mag;
        const o = t.attention(q, k, v, { heads: 2, kvHeads: 1, seqQ: 1, seqK, headDim: 64 });
        expect(o.every(Number.isFinite)).toBe(true);
        expect(check(o, q, k, v, c, false), `mag ${mag}`).toBeNull();
      }
    });

    it(`non-finite K and V rows: NaN/Inf in a V row reach the output, NaN in K gives a NaN row, -inf scores weigh 0 [${tier}]`, async () => {
      const t = await tk(tier);
      const d = 12;
      for (const seqK of [1, 5, 40, 97]) {
        for (const key of [0, seqK - 1, seqK >> 1]) {
          const c: Case = { heads: 2, kvHeads: 1, seqK, d, cap: seqK, causal: true };
          const opts = { heads: 2, kvHeads: 1, seqQ: 1, seqK, headDim: d, causal: true };
          const base = data(c, seqK * 31 + key);
          // V row with NaN, +Inf, -Inf in dims 0..2
          const v = base.v.slice();
          v.set([NaN, Infinity, -Infinity], key * d);
          const ov = t.attention(base.q, base.k, v, opts);
          expect(check(ov, base.q, base.k, v, c, true), `V poisoned seqK ${seqK} key ${key}`).toBeNull();
          for (let h = 0; h < 2; h++) {
            expect(Number.isNaN(ov[h * d])).toBe(true);
            expect(ov[h * d + 1]).toBe(Infinity);
            expect(ov[h * d + 2]).toBe(-Infinity);
          }
          // NaN in a K row: that score is NaN, so every output of every row is NaN (as the golden)
          const kn = base.k.slice();
          kn[key * d + 5] = NaN;
          const okn = t.attention(base.q, kn, base.v, opts);
          expect(okn.every(Number.isNaN)).toBe(true);
          // -Inf score (q > 0 in dim 0, k = -Inf there): weight exactly 0, even with NaN in that key's v row
          const q = base.q.slice(), ki = base.k.slice(), vi = base.v.slice();
          q[0] = 0.5; q[d] = 0.25;
          ki[key * d] = -Infinity;
          const oi = t.attention(q, ki, vi, opts);
          if (seqK === 1) expect(oi.every((x) => x === 0)).toBe(true); // the only key has weight 0: l = 0, output 0
          else expect(check(oi, q, ki, vi, c, true), `-inf score seqK ${seqK} key ${key}`).toBeNull();
          // +Inf score: exp(inf - inf) = NaN, as the golden
          ki[key * d] = Infinity;
          const op = t.attention(q, ki, vi, opts);
          expect(op.every(Number.isNaN)).toBe(true);
        }
      }
    });

    it(`decode kernel vs the tile kernel: same results within the f32 bound; scratch independent of seqK [${tier}]`, async () => {
      const t = await tk(tier);
      const c: Case = { heads: 8, kvHeads: 2, seqK: 1000, d: 64, cap: 1024, causal: false };
      const { q, k, v } = data(c, 77);
      const opts = { heads: 8, kvHeads: 2, seqQ: 1, seqK: 1000, headDim: 64, kvCapacity: 1024 };
      const fast = t.attention(q, k, v, opts);
      attentionInternals.decodeKernel = false;
      let tile: Float32Array;
      try { tile = t.attention(q, k, v, opts); } finally { attentionInternals.decodeKernel = true; }
      expect(check(fast, q, k, v, c, true)).toBeNull();
      expect(check(tile, q, k, v, c, true)).toBeNull();
      expect(t.kernels.f32_attn_decode_scratch_bytes(128, 8)).toBeLessThan(20_000); // 8 rows, d = 128: O(tile)
      // tensor decode of a big cache allocates only the decode scratch
      bigCacheTensorDecode(t, q, k, v, fast);
    });
  }
});

// ---- f16 K/V (a half-precision KV cache): the kernel reads halves and widens them exactly (FLAG_KV_F16) ----

/** Exact f16 bits -> number, independent of the kernel's and the bindings' widening (NaN payloads not kept). */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1024 + m) * 2 ** (e - 25);
}
const widen = (h: Uint16Array) => Float32Array.from(h, halfToNumber);

/** Random halves in (lo, hi) (normal and, for small values, subnormal halves by RNE), as bits. */
function randomHalves(n: number, seed: number, lo = -1, hi = 1): Uint16Array {
  const f = randomF32(n, seed, lo, hi), h = new Uint16Array(n);
  for (let i = 0; i < n; i++) h[i] = toHalf(f[i]);
  return h;
}
/** number -> nearest-even half bits (finite inputs within range; test data only). */
function toHalf(x: number): number {
  const s = x < 0 || Object.is(x, -0) ? 0x8000 : 0, a = Math.abs(x);
  if (a < 2 ** -14) return s | Math.round(a * 2 ** 24); // subnormal (Math.round ties: data never hits a tie exactly)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; else if (2 ** (e + 1) <= a) e++;
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) { m = 0; e++; }
  return s | ((e + 15) << 10) | m;
}

/** NaN-tolerant bit identity (the kernel widens NaN halves keeping their payload, widen() gives the canonical NaN). */
function sameOut(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

describe('attention decode kernel with f16 K/V (halves read, widened exactly in the kernel)', () => {
  for (const tier of TIERS) {
    it(`d 4/12/64/68/128 x seqK 1/2/17/2048, groups 1..8, kvCapacity > seqK (NaN rows past seqK): bit-identical to f32 on the widened K/V, within the f32 bound [${tier}]`, async () => {
      const t = await tk(tier);
      let i = 0;
      // one-row groups (MHA) widen K/V in registers inside the dot / P.V loops; larger groups share a widened chunk:
      // every shape runs both (group 1, and a group 2..8)
      for (const d of [4, 12, 64, 68, 128]) {
        for (const seqK of [1, 2, 17, 2048]) for (const group of [1, 2 + (i % 7)]) {
          const kvHeads = 1 + (i % 2), cap = seqK + (i % 3) * 5;
          const c: Case = { heads: group * kvHeads, kvHeads, seqK, d, cap, causal: false };
          const q = randomF32(c.heads * d, 300 + i);
          const k16 = randomHalves(kvHeads * cap * d, 400 + i), v16 = randomHalves(kvHeads * cap * d, 500 + i, -2, 2);
          for (let g = 0; g < kvHeads; g++) { k16.fill(0x7e00, (g * cap + seqK) * d, (g + 1) * cap * d); v16.fill(0xfe01, (g * cap + seqK) * d, (g + 1) * cap * d); }
          const k = widen(k16), v = widen(v16);
          const opts = { heads: c.heads, kvHeads, seqQ: 1, seqK, headDim: d, kvCapacity: cap };
          const o16 = t.attention(q, k16, v16, opts), o32 = t.attention(q, k, v, opts);
          const tag = `d ${d} seqK ${seqK} group ${group} kvHeads ${kvHeads} cap ${cap}`;
          expect(sameBits(o16, o32), tag).toBe(true);
          expect(check(o16, q, k, v, c, true), tag).toBeNull();
          // tensor forms (tk.attention on tensors, tk.attentionDecode) read the cache in place: same bits
          const qt = t.tensorFrom(q, [c.heads, 1, d]), kt = t.tensorFrom(k16, [kvHeads, cap, d]), vt = t.tensorFrom(v16, [kvHeads, cap, d]);
          const ot = t.attention(qt, kt, vt, opts);
          const od = t.attentionDecode(qt, kt, vt, { heads: c.heads, kvHeads, headDim: d, kvLength: seqK });
          expect(sameBits(ot.read(), o32), tag).toBe(true);
          expect(sameBits(od.read(), o32), tag).toBe(true);
          for (const x of [qt, kt, vt, ot, od]) x.dispose();
          i++;
        }
      }
    });

    it(`inf / NaN / subnormal halves in K and V: same as f32 on the widened values, and as the golden [${tier}]`, async () => {
      const t = await tk(tier);
      // d = 20: one group of 16 halves (the in-register path of one-row groups), one of 8 and a tail of 4 (chunk path)
      for (const heads of [1, 2]) {
      const d = 20, seqK = 40, opts = { heads, kvHeads: 1, seqQ: 1, seqK, headDim: d };
      const c: Case = { heads, kvHeads: 1, seqK, d, cap: seqK, causal: false };
      const q = randomF32(heads * d, 9);
      // every subnormal magnitude class (smallest, mid, largest) and signs, in K and V: exact widening matters
      const sub = [0x0001, 0x8001, 0x0155, 0x83ff, 0x03ff, 0x0200, 0x8000, 0x0000];
      for (const key of [0, 17, seqK - 1]) {
        const k16 = randomHalves(seqK * d, key), v16 = randomHalves(seqK * d, key + 50);
        k16.set(sub, key * d); v16.set(sub, ((key + 3) % seqK) * d);
        const sb = t.attention(q, k16, v16, opts);
        expect(sameBits(sb, t.attention(q, widen(k16), widen(v16), opts)), `subnormals key ${key}`).toBe(true);
        expect(check(sb, q, widen(k16), widen(v16), c, true), `subnormals key ${key}`).toBeNull();
        // V row with NaN (quiet, signalling with payload), +inf, -inf halves: reach the output as in f32
        const vn = v16.slice();
        vn.set([0x7e00, 0x7c01, 0x7c00, 0xfc00, 0xfd55], key * d);
        const ov = t.attention(q, k16, vn, opts);
        expect(sameOut(ov, t.attention(q, widen(k16), widen(vn), opts)), `V non-finite key ${key}`).toBe(true);
        expect(check(ov, q, widen(k16), widen(vn), c, true), `V non-finite key ${key}`).toBeNull();
        for (let h = 0; h < heads; h++) {
          expect(Number.isNaN(ov[h * d]) && Number.isNaN(ov[h * d + 1])).toBe(true);
          expect([ov[h * d + 2], ov[h * d + 3]]).toEqual([Infinity, -Infinity]);
        }
        // non-finite halves in the high 4 of a group of 8 and in the d % 8 tail (d = 20: halves 16..19, widened 4 at a time)
        const vh = v16.slice();
        vh.set([0x7c00, 0xfc00, 0x7e00, 0xfc00], ((key + 1) % seqK) * d + 5);
        vh[((key + 2) % seqK) * d + 11] = 0xfe00;
        vh[((key + 2) % seqK) * d + 18] = 0x7c00;
        const oh = t.attention(q, k16, vh, opts);
        expect(sameOut(oh, t.attention(q, widen(k16), widen(vh), opts)), `V non-finite hi/tail key ${key}`).toBe(true);
        expect(check(oh, q, widen(k16), widen(vh), c, true), `V non-finite hi/tail key ${key}`).toBeNull();
        // NaN half in K: every output NaN; -inf half in K with q > 0 there: weight 0; +inf: NaN (inf - inf)
        const kn = k16.slice(); kn[key * d + 5] = 0x7d00;
        expect(t.attention(q, kn, v16, opts).every(Number.isNaN)).toBe(true);
        const qi = q.slice(); qi[0] = 0.5; if (heads > 1) qi[d] = 0.25;
        const ki = k16.slice(); ki[key * d] = 0xfc00;
        const oi = t.attention(qi, ki, v16, opts);
        expect(sameBits(oi, t.attention(qi, widen(ki), widen(v16), opts))).toBe(true);
        expect(check(oi, qi, widen(ki), widen(v16), c, true), `-inf K key ${key}`).toBeNull();
        ki[key * d] = 0x7c00;
        expect(t.attention(qi, ki, v16, opts).every(Number.isNaN)).toBe(true);
      }
      }
    });

    it(`f16 K/V decode uses the decode kernel (only its scratch, no prepared K'/V16), agrees with the old tile path [${tier}]`, async () => {
      const t = await tk(tier);
      const c: Case = { heads: 8, kvHeads: 2, seqK: 1000, d: 64, cap: 1024, causal: false };
      const q = randomF32(8 * 64, 11);
      const k16 = randomHalves(2 * 1024 * 64, 12), v16 = randomHalves(2 * 1024 * 64, 13, -2, 2);
      const opts = { heads: 8, kvHeads: 2, seqQ: 1, seqK: 1000, headDim: 64, kvCapacity: 1024 };
      const fast = t.attention(q, k16, v16, opts);
      attentionInternals.decodeKernelF16 = false;
      let tile: Float32Array;
      try { tile = t.attention(q, k16, v16, opts); } finally { attentionInternals.decodeKernelF16 = true; }
      expect(check(fast, q, widen(k16), widen(v16), c, true)).toBeNull();
      expect(check(tile, q, widen(k16), widen(v16), c, true)).toBeNull();
      bigCacheTensorDecode(t, q, k16, v16, fast);
    });
  }
});
