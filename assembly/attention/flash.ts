// Flash attention (online softmax, tiled over query and key blocks) in four numerical modes:
//   MODE_F32      f32 flash attention (FA-2 recurrence), Q pre-scaled by `scale`.
//   MODE_F16      naive fp16 flash attention as fp16 hardware runs it ("naive_post" in pasa.md):
//                 S = f16(f16(Q K^T) * scale), and m, l, P, P.V, O all rounded to fp16 (O unnormalised).
//   MODE_PASA     PASA, pasa.md §2.5: fp16 values of Q, K', V, S', P and P.V; f32 per-row bookkeeping
//                 (pseudo-averages, frame, m, l) and an f32 output accumulator. FLAG_STORE_F32 drops every
//                 fp16 rounding (the exact-arithmetic recurrence in f32, used to test the algebra).
//   MODE_FAITHFUL the all-fp16 recurrence of the reference code, pasa.md §2.3.
//
// Layout: the query rows of one block live in the vector LANES. Q^T [d][br] is packed per query block,
// scores are computed as S^T [key][br] = K . Q^T, the output accumulator is O^T [d][br], and all per-row
// state (m, l, pseudo-averages, ...) is one f32x4 per 4 rows, so the softmax bookkeeping is fully
// vectorised and K, V are read in their natural [key][d] layout by broadcast loads (no packing of K/V).
// Scratch is O(tile): (3*d*br + bc*br + 10*br) floats (attention_scratch_bytes); never S1 x S2.
//
// K and V given to attention_fwd are f32 [rows][d] with row strides (a KV cache may have capacity > s2).
// In the fp16 modes they are the output of attention_prep_kv (K' or f16-rounded K, f16-rounded V, held as
// exactly representable f32 values so the inner GEMM runs at f32 speed; the numerics are those of fp16
// storage). Reads past s2 are clamped to row kvRows-1; those columns are masked.
import { attn_gemm_4x8 } from "./gen/gemm";
import { expF32x4 } from "./exp";
import { f16ToF32, loadF16x4, roundF16, roundF16x4 } from "../f16/half";
import { madd } from "../common/simd";

export const MODE_F32: i32 = 0;
export const MODE_F16: i32 = 1;
export const MODE_PASA: i32 = 2;
export const MODE_FAITHFUL: i32 = 3;

export const FLAG_CAUSAL: i32 = 1;
export const FLAG_Q_F16: i32 = 2; // q (prep: k and v) are f16 bits, else f32
export const FLAG_STORE_F32: i32 = 4; // MODE_PASA only: no fp16 rounding anywhere
export const FLAG_FRAME_FIRST: i32 = 8; // MODE_PASA only: frame = first block's pseudo-average (else running mean)

const NEG_INF: f32 = -Infinity;
const M_INIT_F32: f32 = -1e30; // finite "minus infinity": no inf - inf in the first merge / fully masked rows
const M_INIT_F16: f32 = -60000; // the reference's finite fp16 initial max

// per-row state arrays in scratch (each br floats)
const R_M = 0, R_L = 1, R_AB = 2, R_A = 3, R_ALPHA = 4, R_GAMMA = 5;
const N_ROWVEC = 10;

/** Scratch bytes attention_fwd needs for head dim d and tile br x bc. */
export function attention_scratch_bytes(d: i32, br: i32, bc: i32): i32 {
  return (3 * d * br + bc * br + N_ROWVEC * br) * 4 + 64;
}

/** Rows of the prepared K/V buffers attention_prep_kv writes (s2 padded: to whole blocks in faithful mode, else to 4). */
export function attention_prep_rows(s2: i32, bc: i32, mode: i32): i32 {
  return mode == MODE_FAITHFUL ? ((s2 + bc - 1) / bc) * bc : (s2 + 3) & ~3;
}

// @ts-ignore: decorator
@inline function ld4(p: usize, f16: bool): v128 {
  return f16 ? loadF16x4(p) : v128.load(p);
}

/**
 * Prepare one KV head for attention_fwd. k, v: [s2][d] (row strides in elements; f16 bits if FLAG_Q_F16).
 * kOut, vOut: [attention_prep_rows][d] f32. Modes:
 *   F32: widen f16 -> f32.  F16: round K and V to fp16.
 *   PASA: K'_t = f16(scale * (k_t - beta * kbar_j)), kbar_j the f32 mean of the block's n_valid keys (pasa.md §2.5);
 *         V rounded to fp16 (no rounding at all with FLAG_STORE_F32).
 *   FAITHFUL: the reference's "single GEMM on K": M16 = f16(scale*(I - beta/n 11^T)), K'_j = f16(K_j^T M16)^T,
 *         tail padded to a whole block by duplicating the last `pad` real keys/values (zeros if s2 < bc).
 * Padding rows (beyond s2, up to attention_prep_rows) are zero except in faithful mode.
 */
export function attention_prep_kv(k: usize, v: usize, kRowStride: i32, vRowStride: i32, s2: i32, d: i32,
  kOut: usize, vOut: usize, mode: i32, flags: i32, scale: f32, beta: f32, bc: i32): void {
  const src16 = (flags & FLAG_Q_F16) != 0;
  const eb: usize = src16 ? 2 : 4;
  const rows = attention_prep_rows(s2, bc, mode);
  const kb = <usize>kRowStride * eb, vb = <usize>vRowStride * eb, ob = <usize>d << 2;
  const round = mode != MODE_F32 && !(mode == MODE_PASA && (flags & FLAG_STORE_F32) != 0);
  // source row for output row t (faithful padding duplicates the last `pad` rows; other modes: zero rows)
  const pad = rows - s2;
  // V (and K for F32 / F16)
  for (let t = 0; t < rows; t++) {
    let srcRow = t;
    let zero = t >= s2;
    if (mode == MODE_FAITHFUL && t >= s2) { zero = s2 < bc; srcRow = t - pad; }
    for (let x = 0; x < d; x += 4) {
      const xo = <usize>x;
      let vv = f32x4.splat(0), kk = f32x4.splat(0);
      if (!zero) {
        vv = ld4(v + <usize>srcRow * vb + xo * eb, src16);
        kk = ld4(k + <usize>srcRow * kb + xo * eb, src16);
        if (round) { vv = roundF16x4(vv); kk = roundF16x4(kk); }
      }
      v128.store(vOut + <usize>t * ob + (xo << 2), vv);
      // kOut first holds the (rounded) keys; PASA / faithful transform them in place below
      v128.store(kOut + <usize>t * ob + (xo << 2), kk);
    }
  }
  if (mode != MODE_PASA && mode != MODE_FAITHFUL) return;
  // per key block: column sums of the (rounded) keys, then the shift
  let diag: f32 = 0, off: f32 = 0;
  if (mode == MODE_FAITHFUL) {
    const n = <f64>bc;
    diag = roundF16(<f32>(<f64>scale * (1.0 - <f64>beta / n)));
    off = roundF16(<f32>(-(<f64>scale) * <f64>beta / n));
  }
  for (let c0 = 0; c0 < rows; c0 += bc) {
    const nBlock = min(bc, rows - c0);
    const nv = mode == MODE_FAITHFUL ? nBlock : min(bc, s2 - c0);
    if (nv <= 0) break;
    for (let x = 0; x < d; x += 4) {
      const xo = <usize>x << 2;
      let sum = f32x4.splat(0);
      for (let t = 0; t < nv; t++) sum = f32x4.add(sum, v128.load(kOut + <usize>(c0 + t) * ob + xo));
      if (mode == MODE_PASA) {
        const bmean = f32x4.mul(sum, f32x4.splat(beta / <f32>nv));
        for (let t = 0; t < nv; t++) {
          const p = kOut + <usize>(c0 + t) * ob + xo;
          let kp = f32x4.mul(f32x4.sub(v128.load(p), bmean), f32x4.splat(scale));
          if (round) kp = roundF16x4(kp);
          v128.store(p, kp);
        }
      } else {
        for (let t = 0; t < nv; t++) {
          const p = kOut + <usize>(c0 + t) * ob + xo;
          const kt = v128.load(p);
          v128.store(p, roundF16x4(madd(kt, f32x4.splat(diag), f32x4.mul(f32x4.sub(sum, kt), f32x4.splat(off)))));
        }
      }
    }
  }
}

/**
 * Attention for nh query heads sharing one KV head.
 *   q: [nh][s1][d] (head stride qHeadStride elements; f32, or f16 bits with FLAG_Q_F16), o: [nh][s1][d] f32.
 *   k, v: [kvRows][d] f32 with row strides in elements; keys 0..s2-1 are attended (kvRows >= s2, or
 *         >= the padded rows in faithful mode).
 *   scale: softmax scale (in MODE_PASA / MODE_FAITHFUL it is already folded into K' by attention_prep_kv).
 *   br: query rows per block (multiple of 8), bc: keys per block (multiple of 4). Causal masking is
 *   bottom-right aligned: key t is masked for row r iff t > r + (s2 - s1). Fully masked rows output 0.
 */
export function attention_fwd(q: usize, qHeadStride: i32, o: usize, oHeadStride: i32, nh: i32, s1: i32,
  k: usize, v: usize, kvRows: i32, kRowStride: i32, vRowStride: i32, s2: i32, d: i32,
  scratch: usize, mode: i32, flags: i32, scale: f32, beta: f32, br: i32, bc: i32): void {
  const causal = (flags & FLAG_CAUSAL) != 0;
  const q16 = (flags & FLAG_Q_F16) != 0;
  const storeF32 = mode == MODE_PASA && (flags & FLAG_STORE_F32) != 0;
  const frameFirst = (flags & FLAG_FRAME_FIRST) != 0;
  const roundOut = mode != MODE_F32 && !storeF32;
  const brE = min(br, (s1 + 7) & ~7); // decode (s1 = 1) uses an 8-row block
  const rs: usize = <usize>brE << 2; // byte stride of one key/dim row of the transposed tiles
  const qT = (scratch + 15) & ~(<usize>15);
  const sT = qT + <usize>d * rs;
  const oT = sT + <usize>bc * rs;
  const pv = oT + <usize>d * rs;
  const rowv = pv + <usize>d * rs;
  const off = s2 - s1;
  const krb = <usize>kRowStride << 2, vrb = <usize>vRowStride << 2;
  const mInit: f32 = mode == MODE_F16 || mode == MODE_FAITHFUL ? M_INIT_F16 : M_INIT_F32;

  for (let h = 0; h < nh; h++) {
    const qh = q + <usize>h * <usize>qHeadStride * (q16 ? 2 : 4);
    const oh = o + (<usize>h * <usize>oHeadStride << 2);
    for (let r0 = 0; r0 < s1; r0 += brE) {
      const nr = min(brE, s1 - r0);
      // pack Q^T (zero rows beyond nr)
      for (let r = 0; r < brE; r++) {
        for (let x = 0; x < d; x++) {
          let val: f32 = 0;
          if (r < nr) {
            const idx = <usize>(r0 + r) * <usize>d + <usize>x;
            val = q16 ? f16ToF32(load<u16>(qh + (idx << 1))) : load<f32>(qh + (idx << 2));
            if (mode == MODE_F32) val *= scale;
            else if (!storeF32) val = roundF16(val);
          }
          store<f32>(qT + <usize>x * rs + (<usize>r << 2), val);
        }
      }
      for (let i = 0; i < brE; i += 4) {
        const p = rowv + (<usize>i << 2);
        v128.store(p + R_M * rs, f32x4.splat(mInit));
        v128.store(p + R_L * rs, f32x4.splat(0));
        v128.store(p + R_AB * rs, f32x4.splat(0));
      }
      memory.fill(oT, 0, <usize>d * rs);
      const lastRow = r0 + nr - 1;
      let j = 0;
      for (let c0 = 0; c0 < s2; c0 += bc) {
        if (causal && c0 > lastRow + off) break; // this and all later key blocks are fully masked
        const nv = min(bc, s2 - c0);
        const ncols = mode == MODE_FAITHFUL ? bc : (nv + 3) & ~3;
        // S^T = K_block . Q^T
        for (let c4 = 0; c4 < ncols; c4 += 4) {
          const t0 = c0 + c4;
          const last = kvRows - 1;
          const a0 = k + <usize>min(t0, last) * krb, a1 = k + <usize>min(t0 + 1, last) * krb;
          const a2 = k + <usize>min(t0 + 2, last) * krb, a3 = k + <usize>min(t0 + 3, last) * krb;
          for (let r8 = 0; r8 < brE; r8 += 8) {
            const ro = <usize>r8 << 2;
            attn_gemm_4x8(a0, a1, a2, a3, 4, qT + ro, rs, d, sT + <usize>c4 * rs + ro, rs);
          }
        }
        const needMask = causal && c0 + nv - 1 > r0 + off;
        if (mode == MODE_F32) rowsF32(sT, rowv, rs, brE, nv, needMask, r0, c0 - off);
        else if (mode == MODE_PASA) rowsPasa(sT, rowv, rs, brE, nv, needMask, r0, c0 - off, j, beta, storeF32, frameFirst);
        else if (mode == MODE_FAITHFUL) rowsFaithful(sT, rowv, rs, brE, nv, bc, needMask, r0, c0 - off, j, beta);
        else rowsF16(sT, rowv, rs, brE, nv, needMask, r0, c0 - off, scale);
        // PV^T = V_block^T . P^T
        const vb = v + <usize>c0 * vrb;
        for (let x = 0; x < d; x += 4) {
          const a0 = vb + (<usize>x << 2);
          for (let r8 = 0; r8 < brE; r8 += 8) {
            const ro = <usize>r8 << 2;
            attn_gemm_4x8(a0, a0 + 4, a0 + 8, a0 + 12, vrb, sT + ro, rs, nv, pv + <usize>x * rs + ro, rs);
          }
        }
        combine(oT, pv, rowv, rs, brE, d, mode, roundOut, j);
        j++;
      }
      // O = O^T / l, transposed back to [row][d]
      for (let r = 0; r < nr; r++) {
        const l = load<f32>(rowv + R_L * rs + (<usize>r << 2));
        const inv: f32 = l != 0 ? <f32>1 / l : 0;
        const orow = oh + (<usize>(r0 + r) * <usize>d << 2);
        for (let x = 0; x < d; x++) {
          const acc = load<f32>(oT + <usize>x * rs + (<usize>r << 2));
          let y: f32 = l != 0 ? (mode == MODE_F32 ? acc * inv : acc / l) : 0;
          if (roundOut) y = roundF16(y);
          store<f32>(orow + (<usize>x << 2), y);
        }
      }
    }
  }
}

// lanes hold rows r0+i .. r0+i+3
// @ts-ignore: decorator
@inline function rowVec(r: i32): v128 {
  return i32x4.add(i32x4.splat(r), v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0));
}

// masked iff key t > row + off  <=>  row < t - off ; tm = c0 - off is t - off for c = 0
// @ts-ignore: decorator
@inline function maskS(s: v128, ri: v128, tm: i32): v128 {
  return v128.bitselect(f32x4.splat(NEG_INF), s, i32x4.lt_s(ri, i32x4.splat(tm)));
}

/** FA-2 step in f32: m_new = max(m, rowmax S), P = exp(S - m_new), l = alpha*l + rowsum P. */
function rowsF32(sT: usize, rowv: usize, rs: usize, brE: i32, nv: i32, needMask: bool, r0: i32, tm0: i32): void {
  for (let i = 0; i < brE; i += 4) {
    const io = <usize>i << 2;
    let p = sT + io;
    let mx0 = f32x4.splat(NEG_INF), mx1 = mx0;
    if (needMask) {
      const ri = rowVec(r0 + i);
      for (let c = 0; c < nv; c++) {
        const s = maskS(v128.load(p), ri, tm0 + c);
        v128.store(p, s);
        mx0 = f32x4.max(mx0, s);
        p += rs;
      }
    } else {
      let c = 0;
      for (; c + 2 <= nv; c += 2) {
        mx0 = f32x4.max(mx0, v128.load(p));
        mx1 = f32x4.max(mx1, v128.load(p + rs));
        p += rs << 1;
      }
      if (c < nv) mx0 = f32x4.max(mx0, v128.load(p));
    }
    const mx = f32x4.max(mx0, mx1);
    const pm = rowv + R_M * rs + io;
    const mo = v128.load(pm);
    const mn = f32x4.max(mo, mx);
    const alpha = expF32x4(f32x4.sub(mo, mn));
    let s0 = f32x4.splat(0), s1 = s0;
    p = sT + io;
    let c = 0;
    for (; c + 2 <= nv; c += 2) {
      const e0 = expF32x4(f32x4.sub(v128.load(p), mn));
      const e1 = expF32x4(f32x4.sub(v128.load(p + rs), mn));
      v128.store(p, e0); v128.store(p + rs, e1);
      s0 = f32x4.add(s0, e0); s1 = f32x4.add(s1, e1);
      p += rs << 1;
    }
    if (c < nv) {
      const e0 = expF32x4(f32x4.sub(v128.load(p), mn));
      v128.store(p, e0);
      s0 = f32x4.add(s0, e0);
    }
    const pl = rowv + R_L * rs + io;
    v128.store(pl, madd(alpha, v128.load(pl), f32x4.add(s0, s1)));
    v128.store(pm, mn);
    v128.store(rowv + R_ALPHA * rs + io, alpha);
    v128.store(rowv + R_GAMMA * rs + io, f32x4.splat(1));
  }
}

/** PASA step (pasa.md §2.2, §2.5): S' rounded to fp16, pseudo-average a over the n_valid columns before masking,
 *  f32 frame bookkeeping, block-local P = f16(exp(S' - m_loc)). */
function rowsPasa(sT: usize, rowv: usize, rs: usize, brE: i32, nv: i32, needMask: bool, r0: i32, tm0: i32,
  j: i32, beta: f32, storeF32: bool, frameFirst: bool): void {
  const cc: f32 = beta / (<f32>1 - beta);
  const invN: f32 = <f32>1 / <f32>nv;
  const w1: f32 = <f32>1 / <f32>(j + 1), w0: f32 = <f32>j / <f32>(j + 1);
  for (let i = 0; i < brE; i += 4) {
    const io = <usize>i << 2;
    const ri = rowVec(r0 + i);
    let p = sT + io;
    let sum = f32x4.splat(0), mx = f32x4.splat(NEG_INF);
    for (let c = 0; c < nv; c++) {
      let s = v128.load(p);
      if (!storeF32) s = roundF16x4(s);
      sum = f32x4.add(sum, s);
      if (needMask) s = maskS(s, ri, tm0 + c);
      v128.store(p, s);
      mx = f32x4.max(mx, s);
      p += rs;
    }
    const a = f32x4.mul(sum, f32x4.splat(invN));
    const pab = rowv + R_AB * rs + io;
    let ab = a, abo = a;
    if (j > 0) {
      abo = v128.load(pab);
      ab = frameFirst ? abo : madd(a, f32x4.splat(w1), f32x4.mul(abo, f32x4.splat(w0)));
    }
    const dnew = f32x4.mul(f32x4.sub(a, ab), f32x4.splat(cc));
    const dold = f32x4.mul(f32x4.sub(abo, ab), f32x4.splat(cc));
    const mloc = v128.bitselect(f32x4.splat(M_INIT_F32), mx, f32x4.eq(mx, f32x4.splat(NEG_INF)));
    let lloc = f32x4.splat(0);
    p = sT + io;
    for (let c = 0; c < nv; c++) {
      let e = expF32x4(f32x4.sub(v128.load(p), mloc));
      if (!storeF32) e = roundF16x4(e);
      v128.store(p, e);
      lloc = f32x4.add(lloc, e);
      p += rs;
    }
    const pm = rowv + R_M * rs + io;
    const m = v128.load(pm);
    const mn = f32x4.max(f32x4.add(m, dold), f32x4.add(mloc, dnew));
    const alpha = expF32x4(f32x4.add(f32x4.sub(m, mn), dold));
    const gamma = expF32x4(f32x4.add(f32x4.sub(mloc, mn), dnew));
    const pl = rowv + R_L * rs + io;
    v128.store(pl, madd(alpha, v128.load(pl), f32x4.mul(gamma, lloc)));
    v128.store(pm, mn);
    v128.store(pab, ab);
    v128.store(rowv + R_ALPHA * rs + io, alpha);
    v128.store(rowv + R_GAMMA * rs + io, gamma);
  }
}

/** The reference's all-fp16 recurrence (pasa.md §2.3): every row quantity rounded to fp16; the row mean a is
 *  taken over all bc columns of the (padded) block before masking; padded columns (>= nv) are masked. */
function rowsFaithful(sT: usize, rowv: usize, rs: usize, brE: i32, nv: i32, bc: i32, needMask: bool, r0: i32, tm0: i32,
  j: i32, beta: f32): void {
  const cc = f32x4.splat(roundF16(beta / (<f32>1 - beta)));
  const w1 = f32x4.splat(roundF16(<f32>1 / <f32>(j + 1))), w0 = f32x4.splat(roundF16(<f32>j / <f32>(j + 1)));
  const invN = f32x4.splat(<f32>1 / <f32>bc);
  for (let i = 0; i < brE; i += 4) {
    const io = <usize>i << 2;
    const ri = rowVec(r0 + i);
    let p = sT + io;
    let sum = f32x4.splat(0), mx = f32x4.splat(NEG_INF);
    for (let c = 0; c < bc; c++) {
      let s = roundF16x4(v128.load(p));
      sum = f32x4.add(sum, s);
      if (c < nv) {
        if (needMask) s = maskS(s, ri, tm0 + c);
        mx = f32x4.max(mx, s);
      }
      v128.store(p, s);
      p += rs;
    }
    const a = roundF16x4(f32x4.mul(sum, invN));
    const pab = rowv + R_AB * rs + io;
    let ab = a, abo = a;
    if (j > 0) {
      abo = v128.load(pab);
      ab = roundF16x4(f32x4.add(roundF16x4(f32x4.mul(a, w1)), roundF16x4(f32x4.mul(abo, w0))));
    }
    const dnew = roundF16x4(f32x4.mul(roundF16x4(f32x4.sub(a, ab)), cc));
    const dold = roundF16x4(f32x4.mul(roundF16x4(f32x4.sub(abo, ab)), cc));
    const mloc = v128.bitselect(f32x4.splat(M_INIT_F16), mx, f32x4.eq(mx, f32x4.splat(NEG_INF)));
    let lsum = f32x4.splat(0);
    p = sT + io;
    for (let c = 0; c < nv; c++) {
      const e = roundF16x4(expF32x4(roundF16x4(f32x4.sub(v128.load(p), mloc))));
      v128.store(p, e);
      lsum = f32x4.add(lsum, e);
      p += rs;
    }
    const lloc = roundF16x4(lsum);
    const pm = rowv + R_M * rs + io;
    const m = v128.load(pm);
    const mn = f32x4.max(roundF16x4(f32x4.add(m, dold)), roundF16x4(f32x4.add(mloc, dnew)));
    const alpha = roundF16x4(expF32x4(roundF16x4(f32x4.add(roundF16x4(f32x4.sub(m, mn)), dold))));
    const gamma = roundF16x4(expF32x4(roundF16x4(f32x4.add(roundF16x4(f32x4.sub(mloc, mn)), dnew))));
    const pl = rowv + R_L * rs + io;
    const gl = roundF16x4(f32x4.mul(gamma, lloc));
    v128.store(pl, j == 0 ? gl : roundF16x4(f32x4.add(roundF16x4(f32x4.mul(alpha, v128.load(pl))), gl)));
    v128.store(pm, mn);
    v128.store(pab, ab);
    v128.store(rowv + R_ALPHA * rs + io, alpha);
    v128.store(rowv + R_GAMMA * rs + io, gamma);
  }
}

/** Naive fp16 FA-2 ("naive_post"): S = f16(f16(QK^T) * scale); m, P, l all fp16. Overflowing scores become
 *  inf and then NaN (inf - inf), exactly as on fp16 hardware. */
function rowsF16(sT: usize, rowv: usize, rs: usize, brE: i32, nv: i32, needMask: bool, r0: i32, tm0: i32, scale: f32): void {
  const tau = f32x4.splat(scale);
  for (let i = 0; i < brE; i += 4) {
    const io = <usize>i << 2;
    const ri = rowVec(r0 + i);
    let p = sT + io;
    let mx = f32x4.splat(NEG_INF);
    for (let c = 0; c < nv; c++) {
      let s = roundF16x4(f32x4.mul(roundF16x4(v128.load(p)), tau));
      if (needMask) s = maskS(s, ri, tm0 + c);
      v128.store(p, s);
      mx = f32x4.max(mx, s);
      p += rs;
    }
    const pm = rowv + R_M * rs + io;
    const m = v128.load(pm);
    const mn = f32x4.max(m, mx);
    let lsum = f32x4.splat(0);
    p = sT + io;
    for (let c = 0; c < nv; c++) {
      const e = roundF16x4(expF32x4(roundF16x4(f32x4.sub(v128.load(p), mn))));
      v128.store(p, e);
      lsum = f32x4.add(lsum, e);
      p += rs;
    }
    const alpha = roundF16x4(expF32x4(roundF16x4(f32x4.sub(m, mn))));
    const pl = rowv + R_L * rs + io;
    v128.store(pl, roundF16x4(f32x4.add(roundF16x4(f32x4.mul(alpha, v128.load(pl))), roundF16x4(lsum))));
    v128.store(pm, mn);
    v128.store(rowv + R_ALPHA * rs + io, alpha);
  }
}

/** O = alpha*O + gamma*PV per mode (PV rounded to fp16 in the fp16 modes). */
function combine(oT: usize, pv: usize, rowv: usize, rs: usize, brE: i32, d: i32, mode: i32, roundPV: bool, j: i32): void {
  for (let i = 0; i < brE; i += 4) {
    const io = <usize>i << 2;
    const alpha = v128.load(rowv + R_ALPHA * rs + io);
    const gamma = v128.load(rowv + R_GAMMA * rs + io);
    let po = oT + io, pp = pv + io;
    if (mode == MODE_F32) {
      for (let x = 0; x < d; x++) { v128.store(po, madd(alpha, v128.load(po), v128.load(pp))); po += rs; pp += rs; }
    } else if (mode == MODE_PASA) {
      for (let x = 0; x < d; x++) {
        let t = v128.load(pp);
        if (roundPV) t = roundF16x4(t);
        v128.store(po, madd(alpha, v128.load(po), f32x4.mul(gamma, t)));
        po += rs; pp += rs;
      }
    } else if (mode == MODE_FAITHFUL) {
      for (let x = 0; x < d; x++) {
        const g = roundF16x4(f32x4.mul(gamma, roundF16x4(v128.load(pp))));
        v128.store(po, j == 0 ? g : roundF16x4(f32x4.add(roundF16x4(f32x4.mul(alpha, v128.load(po))), g)));
        po += rs; pp += rs;
      }
    } else {
      for (let x = 0; x < d; x++) {
        v128.store(po, roundF16x4(f32x4.add(roundF16x4(f32x4.mul(alpha, v128.load(po))), roundF16x4(v128.load(pp)))));
        po += rs; pp += rs;
      }
    }
  }
}
