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

/**
 * Scratch for depthwise: store tile + two row accumulators (pitch each) + a ring of kh + 1 zero-padded input
 * rows ((kh + 1) x pitch) + slack. Sized from the row pitch and kernel height, not from the plane.
 */
export function f32_dwconv_scratch(kh: i32, pitch: i32): f64 {
  const P = <f64>pitch;
  return (<f64>(kh + 1) * P + 64) * 4 + 128 + 2 * P * 4 + 128;
}

/** Row pitch (floats) of a staged, zero-padded ring row: room for the widest vector over-read (multiple of 4). */
export function dwconv_pitch(wd: i32, pl: i32, pr: i32, kw: i32, sw: i32, wo: i32): i32 {
  // the 3x3 paths process 8 outputs per step: reads reach column (W8 - 8) * sw + 20 (W8 = wo rounded up to 8)
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
 * and rows past the input are zero.) Padded input row r (= input row r - pt, zero outside the
 * image, pl zeros on the left, zeros up to the pitch on the right) is staged into slot r % (kh + 1) of
 * a ring of kh + 1 rows just before the first output row that reads it; output row oy reads padded rows
 * oy*sh .. oy*sh + kh - 1, so the ring (a few KiB, L1-resident) always holds them, and for 3x3 stride 1
 * two output rows at a time (kh + 1 rows, each loaded once for both: relaxed -13 % in V8, WebKit -10 %).
 * Vectorised along W: 3x3 stride 1 and 3x3 stride 2 (even/odd lane shuffles) have fast paths; other
 * shapes use a scalar loop.
 */
export function f32_dwconv_nchw(c: i32, h: i32, wd: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, pr: i32,
  ho: i32, wo: i32, x: usize, w: usize, bias: usize, y: usize, clampOn: i32, vmin: f32, vmax: f32, scratch: usize): void {
  const pitch = dwconv_pitch(wd, pl, pr, kw, sw, wo);
  const tile = scratch;
  const racc = alignUp(scratch + 64, 64);
  const racc2 = alignUp(racc + (<usize>pitch << 2), 64);
  const ring = alignUp(racc2 + (<usize>pitch << 2), 64);
  const nring = kh + 1; // one row more than a kernel's height: two stride-1 output rows at a time read kh + 1
  const s1 = kh == 3 && kw == 3 && sh == 1 && sw == 1, s2 = kh == 3 && kw == 3 && sh == 2 && sw == 2;
  zeroF32(ring, nring * pitch); // the padding columns of every ring row stay zero for the whole call
  const pitchb = <usize>pitch << 2;
  for (let ch = 0; ch < c; ch++) {
    const xp = x + <usize>(ch * h * wd) * 4;
    const wc = w + <usize>(ch * kh * kw) * 4;
    const b0: f32 = bias ? load<f32>(bias + (<usize>ch << 2)) : 0;
    const yc = y + <usize>(ch * ho * wo) * 4;
    // one plane per call of a path-specific function, so each path's loops are compiled (and their registers
    // allocated) apart: with the stride-2 path's shuffle masks live in the same function, JavaScriptCore's
    // optimising tier spilled the stride-1 loops' weights (Bun 1.4.5: 112x112x32 0.508 -> 0.374 ms without them)
    if (s1) dwPlane3x3S1(ring, pitchb, tile, racc, racc2, xp, h, wd, pt, pl, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
    else if (s2) dwPlane3x3S2(ring, pitchb, tile, racc, racc2, xp, h, wd, pt, pl, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
    else dwPlaneGeneric(ring, pitchb, tile, racc, racc2, xp, h, wd, pt, pl, kh, kw, sh, sw, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
  }
}

/**
 * One channel plane: output rows 0..ho-1, each after staging the padded input rows it reads into the ring (only the
 * interior [pl, pl + wd) of a slot is written; the padding columns were zeroed once per call). PATH: u8 = 3x3 stride
 * 1 (output rows in pairs), u16 = 3x3 stride 2, u32 = generic (any kh, kw, stride; scalar).
 */
// @ts-ignore: decorator
@inline function dwPlane<PATH>(ring: usize, pitchb: usize, tile: usize, racc: usize, racc2: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  wc: usize, b0: f32, yc: usize, ho: i32, wo: i32, clampOn: i32, vmin: f32, vmax: f32): void {
  const s1 = sizeof<PATH>() == 1, s2 = sizeof<PATH>() == 2;
  const nring = kh + 1; // as f32_dwconv_nchw's ring; the 3x3 wrappers pass kh = 3, so % nring is by the constant 4
  const vb = f32x4.splat(b0), lo = f32x4.splat(vmin), hi = f32x4.splat(vmax);
  let staged = 0; // padded rows below this index have been staged (the ring holds the last kh + 1)
  let slot = 0; // = staged % nring, kept by counting (a % by a variable per row is an integer division)
  for (let oy = 0; oy < ho; oy++) {
    const top = oy * sh;
    const pair = s1 && oy + 1 < ho; // stride 1: output rows oy and oy + 1 together
    if (staged < top) { // stride > kernel height: skip the rows no output reads
      staged = top;
      slot = top % nring;
    }
    const need = top + kh + (pair ? 1 : 0);
    for (let r = staged; r < need; r++) {
      const d = ring + <usize>slot * pitchb;
      slot = slot + 1 == nring ? 0 : slot + 1;
      const iy = r - pt;
      if (iy < 0 || iy >= h) zeroF32(d + (<usize>pl << 2), wd);
      else copyF32(d + (<usize>pl << 2), xp + (<usize>(iy * wd) << 2), wd);
    }
    staged = need;
    const yr = yc + (<usize>(oy * wo) << 2);
    if (s1 || s2) {
      const r0 = ring + <usize>(top % nring) * pitchb, r1 = ring + <usize>((top + 1) % nring) * pitchb;
      const r2 = ring + <usize>((top + 2) % nring) * pitchb;
      if (pair) {
        // rows r0..r3 feed output row oy (taps of kernel rows 0, 1, 2 from r0, r1, r2) and oy + 1 (from r1, r2, r3):
        // each input row loaded once for both; per output the same FMA order as the single-row passes
        const r3 = ring + <usize>((top + 3) % nring) * pitchb, y2 = yr + (<usize>wo << 2);
        dwPassS1<u8>(r0, wc, racc, yr, wo, vb, clampOn, lo, hi, tile);
        dwPairS1<u16, u8>(r1, wc + 12, racc, yr, wc, racc2, y2, wo, vb, clampOn, lo, hi, tile);
        dwPairS1<u32, u16>(r2, wc + 24, racc, yr, wc + 12, racc2, y2, wo, vb, clampOn, lo, hi, tile);
        dwPassS1<u32>(r3, wc + 24, racc2, y2, wo, vb, clampOn, lo, hi, tile);
        oy++;
      } else if (s1) {
        dwPassS1<u8>(r0, wc, racc, yr, wo, vb, clampOn, lo, hi, tile);
        dwPassS1<u16>(r1, wc + 12, racc, yr, wo, vb, clampOn, lo, hi, tile);
        dwPassS1<u32>(r2, wc + 24, racc, yr, wo, vb, clampOn, lo, hi, tile);
      } else {
        dwPassS2<u8>(r0, wc, racc, yr, wo, vb, clampOn, lo, hi, tile);
        dwPassS2<u16>(r1, wc + 12, racc, yr, wo, vb, clampOn, lo, hi, tile);
        dwPassS2<u32>(r2, wc + 24, racc, yr, wo, vb, clampOn, lo, hi, tile);
      }
    } else {
      dwGenericRow(ring, pitchb, nring, top, wc, b0, yr, kh, kw, sw, wo, clampOn, vmin, vmax);
    }
  }
}

// The three paths as separate functions (each larger than Binaryen's one-caller inlining limit, so they stay apart).
function dwPlane3x3S1(ring: usize, pitchb: usize, tile: usize, racc: usize, racc2: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, wc: usize, b0: f32, yc: usize, ho: i32, wo: i32,
  clampOn: i32, vmin: f32, vmax: f32): void {
  dwPlane<u8>(ring, pitchb, tile, racc, racc2, xp, h, wd, pt, pl, 3, 3, 1, 1, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
}
function dwPlane3x3S2(ring: usize, pitchb: usize, tile: usize, racc: usize, racc2: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, wc: usize, b0: f32, yc: usize, ho: i32, wo: i32,
  clampOn: i32, vmin: f32, vmax: f32): void {
  dwPlane<u16>(ring, pitchb, tile, racc, racc2, xp, h, wd, pt, pl, 3, 3, 2, 2, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
}
function dwPlaneGeneric(ring: usize, pitchb: usize, tile: usize, racc: usize, racc2: usize, xp: usize, h: i32, wd: i32, pt: i32, pl: i32, kh: i32, kw: i32, sh: i32, sw: i32, wc: usize, b0: f32,
  yc: usize, ho: i32, wo: i32, clampOn: i32, vmin: f32, vmax: f32): void {
  dwPlane<u32>(ring, pitchb, tile, racc, racc2, xp, h, wd, pt, pl, kh, kw, sh, sw, wc, b0, yc, ho, wo, clampOn, vmin, vmax);
}

// @ts-ignore: decorator
@inline function act(v: v128, clampOn: i32, lo: v128, hi: v128): v128 {
  return clampOn ? clamp(v, lo, hi) : v;
}

// The 3x3 depthwise kernels run one pass per kernel row ky (3 taps each) over a row accumulator
// `racc` (L1-resident): x64 V8 issues all loads of a loop iteration before its arithmetic, so an
// iteration's loads + accumulators + weights must fit the 15 usable xmm registers; a 9-tap body
// does not. Pass 0 starts from the bias, pass 2 applies the activation and writes the output row.
// Stride 1 pairs output rows oy (accumulator racc) and oy + 1 (racc2): dwPassS1 on row r0 (oy),
// dwPairS1 on r1 and r2 (one set of loads for both rows' taps), dwPassS1 on r3 (oy + 1).

// @ts-ignore: decorator
@inline function dwPassS1<PASS>(r: usize, wk: usize, racc: usize, y: usize, wo: i32, vb: v128, clampOn: i32, lo: v128, hi: v128, tile: usize): void {
  const first = sizeof<PASS>() == 1;
  const w0 = v128.load32_splat(wk), w1 = v128.load32_splat(wk, 4), w2 = v128.load32_splat(wk, 8);
  for (let ox = 0; ox < wo; ox += 8) {
    const o = <usize>ox << 2;
    let a = first ? vb : v128.load(racc + o);
    let b = first ? vb : v128.load(racc + o, 16);
    a = madd(w0, v128.load(r + o), a);
    b = madd(w0, v128.load(r + o, 16), b);
    a = madd(w1, v128.load(r + o, 4), a);
    b = madd(w1, v128.load(r + o, 20), b);
    a = madd(w2, v128.load(r + o, 8), a);
    b = madd(w2, v128.load(r + o, 24), b);
    dwPut<PASS>(a, b, racc, y, o, ox, wo, clampOn, lo, hi, tile);
  }
}

/**
 * One padded input row r into two output rows at once (stride 1): kernel row wa of output row A (accumulator
 * raccA, output yA) and kernel row wb of output row B. A / B select the pass like dwPassS1's PASS (u8 first: start
 * from the bias; u16 middle; u32 last: activation and store to y); the three taps of each target in the same order.
 */
// @ts-ignore: decorator
@inline function dwPairS1<A, B>(r: usize, wa: usize, raccA: usize, yA: usize, wb: usize, raccB: usize, yB: usize, wo: i32, vb: v128,
  clampOn: i32, lo: v128, hi: v128, tile: usize): void {
  const a0 = v128.load32_splat(wa), a1 = v128.load32_splat(wa, 4), a2 = v128.load32_splat(wa, 8);
  const b0 = v128.load32_splat(wb), b1 = v128.load32_splat(wb, 4), b2 = v128.load32_splat(wb, 8);
  for (let ox = 0; ox < wo; ox += 8) {
    const o = <usize>ox << 2;
    const x0 = v128.load(r + o), x1 = v128.load(r + o, 16), x2 = v128.load(r + o, 4), x3 = v128.load(r + o, 20);
    const x4 = v128.load(r + o, 8), x5 = v128.load(r + o, 24);
    let p = sizeof<A>() == 1 ? vb : v128.load(raccA + o), q = sizeof<A>() == 1 ? vb : v128.load(raccA + o, 16);
    p = madd(a0, x0, p); q = madd(a0, x1, q);
    p = madd(a1, x2, p); q = madd(a1, x3, q);
    p = madd(a2, x4, p); q = madd(a2, x5, q);
    dwPut<A>(p, q, raccA, yA, o, ox, wo, clampOn, lo, hi, tile);
    let u = sizeof<B>() == 1 ? vb : v128.load(raccB + o), v = sizeof<B>() == 1 ? vb : v128.load(raccB + o, 16);
    u = madd(b0, x0, u); v = madd(b0, x1, v);
    u = madd(b1, x2, u); v = madd(b1, x3, v);
    u = madd(b2, x4, u); v = madd(b2, x5, v);
    dwPut<B>(u, v, raccB, yB, o, ox, wo, clampOn, lo, hi, tile);
  }
}

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
