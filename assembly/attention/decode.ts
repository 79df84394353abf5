// Attention decode in f32: nr <= 8 query rows (one token per query head; the GQA query heads of one KV head)
// against one KV head, streaming K and V once, each in memory order. The tile kernel (flash.ts) packs K and runs
// GEMM tiles sized for many query rows; with 1..8 rows that is compute- and access-pattern-inefficient. Per chunk
// of CK (16) keys:
//   1. scores: one key at a time (dotKey: query rows in pairs, 4 accumulators over d per row, each key vector
//      loaded once per pair; the key row comes from memory once, then from L1), 4-lane partials reduced 4 keys at a
//      time by transposes (hsum4);
//   2. online softmax per row (FA-2 step, as flash.ts rowsF32): m_new = pmax(m, chunk max) (pmax drops NaN scores
//      from the max; they still reach the output through exp(NaN - m)), P = exp(S - m_new), l = alpha*l + sum P;
//   3. P.V: O = alpha*O (skipped when alpha = 1), then O += P_t v_t one key at a time (pvKey: rows in pairs, each V
//      vector loaded once per pair; O is [nr][d] in L1). Pairing the GQA rows made 4-row decode ~10-18 % faster.
// Keys are processed one at a time on purpose: reading even two K (or V) rows interleaved (two streams 512 B
// apart) measured ~3x below the sequential streaming rate on the development machine (AMD EPYC, V8), which is
// what made the first version of this kernel (8 keys per step, column-blocked P.V) reach only ~7 GB/s.
// Same semantics as attention_fwd in MODE_F32 without masking (decode with seqQ = 1 sees every key): -inf scores
// give P = +0 (exp flushes below -87.33), a row whose scores are all -inf outputs 0 (l = 0), NaN in K or V reaches
// the output (a key with P = 0 still multiplies its v: 0 * NaN = NaN, as the tile kernel). Q is pre-scaled by
// `scale` (as flash.ts). Only keys 0..s2-1 are read.
// f16 K/V (FLAG_KV_F16: a half-precision KV cache), widened exactly to f32 (widenF16x8Fast + fixF16NonFinite in ../f16/half.ts; every half incl.
// subnormals, inf, NaN), f32 math unchanged: with one query row (MHA) dotRows / pvRows (H = true) widen each group of
// 16 halves in registers; with more rows each chunk's K rows, then its V rows, are widened into one [CK][d] f32
// scratch block in memory order (the rows then share it) and the f32 code runs unchanged on it (row stride d). So
// the f16-K/V result is bit-identical to this kernel on the widened f32 K/V, and K/V are read from memory as halves
// (half the bytes; still compute-bound on the widening, wasm has no f16 conversion instruction). Both paths read
// exactly d halves per row (16 or 8 at a time, then 4): no over-read.
// Scratch (f32_attn_decode_scratch_bytes): scaled Q [nr][d], O accumulator [nr][d], scores [nr][CK], partial dot
// products [nr][CK][4], m, l, alpha [nr], widened K/V chunk [CK][d] (used only with FLAG_KV_F16) -- independent of s2.
import { expF32x4 } from "./exp";
import { pasaFrame, pasaLocalMax, pasaMergedMax, pasaRescale, pasaShift } from "./pasa-step";
import { f16ToF32, f16x8NonFinite, f32x4ToF16x4, fixF16NonFinite, loadF16x4, narrowF16x8, roundF16, widenF16Rows, widenF16x8Fast } from "../f16/half";
import { roundHalfK, roundKDown, roundKExp, roundKHi, roundKLo, roundKOff, roundKSign, roundKUp, roundUnitK } from "../f16/round";
import { madd } from "../common/simd";
import { zeroF32 } from "../common/memory";
import {
  ATTN_FLAG_Q_F16 as FLAG_Q_F16, ATTN_FLAG_KV_F16 as FLAG_KV_F16, ATTN_FLAG_STORE_F32 as FLAG_STORE_F32,
  ATTN_FLAG_FRAME_FIRST as FLAG_FRAME_FIRST, ATTN_FLAG_PREPARED as FLAG_PREPARED,
} from "../common/abi";

/** Keys per chunk (one online-softmax step). Measured (MHA decode, 32 heads x 2048 keys, d = 128, relaxed, Node,
 *  streaming from DRAM): CK 8 / 16 / 32 / 64 -> 2.4-2.5 / 2.65-2.7 / 3.1-3.3 / 3.6 ms (K and V of a chunk read close
 *  together stream better); hot-cache cost per key is 1-9 % higher at 8 than at 16-32. */
const CK: i32 = 16;
const M_INIT: f32 = -1e30; // finite initial max, as flash.ts: no inf - inf in the first step
const NEG_INF: f32 = -Infinity;

/** Scratch bytes f32_attn_decode_1x4__wasmsimd (1 key per step, 4 accumulators) needs for head dim d and nr query rows. */
export function f32_attn_decode_scratch_bytes(d: i32, nr: i32): f64 {
  const D = <f64>d, R = <f64>nr, C = <f64>CK;
  return (2 * R * D + 5 * R * C + 4 * R + C * D) * 4 + 32;
}

// [a, b, c, e] lane sums by two transposes
// @ts-ignore: decorator
@inline function hsum4(a: v128, b: v128, c: v128, e: v128): v128 {
  const ab = f32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const ce = f32x4.add(v128.shuffle<i32>(c, e, 0, 4, 1, 5), v128.shuffle<i32>(c, e, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<i32>(ab, ce, 0, 1, 4, 5), v128.shuffle<i32>(ab, ce, 2, 3, 6, 7));
}

/** Dot products of R (constant 1 or 2) query rows starting at qr (row stride db) with one key (row kt): 4 accumulators
 *  per row over d (16 floats per step, then 4 at a time); each key vector is loaded once for both rows. Stores the
 *  4-lane partial sums at part, part + partRowB (reduced to scores 4 keys at a time by hsum4). */
// @ts-ignore: decorator
@inline function dotRows(R: i32, H: bool, qr: usize, db: usize, db64: usize, kt: usize, part: usize, partRowB: usize): void {
  const q1 = qr + db;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  let xo: usize = 0;
  for (; xo < db64; xo += 64) {
    let k0: v128, k1: v128, k2: v128, k3: v128;
    if (H) { // 16 halves at kt + xo / 2, widened in registers
      const h0 = v128.load(kt + (xo >> 1)), h1 = v128.load(kt + (xo >> 1), 16);
      k0 = widenF16x8Fast(h0, false); k1 = widenF16x8Fast(h0, true); k2 = widenF16x8Fast(h1, false); k3 = widenF16x8Fast(h1, true);
      const i0 = f16x8NonFinite(h0), i1 = f16x8NonFinite(h1);
      if (v128.any_true(v128.or(i0, i1))) { k0 = fixF16NonFinite(k0, i0, false); k1 = fixF16NonFinite(k1, i0, true); k2 = fixF16NonFinite(k2, i1, false); k3 = fixF16NonFinite(k3, i1, true); }
    } else {
      k0 = v128.load(kt + xo); k1 = v128.load(kt + xo, 16); k2 = v128.load(kt + xo, 32); k3 = v128.load(kt + xo, 48);
    }
    a0 = madd(v128.load(qr + xo), k0, a0);
    if (R == 2) b0 = madd(v128.load(q1 + xo), k0, b0);
    a1 = madd(v128.load(qr + xo, 16), k1, a1);
    if (R == 2) b1 = madd(v128.load(q1 + xo, 16), k1, b1);
    a2 = madd(v128.load(qr + xo, 32), k2, a2);
    if (R == 2) b2 = madd(v128.load(q1 + xo, 32), k2, b2);
    a3 = madd(v128.load(qr + xo, 48), k3, a3);
    if (R == 2) b3 = madd(v128.load(q1 + xo, 48), k3, b3);
  }
  for (; xo < db; xo += 16) {
    const k0 = H ? loadF16x4(kt + (xo >> 1)) : v128.load(kt + xo);
    a0 = madd(v128.load(qr + xo), k0, a0);
    if (R == 2) b0 = madd(v128.load(q1 + xo), k0, b0);
  }
  v128.store(part, f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  if (R == 2) v128.store(part + partRowB, f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3)));
}

/** Scores of all query rows against one key: rows in pairs (dotRows 2), an odd last row alone. */
// @ts-ignore: decorator
@inline function dotKey(qs: usize, nr: i32, db: usize, db64: usize, kt: usize, part: usize, partRowB: usize): void {
  let r = 0;
  for (; r + 2 <= nr; r += 2) dotRows(2, false, qs + <usize>r * db, db, db64, kt, part + <usize>r * partRowB, partRowB);
  if (r < nr) dotRows(1, false, qs + <usize>r * db, db, db64, kt, part + <usize>r * partRowB, partRowB);
}

/** O_r += P[r][t] * v_t for R (constant 1 or 2) rows starting at po (row stride db; probabilities at pt, stride rowB):
 *  each V vector is loaded once for both rows. */
// @ts-ignore: decorator
@inline function pvRows(R: i32, H: bool, po: usize, db: usize, db64: usize, vt: usize, pt: usize, rowB: usize): void {
  const p0 = v128.load32_splat(pt);
  const p1 = R == 2 ? v128.load32_splat(pt + rowB) : p0;
  const po1 = po + db;
  let xo: usize = 0;
  for (; xo < db64; xo += 64) {
    let v0: v128, v1: v128, v2: v128, v3: v128;
    if (H) { // 16 halves at vt + xo / 2, widened in registers
      const h0 = v128.load(vt + (xo >> 1)), h1 = v128.load(vt + (xo >> 1), 16);
      v0 = widenF16x8Fast(h0, false); v1 = widenF16x8Fast(h0, true); v2 = widenF16x8Fast(h1, false); v3 = widenF16x8Fast(h1, true);
      const i0 = f16x8NonFinite(h0), i1 = f16x8NonFinite(h1);
      if (v128.any_true(v128.or(i0, i1))) { v0 = fixF16NonFinite(v0, i0, false); v1 = fixF16NonFinite(v1, i0, true); v2 = fixF16NonFinite(v2, i1, false); v3 = fixF16NonFinite(v3, i1, true); }
    } else {
      v0 = v128.load(vt + xo); v1 = v128.load(vt + xo, 16); v2 = v128.load(vt + xo, 32); v3 = v128.load(vt + xo, 48);
    }
    v128.store(po + xo, madd(p0, v0, v128.load(po + xo)));
    v128.store(po + xo, madd(p0, v1, v128.load(po + xo, 16)), 16);
    v128.store(po + xo, madd(p0, v2, v128.load(po + xo, 32)), 32);
    v128.store(po + xo, madd(p0, v3, v128.load(po + xo, 48)), 48);
    if (R == 2) {
      v128.store(po1 + xo, madd(p1, v0, v128.load(po1 + xo)));
      v128.store(po1 + xo, madd(p1, v1, v128.load(po1 + xo, 16)), 16);
      v128.store(po1 + xo, madd(p1, v2, v128.load(po1 + xo, 32)), 32);
      v128.store(po1 + xo, madd(p1, v3, v128.load(po1 + xo, 48)), 48);
    }
  }
  for (; xo < db; xo += 16) {
    const vv = H ? loadF16x4(vt + (xo >> 1)) : v128.load(vt + xo);
    v128.store(po + xo, madd(p0, vv, v128.load(po + xo)));
    if (R == 2) v128.store(po1 + xo, madd(p1, vv, v128.load(po1 + xo)));
  }
}

/** O_r += P[r][t] * v_t for all query rows (one V row, read once from memory): rows in pairs, an odd last row alone. */
// @ts-ignore: decorator
@inline function pvKey(oacc: usize, nr: i32, db: usize, db64: usize, vt: usize, pt: usize, rowB: usize): void {
  let r = 0;
  for (; r + 2 <= nr; r += 2) pvRows(2, false, oacc + <usize>r * db, db, db64, vt, pt + <usize>r * rowB, rowB);
  if (r < nr) pvRows(1, false, oacc + <usize>r * db, db, db64, vt, pt + <usize>r * rowB, rowB);
}


/**
 * Decode attention, f32: nr query rows (the bindings use 1..8; more rows are compute-bound: the tile kernel) against keys 0..s2-1 of one KV head.
 *   q: [nr][d] (f32, or f16 bits with FLAG_Q_F16 in flags), row stride d; o: [nr][d] f32.
 *   k, v: f32 rows (f16 bits with FLAG_KV_F16 in flags) with strides kRowStride / vRowStride elements (a KV cache
 *   with capacity > s2 is read in place).
 *   d: multiple of 4. No masking (seqQ = 1 decode sees every key).
 */
export function f32_attn_decode_1x4__wasmsimd(q: usize, o: usize, nr: i32, k: usize, v: usize, kRowStride: i32,
  vRowStride: i32, s2: i32, d: i32, scale: f32, flags: i32, scratch: usize): void {
  const db = <usize>d << 2;
  const kvF16 = (flags & FLAG_KV_F16) != 0;
  const krb = <usize>kRowStride << (kvF16 ? 1 : 2), vrb = <usize>vRowStride << (kvF16 ? 1 : 2);
  const rowB = <usize>CK << 2;
  const qs = (scratch + 15) & ~(<usize>15);
  const oacc = qs + <usize>nr * db;
  const sc = oacc + <usize>nr * db;
  const mrow = sc + <usize>nr * rowB;
  const lrow = mrow + (<usize>nr << 2);
  const arow = lrow + (<usize>nr << 2);
  const part = (arow + (<usize>nr << 2) + 15) & ~(<usize>15); // [nr][CK] f32x4 partial dot products
  const partRowB = <usize>CK << 4;
  const wide = part + <usize>nr * <usize>CK * 16; // [CK][d] widened f32 K or V chunk (FLAG_KV_F16), 16-aligned
  const db64 = db & ~(<usize>63);
  // scaled Q, zero O, m = M_INIT, l = 0
  const n = nr * d;
  if ((flags & FLAG_Q_F16) != 0) {
    for (let i = 0; i < n; i++) store<f32>(qs + (<usize>i << 2), f16ToF32(load<u16>(q + (<usize>i << 1))) * scale);
  } else {
    const sv = f32x4.splat(scale);
    for (let i = 0; i < n; i += 4) v128.store(qs + (<usize>i << 2), f32x4.mul(v128.load(q + (<usize>i << 2)), sv));
  }
  zeroF32(oacc, nr * d);
  for (let r = 0; r < nr; r++) {
    store<f32>(mrow + (<usize>r << 2), M_INIT);
    store<f32>(lrow + (<usize>r << 2), 0);
  }
  for (let c0 = 0; c0 < s2; c0 += CK) {
    const nv = min(CK, s2 - c0);
    const nv4 = (nv + 3) & ~3;
    let kb = k + <usize>c0 * krb, kt = krb;
    const inReg = kvF16 && nr == 1; // one row: widen K/V in registers (no scratch round trip); more rows share a widened chunk
    if (kvF16 && !inReg) { widenF16Rows(kb, krb, nv, db, wide); kb = wide; kt = db; }
    // 1. scores: one key at a time in memory order (K is read as one sequential stream: interleaving even 2 rows
    //    cut the streaming rate ~3x on the development machine), 4-lane partials reduced 4 keys at a time
    if (inReg) for (let t = 0; t < nv; t++) dotRows(1, true, qs, db, db64, kb + <usize>t * kt, part + (<usize>t << 4), partRowB);
    else for (let t = 0; t < nv; t++) dotKey(qs, nr, db, db64, kb + <usize>t * kt, part + (<usize>t << 4), partRowB);
    for (let r = 0; r < nr; r++) {
      const pr = part + <usize>r * partRowB, srow = sc + <usize>r * rowB;
      for (let t = 0; t < nv; t += 4) {
        const pp = pr + (<usize>t << 4);
        v128.store(srow + (<usize>t << 2), hsum4(v128.load(pp), v128.load(pp, 16), v128.load(pp, 32), v128.load(pp, 48)));
      }
    }
    // 2. online softmax per row over the nv4 scores (the lanes past nv are -inf: P = 0, no effect on the max)
    for (let r = 0; r < nr; r++) {
      const srow = sc + <usize>r * rowB;
      for (let t = nv; t < nv4; t++) store<f32>(srow + (<usize>t << 2), NEG_INF);
      let mx = f32x4.splat(NEG_INF);
      for (let t = 0; t < nv4; t += 4) mx = f32x4.pmax(mx, v128.load(srow + (<usize>t << 2)));
      mx = f32x4.pmax(mx, v128.shuffle<i32>(mx, mx, 2, 3, 0, 1));
      mx = f32x4.pmax(mx, v128.shuffle<i32>(mx, mx, 1, 0, 3, 2));
      const mo = v128.load32_splat(mrow + (<usize>r << 2));
      const mn = f32x4.pmax(mo, mx);
      let sum = f32x4.splat(0);
      for (let t = 0; t < nv4; t += 4) {
        const ps = srow + (<usize>t << 2);
        const p = expF32x4(f32x4.sub(v128.load(ps), mn));
        v128.store(ps, p);
        sum = f32x4.add(sum, p);
      }
      const alpha = f32x4.extract_lane(expF32x4(f32x4.sub(mo, mn)), 0);
      sum = f32x4.add(sum, v128.shuffle<i32>(sum, sum, 2, 3, 0, 1));
      const l = alpha * load<f32>(lrow + (<usize>r << 2)) + (f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1));
      store<f32>(lrow + (<usize>r << 2), l);
      store<f32>(mrow + (<usize>r << 2), f32x4.extract_lane(mn, 0));
      store<f32>(arow + (<usize>r << 2), alpha);
    }
    // 3. O = alpha * O, then O += P_t v_t one key at a time in memory order (V read as one sequential stream)
    for (let r = 0; r < nr; r++) {
      const alpha = load<f32>(arow + (<usize>r << 2));
      if (alpha != 1) { // the max moved (or alpha is NaN): rescale
        const al = f32x4.splat(alpha), po = oacc + <usize>r * db;
        for (let xo: usize = 0; xo < db; xo += 16) v128.store(po + xo, f32x4.mul(al, v128.load(po + xo)));
      }
    }
    let vb = v + <usize>c0 * vrb, vt = vrb;
    if (kvF16 && !inReg) { widenF16Rows(vb, vrb, nv, db, wide); vb = wide; vt = db; }
    if (inReg) for (let t = 0; t < nv; t++) pvRows(1, true, oacc, db, db64, vb + <usize>t * vt, sc + (<usize>t << 2), rowB);
    else for (let t = 0; t < nv; t++) pvKey(oacc, nr, db, db64, vb + <usize>t * vt, sc + (<usize>t << 2), rowB);
  }
  // O = O_acc / l (0 for a row whose every score was -inf)
  for (let r = 0; r < nr; r++) {
    const l = load<f32>(lrow + (<usize>r << 2));
    const inv = f32x4.splat(l != 0 ? <f32>1 / l : 0);
    const src = oacc + <usize>r * db, dst = o + <usize>r * db;
    for (let xo: usize = 0; xo < db; xo += 16) v128.store(dst + xo, l == 0 ? f32x4.splat(0) : f32x4.mul(v128.load(src + xo), inv));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// PASA decode (pasa.md §2.5, the semantics of flash.ts MODE_PASA for one query row per head): the same helpers, one
// PASA key block (bc keys, the shift block n) per online-softmax step instead of CK keys, and K' formed per block
// here instead of by attention_prep_kv over the whole cache on every call. Per block j (keys c0 .. c0+nv-1):
//   1. the block's keys rounded to fp16 (f32 keys kept in blk [bc][d]; f16 keys widened through the row buffer; one
//      sequential pass over K), their column sums in key order; bmean = sum * (beta / nv); then, one key at a time,
//      K'_t = f16(scale * (k_t - bmean)) into the [d] row buffer: the ops of attention_prep_kv, so K' is bit-identical
//      to the tile path's;
//   2. S_t = q16 . K'_t (dotKey; q16 = f16(q), scale is in K'), S' = f16(S), a = mean S' over the nv keys, the
//      running frame, P = f16(exp(S' - m_loc)), alpha, gamma, l as flash.ts rowsPasa (one row at a time, keys in
//      lanes; the same vector ops on splatted row values, madd included);
//   3. each v row rounded to fp16 (f16 values: widened) into the row buffer, PV = sum P_t v_t (pvKey),
//      O = alpha O + gamma f16(PV).
// The dot products and the key sums run in another order than the tile kernel's GEMM and lane-per-row passes,
// so S (hence rarely S') and a differ by f32 rounding: results agree with the tile path within PASA's error model
// (tests/fuzz/ops-attention.ts), not bit for bit. FLAG_STORE_F32 drops every fp16 rounding, FLAG_FRAME_FIRST keeps
// the first block's pseudo-average as the frame. No masking (one query row sees every key).
// Scratch (pasa_attn_decode_scratch_bytes): q16, O, PV [nr][d]; scores [nr][bc4]; partials [nr][4] f32x4; column
// sums [d]; row state [5][nr]; row buffer [d]; blk [bc][d] -- from the tile sizes (d, nr, bc), independent of s2.

/** Step 1 of the PASA decode kernel and of pasa_kv_prepare_block: the block's nv keys (rows at kb, stride krb bytes;
 *  f16 bits if kvF16, else f32 rounded to fp16 when `round`) summed per column in key order (as attention_prep_kv),
 *  then bsum = sum * (beta / nv). f32 keys are also stored rounded into blk rows (stride db); f16 keys only go
 *  through the row buffer (blk is not used for them). Every K' of the block is then f16(scale * (k_t - bsum)). */
// @ts-ignore: decorator
@inline function blockMean(kb: usize, krb: usize, nv: i32, db: usize, kvF16: bool, round: bool, beta: f32, bsum: usize, row: usize, blk: usize): void {
  const sgn = roundKSign(), expm = roundKExp(), lo = roundKLo(), hi = roundKHi(), off = roundKOff(), up = roundKUp(), down = roundKDown();
  zeroF32(bsum, <i32>(db >> 2));
  for (let t = 0; t < nv; t++) {
    let src = kb + <usize>t * krb;
    const dst = blk + <usize>t * db;
    if (kvF16) { widenF16Rows(src, krb, 1, db, row); src = row; }
    for (let xo: usize = 0; xo < db; xo += 16) {
      let kk = v128.load(src + xo);
      if (round && !kvF16) kk = roundHalfK(kk, sgn, expm, lo, hi, off, up, down);
      if (!kvF16) v128.store(dst + xo, kk);
      v128.store(bsum + xo, f32x4.add(v128.load(bsum + xo), kk));
    }
  }
  const bm = f32x4.splat(beta / <f32>nv);
  for (let xo: usize = 0; xo < db; xo += 16) v128.store(bsum + xo, f32x4.mul(v128.load(bsum + xo), bm));
}

/** Scratch bytes of pasa_kv_prepare_block for head dim d. */
export function pasa_kv_prepare_scratch_bytes(d: i32): f64 {
  return 2 * <f64>d * 4 + 16;
}

/**
 * K' of one PASA block for the prepared cache (bindings/ops/pasa-cache.ts): k16 [nv][d] keys as f16 bits (row stride d)
 * -> kp16 [nv][d] f16 bits of K'_t = f16(scale * (k_t - beta * kbar)), kbar the mean of the nv keys -- the values the
 * PASA decode kernel forms in its steps 1 and 2 (the same ops; narrowing an exact half is exact), so decoding the
 * prepared cache gives the same bits as decoding the raw keys. d: multiple of 4.
 */
export function pasa_kv_prepare_block(k16: usize, kp16: usize, nv: i32, d: i32, scale: f32, beta: f32, scratch: usize): void {
  const db = <usize>d << 2, hb = <usize>d << 1;
  const bsum = (scratch + 15) & ~(<usize>15), row = bsum + db;
  blockMean(k16, hb, nv, db, true, true, beta, bsum, row, 0);
  const sv = f32x4.splat(scale);
  for (let t = 0; t < nv; t++) {
    widenF16Rows(k16 + <usize>t * hb, hb, 1, db, row);
    const dst = kp16 + <usize>t * hb;
    let xo: usize = 0;
    for (; xo + 32 <= db; xo += 32) {
      const a = f32x4.mul(f32x4.sub(v128.load(row + xo), v128.load(bsum + xo)), sv);
      const b = f32x4.mul(f32x4.sub(v128.load(row + xo, 16), v128.load(bsum + xo, 16)), sv);
      v128.store(dst + (xo >> 1), narrowF16x8(a, b));
    }
    if (xo < db) { // d % 8 == 4: the last 4 halves
      const a = f32x4.mul(f32x4.sub(v128.load(row + xo), v128.load(bsum + xo)), sv);
      v128.store64_lane(dst + (xo >> 1), i16x8.narrow_i32x4_u(f32x4ToF16x4(a), a), 0);
    }
  }
}

/** Scratch bytes pasa_attn_decode_1x4__wasmsimd needs for head dim d, nr query rows and bc keys per PASA block. */
export function pasa_attn_decode_scratch_bytes(d: i32, nr: i32, bc: i32): f64 {
  const D = <f64>d, R = <f64>nr, B = <f64>bc, B4 = <f64>((bc + 3) & ~3);
  return (3 * R * D + R * B4 + 16 * R + 2 * D + 5 * R + B * D) * 4 + 32;
}

const PM_INIT: f32 = -1e30; // flash.ts M_INIT_F32: m starts finite, a block whose scores are all -inf uses it as m_loc

/**
 * PASA decode: nr query rows (the bindings pass 1..8: larger groups run the tile kernel) against keys
 * 0..s2-1 of one KV head, one PASA block of bc keys at a time.
 *   q: [nr][d] (f32, or f16 bits with FLAG_Q_F16), o: [nr][d] f32 (fp16 values unless FLAG_STORE_F32).
 *   k, v: rows with strides kRowStride / vRowStride elements, f32 or f16 bits (FLAG_KV_F16); only rows < s2 are read.
 *   d: multiple of 4; bc: multiple of 4; scale, beta as attention_prep_kv.
 */
export function pasa_attn_decode_1x4__wasmsimd(q: usize, o: usize, nr: i32, k: usize, v: usize, kRowStride: i32,
  vRowStride: i32, s2: i32, d: i32, scale: f32, beta: f32, bc: i32, flags: i32, scratch: usize): void {
  const db = <usize>d << 2, db64 = db & ~(<usize>63);
  const prepared = (flags & FLAG_PREPARED) != 0; // k: K' halves, v: V16 halves (the PASA cache)
  const kvF16 = prepared || (flags & FLAG_KV_F16) != 0;
  const round = (flags & FLAG_STORE_F32) == 0;
  const frameFirst = (flags & FLAG_FRAME_FIRST) != 0;
  const krb = <usize>kRowStride << (kvF16 ? 1 : 2), vrb = <usize>vRowStride << (kvF16 ? 1 : 2);
  const bc4 = (bc + 3) & ~3;
  const rowB = <usize>bc4 << 2;
  const qs = (scratch + 15) & ~(<usize>15);
  const oacc = qs + <usize>nr * db;
  const pv = oacc + <usize>nr * db;
  const sc = pv + <usize>nr * db; // [nr][bc4] scores, then probabilities
  const part = sc + <usize>nr * rowB; // [nr][4] f32x4 partial dot products of 4 keys
  const bsum = part + (<usize>nr << 6); // [d] column sums, then beta * mean
  const st = bsum + db; // row state: m, l, ab, alpha, gamma [nr] each
  const row = (st + <usize>(5 * nr << 2) + 15) & ~(<usize>15); // [d] one K' or rounded / widened key or value row
  const blk = row + db; // [bc][d] the block's rounded f32 keys
  const nrB = <usize>nr << 2;
  const sgn = roundKSign(), expm = roundKExp(), lo = roundKLo(), hi = roundKHi(), off = roundKOff(), up = roundKUp(), down = roundKDown();
  const cc: f32 = beta / (<f32>1 - beta);
  const iota = v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0);
  const sv = f32x4.splat(scale);
  // q16 (scale is folded into K'), O = 0, m = PM_INIT, l = 0
  const n = nr * d;
  for (let i = 0; i < n; i++) {
    const x = (flags & FLAG_Q_F16) != 0 ? f16ToF32(load<u16>(q + (<usize>i << 1))) : load<f32>(q + (<usize>i << 2));
    store<f32>(qs + (<usize>i << 2), round ? roundF16(x) : x);
  }
  zeroF32(oacc, nr * d);
  for (let r = 0; r < nr; r++) { store<f32>(st + (<usize>r << 2), PM_INIT); store<f32>(st + nrB + (<usize>r << 2), 0); }
  let j = 0;
  for (let c0 = 0; c0 < s2; c0 += bc, j++) {
    const nv = min(bc, s2 - c0);
    // 1. the block's keys rounded to fp16 (f16 keys: widened, already halves) and their column sums in key order (as
    //    attention_prep_kv). f32 keys are kept rounded in blk for step 2 (rounding again would cost more than the
    //    L2 round trip); f16 keys are widened again from the source there (the block was just read: L2).
    const kb = k + <usize>c0 * krb;
    if (!prepared) blockMean(kb, krb, nv, db, kvF16, round, beta, bsum, row, blk);
    // 2. K'_t = f16(scale (k_t - bmean)) into the row buffer, its scores (dotKey), 4 keys per partial group
    for (let t0 = 0; t0 < nv; t0 += 4) {
      const ng = min(4, nv - t0);
      if (ng < 4) zeroF32(part, nr << 4);
      for (let i = 0; i < ng; i++) {
        if (prepared && nr == 1) { // one row against K' halves: widened in registers (as the f32 kernel's MHA path)
          dotRows(1, true, qs, db, db64, kb + <usize>(t0 + i) * krb, part + (<usize>i << 4), 64);
          continue;
        }
        let src = blk + <usize>(t0 + i) * db;
        if (kvF16) { widenF16Rows(kb + <usize>(t0 + i) * krb, krb, 1, db, row); src = row; }
        if (!prepared) for (let xo: usize = 0; xo < db; xo += 16) {
          let kp = f32x4.mul(f32x4.sub(v128.load(src + xo), v128.load(bsum + xo)), sv);
          if (round) kp = roundHalfK(kp, sgn, expm, lo, hi, off, up, down);
          v128.store(row + xo, kp);
        }
        dotKey(qs, nr, db, db64, row, part + (<usize>i << 4), 64);
      }
      for (let r = 0; r < nr; r++) {
        const pp = part + (<usize>r << 6);
        v128.store(sc + <usize>r * rowB + (<usize>t0 << 2), hsum4(v128.load(pp), v128.load(pp, 16), v128.load(pp, 32), v128.load(pp, 48)));
      }
    }
    // 2b. the PASA step per row (flash.ts rowsPasa with keys in lanes; lanes past nv are excluded by `valid`)
    const invN: f32 = <f32>1 / <f32>nv;
    for (let r = 0; r < nr; r++) {
      const srow = sc + <usize>r * rowB;
      let sum = f32x4.splat(0), mx = f32x4.splat(NEG_INF);
      for (let t = 0; t < nv; t += 4) {
        const valid = i32x4.lt_s(i32x4.add(i32x4.splat(t), iota), i32x4.splat(nv));
        let s = v128.load(srow + (<usize>t << 2));
        if (round) s = roundHalfK(s, sgn, expm, lo, hi, off, up, down);
        v128.store(srow + (<usize>t << 2), s);
        sum = f32x4.add(sum, v128.and(s, valid));
        mx = f32x4.pmax(mx, v128.bitselect(s, f32x4.splat(NEG_INF), valid));
      }
      sum = f32x4.add(sum, v128.shuffle<i32>(sum, sum, 2, 3, 0, 1));
      sum = f32x4.add(sum, v128.shuffle<i32>(sum, sum, 1, 0, 3, 2));
      mx = f32x4.pmax(mx, v128.shuffle<i32>(mx, mx, 2, 3, 0, 1));
      mx = f32x4.pmax(mx, v128.shuffle<i32>(mx, mx, 1, 0, 3, 2));
      const a = f32x4.mul(sum, f32x4.splat(invN));
      const pab = st + (nrB << 1) + (<usize>r << 2);
      const abo = j > 0 ? v128.load32_splat(pab) : a;
      const ab = pasaFrame(a, abo, j, frameFirst);
      const dnew = pasaShift(a, ab, cc), dold = pasaShift(abo, ab, cc);
      const mloc = pasaLocalMax(mx, PM_INIT);
      let lloc = f32x4.splat(0);
      for (let t = 0; t < nv; t += 4) {
        const valid = i32x4.lt_s(i32x4.add(i32x4.splat(t), iota), i32x4.splat(nv));
        let p = expF32x4(f32x4.sub(v128.load(srow + (<usize>t << 2)), mloc));
        if (round) p = roundUnitK(p, expm, lo, off);
        v128.store(srow + (<usize>t << 2), p);
        lloc = f32x4.add(lloc, v128.and(p, valid));
      }
      lloc = f32x4.add(lloc, v128.shuffle<i32>(lloc, lloc, 2, 3, 0, 1));
      lloc = f32x4.add(lloc, v128.shuffle<i32>(lloc, lloc, 1, 0, 3, 2));
      const pm = st + (<usize>r << 2), pl = pm + nrB;
      const m = v128.load32_splat(pm);
      const mn = pasaMergedMax(m, dold, mloc, dnew);
      const alpha = pasaRescale(m, mn, dold), gamma = pasaRescale(mloc, mn, dnew);
      store<f32>(pl, f32x4.extract_lane(madd(alpha, v128.load32_splat(pl), f32x4.mul(gamma, lloc)), 0));
      store<f32>(pm, f32x4.extract_lane(mn, 0));
      store<f32>(pab, f32x4.extract_lane(ab, 0));
      store<f32>(pab + nrB, f32x4.extract_lane(alpha, 0));
      store<f32>(pab + (nrB << 1), f32x4.extract_lane(gamma, 0));
    }
    // 3. each value row rounded to fp16 (f16 values: widened) into the row buffer, PV = sum P_t v_t (pvKey), then
    //    O = alpha O + gamma f16(PV)
    const vb = v + <usize>c0 * vrb;
    zeroF32(pv, nr * d);
    for (let t = 0; t < nv; t++) {
      const src = vb + <usize>t * vrb;
      let vt = src;
      if (kvF16 && nr == 1) { pvRows(1, true, pv, db, db64, src, sc + (<usize>t << 2), rowB); continue; } // widened in registers
      if (kvF16) { widenF16Rows(src, vrb, 1, db, row); vt = row; }
      else if (round) {
        for (let xo: usize = 0; xo < db; xo += 16) v128.store(row + xo, roundHalfK(v128.load(src + xo), sgn, expm, lo, hi, off, up, down));
        vt = row;
      }
      pvKey(pv, nr, db, db64, vt, sc + (<usize>t << 2), rowB);
    }
    for (let r = 0; r < nr; r++) {
      const alpha = v128.load32_splat(st + (nrB << 1) + nrB + (<usize>r << 2));
      const gamma = v128.load32_splat(st + (nrB << 2) + (<usize>r << 2));
      const po = oacc + <usize>r * db, pp = pv + <usize>r * db;
      for (let xo: usize = 0; xo < db; xo += 16) {
        let t = v128.load(pp + xo);
        if (round) t = roundHalfK(t, sgn, expm, lo, hi, off, up, down);
        v128.store(po + xo, madd(alpha, v128.load(po + xo), f32x4.mul(gamma, t)));
      }
    }
  }
  // O = O_acc / l (0 for a row whose every score was -inf), rounded to fp16
  for (let r = 0; r < nr; r++) {
    const l = load<f32>(st + nrB + (<usize>r << 2));
    const src = oacc + <usize>r * db, dst = o + <usize>r * db;
    for (let xo: usize = 0; xo < db; xo += 16) {
      let y = l == 0 ? f32x4.splat(0) : f32x4.div(v128.load(src + xo), f32x4.splat(l));
      if (round) y = roundHalfK(y, sgn, expm, lo, hi, off, up, down);
      v128.store(dst + xo, y);
    }
  }
}
