// The f32 PASA bookkeeping of one key block (pasa.md §2.2, §2.5), shared by the tile kernel (flash.ts rowsPasa: the
// lanes are 4 query rows) and the decode kernel (decode.ts: one row, splatted). The same ops in both, so the same
// inputs give the same bits.
import { expF32x4 } from "./exp";
import { madd, sel } from "../common/simd";

const NEG_INF: f32 = -Infinity;

/** The frame after block j: block 0 sets it to its pseudo-average a; later blocks move it to the running mean of the
 *  blocks' pseudo-averages (abo: the frame so far), or keep the first block's with frameFirst. */
// @ts-ignore: decorator
@inline export function pasaFrame(a: v128, abo: v128, j: i32, frameFirst: bool): v128 {
  if (j == 0 || frameFirst) return j == 0 ? a : abo;
  const w1: f32 = <f32>1 / <f32>(j + 1), w0: f32 = <f32>j / <f32>(j + 1);
  return madd(a, f32x4.splat(w1), f32x4.mul(abo, f32x4.splat(w0)));
}

/** c·(x − ab), c = beta / (1 − beta): a pseudo-average's offset from the frame, in logit units (dnew for the block's
 *  a, dold for the previous frame). */
// @ts-ignore: decorator
@inline export function pasaShift(x: v128, ab: v128, cc: f32): v128 {
  return f32x4.mul(f32x4.sub(x, ab), f32x4.splat(cc));
}

/** The block's local max, or the finite initial max mInit where every score of the row was −inf. */
// @ts-ignore: decorator
@inline export function pasaLocalMax(mx: v128, mInit: f32): v128 {
  return sel(f32x4.splat(mInit), mx, f32x4.eq(mx, f32x4.splat(NEG_INF)));
}

/** The merged max of the old state (m, shifted by dold) and the block (m_loc, shifted by dnew). */
// @ts-ignore: decorator
@inline export function pasaMergedMax(m: v128, dold: v128, mloc: v128, dnew: v128): v128 {
  return f32x4.pmax(f32x4.add(m, dold), f32x4.add(mloc, dnew));
}

/** exp(x − mn + d): alpha (x = m, d = dold) and gamma (x = m_loc, d = dnew). */
// @ts-ignore: decorator
@inline export function pasaRescale(x: v128, mn: v128, d: v128): v128 {
  return expF32x4(f32x4.add(f32x4.sub(x, mn), d));
}
