// Attention decode in f32: nr <= 8 query rows (one token per query head; the GQA query heads of one KV head)
// against one KV head, streaming K and V once. The tile kernel (flash.ts) packs K and runs GEMM tiles sized for
// many query rows; with 1..8 rows that is compute-inefficient. Here, per chunk of CK keys:
//   1. scores: 8 keys at a time, one row at a time: 8 independent accumulators over d (K rows read in their
//      natural layout, the 8 rows stay in L1 for the other query rows), reduced to two f32x4 of scores by
//      transposes (hsum4);
//   2. online softmax per row (FA-2 step, as flash.ts rowsF32): m_new = pmax(m, chunk max) (pmax drops NaN scores
//      from the max; they still reach the output through exp(NaN - m)), P = exp(S - m_new), l = alpha*l + sum P;
//   3. P.V: per block of 32 (then 16, then 4) output columns and per row, acc = alpha*O + sum_t P_t v_t with the
//      block in registers; the chunk's V rows stay in L1 for the other rows and column blocks.
// Same semantics as attention_fwd in MODE_F32 without masking (decode with seqQ = 1 sees every key): -inf scores
// give P = +0 (exp flushes below -87.33), a row whose scores are all -inf outputs 0 (l = 0), NaN in K or V reaches
// the output. Q is pre-scaled by `scale` (as flash.ts). Only keys 0..s2-1 are read (no over-read: the 8-key
// groups of the last chunk repeat the last key and those scores are dropped).
// Scratch (f32_attn_decode_scratch_bytes): scaled Q [nr][d], O accumulator [nr][d], scores [nr][CK], m, l, alpha
// [nr] -- independent of s2.
import { expF32x4 } from "./exp";
import { f16ToF32 } from "../f16/half";
import { madd } from "../common/simd";

/** Keys per chunk (one online-softmax step). 32 keys x d = 128 is 16 KiB of V: stays in L1 across rows. */
const CK: i32 = 32;
const FLAG_Q_F16: i32 = 2; // same bit as flash.ts
const M_INIT: f32 = -1e30; // finite initial max, as flash.ts: no inf - inf in the first step
const NEG_INF: f32 = -Infinity;

/** Max query rows per call (the bindings split larger groups or use the tile kernel). */
export const F32_ATTN_DECODE_MAX_ROWS: i32 = 8;

/** Scratch bytes f32_attn_decode__wasmsimd_k8c32 needs for head dim d and nr query rows. */
export function f32_attn_decode_scratch_bytes(d: i32, nr: i32): i32 {
  return (2 * nr * d + nr * CK + 4 * nr) * 4 + 16;
}

// [a, b, c, e] lane sums by two transposes
// @ts-ignore: decorator
@inline function hsum4(a: v128, b: v128, c: v128, e: v128): v128 {
  const ab = f32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const ce = f32x4.add(v128.shuffle<i32>(c, e, 0, 4, 1, 5), v128.shuffle<i32>(c, e, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<i32>(ab, ce, 0, 1, 4, 5), v128.shuffle<i32>(ab, ce, 2, 3, 6, 7));
}

/** Scores of 8 keys (rows at kp + i*krb, clamped to the last key) for the query rows: dst[r][0..8). */
// @ts-ignore: decorator
@inline function scores8(qs: usize, nr: i32, db: usize, kb: usize, krb: usize, t0: i32, last: i32, dst: usize, rowB: usize): void {
  const p0 = kb + <usize>min(t0, last) * krb, p1 = kb + <usize>min(t0 + 1, last) * krb;
  const p2 = kb + <usize>min(t0 + 2, last) * krb, p3 = kb + <usize>min(t0 + 3, last) * krb;
  const p4 = kb + <usize>min(t0 + 4, last) * krb, p5 = kb + <usize>min(t0 + 5, last) * krb;
  const p6 = kb + <usize>min(t0 + 6, last) * krb, p7 = kb + <usize>min(t0 + 7, last) * krb;
  for (let r = 0; r < nr; r++) {
    const qr = qs + <usize>r * db;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (let xo: usize = 0; xo < db; xo += 16) {
      const qv = v128.load(qr + xo);
      a0 = madd(qv, v128.load(p0 + xo), a0);
      a1 = madd(qv, v128.load(p1 + xo), a1);
      a2 = madd(qv, v128.load(p2 + xo), a2);
      a3 = madd(qv, v128.load(p3 + xo), a3);
      a4 = madd(qv, v128.load(p4 + xo), a4);
      a5 = madd(qv, v128.load(p5 + xo), a5);
      a6 = madd(qv, v128.load(p6 + xo), a6);
      a7 = madd(qv, v128.load(p7 + xo), a7);
    }
    const o = dst + <usize>r * rowB + (<usize>t0 << 2);
    v128.store(o, hsum4(a0, a1, a2, a3));
    v128.store(o + 16, hsum4(a4, a5, a6, a7));
  }
}

/**
 * P.V for one block of NV (constant: 8, 4 or 1) output vectors starting at byte column xo, all rows:
 * O[r][block] = alpha_r * O[r][block] + sum_{t < nv} P[r][t] * v[t][block]. The guards on NV fold away after
 * inlining (constant argument), so this is one source for the 32-, 16- and 4-column blocks.
 */
// @ts-ignore: decorator
@inline function pvBlock(NV: i32, oacc: usize, sc: usize, rowB: usize, alphas: usize, nr: i32, db: usize,
  vb: usize, vrb: usize, nv: i32, xo: usize): void {
  for (let r = 0; r < nr; r++) {
    const po = oacc + <usize>r * db + xo;
    const al = v128.load32_splat(alphas + (<usize>r << 2));
    let a0 = f32x4.mul(al, v128.load(po));
    let a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    if (NV > 1) {
      a1 = f32x4.mul(al, v128.load(po, 16)); a2 = f32x4.mul(al, v128.load(po, 32)); a3 = f32x4.mul(al, v128.load(po, 48));
    }
    if (NV > 4) {
      a4 = f32x4.mul(al, v128.load(po, 64)); a5 = f32x4.mul(al, v128.load(po, 80));
      a6 = f32x4.mul(al, v128.load(po, 96)); a7 = f32x4.mul(al, v128.load(po, 112));
    }
    let pp = sc + <usize>r * rowB;
    let pv = vb + xo;
    for (let t = 0; t < nv; t++) {
      const p = v128.load32_splat(pp);
      a0 = madd(p, v128.load(pv), a0);
      if (NV > 1) {
        a1 = madd(p, v128.load(pv, 16), a1); a2 = madd(p, v128.load(pv, 32), a2); a3 = madd(p, v128.load(pv, 48), a3);
      }
      if (NV > 4) {
        a4 = madd(p, v128.load(pv, 64), a4); a5 = madd(p, v128.load(pv, 80), a5);
        a6 = madd(p, v128.load(pv, 96), a6); a7 = madd(p, v128.load(pv, 112), a7);
      }
      pp += 4;
      pv += vrb;
    }
    v128.store(po, a0);
    if (NV > 1) { v128.store(po, a1, 16); v128.store(po, a2, 32); v128.store(po, a3, 48); }
    if (NV > 4) { v128.store(po, a4, 64); v128.store(po, a5, 80); v128.store(po, a6, 96); v128.store(po, a7, 112); }
  }
}

/**
 * Decode attention, f32: nr (1..8) query rows against keys 0..s2-1 of one KV head.
 *   q: [nr][d] (f32, or f16 bits with FLAG_Q_F16 in flags), row stride d; o: [nr][d] f32.
 *   k, v: f32 rows with strides kRowStride / vRowStride elements (a KV cache with capacity > s2 is read in place).
 *   d: multiple of 4. No masking (seqQ = 1 decode sees every key).
 */
export function f32_attn_decode__wasmsimd_k8c32(q: usize, o: usize, nr: i32, k: usize, v: usize, kRowStride: i32,
  vRowStride: i32, s2: i32, d: i32, scale: f32, flags: i32, scratch: usize): void {
  const db = <usize>d << 2;
  const krb = <usize>kRowStride << 2, vrb = <usize>vRowStride << 2;
  const rowB = <usize>CK << 2;
  const qs = (scratch + 15) & ~(<usize>15);
  const oacc = qs + <usize>nr * db;
  const sc = oacc + <usize>nr * db;
  const mrow = sc + <usize>nr * rowB;
  const lrow = mrow + (<usize>nr << 2);
  const arow = lrow + (<usize>nr << 2);
  // scaled Q, zero O, m = M_INIT, l = 0
  const n = nr * d;
  if ((flags & FLAG_Q_F16) != 0) {
    for (let i = 0; i < n; i++) store<f32>(qs + (<usize>i << 2), f16ToF32(load<u16>(q + (<usize>i << 1))) * scale);
  } else {
    const sv = f32x4.splat(scale);
    for (let i = 0; i < n; i += 4) v128.store(qs + (<usize>i << 2), f32x4.mul(v128.load(q + (<usize>i << 2)), sv));
  }
  memory.fill(oacc, 0, <usize>nr * db);
  for (let r = 0; r < nr; r++) {
    store<f32>(mrow + (<usize>r << 2), M_INIT);
    store<f32>(lrow + (<usize>r << 2), 0);
  }
  const last = s2 - 1;
  for (let c0 = 0; c0 < s2; c0 += CK) {
    const nv = min(CK, s2 - c0);
    const nv4 = (nv + 3) & ~3;
    const kb = k + <usize>c0 * krb;
    // 1. scores (8-key groups; keys past nv repeat the last key, their scores are overwritten with -inf below)
    for (let t0 = 0; t0 < nv; t0 += 8) scores8(qs, nr, db, kb, krb, t0, last - c0, sc, rowB);
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
    // 3. O = alpha * O + P . V_chunk, by column blocks of 32, 16, 4
    const vb = v + <usize>c0 * vrb;
    let xo: usize = 0;
    for (; xo + 128 <= db; xo += 128) pvBlock(8, oacc, sc, rowB, arow, nr, db, vb, vrb, nv, xo);
    for (; xo + 64 <= db; xo += 64) pvBlock(4, oacc, sc, rowB, arow, nr, db, vb, vrb, nv, xo);
    for (; xo < db; xo += 16) pvBlock(1, oacc, sc, rowB, arow, nr, db, vb, vrb, nv, xo);
  }
  // O = O_acc / l (0 for a row whose every score was -inf)
  for (let r = 0; r < nr; r++) {
    const l = load<f32>(lrow + (<usize>r << 2));
    const inv = f32x4.splat(l != 0 ? <f32>1 / l : 0);
    const src = oacc + <usize>r * db, dst = o + <usize>r * db;
    for (let xo: usize = 0; xo < db; xo += 16) v128.store(dst + xo, l == 0 ? f32x4.splat(0) : f32x4.mul(v128.load(src + xo), inv));
  }
}
