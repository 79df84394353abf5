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

/** Output rows per band of the 3x3 stride-1 depthwise path (its ring holds a band's DW_BAND + 2 padded rows). */
const DW_BAND: i32 = 32;

/** Rows of the depthwise ring: a 3x3 stride-1 band (DW_BAND + 2), else kh + 1 (kh would do; a power of two is cheaper to % by). */
// @ts-ignore: decorator
@inline function dwRingRows(s1: bool, kh: i32): i32 { return s1 ? DW_BAND + 2 : kh + 1; }

/**
 * Scratch for depthwise: store tile + one row accumulator (pitch) + a ring of zero-padded input rows
 * (max(kh + 1, DW_BAND + 2) x pitch) + slack. Sized from the row pitch and kernel height, not from the plane.
 */
export function f32_dwconv_scratch(kh: i32, pitch: i32): f64 {
  const P = <f64>pitch;
  return (<f64>max(dwRingRows(true, kh), dwRingRows(false, kh)) * P + 64) * 4 + 128 + P * 4 + 128;
}

/** Row pitch (floats) of a staged, zero-padded ring row: room for the widest vector over-read (multiple of 4). */
export function dwconv_pitch(wd: i32, pl: i32, pr: i32, kw: i32, sw: i32, wo: i32): i32 {
  // 3x3 stride 2 processes 8 outputs per step: reads reach column (W8 - 8) * sw + 20 (W8 = wo rounded up to 8);
  // 3x3 stride 1 strips of 4 read up to column W4 + 2 (W4 = wo rounded up to 4)
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
 * rows (a few KiB) whose padding columns are zeroed once per call.
 * - 3x3 stride 1 (dwPlane3x3S1): bands of DW_BAND output rows, each output strip of 4 columns walked down
 *   the band with its accumulators in registers; inside the image strips read the input directly.
 * - 3x3 stride 2 (even/odd lane shuffles) and other shapes (scalar) (dwPlane): a row at a time over a ring
 *   of kh + 1 rows, each staged just before the first output row that reads it.
 */
export function f32_dwconv_nchw(c: i32, h: i32, wd: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, pr: i32,
  ho: i32, wo: i32, x: usize, w: usize, bias: usize, y: usize, clampOn: i32, vmin: f32, vmax: f32, scratch: usize): void {
  const pitch = dwconv_pitch(wd, pl, pr, kw, sw, wo);
  const tile = scratch;
  const racc = alignUp(scratch + 64, 64);
  const ring = alignUp(racc + (<usize>pitch << 2), 64);
  const s1 = kh == 3 && kw == 3 && sh == 1 && sw == 1, s2 = kh == 3 && kw == 3 && sh == 2 && sw == 2;
  zeroF32(ring, dwRingRows(s1, kh) * pitch); // the padding columns of every ring row stay zero for the whole call
  const pitchb = <usize>pitch << 2;
  for (let ch = 0; ch < c; ch++) {
    const xp = x + <usize>(ch * h * wd) * 4;
    const wc = w + <usize>(ch * kh * kw) * 4;
    const b0: f32 = bias ? load<f32>(bias + (<usize>ch << 2)) : 0;
    const yc = y + <usize>(ch * ho * wo) * 4;
    // one plane per call of a path-specific function, so each path's loops are compiled (and their registers
    // allocated) apart: with the stride-2 path's shuffle masks live in the same function, JavaScriptCore's
    // optimising tier spilled the stride-1 loops' weights (Bun 1.4.5: 112x112x32 0.508 -> 0.374 ms without them)
    if (s1) dwPlane3x3S1(ring, pitchb, tile, racc, xp, h, wd, pt, pl, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
    else if (s2) dwPlane3x3S2(ring, pitchb, tile, racc, xp, h, wd, pt, pl, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
    else dwPlaneGeneric(ring, pitchb, tile, racc, xp, h, wd, pt, pl, kh, kw, sh, sw, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
  }
}

/**
 * One channel plane, a row at a time: output rows 0..ho-1, each after staging the padded input rows it reads into
 * the ring of kh + 1 rows (only the interior [pl, pl + wd) of a slot is written). PATH: u16 = 3x3 stride 2 (vector),
 * u32 = generic (any kh, kw, stride; scalar).
 */
// @ts-ignore: decorator
@inline function dwPlane<PATH>(ring: usize, pitchb: usize, tile: usize, racc: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  wc: usize, b0: f32, yc: usize, ho: i32, wo: i32, clampOn: i32, vmin: f32, vmax: f32): void {
  const s2 = sizeof<PATH>() == 2;
  const nring = dwRingRows(false, kh); // the 3x3 wrapper passes kh = 3, so % nring is by the constant 4
  const vb = f32x4.splat(b0), lo = f32x4.splat(vmin), hi = f32x4.splat(vmax);
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
    const yr = yc + (<usize>(oy * wo) << 2);
    if (s2) {
      const r0 = ring + <usize>(top % nring) * pitchb, r1 = ring + <usize>((top + 1) % nring) * pitchb;
      const r2 = ring + <usize>((top + 2) % nring) * pitchb;
      dwPassS2<u8>(r0, wc, racc, yr, wo, vb, clampOn, lo, hi, tile);
      dwPassS2<u16>(r1, wc + 12, racc, yr, wo, vb, clampOn, lo, hi, tile);
      dwPassS2<u32>(r2, wc + 24, racc, yr, wo, vb, clampOn, lo, hi, tile);
    } else {
      dwGenericRow(ring, pitchb, nring, top, wc, b0, yr, kh, kw, sw, wo, clampOn, vmin, vmax);
    }
  }
}

// The three paths as separate functions (each larger than Binaryen's one-caller inlining limit, so they stay apart).
// 3x3 stride 1: bands of DW_BAND output rows; a band's nr + 2 padded rows are staged into ring slots 0 .. nr + 1
// (racc holds the strips' constants).
function dwPlane3x3S1(ring: usize, pitchb: usize, tile: usize, racc: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, wc: usize, b0: f32, yc: usize, ho: i32, wo: i32,
  clampOn: i32, vmin: f32, vmax: f32): void {
  const yrow = <usize>wo << 2, wfull = wo & ~3, xrow = <usize>wd << 2;
  // Strips [sLo, sHi) read only columns inside the image (a strip at ox reads input columns ox - pl .. ox - pl + 5):
  // in bands whose rows all lie inside the image they load straight from the input, and a staged row then needs only
  // the columns the other strips read: [0, cL) and [cR, wd).
  const sLo = (pl + 3) & ~3, sHi = min((wd + pl - 2) & ~3, wfull);
  const cL = min(wd, sLo + 2 - pl), cR = max(0, sHi - pl);
  const vmn = clampOn ? vmin : -Infinity, vmx = clampOn ? vmax : Infinity;
  for (let oy0 = 0; oy0 < ho; oy0 += DW_BAND) {
    const nr = min(DW_BAND, ho - oy0), iy0 = oy0 - pt;
    const direct = sLo < sHi && iy0 >= 0 && iy0 + nr + 2 <= h;
    for (let i = 0; i < nr + 2; i++) { // padded rows oy0 .. oy0 + nr + 1 into slots 0 .. nr + 1
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
    if (clampOn) dwBandS1<u16>(racc, m0, m1, wfull, ring, pitchb, xd, xrow, y0, yrow, nr, wc, b0, vmn, vmx, tile);
    else dwBandS1<u8>(racc, m0, m1, wfull, ring, pitchb, xd, xrow, y0, yrow, nr, wc, b0, vmn, vmx, tile);
    if (wfull < wo) dwStripsS1<u32>(racc, wfull, wo, ring, pitchb, y0, yrow, nr, wc, b0, vmn, vmx, tile);
  }
}

// @ts-ignore: decorator
@inline function dwBandS1<ACT>(cst: usize, m0: i32, m1: i32, wfull: i32, ring: usize, pitchb: usize, xd: usize, xrow: usize, y0: usize, yrow: usize, nr: i32,
  wc: usize, b0: f32, vmin: f32, vmax: f32, tile: usize): void {
  dwStripsS1<ACT>(cst, 0, m0, ring, pitchb, y0, yrow, nr, wc, b0, vmin, vmax, tile);
  dwStripsS1<ACT>(cst, m0, m1, xd, xrow, y0, yrow, nr, wc, b0, vmin, vmax, tile);
  dwStripsS1<ACT>(cst, m1, wfull, ring, pitchb, y0, yrow, nr, wc, b0, vmin, vmax, tile);
}

/**
 * Output columns [ox0, ox1) of a band of nr output rows, 4 at a time: each strip walks down the band's nr + 2
 * padded input rows (row i at base + i * stride, padded column p at byte 4p: ring slots or the input itself),
 * with the accumulators of its next two output rows in registers (a0: completed by the next row, a1: the one
 * after). Per output the same FMA order as a row at a time: bias, then kernel rows 0, 1, 2, taps left to right.
 * ACT: u8 = no activation, u16 = clamp, u32 = clamp and partial stores (the last strip when wo % 4 != 0).
 */
function dwStripsS1<ACT>(cst: usize, ox0: i32, ox1: i32, base: usize, stride: usize, y0: usize, yrow: usize, nr: i32, wc: usize, b0: f32, vmin: f32, vmax: f32,
  tile: usize): void {
  // bias and clamp bounds stay in memory (reloaded per row): with 9 weights, 2 accumulators and 3 inputs live,
  // V8's 15 allocatable xmm registers have no room for them
  v128.store(cst, f32x4.splat(b0)); v128.store(cst, f32x4.splat(vmin), 16); v128.store(cst, f32x4.splat(vmax), 32);
  const vb = v128.load(cst);
  const w00 = v128.load32_splat(wc), w01 = v128.load32_splat(wc, 4), w02 = v128.load32_splat(wc, 8);
  const w10 = v128.load32_splat(wc, 12), w11 = v128.load32_splat(wc, 16), w12 = v128.load32_splat(wc, 20);
  const w20 = v128.load32_splat(wc, 24), w21 = v128.load32_splat(wc, 28), w22 = v128.load32_splat(wc, 32);
  for (let ox = ox0; ox < ox1; ox += 4) {
    let r = base + (<usize>ox << 2);
    let a0 = madd(w02, v128.load(r, 8), madd(w01, v128.load(r, 4), madd(w00, v128.load(r), vb)));
    r += stride;
    let x0 = v128.load(r), x1 = v128.load(r, 4), x2 = v128.load(r, 8);
    let a1 = madd(w02, x2, madd(w01, x1, madd(w00, x0, vb)));
    a0 = madd(w12, x2, madd(w11, x1, madd(w10, x0, a0)));
    let y = y0 + (<usize>ox << 2);
    for (let i = 0; i < nr; i++) {
      r += stride;
      x0 = v128.load(r); x1 = v128.load(r, 4); x2 = v128.load(r, 8);
      let out = madd(w22, x2, madd(w21, x1, madd(w20, x0, a0)));
      a0 = madd(w12, x2, madd(w11, x1, madd(w10, x0, a1)));
      a1 = madd(w02, x2, madd(w01, x1, madd(w00, x0, v128.load(cst))));
      if (sizeof<ACT>() > 1) out = clamp(out, v128.load(cst, 16), v128.load(cst, 32));
      if (sizeof<ACT>() == 4) storePartial(y, out, ox1 - ox, tile);
      else v128.store(y, out);
      y += yrow;
    }
  }
}

function dwPlane3x3S2(ring: usize, pitchb: usize, tile: usize, racc: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, wc: usize, b0: f32, yc: usize, ho: i32, wo: i32,
  clampOn: i32, vmin: f32, vmax: f32): void {
  dwPlane<u16>(ring, pitchb, tile, racc, xp, h, wd, pt, pl, 3, 3, 2, 2, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
}
function dwPlaneGeneric(ring: usize, pitchb: usize, tile: usize, racc: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, kh: i32, kw: i32, sh: i32, sw: i32, wc: usize, b0: f32,
  yc: usize, ho: i32, wo: i32, clampOn: i32, vmin: f32, vmax: f32): void {
  dwPlane<u32>(ring, pitchb, tile, racc, xp, h, wd, pt, pl, kh, kw, sh, sw, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
}

// @ts-ignore: decorator
@inline function act(v: v128, clampOn: i32, lo: v128, hi: v128): v128 {
  return clampOn ? clamp(v, lo, hi) : v;
}

// The 3x3 stride-2 kernel runs one pass per kernel row ky (3 taps each) over a row accumulator
// `racc` (L1-resident): x64 V8 issues all loads of a loop iteration before its arithmetic, so an
// iteration's loads + accumulators + weights must fit the 15 usable xmm registers; a 9-tap body
// does not. Pass 0 starts from the bias, pass 2 applies the activation and writes the output row.

/** Store 8 accumulated outputs: to the row accumulator (PASS u8 / u16), or activated to the output row (u32). */
// @ts-ignore: decorator
@inline function dwPut<PASS>(a: v128, b: v128, racc: usize, y: usize, o: usize, ox: i32, wo: i32, clampOn: i32, lo: v128, hi: v128, tile: usize): void {
  if (sizeof<PASS>() == 4) {
    a = act(a, clampOn, lo, hi);
    b = act(b, clampOn, lo, hi);
    if (ox + 8 <= wo) {
      v128.store(y + o, a);
      v128.store(y + o, b, 16);
    } else {
      storePartial(y + o, a, wo - ox, tile);
      if (wo - ox > 4) storePartial(y + o + 16, b, wo - ox - 4, tile);
    }
  } else {
    v128.store(racc + o, a);
    v128.store(racc + o, b, 16);
  }
}

// @ts-ignore: decorator
@inline function evens(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 0, 2, 4, 6); }
// @ts-ignore: decorator
@inline function odds(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 1, 3, 5, 7); }

// 8 outputs at ox read padded columns 2ox .. 2ox+16 of the row (5 loads x0..x4 = [2ox, 2ox+20)):
// tap 0 = even lanes, tap 1 = odd lanes, tap 2 = the even lanes shifted by one
// (shuffle(e01, e23, 1..4) = columns 2ox+2 .. 2ox+8, shuffle(e23, x4, 1..4) = 2ox+10 .. 2ox+16).
// @ts-ignore: decorator
@inline function dwPassS2<PASS>(r: usize, wk: usize, racc: usize, y: usize, wo: i32, vb: v128, clampOn: i32, lo: v128, hi: v128, tile: usize): void {
  const first = sizeof<PASS>() == 1;
  const w0 = v128.load32_splat(wk), w1 = v128.load32_splat(wk, 4), w2 = v128.load32_splat(wk, 8);
  for (let ox = 0; ox < wo; ox += 8) {
    const o = <usize>ox << 3;
    const x0 = v128.load(r + o), x1 = v128.load(r + o, 16), x2 = v128.load(r + o, 32), x3 = v128.load(r + o, 48), x4 = v128.load(r + o, 64);
    const ro = racc + (<usize>ox << 2);
    let a = first ? vb : v128.load(ro);
    let b = first ? vb : v128.load(ro, 16);
    const e01 = evens(x0, x1), e23 = evens(x2, x3);
    a = madd(w0, e01, a);
    b = madd(w0, e23, b);
    a = madd(w1, odds(x0, x1), a);
    b = madd(w1, odds(x2, x3), b);
    a = madd(w2, v128.shuffle<f32>(e01, e23, 1, 2, 3, 4), a);
    b = madd(w2, v128.shuffle<f32>(e23, x4, 1, 2, 3, 4), b);
    dwPut<PASS>(a, b, racc, y, <usize>ox << 2, ox, wo, clampOn, lo, hi, tile);
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
