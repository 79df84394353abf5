// Flash attention (online softmax, tiled over query and key blocks) in four numerical modes:
//   MODE_F32      f32 flash attention (FA-2 recurrence), Q pre-scaled by `scale`.
//   MODE_F16      naive fp16 flash attention as fp16 hardware runs it ("naive_post" in pasa.md):
//                 S = f16(f16(Q K^T) * scale), and m, l, P, P.V, O all rounded to fp16 (O unnormalised).
//   MODE_PASA     PASA, pasa.md §2.5: fp16 values of Q, K', V, S', P and P.V; f32 per-row bookkeeping
//                 (pseudo-averages, frame, m, l) and an f32 output accumulator. FLAG_STORE_F32 drops every
//                 fp16 rounding (the exact-arithmetic recurrence in f32, used to test the algebra).
//   MODE_FAITHFUL the all-fp16 recurrence of the reference code, pasa.md §2.3.
//
// Layout: the query rows of one block live in the vector LANES for the scores. Q^T [d][br] is packed per
// query block, the key block is packed per tile as Kp [key group][d][MRQ keys], scores are S^T [key][br] =
// Kp . Q^T, and all per-row state (m, l, pseudo-averages, ...) is one f32x4 per 4 rows, so the softmax
// bookkeeping is fully vectorised. P.V is computed as PV [br][d] = P (broadcast from P^T) . V with V read in
// its natural [key][d] layout, and the output accumulator O [br][d] is row-major.
// Row maxima use pmax (one maxps on x86; f32x4.max's NaN/-0 rules cost ~8 instructions): a NaN score is then
// dropped from the max but still reaches the output through exp(NaN - m). Inner GEMMs (gen/gemm.ts): relaxed tier 6x8 tiles (12 accumulators, FMA), simd128 tier 4x8 (mul+add needs a
// temporary register, 6x8 would spill). Scratch is O(tile) (attention_scratch_bytes); never S1 x S2.
//
// K and V given to attention_fwd are f32 [rows][d] with row strides (a KV cache may have capacity > s2).
// In the fp16 modes they are the output of attention_prep_kv (K' or f16-rounded K, f16-rounded V, held as
// exactly representable f32 values so the inner GEMM runs at f32 speed; the numerics are those of fp16
// storage). Keys at or past kvRows are packed as zeros; columns past s2 are never used (masked).
// With FLAG_KV_F16, K and V are f16 bits used as they are (MODE_F32 / MODE_F16 on an f16 KV cache, where
// rounding a half to fp16 is the identity; MODE_PASA on K' / V16 halves prepared by pasa_kv_prepare_block):
// each key block's rows are widened exactly into one L1/L2-sized staging tile (bc x d f32) before packing K
// and again before P.V, so no whole-cache f32 copy is needed (scratch stays O(tile)).
import { attn_gemm_1x4, attn_gemm_1x8, attn_gemm_4x4, attn_gemm_4x8, attn_gemm_6x4, attn_gemm_6x8 } from "./gen/gemm";
import { expF32x4 } from "./exp";
import { pasaFrame, pasaLocalMax, pasaMergedMax, pasaRescale, pasaShift } from "./pasa-step";
import { f16ToF32, loadF16x4, roundF16, widenF16Rows } from "../f16/half";
import { zeroF32 } from "../common/memory";
import { roundHalfK, roundHalfX4, roundKDown, roundKExp, roundKHi, roundKLo, roundKOff, roundKSign, roundKUp, roundUnitK } from "../f16/round";
import { madd, sel } from "../common/simd";

import {
  ATTN_MODE_F32 as MODE_F32, ATTN_MODE_F16 as MODE_F16, ATTN_MODE_PASA as MODE_PASA, ATTN_MODE_FAITHFUL as MODE_FAITHFUL,
  ATTN_FLAG_CAUSAL as FLAG_CAUSAL, ATTN_FLAG_Q_F16 as FLAG_Q_F16, ATTN_FLAG_STORE_F32 as FLAG_STORE_F32,
  ATTN_FLAG_FRAME_FIRST as FLAG_FRAME_FIRST, ATTN_FLAG_TILE4 as FLAG_TILE4, ATTN_FLAG_KV_F16 as FLAG_KV_F16,
} from "../common/abi"; // modes and flag bits (meanings there)

const NEG_INF: f32 = -Infinity;
const M_INIT_F32: f32 = -1e30; // finite "minus infinity": no inf - inf in the first merge / fully masked rows
const M_INIT_F16: f32 = -60000; // the reference's finite fp16 initial max

// per-row state arrays in scratch (each br floats): running max, running sum, frame (running mean of the
// pseudo-averages), and this block's alpha / gamma for the output update
const R_M = 0, R_L = 1, R_AB = 2, R_ALPHA = 3, R_GAMMA = 4;
const N_ROWVEC = 5;

// Tile shapes: keys per packed group (QK) and rows per PV tile; both tiers align row blocks to 24.
/**
 * Key-tile height of the inner GEMMs, set at the start of attention_fwd: 6 on the relaxed tier (FMA,
 * 12 accumulators), 4 on simd128 or with FLAG_TILE4 (the 4-row tiles load their A values as one v128:
 * fewer loads, which pays where every load carries a bounds check, i.e. Deno). Same sums in the same
 * order either way.
 */
let MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 4;
/** MR as the code reads it: the global on the relaxed tier, the constant 4 on simd128 (so it folds there). */
// @ts-ignore: decorator
@inline function tileMR(): i32 { return ASC_FEATURE_RELAXED_SIMD ? MR : 4; }
const RALIGN: i32 = 24;

// @ts-ignore: decorator
@inline function roundUp(x: i32, m: i32): i32 { return ((x + m - 1) / m) * m; }

// @ts-ignore: decorator
@inline function gemmX8(a: usize, aSk: usize, b: usize, bSk: usize, kc: i32, c: usize, cSi: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD && tileMR() == 6) attn_gemm_6x8(a, aSk, b, bSk, kc, c, cSi);
  else attn_gemm_4x8(a, aSk, b, bSk, kc, c, cSi);
}
// @ts-ignore: decorator
@inline function gemmX4(a: usize, aSk: usize, b: usize, bSk: usize, kc: i32, c: usize, cSi: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD && tileMR() == 6) attn_gemm_6x4(a, aSk, b, bSk, kc, c, cSi);
  else attn_gemm_4x4(a, aSk, b, bSk, kc, c, cSi);
}

/** Scratch bytes attention_fwd needs for head dim d, tile br x bc and the flags it will be called with (f64: exact, never
 *  wraps; see SCRATCH_MAX_BYTES in bindings/validate.ts). */
export function attention_scratch_bytes(d: i32, br: i32, bc: i32, flags: i32): f64 {
  const b = <f64>roundUp(br, RALIGN), c = <f64>roundUp(bc, 12), D = <f64>d; // keys padded to whole MR groups, MR 4 or 6
  const stage = (flags & FLAG_KV_F16) != 0 ? c * D : 0; // f16 K/V: one key block widened to f32
  return (D * b + c * D + c * b + 2 * b * D + <f64>N_ROWVEC * b + stage) * 4 + 64;
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
        if (round) { vv = roundHalfX4(vv); kk = roundHalfX4(kk); }
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
          if (round) kp = roundHalfX4(kp);
          v128.store(p, kp);
        }
      } else {
        for (let t = 0; t < nv; t++) {
          const p = kOut + <usize>(c0 + t) * ob + xo;
          const kt = v128.load(p);
          v128.store(p, roundHalfX4(madd(kt, f32x4.splat(diag), f32x4.mul(f32x4.sub(sum, kt), f32x4.splat(off)))));
        }
      }
    }
  }
}

/**
 * Attention for nh query heads sharing one KV head.
 *   q: [nh][s1][d] (head stride qHeadStride elements; f32, or f16 bits with FLAG_Q_F16), o: [nh][s1][d] f32.
 *   k, v: [kvRows][d] f32 (f16 bits with FLAG_KV_F16; not in faithful mode) with row strides in elements; keys
 *         0..s2-1 are attended (kvRows >= s2, or >= the padded rows in faithful mode).
 *   scale: softmax scale (in MODE_PASA / MODE_FAITHFUL it is already folded into K' by attention_prep_kv).
 *   br: query rows per block (rounded up to a multiple of 24 = RALIGN), bc: keys per block (multiple of 4). Causal masking is
 *   bottom-right aligned: key t is masked for row r iff t > r + (s2 - s1). Fully masked rows output 0.
 */
export function attention_fwd(q: usize, qHeadStride: i32, o: usize, oHeadStride: i32, nh: i32, s1: i32,
  k: usize, v: usize, kvRows: i32, kRowStride: i32, vRowStride: i32, s2: i32, d: i32,
  scratch: usize, mode: i32, flags: i32, scale: f32, beta: f32, br: i32, bc: i32): void {
  MR = ASC_FEATURE_RELAXED_SIMD && (flags & FLAG_TILE4) == 0 ? 6 : 4;
  const causal = (flags & FLAG_CAUSAL) != 0;
  const q16 = (flags & FLAG_Q_F16) != 0;
  const storeF32 = mode == MODE_PASA && (flags & FLAG_STORE_F32) != 0;
  const frameFirst = (flags & FLAG_FRAME_FIRST) != 0;
  const kv16 = (flags & FLAG_KV_F16) != 0;
  const roundOut = mode != MODE_F32 && !storeF32;
  const brE = roundUp(min(br, s1), RALIGN); // decode (s1 = 1) uses one 24-row block
  const rs: usize = <usize>brE << 2; // byte stride of one key/dim row of the transposed tiles
  const db: usize = <usize>d << 2; // byte stride of one row of O / PV
  const bcr = roundUp(bc, tileMR());
  const qT = (scratch + 15) & ~(<usize>15);
  const kp = qT + <usize>d * rs;
  const sT = kp + <usize>bcr * db;
  const oA = sT + <usize>bcr * rs;
  const pv = oA + <usize>brE * db;
  const rowv = pv + <usize>brE * db;
  const stage = rowv + <usize>N_ROWVEC * rs; // kv16: [bcr][d] f32, one key block's K (until packed), then its V
  const off = s2 - s1;
  const eshift: usize = kv16 ? 1 : 2;
  const krb = <usize>kRowStride << eshift, vrb = <usize>vRowStride << eshift;
  const mInit: f32 = mode == MODE_F16 || mode == MODE_FAITHFUL ? M_INIT_F16 : M_INIT_F32;

  for (let h = 0; h < nh; h++) {
    const qh = q + <usize>h * <usize>qHeadStride * (q16 ? 2 : 4);
    const oh = o + (<usize>h * <usize>oHeadStride << 2);
    for (let r0 = 0; r0 < s1; r0 += brE) {
      const nr = min(brE, s1 - r0);
      // A short tile (decode: 1 row per KV head, or the group's rows; the last query block) computes only the
      // lanes / rows that hold query rows: scores over nr rounded to 8 lanes (the GEMM width; the extra lanes are
      // zero Q rows), row passes over nr rounded to 4, P.V over nr rounded to MR rows, combine over nr rows.
      // Lanes and rows past those hold stale or zero values that are never output; valid rows are bit-identical.
      const nr8 = roundUp(nr, 8), nr4 = roundUp(nr, 4), nrM = roundUp(nr, tileMR());
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
      zeroF32(oA, brE * d);
      const lastRow = r0 + nr - 1;
      let j = 0;
      for (let c0 = 0; c0 < s2; c0 += bc) {
        if (causal && c0 > lastRow + off) break; // this and all later key blocks are fully masked
        const nv = min(bc, s2 - c0);
        const ncols = mode == MODE_FAITHFUL ? bc : nv; // faithful: the padded keys count in the row mean
        const ng = (ncols + tileMR() - 1) / tileMR();
        const nk = min(ncols, kvRows - c0);
        let kb = k + <usize>c0 * krb, kbs = krb; // this block's K rows and their stride in bytes
        if (kv16) { widenF16Rows(kb, krb, nk, db, stage); kb = stage; kbs = db; }
        packK(kp, kb, kbs, nk, ng, d);
        // S^T = Kp . Q^T
        for (let g = 0; g < ng; g++) {
          const a = kp + <usize>g * <usize>tileMR() * db;
          const c = sT + <usize>(g * tileMR()) * rs;
          if (nr <= 4) gemmX4(a, <usize>tileMR() << 2, qT, rs, d, c, rs); // one 4-lane chunk (decode)
          else for (let r8 = 0; r8 < nr8; r8 += 8) {
            const ro = <usize>r8 << 2;
            gemmX8(a, <usize>tileMR() << 2, qT + ro, rs, d, c + ro, rs);
          }
        }
        const needMask = causal && c0 + nv - 1 > r0 + off;
        if (mode == MODE_F32) rowsF32(sT, rowv, rs, nr4, nv, needMask, r0, c0 - off);
        else if (mode == MODE_PASA) rowsPasa(sT, rowv, rs, nr4, nv, needMask, r0, c0 - off, j, beta, storeF32, frameFirst);
        else if (mode == MODE_FAITHFUL) rowsFaithful(sT, rowv, rs, nr4, nv, bc, needMask, r0, c0 - off, j, beta);
        else rowsF16(sT, rowv, rs, nr4, nv, needMask, r0, c0 - off, scale);
        // PV = P . V_block  (P read from P^T: MR rows at constant lane offsets)
        // Masked blocks: P is exactly 0 for a masked (row, key) pair, but 0 * NaN (or Inf) in v is NaN, so a masked
        // key's v must never be read into a row. Row r of the block sees keys [0, vis0 + r) of it (a prefix); the
        // group's GEMM runs over the keys its first row sees, pvVisibleTail adds each row's remaining visible keys.
        // Same products in the same order as the full GEMM (minus the +0 terms): bit-identical for finite v.
        let vb = v + <usize>c0 * vrb, vbs = vrb; // this block's V rows and their stride in bytes
        if (kv16) { widenF16Rows(vb, vrb, nv, db, stage); vb = stage; vbs = db; }
        const vis0 = r0 + off - c0 + 1;
        // fewer rows than one PV tile (decode: one row per KV head; not in a masked block): one row at a time
        if (nr < tileMR() && !needMask) {
          for (let r = 0; r < nr; r++) {
            const a = sT + (<usize>r << 2);
            const c = pv + <usize>r * db;
            let x = 0;
            for (; x + 8 <= d; x += 8) attn_gemm_1x8(a, rs, vb + (<usize>x << 2), vbs, nv, c + (<usize>x << 2), db);
            if (x < d) attn_gemm_1x4(a, rs, vb + (<usize>x << 2), vbs, nv, c + (<usize>x << 2), db);
          }
        } else for (let r = 0; r < nrM; r += tileMR()) {
          const a = sT + (<usize>r << 2);
          const c = pv + <usize>r * db;
          const kAll = needMask ? min(nv, max(0, vis0 + r)) : nv;
          let x = 0;
          for (; x + 8 <= d; x += 8) gemmX8(a, rs, vb + (<usize>x << 2), vbs, kAll, c + (<usize>x << 2), db);
          if (x < d) gemmX4(a, rs, vb + (<usize>x << 2), vbs, kAll, c + (<usize>x << 2), db);
          if (kAll < nv) pvVisibleTail(a, rs, vb, vbs, c, db, d, kAll, vis0 + r, nv);
        }
        combine(oA, pv, rowv, rs, nr, d, mode, roundOut, j);
        j++;
      }
      // O = O_acc / l
      for (let r = 0; r < nr; r++) {
        const l = load<f32>(rowv + R_L * rs + (<usize>r << 2));
        const inv: f32 = l != 0 ? <f32>1 / l : 0;
        const src = oA + <usize>r * db;
        const orow = oh + (<usize>(r0 + r) * <usize>d << 2);
        for (let x = 0; x < d; x += 4) {
          const xo = <usize>x << 2;
          const acc = v128.load(src + xo);
          let y = l == 0 ? f32x4.splat(0) : mode == MODE_F32 ? f32x4.mul(acc, f32x4.splat(inv)) : f32x4.div(acc, f32x4.splat(l));
          if (roundOut) y = roundHalfX4(y);
          v128.store(orow + xo, y);
        }
      }
    }
  }
}

/** Pack keys [0, nk) of a block (rows at kb, stride krb bytes) as [group][d][MR]; keys nk .. ng*MR-1 are zero.
 *  4 keys x 4 dims at a time by a 4x4 transpose (keys 4, 5 of a 6-key group as interleaved pairs). */
function packK(kp: usize, kb: usize, krb: usize, nk: i32, ng: i32, d: i32): void {
  const rowB: usize = <usize>tileMR() << 2; // bytes per packed dim row
  const gB = rowB * <usize>d;
  const zero = f32x4.splat(0);
  for (let g = 0; g < ng; g++) {
    const t0 = g * tileMR();
    const p0 = kb + <usize>t0 * krb, p1 = p0 + krb, p2 = p1 + krb, p3 = p2 + krb;
    const v0 = t0 < nk, v1 = t0 + 1 < nk, v2 = t0 + 2 < nk, v3 = t0 + 3 < nk;
    let dst = kp + <usize>g * gB;
    for (let x = 0; x < d; x += 4) {
      const xo = <usize>x << 2;
      const a = v0 ? v128.load(p0 + xo) : zero, b = v1 ? v128.load(p1 + xo) : zero;
      const c = v2 ? v128.load(p2 + xo) : zero, e = v3 ? v128.load(p3 + xo) : zero;
      const t01l = v128.shuffle<i32>(a, b, 0, 4, 1, 5), t01h = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
      const t23l = v128.shuffle<i32>(c, e, 0, 4, 1, 5), t23h = v128.shuffle<i32>(c, e, 2, 6, 3, 7);
      v128.store(dst, v128.shuffle<i32>(t01l, t23l, 0, 1, 4, 5));
      v128.store(dst + rowB, v128.shuffle<i32>(t01l, t23l, 2, 3, 6, 7));
      v128.store(dst + 2 * rowB, v128.shuffle<i32>(t01h, t23h, 0, 1, 4, 5));
      v128.store(dst + 3 * rowB, v128.shuffle<i32>(t01h, t23h, 2, 3, 6, 7));
      if (tileMR() == 6) {
        const p4 = p3 + krb, p5 = p4 + krb;
        const f = t0 + 4 < nk ? v128.load(p4 + xo) : zero, h = t0 + 5 < nk ? v128.load(p5 + xo) : zero;
        const lo = v128.shuffle<i32>(f, h, 0, 4, 1, 5), hi = v128.shuffle<i32>(f, h, 2, 6, 3, 7);
        v128.store64_lane(dst + 16, lo, 0);
        v128.store64_lane(dst + rowB + 16, lo, 1);
        v128.store64_lane(dst + 2 * rowB + 16, hi, 0);
        v128.store64_lane(dst + 3 * rowB + 16, hi, 1);
      }
      dst += rowB << 2;
    }
  }
}

/** Causal P.V tail of one MR-row group (a = P^T at the group's first row, c = its PV rows): row i adds keys
 *  [k0, min(nv, vis + i)) -- the keys it sees beyond the k0 the group's GEMM covered -- in key order. */
function pvVisibleTail(a: usize, rs: usize, vb: usize, vrb: usize, c: usize, db: usize, d: i32, k0: i32, vis: i32, nv: i32): void {
  for (let i = 0; i < tileMR(); i++) {
    const k1 = min(nv, vis + i);
    if (k1 <= k0) continue;
    const pa = a + (<usize>i << 2);
    const crow = c + <usize>i * db;
    for (let x = 0; x < d; x += 4) {
      const xo = <usize>x << 2;
      let acc = v128.load(crow + xo);
      for (let t = k0; t < k1; t++) acc = madd(v128.load32_splat(pa + <usize>t * rs), v128.load(vb + <usize>t * vrb + xo), acc);
      v128.store(crow + xo, acc);
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
  return sel(f32x4.splat(NEG_INF), s, i32x4.lt_s(ri, i32x4.splat(tm)));
}

// The row passes below are deliberately split into single-purpose loops (max; exp + store; sum): one loop
// doing all of it keeps ~20 vectors live, and TurboFan then spills the running sum (a store-load on the
// loop-carried chain) and rematerialises constants (3 instructions each) on every iteration.

// @ts-ignore: decorator
@inline function colMax(p: usize, rs: usize, nv: i32): v128 {
  let m0 = f32x4.splat(NEG_INF), m1 = m0;
  let c = 0;
  for (; c + 2 <= nv; c += 2) { m0 = f32x4.pmax(m0, v128.load(p)); m1 = f32x4.pmax(m1, v128.load(p + rs)); p += rs << 1; }
  if (c < nv) m0 = f32x4.pmax(m0, v128.load(p));
  return f32x4.pmax(m0, m1);
}

// @ts-ignore: decorator
@inline function colSum(p: usize, rs: usize, nv: i32): v128 {
  let s0 = f32x4.splat(0), s1 = s0;
  let c = 0;
  for (; c + 2 <= nv; c += 2) { s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p + rs)); p += rs << 1; }
  if (c < nv) s0 = f32x4.add(s0, v128.load(p));
  return f32x4.add(s0, s1);
}

/** Mask (store -inf) the entries of one row-vector column strip where key t > row + off; returns the masked max. */
// @ts-ignore: decorator
@inline function maskMax(p: usize, rs: usize, nv: i32, ri: v128, tm0: i32): v128 {
  let mx = f32x4.splat(NEG_INF);
  for (let c = 0; c < nv; c++) {
    const s = maskS(v128.load(p), ri, tm0 + c);
    v128.store(p, s);
    mx = f32x4.pmax(mx, s);
    p += rs;
  }
  return mx;
}

/** FA-2 step in f32: m_new = max(m, rowmax S), P = exp(S - m_new), l = alpha*l + rowsum P. */
function rowsF32(sT: usize, rowv: usize, rs: usize, nLanes: i32, nv: i32, needMask: bool, r0: i32, tm0: i32): void {
  for (let i = 0; i < nLanes; i += 4) {
    const io = <usize>i << 2;
    const mx = needMask ? maskMax(sT + io, rs, nv, rowVec(r0 + i), tm0) : colMax(sT + io, rs, nv);
    const pm = rowv + R_M * rs + io;
    const mo = v128.load(pm);
    const mn = f32x4.pmax(mo, mx);
    let p = sT + io;
    for (let c = 0; c < nv; c++) { v128.store(p, expF32x4(f32x4.sub(v128.load(p), mn))); p += rs; }
    const alpha = expF32x4(f32x4.sub(mo, mn));
    const pl = rowv + R_L * rs + io;
    v128.store(pl, madd(alpha, v128.load(pl), colSum(sT + io, rs, nv)));
    v128.store(pm, mn);
    v128.store(rowv + R_ALPHA * rs + io, alpha);
  }
}

/** PASA step (pasa.md §2.2, §2.5): S' rounded to fp16, pseudo-average a over the n_valid columns before masking,
 *  f32 frame bookkeeping, block-local P = f16(exp(S' - m_loc)). The fp16 rounding of S' is fused into the
 *  sum/max pass and that of P into the exp pass, with the rounding constants held in locals (round.ts). */
function rowsPasa(sT: usize, rowv: usize, rs: usize, nLanes: i32, nv: i32, needMask: bool, r0: i32, tm0: i32,
  j: i32, beta: f32, storeF32: bool, frameFirst: bool): void {
  const cc: f32 = beta / (<f32>1 - beta);
  const invN: f32 = <f32>1 / <f32>nv;
  const sgn = roundKSign(), expm = roundKExp(), lo = roundKLo(), hi = roundKHi(), off = roundKOff(), up = roundKUp(), down = roundKDown();
  for (let i = 0; i < nLanes; i += 4) {
    const io = <usize>i << 2;
    const ri = rowVec(r0 + i);
    let p = sT + io;
    // the pseudo-average is taken over the n_valid columns BEFORE masking (pasa.md §5)
    let sum = f32x4.splat(0), mx = f32x4.splat(NEG_INF);
    if (storeF32) {
      if (needMask) {
        sum = colSum(sT + io, rs, nv);
        mx = maskMax(sT + io, rs, nv, ri, tm0);
      } else {
        for (let c = 0; c < nv; c++) { const s = v128.load(p); sum = f32x4.add(sum, s); mx = f32x4.pmax(mx, s); p += rs; }
      }
    } else if (needMask) {
      // the sum in colSum's order (even and odd columns apart), so results match the unfused passes bit for bit
      let sum1 = f32x4.splat(0);
      let c = 0;
      for (; c < nv; c++) {
        const s = roundHalfK(v128.load(p), sgn, expm, lo, hi, off, up, down);
        if (c & 1) sum1 = f32x4.add(sum1, s); else sum = f32x4.add(sum, s);
        const sm = maskS(s, ri, tm0 + c);
        v128.store(p, sm);
        mx = f32x4.pmax(mx, sm);
        p += rs;
      }
      sum = f32x4.add(sum, sum1);
    } else {
      for (let c = 0; c < nv; c++) {
        const s = roundHalfK(v128.load(p), sgn, expm, lo, hi, off, up, down);
        v128.store(p, s);
        sum = f32x4.add(sum, s);
        mx = f32x4.pmax(mx, s);
        p += rs;
      }
    }
    const a = f32x4.mul(sum, f32x4.splat(invN));
    const pab = rowv + R_AB * rs + io;
    const abo = j > 0 ? v128.load(pab) : a;
    const ab = pasaFrame(a, abo, j, frameFirst);
    const dnew = pasaShift(a, ab, cc), dold = pasaShift(abo, ab, cc);
    const mloc = pasaLocalMax(mx, M_INIT_F32);
    p = sT + io;
    if (storeF32) {
      for (let c = 0; c < nv; c++) { v128.store(p, expF32x4(f32x4.sub(v128.load(p), mloc))); p += rs; }
    } else {
      for (let c = 0; c < nv; c++) { v128.store(p, roundUnitK(expF32x4(f32x4.sub(v128.load(p), mloc)), expm, lo, off)); p += rs; }
    }
    const lloc = colSum(sT + io, rs, nv);
    const pm = rowv + R_M * rs + io;
    const m = v128.load(pm);
    const mn = pasaMergedMax(m, dold, mloc, dnew);
    const alpha = pasaRescale(m, mn, dold), gamma = pasaRescale(mloc, mn, dnew);
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
function rowsFaithful(sT: usize, rowv: usize, rs: usize, nLanes: i32, nv: i32, bc: i32, needMask: bool, r0: i32, tm0: i32,
  j: i32, beta: f32): void {
  const cc = f32x4.splat(roundF16(beta / (<f32>1 - beta)));
  const w1 = f32x4.splat(roundF16(<f32>1 / <f32>(j + 1))), w0 = f32x4.splat(roundF16(<f32>j / <f32>(j + 1)));
  const invN = f32x4.splat(<f32>1 / <f32>bc);
  for (let i = 0; i < nLanes; i += 4) {
    const io = <usize>i << 2;
    const ri = rowVec(r0 + i);
    let p = sT + io;
    let sum = f32x4.splat(0), mx = f32x4.splat(NEG_INF);
    for (let c = 0; c < bc; c++) {
      let s = roundHalfX4(v128.load(p));
      sum = f32x4.add(sum, s);
      if (c < nv) {
        if (needMask) s = maskS(s, ri, tm0 + c);
        mx = f32x4.pmax(mx, s);
      }
      v128.store(p, s);
      p += rs;
    }
    const a = roundHalfX4(f32x4.mul(sum, invN));
    const pab = rowv + R_AB * rs + io;
    let ab = a, abo = a;
    if (j > 0) {
      abo = v128.load(pab);
      ab = roundHalfX4(f32x4.add(roundHalfX4(f32x4.mul(a, w1)), roundHalfX4(f32x4.mul(abo, w0))));
    }
    const dnew = roundHalfX4(f32x4.mul(roundHalfX4(f32x4.sub(a, ab)), cc));
    const dold = roundHalfX4(f32x4.mul(roundHalfX4(f32x4.sub(abo, ab)), cc));
    const mloc = sel(f32x4.splat(M_INIT_F16), mx, f32x4.eq(mx, f32x4.splat(NEG_INF)));
    let lsum = f32x4.splat(0);
    p = sT + io;
    for (let c = 0; c < nv; c++) {
      const e = roundHalfX4(expF32x4(roundHalfX4(f32x4.sub(v128.load(p), mloc))));
      v128.store(p, e);
      lsum = f32x4.add(lsum, e);
      p += rs;
    }
    const lloc = roundHalfX4(lsum);
    const pm = rowv + R_M * rs + io;
    const m = v128.load(pm);
    const mn = f32x4.pmax(roundHalfX4(f32x4.add(m, dold)), roundHalfX4(f32x4.add(mloc, dnew)));
    const alpha = roundHalfX4(expF32x4(roundHalfX4(f32x4.add(roundHalfX4(f32x4.sub(m, mn)), dold))));
    const gamma = roundHalfX4(expF32x4(roundHalfX4(f32x4.add(roundHalfX4(f32x4.sub(mloc, mn)), dnew))));
    const pl = rowv + R_L * rs + io;
    const gl = roundHalfX4(f32x4.mul(gamma, lloc));
    v128.store(pl, j == 0 ? gl : roundHalfX4(f32x4.add(roundHalfX4(f32x4.mul(alpha, v128.load(pl))), gl)));
    v128.store(pm, mn);
    v128.store(pab, ab);
    v128.store(rowv + R_ALPHA * rs + io, alpha);
    v128.store(rowv + R_GAMMA * rs + io, gamma);
  }
}

/** Naive fp16 FA-2 ("naive_post"): S = f16(f16(QK^T) * scale); m, P, l all fp16. Overflowing scores become
 *  inf and then NaN (inf - inf), exactly as on fp16 hardware. */
function rowsF16(sT: usize, rowv: usize, rs: usize, nLanes: i32, nv: i32, needMask: bool, r0: i32, tm0: i32, scale: f32): void {
  const tau = f32x4.splat(scale);
  for (let i = 0; i < nLanes; i += 4) {
    const io = <usize>i << 2;
    const ri = rowVec(r0 + i);
    let p = sT + io;
    let mx = f32x4.splat(NEG_INF);
    for (let c = 0; c < nv; c++) {
      let s = roundHalfX4(f32x4.mul(roundHalfX4(v128.load(p)), tau));
      if (needMask) s = maskS(s, ri, tm0 + c);
      v128.store(p, s);
      mx = f32x4.pmax(mx, s);
      p += rs;
    }
    const pm = rowv + R_M * rs + io;
    const m = v128.load(pm);
    const mn = f32x4.pmax(m, mx);
    let lsum = f32x4.splat(0);
    p = sT + io;
    for (let c = 0; c < nv; c++) {
      const e = roundHalfX4(expF32x4(roundHalfX4(f32x4.sub(v128.load(p), mn))));
      v128.store(p, e);
      lsum = f32x4.add(lsum, e);
      p += rs;
    }
    const alpha = roundHalfX4(expF32x4(roundHalfX4(f32x4.sub(m, mn))));
    const pl = rowv + R_L * rs + io;
    v128.store(pl, roundHalfX4(f32x4.add(roundHalfX4(f32x4.mul(alpha, v128.load(pl))), roundHalfX4(lsum))));
    v128.store(pm, mn);
    v128.store(rowv + R_ALPHA * rs + io, alpha);
  }
}

/** O = alpha*O + gamma*PV per row (O, PV are [br][d]; alpha, gamma per row), per mode (PV rounded to fp16 in the fp16 modes). */
function combine(oA: usize, pv: usize, rowv: usize, rs: usize, nRows: i32, d: i32, mode: i32, roundPV: bool, j: i32): void {
  const db = <usize>d << 2;
  for (let r = 0; r < nRows; r++) {
    const ro = <usize>r << 2;
    const alpha = f32x4.splat(load<f32>(rowv + R_ALPHA * rs + ro));
    const gamma = f32x4.splat(load<f32>(rowv + R_GAMMA * rs + ro));
    let po = oA + <usize>r * db, pp = pv + <usize>r * db;
    const end = po + db;
    if (mode == MODE_F32) {
      for (; po < end; po += 16, pp += 16) v128.store(po, madd(alpha, v128.load(po), v128.load(pp)));
    } else if (mode == MODE_PASA) {
      if (roundPV) {
        const sgn = roundKSign(), expm = roundKExp(), lo = roundKLo(), hi = roundKHi(), off = roundKOff(), up = roundKUp(), down = roundKDown();
        for (; po < end; po += 16, pp += 16) {
          const t = roundHalfK(v128.load(pp), sgn, expm, lo, hi, off, up, down);
          v128.store(po, madd(alpha, v128.load(po), f32x4.mul(gamma, t)));
        }
      } else {
        for (; po < end; po += 16, pp += 16) v128.store(po, madd(alpha, v128.load(po), f32x4.mul(gamma, v128.load(pp))));
      }
    } else if (mode == MODE_FAITHFUL) {
      for (; po < end; po += 16, pp += 16) {
        const g = roundHalfX4(f32x4.mul(gamma, roundHalfX4(v128.load(pp))));
        v128.store(po, j == 0 ? g : roundHalfX4(f32x4.add(roundHalfX4(f32x4.mul(alpha, v128.load(po))), g)));
      }
    } else {
      for (; po < end; po += 16, pp += 16) {
        v128.store(po, roundHalfX4(f32x4.add(roundHalfX4(f32x4.mul(alpha, v128.load(po))), roundHalfX4(v128.load(pp)))));
      }
    }
  }
}
