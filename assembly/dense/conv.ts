// Dense NCHW convolutions on the GEMM micro-kernels, and depthwise convolution.
//
// Activations are NCHW (one image per call here; the bindings loop over the batch), weights OIHW.
// Regular convs (groups = 1) are GEMMs  OUT[Cout x Ho*Wo] = W[Cout x K] . B[K x Ho*Wo],
// K = Cin*kh*kw, with the weights as the packed broadcast operand (MR-row panels [K][MR], see
// gemm.ts) and pixels as the 8-wide vector operand:
//   1x1, stride 1, pad 0 : B = X itself (row ci is channel plane ci, stride H*W).
//   stride 1 (any kh,kw,pad): implicit GEMM over a zero-padded band of input rows. For output row oy,
//        B row k = (ci,ky,kx) is the contiguous run of the padded band starting at (ci, oy+ky, kx):
//        one byte-offset table (offs[k]) + the igemm micro-kernel, no im2col copy.
//   otherwise (e.g. stride 2): explicit im2col of a block of pixels into [K][PB] scratch.
// Weights may be f16 panels: each MR-row panel is widened to f32 scratch once per pixel block.
// All scratch is sized per tile/band (bindings compute the sizes with the *_scratch helpers).
import { NR, F_BIAS_ROW, F_CLAMP, MR_MASK, MR_PRE_A, runTile, f16_widen_n } from "./gemm";
import { madd, clamp } from "../common/simd";
import { copyF32, zeroF32 } from "../common/memory";

// @ts-ignore: decorator
@inline function alignUp(p: usize, a: usize): usize { return (p + a - 1) & ~(a - 1); }

/** Pixels per block for 1x1 and im2col convs. */
export const CONV_PB: i32 = 128;

/** Panel A pointer for Cout panel p: f32 panels directly, f16 panels widened into wbuf. */
// @ts-ignore: decorator
@inline function panelA(w: usize, wf16: i32, p: i32, mr: i32, k: i32, wbuf: usize): usize {
  const n = mr * k;
  if (wf16) {
    f16_widen_n(w + <usize>p * <usize>n * 2, wbuf, n);
    return wbuf;
  }
  return w + <usize>p * <usize>n * 4;
}

/** Scratch for conv 1x1 (edge tile + widened panel + packed B edge tile). */
export function f32_conv1x1_scratch(mr: i32, k: i32): f64 {
  const K = <f64>k;
  return <f64>(6 * NR * 4 + 64) + <f64>mr * K * 4 + 64 + K * <f64>NR * 4 + 64;
}

/**
 * 1x1 conv, stride 1, no padding, one image: y[cout][hw] = act(W . x + bias).
 * w: packed panels (f32 or f16 when wf16), bias: 0 or Cout f32 (padded to a multiple of MR).
 */
export function f32_conv1x1_nchw(mrv: i32, cout: i32, cin: i32, hw: i32, x: usize, w: usize, wf16: i32, bias: usize,
  y: usize, clampOn: i32, vmin: f32, vmax: f32, scratch: usize): void {
  mrv &= ~MR_PRE_A; // conv weights are [K][MR] panels: never the pre-broadcast kernels
  const mr = mrv & MR_MASK;
  const tile = scratch;
  const wbuf = alignUp(scratch + 6 * NR * 4, 64);
  const bedge = alignUp(wbuf + <usize>(mr * cin * 4), 64);
  const flags = (bias ? F_BIAS_ROW : 0) | (clampOn ? F_CLAMP : 0);
  const panels = (cout + mr - 1) / mr;
  const ldx = <usize>hw << 2;
  for (let p0 = 0; p0 < hw; p0 += CONV_PB) {
    const pb = min(CONV_PB, hw - p0);
    const full = pb & ~(NR - 1);
    // a partial last tile reads B from a zero-padded [K][8] copy (no over-read past the input)
    if (full < pb) {
      const cols = pb - full;
      for (let ci = 0; ci < cin; ci++) {
        const d = bedge + (<usize>ci << 5);
        v128.store(d, i32x4.splat(0));
        v128.store(d, i32x4.splat(0), 16);
        copyF32(d, x + <usize>ci * ldx + (<usize>(p0 + full) << 2), cols);
      }
    }
    for (let p = 0; p < panels; p++) {
      const a = panelA(w, wf16, p, mr, cin, wbuf);
      const rows = min(mr, cout - p * mr);
      const yb = y + <usize>(p * mr) * ldx;
      const bb = bias + (<usize>(p * mr) << 2);
      for (let t = 0; t < pb; t += NR) {
        const cols = min(NR, pb - t);
        const px = p0 + t;
        if (cols == NR) runTile(mrv, rows, NR, cin, a, x + (<usize>px << 2), ldx, false, yb + (<usize>px << 2), ldx, flags, bb, vmin, vmax, tile);
        else runTile(mrv, rows, cols, cin, a, bedge, NR * 4, false, yb + (<usize>px << 2), ldx, flags, bb, vmin, vmax, tile);
      }
    }
  }
}

/** Output rows per band of the stride-1 implicit GEMM so that the padded band is about 256 KiB. */
export function conv_s1_band_rows(cin: i32, kh: i32, wp: i32, ho: i32): i32 {
  const rows = 65536 / max(1, cin * wp) - (kh - 1);
  return max(1, min(ho, rows));
}

/** Scratch for the stride-1 implicit GEMM: edge tile + widened panel + offset table + padded band (+ over-read slack). */
export function f32_conv_s1_scratch(mr: i32, cin: i32, kh: i32, kw: i32, wp: i32, bh: i32): f64 {
  const k = <f64>cin * <f64>kh * <f64>kw;
  return <f64>(6 * NR * 4 + 64) + <f64>mr * k * 4 + 64 + k * 4 + 64 + <f64>cin * (<f64>bh + <f64>kh - 1) * <f64>wp * 4 + 64 + 64;
}

/**
 * Stride-1 conv (groups 1, any kh/kw/padding), one image, via the implicit-GEMM micro-kernel.
 * Output rows are processed in bands; each band copies its input rows into a zero-padded buffer
 * [cin][bh+kh-1][wp], wp = w + pl + pr.
 */
export function f32_conv_s1_nchw(mrv: i32, cout: i32, cin: i32, h: i32, wd: i32, kh: i32, kw: i32, pt: i32, pl: i32, pr: i32,
  ho: i32, wo: i32, bh: i32, x: usize, w: usize, wf16: i32, bias: usize, y: usize, clampOn: i32, vmin: f32, vmax: f32, scratch: usize): void {
  mrv &= ~MR_PRE_A; // conv weights are [K][MR] panels: never the pre-broadcast kernels
  const mr = mrv & MR_MASK;
  const k = cin * kh * kw;
  const wp = wd + pl + pr;
  const bhp = bh + kh - 1;
  const tile = scratch;
  const wbuf = alignUp(scratch + 6 * NR * 4, 64);
  const offs = alignUp(wbuf + <usize>(mr * k * 4), 64);
  const band = alignUp(offs + <usize>(k * 4), 64);
  // offset table: B row (ci, ky, kx) = band + 4*((ci*bhp + ky)*wp + kx) (+ the tile's pixel offset)
  for (let ci = 0; ci < cin; ci++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
    store<u32>(offs + (<usize>((ci * kh + ky) * kw + kx) << 2), <u32>(((ci * bhp + ky) * wp + kx) << 2));
  }
  const flags = (bias ? F_BIAS_ROW : 0) | (clampOn ? F_CLAMP : 0);
  const panels = (cout + mr - 1) / mr;
  const plane = <usize>(ho * wo) << 2;
  const ldin = <usize>wd << 2;
  for (let oy0 = 0; oy0 < ho; oy0 += bh) {
    const rowsOut = min(bh, ho - oy0);
    // fill the padded band: padded row r holds input row oy0 - pt + r
    for (let ci = 0; ci < cin; ci++) {
      for (let r = 0; r < rowsOut + kh - 1; r++) {
        const d = band + (<usize>((ci * bhp + r) * wp) << 2);
        const iy = oy0 - pt + r;
        if (iy < 0 || iy >= h) { zeroF32(d, wp); continue; }
        zeroF32(d, pl);
        copyF32(d + (<usize>pl << 2), x + <usize>(ci * h + iy) * ldin, wd);
        zeroF32(d + (<usize>(pl + wd) << 2), pr);
      }
    }
    for (let p = 0; p < panels; p++) {
      const a = panelA(w, wf16, p, mr, k, wbuf);
      const rows = min(mr, cout - p * mr);
      const yb = y + <usize>(p * mr) * plane;
      const bb = bias + (<usize>(p * mr) << 2);
      for (let r = 0; r < rowsOut; r++) {
        const brow = band + (<usize>(r * wp) << 2);
        const yrow = yb + (<usize>((oy0 + r) * wo) << 2);
        for (let ox = 0; ox < wo; ox += NR) {
          const cols = min(NR, wo - ox);
          runTile(mrv, rows, cols, k, a, brow + (<usize>ox << 2), offs, true, yrow + (<usize>ox << 2), plane, flags, bb, vmin, vmax, tile);
        }
      }
    }
  }
}

/** Pixels per im2col block so that the [K][PB] buffer is about 256 KiB (multiple of 8, 8..256). */
export function conv_im2col_block(k: i32): i32 {
  return max(NR, min(256, (65536 / max(1, k)) & ~(NR - 1)));
}

export function f32_conv_im2col_scratch(mr: i32, k: i32, pb: i32): f64 {
  const K = <f64>k;
  return <f64>(6 * NR * 4 + 64) + <f64>mr * K * 4 + 64 + K * <f64>pb * 4 + 64;
}

/** General conv (groups 1, any stride/padding/dilation), one image, via explicit im2col blocks. */
export function f32_conv_im2col_nchw(mrv: i32, cout: i32, cin: i32, h: i32, wd: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  dh: i32, dw: i32, pt: i32, pl: i32, ho: i32, wo: i32, pb: i32, x: usize, w: usize, wf16: i32, bias: usize, y: usize,
  clampOn: i32, vmin: f32, vmax: f32, scratch: usize): void {
  mrv &= ~MR_PRE_A; // conv weights are [K][MR] panels: never the pre-broadcast kernels
  const mr = mrv & MR_MASK;
  const k = cin * kh * kw;
  const tile = scratch;
  const wbuf = alignUp(scratch + 6 * NR * 4, 64);
  const col = alignUp(wbuf + <usize>(mr * k * 4), 64);
  const flags = (bias ? F_BIAS_ROW : 0) | (clampOn ? F_CLAMP : 0);
  const panels = (cout + mr - 1) / mr;
  const npx = ho * wo;
  const plane = <usize>npx << 2;
  const ldcol = <usize>pb << 2;
  for (let p0 = 0; p0 < npx; p0 += pb) {
    const n = min(pb, npx - p0);
    const oy0 = p0 / wo, ox0 = p0 % wo;
    // im2col: col[k][i] = x[ci][oy*sh - pt + ky*dh][ox*sw - pl + kx*dw] (0 outside), i < n; zero past n
    for (let ci = 0; ci < cin; ci++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const d = col + <usize>((ci * kh + ky) * kw + kx) * ldcol;
      const xp = x + (<usize>(ci * h * wd) << 2);
      // walk the block one output-row segment at a time: rows outside the input and the columns
      // that fall into the left/right padding are zero-filled, the rest is a (strided) copy
      let i = 0, oy = oy0, ox = ox0;
      while (i < n) {
        const seg = min(n - i, wo - ox);
        const dseg = d + (<usize>i << 2);
        const iy = oy * sh - pt + ky * dh;
        if (<u32>iy >= <u32>h) {
          zeroF32(dseg, seg);
        } else {
          // valid ox: 0 <= ox*sw - pl + kx*dw < wd
          const off = kx * dw - pl;
          let lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
          let hi = (wd - 1 - off) >= 0 ? (wd - 1 - off) / sw + 1 : 0;
          lo = min(max(lo, ox), ox + seg);
          hi = min(max(hi, lo), ox + seg);
          zeroF32(dseg, lo - ox);
          zeroF32(dseg + (<usize>(hi - ox) << 2), ox + seg - hi);
          const src = xp + (<usize>(iy * wd + lo * sw + off) << 2);
          const dst = dseg + (<usize>(lo - ox) << 2);
          if (hi <= lo) { /* nothing valid in this segment */ }
          else if (sw == 1) copyF32(dst, src, hi - lo);
          else {
            const sstep = <usize>sw << 2;
            let sp = src;
            for (let q = 0; q < hi - lo; q++) { store<f32>(dst + (<usize>q << 2), load<f32>(sp)); sp += sstep; }
          }
        }
        i += seg; ox = 0; oy++;
      }
      for (let i = n; i < pb; i++) store<f32>(d + (<usize>i << 2), 0);
    }
    for (let p = 0; p < panels; p++) {
      const a = panelA(w, wf16, p, mr, k, wbuf);
      const rows = min(mr, cout - p * mr);
      const yb = y + <usize>(p * mr) * plane;
      const bb = bias + (<usize>(p * mr) << 2);
      for (let t = 0; t < n; t += NR) {
        const cols = min(NR, n - t);
        runTile(mrv, rows, cols, k, a, col + (<usize>t << 2), ldcol, false, yb + (<usize>(p0 + t) << 2), plane, flags, bb, vmin, vmax, tile);
      }
    }
  }
}

// ---------------------------------------------------------------- depthwise

/** Output rows per band of the 3x3 depthwise paths, by stride: a band stages (rows - 1) * stride + 3 padded rows. */
// @ts-ignore: decorator
@inline function dwBandRows(stride: i32): i32 { return stride == 1 ? 32 : 16; }

/** Ring rows of the 3x3 paths: a band's padded rows (34 at stride 1, 33 at stride 2); the generic path uses kh + 1. */
const DW_RING_3X3: i32 = 34;

/**
 * Scratch for depthwise: store tile + 48 bytes of constants (in a pitch-sized slot) + a ring of zero-padded input
 * rows (max(kh + 1, 34) x pitch: the 3x3 bands' size also for other shapes, which use kh + 1 of them) + slack.
 * Sized from the row pitch and kernel height, not from the plane.
 */
export function f32_dwconv_scratch(kh: i32, pitch: i32): f64 {
  const P = <f64>pitch;
  return (<f64>max(kh + 1, DW_RING_3X3) * P + 64) * 4 + 128 + P * 4 + 128;
}

/** Row pitch (floats) of a staged, zero-padded ring row: room for the widest vector over-read (multiple of 4). */
export function dwconv_pitch(wd: i32, pl: i32, pr: i32, kw: i32, sw: i32, wo: i32): i32 {
  // 3x3 strips of 4 outputs read padded columns [sw * ox, sw * ox + 6 * sw) (dwStrips), ox < wo rounded up to 4:
  // the bound below (from an earlier 8-wide kernel) covers that with room to spare
  const need = max(wd + pl + pr, ((wo + 7) & ~7) * sw + kw + 16);
  return (need + 3) & ~3;
}

// @ts-ignore: decorator
@inline function storePartial(y: usize, v: v128, n: i32, tile: usize): void {
  if (n >= 4) v128.store(y, v);
  else { v128.store(tile, v); copyF32(y, tile, n); }
}

/**
 * Depthwise conv (groups = channels, one filter per channel), one image, NCHW.
 * w: [c][kh][kw] f32; bias: 0 or c f32. (The bottom padding needs no argument: ho fixes the rows read,
 * and rows past the input are zero.) Padded input row r is input row r - pt, zero outside the image,
 * with pl zeros on the left and zeros up to the pitch on the right; rows are staged into a ring of such
 * rows (34 x pitch: 19 KiB at width 112) whose padding columns are zeroed once per call.
 * - 3x3, stride 1 or 2 (dwPlane3x3): bands of output rows, each strip of 4 output columns walked down the band
 *   with its accumulators in registers; bands clear of the padding rows read the input directly.
 * - Other shapes (dwPlaneGeneric, scalar): a row at a time over a ring of kh + 1 rows, each staged just
 *   before the first output row that reads it.
 */
export function f32_dwconv_nchw(c: i32, h: i32, wd: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, pr: i32,
  ho: i32, wo: i32, x: usize, w: usize, bias: usize, y: usize, clampOn: i32, vmin: f32, vmax: f32, scratch: usize): void {
  const pitch = dwconv_pitch(wd, pl, pr, kw, sw, wo);
  const tile = scratch;
  const cst = alignUp(scratch + 64, 64);
  const ring = alignUp(cst + (<usize>pitch << 2), 64);
  const s1 = kh == 3 && kw == 3 && sh == 1 && sw == 1, s2 = kh == 3 && kw == 3 && sh == 2 && sw == 2;
  zeroF32(ring, (s1 || s2 ? DW_RING_3X3 : kh + 1) * pitch); // the padding columns of every ring row stay zero for the whole call
  const pitchb = <usize>pitch << 2;
  for (let ch = 0; ch < c; ch++) {
    const xp = x + <usize>(ch * h * wd) * 4;
    const wc = w + <usize>(ch * kh * kw) * 4;
    const b0: f32 = bias ? load<f32>(bias + (<usize>ch << 2)) : 0;
    const yc = y + <usize>(ch * ho * wo) * 4;
    // one plane per call of a path-specific function, so each path's loops are compiled (and their registers
    // allocated) apart: with the stride-2 path's shuffle masks live in the same function, JavaScriptCore's
    // optimising tier spilled the stride-1 loops' weights (Bun 1.4.5: 112x112x32 0.508 -> 0.374 ms without them)
    if (s1) dwPlane3x3<u8>(ring, pitchb, tile, cst, xp, h, wd, pt, pl, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
    else if (s2) dwPlane3x3<u16>(ring, pitchb, tile, cst, xp, h, wd, pt, pl, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
    else dwPlaneGeneric(ring, pitchb, xp, h, wd, pt, pl, kh, kw, sh, sw, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
  }
}

/**
 * One channel plane, 3x3, stride S (u8 = 1, u16 = 2), in bands of up to dwBandRows output rows; a band's
 * (nr - 1) * S + 3 padded rows are staged into ring slots 0, 1, ... A strip of 4 outputs at column ox reads padded
 * columns [S*ox, S*ox + span); strips [sLo, sHi) read only columns inside the image, so in bands whose rows all lie
 * inside the image they load straight from the input, and a staged row then needs only the columns the other
 * strips read: input columns [0, cL) and [cR, wd). cst: 48 bytes for the strips' constants.
 */
function dwPlane3x3<S>(ring: usize, pitchb: usize, tile: usize, cst: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, wc: usize, b0: f32, yc: usize,
  ho: i32, wo: i32, clampOn: i32, vmin: f32, vmax: f32): void {
  const st = sizeof<S>(); // 1 or 2
  const span = 6 * st; // stride 1: 3 loads over [ox, ox + 6); stride 2: 3 loads over [2ox, 2ox + 12)
  const yrow = <usize>wo << 2, wfull = wo & ~3, xrow = <usize>wd << 2;
  const sLo = ((pl + st - 1) / st + 3) & ~3, lastIn = pl + wd - span; // interior iff pl <= st*ox <= lastIn
  const sHi = lastIn >= 0 ? min(((lastIn / st) + 4) & ~3, wfull) : 0;
  const cL = max(0, min(wd, st * (sLo - 4) + span - pl)), cR = max(0, min(wd, st * sHi - pl));
  const vmn = clampOn ? vmin : -Infinity, vmx = clampOn ? vmax : Infinity;
  for (let oy0 = 0; oy0 < ho; oy0 += dwBandRows(st)) {
    const nr = min(dwBandRows(st), ho - oy0), rows = (nr - 1) * st + 3, iy0 = oy0 * st - pt;
    const direct = sLo < sHi && iy0 >= 0 && iy0 + rows <= h;
    for (let i = 0; i < rows; i++) { // padded rows oy0*S .. into slots 0 .. rows - 1
      const d = ring + <usize>i * pitchb + (<usize>pl << 2), iy = iy0 + i, src = xp + <usize>iy * xrow;
      if (iy < 0 || iy >= h) zeroF32(d, wd);
      else if (!direct) copyF32(d, src, wd);
      else {
        copyF32(d, src, cL);
        copyF32(d + (<usize>cR << 2), src + (<usize>cR << 2), wd - cR);
      }
    }
    const y0 = yc + <usize>oy0 * yrow;
    const xd = xp + (<usize>(iy0 * wd - pl) << 2); // padded column 0 of input row iy0 (may wrap below xp: strips add >= 4 * pl)
    const m0 = direct ? sLo : 0, m1 = direct ? sHi : 0; // strips [0, m0) ring, [m0, m1) direct, [m1, wfull) ring
    if (clampOn) dwBand<S, u16>(cst, m0, m1, wfull, ring, pitchb, xd, xrow, y0, yrow, nr, wc, b0, vmn, vmx, tile);
    else dwBand<S, u8>(cst, m0, m1, wfull, ring, pitchb, xd, xrow, y0, yrow, nr, wc, b0, vmn, vmx, tile);
    if (wfull < wo) dwStrips<S, u32>(cst, wfull, wo, ring, pitchb, y0, yrow, nr, wc, b0, vmn, vmx, tile);
  }
}

// @ts-ignore: decorator
@inline function dwBand<S, ACT>(cst: usize, m0: i32, m1: i32, wfull: i32, ring: usize, pitchb: usize, xd: usize, xrow: usize, y0: usize, yrow: usize, nr: i32,
  wc: usize, b0: f32, vmin: f32, vmax: f32, tile: usize): void {
  dwStrips<S, ACT>(cst, 0, m0, ring, pitchb, y0, yrow, nr, wc, b0, vmin, vmax, tile);
  dwStrips<S, ACT>(cst, m0, m1, xd, xrow, y0, yrow, nr, wc, b0, vmin, vmax, tile);
  dwStrips<S, ACT>(cst, m1, wfull, ring, pitchb, y0, yrow, nr, wc, b0, vmin, vmax, tile);
}

/** acc + the three taps of one kernel row (w0 w1 w2) on inputs t0 t1 t2 (4 outputs each), left to right. */
// @ts-ignore: decorator
@inline function dwRow3(t0: v128, t1: v128, t2: v128, w0: v128, w1: v128, w2: v128, acc: v128): v128 {
  return madd(w2, t2, madd(w1, t1, madd(w0, t0, acc)));
}

/** Activation (ACT u16 / u32) and store of one output vector; ACT u32 stores the first n lanes only. */
// @ts-ignore: decorator
@inline function dwOut<ACT>(y: usize, out: v128, cst: usize, n: i32, tile: usize): void {
  if (sizeof<ACT>() > 1) out = clamp(out, v128.load(cst, 16), v128.load(cst, 32));
  if (sizeof<ACT>() == 4) storePartial(y, out, n, tile);
  else v128.store(y, out);
}

/**
 * Output columns [ox0, ox1) of a band of nr output rows, 4 at a time: each strip walks down the band's padded input
 * rows (row i at base + i * stride, padded column p at byte 4p: ring slots or the input itself) with accumulators in
 * registers. Per output the FMA order of a row at a time: bias, then kernel rows 0, 1, 2, taps left to right.
 * - Stride 1 (S = u8): every input row finishes one output row (kernel row 2), continues the next (row 1) and starts
 *   the one after (row 0).
 * - Stride 2 (S = u16): odd rows continue an output row (kernel row 1), even rows finish it (row 2) and start the
 *   next (row 0). A strip reads padded columns 2ox .. 2ox + 11 as three vectors: taps 0 / 1 / 2 are columns
 *   2ox + {0,2,4,6} (even lanes), {1,3,5,7} (odd lanes) and {2,4,6,8} (the even lanes shifted on by the third vector).
 * ACT: u8 = no activation, u16 = clamp, u32 = clamp and partial stores (the last strip when wo % 4 != 0).
 */
function dwStrips<S, ACT>(cst: usize, ox0: i32, ox1: i32, base: usize, stride: usize, y0: usize, yrow: usize, nr: i32, wc: usize, b0: f32,
  vmin: f32, vmax: f32, tile: usize): void {
  // bias and clamp bounds stay in memory (reloaded per row): with 9 weights, the accumulators and a row's inputs
  // live, V8's 15 allocatable xmm registers have no room for them (relaxed 112x112x32: 5 % faster in Node and Firefox)
  v128.store(cst, f32x4.splat(b0)); v128.store(cst, f32x4.splat(vmin), 16); v128.store(cst, f32x4.splat(vmax), 32);
  const w00 = v128.load32_splat(wc), w01 = v128.load32_splat(wc, 4), w02 = v128.load32_splat(wc, 8);
  const w10 = v128.load32_splat(wc, 12), w11 = v128.load32_splat(wc, 16), w12 = v128.load32_splat(wc, 20);
  const w20 = v128.load32_splat(wc, 24), w21 = v128.load32_splat(wc, 28), w22 = v128.load32_splat(wc, 32);
  for (let ox = ox0; ox < ox1; ox += 4) {
    let r = base + (<usize>ox << (1 + sizeof<S>())); // padded column S * ox
    let y = y0 + (<usize>ox << 2);
    if (sizeof<S>() == 1) {
      let a0 = dwRow3(v128.load(r), v128.load(r, 4), v128.load(r, 8), w00, w01, w02, v128.load(cst));
      r += stride;
      let x0 = v128.load(r), x1 = v128.load(r, 4), x2 = v128.load(r, 8);
      let a1 = dwRow3(x0, x1, x2, w00, w01, w02, v128.load(cst));
      a0 = dwRow3(x0, x1, x2, w10, w11, w12, a0);
      for (let i = 0; i < nr; i++) {
        r += stride;
        x0 = v128.load(r); x1 = v128.load(r, 4); x2 = v128.load(r, 8);
        const out = dwRow3(x0, x1, x2, w20, w21, w22, a0);
        a0 = dwRow3(x0, x1, x2, w10, w11, w12, a1);
        a1 = dwRow3(x0, x1, x2, w00, w01, w02, v128.load(cst));
        dwOut<ACT>(y, out, cst, ox1 - ox, tile);
        y += yrow;
      }
    } else {
      let v0 = v128.load(r), v1 = v128.load(r, 16);
      let e = v128.shuffle<f32>(v0, v1, 0, 2, 4, 6);
      let a0 = dwRow3(e, v128.shuffle<f32>(v0, v1, 1, 3, 5, 7), v128.shuffle<f32>(e, v128.load(r, 32), 1, 2, 3, 4), w00, w01, w02, v128.load(cst));
      for (let i = 0; i < nr; i++) {
        r += stride;
        v0 = v128.load(r); v1 = v128.load(r, 16);
        e = v128.shuffle<f32>(v0, v1, 0, 2, 4, 6);
        const a = dwRow3(e, v128.shuffle<f32>(v0, v1, 1, 3, 5, 7), v128.shuffle<f32>(e, v128.load(r, 32), 1, 2, 3, 4), w10, w11, w12, a0);
        r += stride;
        v0 = v128.load(r); v1 = v128.load(r, 16);
        e = v128.shuffle<f32>(v0, v1, 0, 2, 4, 6);
        const o = v128.shuffle<f32>(v0, v1, 1, 3, 5, 7), e2 = v128.shuffle<f32>(e, v128.load(r, 32), 1, 2, 3, 4);
        const out = dwRow3(e, o, e2, w20, w21, w22, a);
        a0 = dwRow3(e, o, e2, w00, w01, w02, v128.load(cst));
        dwOut<ACT>(y, out, cst, ox1 - ox, tile);
        y += yrow;
      }
    }
  }
}

/**
 * Other shapes, one channel plane, a row at a time: output rows 0..ho-1, each after staging the padded input rows
 * it reads into the ring of kh + 1 rows (only the interior [pl, pl + wd) of a slot is written).
 */
function dwPlaneGeneric(ring: usize, pitchb: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, kh: i32, kw: i32, sh: i32, sw: i32, wc: usize, b0: f32,
  yc: usize, ho: i32, wo: i32, clampOn: i32, vmin: f32, vmax: f32): void {
  const nring = kh + 1;
  let staged = 0; // padded rows below this index have been staged (the ring holds the last kh + 1)
  let slot = 0; // = staged % nring, kept by counting (a % by a variable per row is an integer division)
  for (let oy = 0; oy < ho; oy++) {
    const top = oy * sh;
    if (staged < top) { // stride > kernel height: skip the rows no output reads
      staged = top;
      slot = top % nring;
    }
    const need = top + kh;
    for (let r = staged; r < need; r++) {
      const d = ring + <usize>slot * pitchb;
      slot = slot + 1 == nring ? 0 : slot + 1;
      const iy = r - pt;
      if (iy < 0 || iy >= h) zeroF32(d + (<usize>pl << 2), wd);
      else copyF32(d + (<usize>pl << 2), xp + (<usize>(iy * wd) << 2), wd);
    }
    staged = need;
    dwGenericRow(ring, pitchb, nring, top, wc, b0, yc + (<usize>(oy * wo) << 2), kh, kw, sw, wo, clampOn, vmin, vmax);
  }
}

/** One output row of the generic depthwise path (any kh, kw, stride; scalar); row top + ky of the ring. */
function dwGenericRow(ring: usize, pitchb: usize, nring: i32, top: i32, wc: usize, b0: f32, y: usize, kh: i32, kw: i32, sw: i32, wo: i32,
  clampOn: i32, vmin: f32, vmax: f32): void {
  const slot0 = top % nring;
  for (let ox = 0; ox < wo; ox++) {
    let acc = b0;
    for (let ky = 0, slot = slot0; ky < kh; ky++, slot = slot + 1 == nring ? 0 : slot + 1) {
      const r = ring + <usize>slot * pitchb + (<usize>(ox * sw) << 2);
      for (let kx = 0; kx < kw; kx++) acc += load<f32>(wc + (<usize>(ky * kw + kx) << 2)) * load<f32>(r + (<usize>kx << 2));
    }
    if (clampOn) acc = min(max(acc, vmin), vmax);
    store<f32>(y + (<usize>ox << 2), acc);
  }
}
