// Read and write extents of the sparse 3x3 conv kernels. runConv3x3 (bindings/ops/sparse.ts) runs
// whole tiles over positions rounded up past the real output (stride 1: flattened rows; stride 2: rows
// with two or more tail tiles), so junk positions read past the last padded input plane, into the
// TILE_SLACK_BYTES that convGeom adds to the staging buffer. Junk reads never reach a kept output, so
// the output tests cannot see a missing slack; this test can. It wraps the instance's kernels, replays
// each f32_spconv3x3_* call's tile loop and delta walk in JS (the driver's tiles: MR, then 8/4/2/1
// tails; each stored entry reads m floats at the walk position), and checks every read lies inside the
// padded buffer + slack and every write inside the output or the temporary f32_unpad_rows reads.
import { describe, expect, it } from 'vitest';
import { init, type SparseBlock } from '../../bindings/index.js';
import { TILE_SLACK_BYTES } from '../../bindings/ops/sparse.js';
import { maxScaledErr, refConv2d, sparseWeights } from '../helpers/ref-sparse.js';
import { randomF32 } from '../helpers/tiers.js';
import { TIERS } from '../helpers/engine.js';

const TAILS = [16, 8, 4, 2, 1];

for (const tier of TIERS) {
  describe(`sparse 3x3 read/write extents [${tier}]`, () => {
    it('every tile read stays inside the padded input + slack, every write inside its buffer (stride 1/2, pad 0/1, widths 1-30)', async () => {
      const t = await init({ simd: tier, debug: true });
      const real = t.kernels as unknown as Record<string, (...a: number[]) => void>;
      let padBuf = { lo: 0, hi: 0 }, read = { lo: Infinity, hi: -Infinity }, write = { lo: Infinity, hi: -Infinity };
      let outBuf: { lo: number; hi: number } | null = null;
      // an empty target: the wasm exports object is frozen, so a proxy over it must return its own values
      const wrapped = new Proxy({} as Record<string, unknown>, {
        get(_target, name: string) {
          const f = real[name];
          if (name === 'f32_pad3x3_chw') return (c: number, h: number, w: number, p: number, s: number, px: number, pp: number) => {
            const Hp = h + 2 * p, Wp = w + 2 * p, rowLen = s === 2 ? 2 * ((Wp + 1) >> 1) : Wp;
            padBuf = { lo: pp, hi: pp + Hp * rowLen * 4 * c + TILE_SLACK_BYTES };
            return f(c, h, w, p, s, px, pp);
          };
          if (name === 'f32_unpad_rows') return (planes: number, rows: number, w: number, pitch: number, plane: number, src: number, dst: number) => {
            outBuf = { lo: src, hi: src + planes * plane * 4 };
            return f(planes, rows, w, pitch, plane, src, dst);
          };
          if (name.startsWith('f32_spconv3x3_')) return (oh: number, ow: number, ng: number, nr1: number, input: number, w: number, nz: number, dm: number, output: number, os: number, rowStep: number, lo: number, hi: number) => {
            const mr = Number(/_(\d+)x4/.exec(name)![1]);
            const u32 = t.memory.u32, i32 = t.memory.i32;
            const tile = (m: number, inp: number, out: number) => {
              let nzp = nz, dmp = dm;
              for (let g = 0; g < ng + nr1; g++) {
                for (let n = u32[nzp >> 2]; n > 0; n--) {
                  read.lo = Math.min(read.lo, inp); read.hi = Math.max(read.hi, inp + 4 * m);
                  inp += i32[dmp >> 2]; dmp += 4;
                }
                nzp += 4;
                const k = g < ng ? 4 : 1;
                write.lo = Math.min(write.lo, out); write.hi = Math.max(write.hi, out + (k - 1) * os + 4 * m);
                out += k * os;
              }
            };
            for (let y = 0; y < oh; y++) {
              let x = 0;
              for (; x + mr <= ow; x += mr) tile(mr, input + y * rowStep + 4 * x, output + 4 * (y * ow + x));
              for (const m of TAILS) if (m < mr && ow - x >= m) { tile(m, input + y * rowStep + 4 * x, output + 4 * (y * ow + x)); x += m; }
            }
            return f(oh, ow, ng, nr1, input, w, nz, dm, output, os, rowStep, lo, hi);
          };
          return f;
        },
      });
      Object.defineProperty(t, 'kernels', { value: wrapped });
      let cases = 0, maxOver = 0;
      for (const block of [[4, 1], [1, 1]] as SparseBlock[]) for (const stride of [1, 2] as const) for (const pad of [0, 1] as const) {
        for (let h = 1; h <= 12; h++) for (let wd = 1; wd <= 30; wd++) {
          if (h + 2 * pad < 3 || wd + 2 * pad < 3) continue;
          const c = 1 + ((h + wd) % 3), rows = 5 + (wd % 5);
          const wts = sparseWeights(rows, c, 0.4, 100 + 37 * h + wd, block, 3), bias = randomF32(rows, 7);
          const sp = t.sparse.pack(wts, rows, c, { block, bias, kernelSize: 3 });
          const x = randomF32(c * h * wd, 8 + h + wd);
          read = { lo: Infinity, hi: -Infinity }; write = { lo: Infinity, hi: -Infinity }; outBuf = null;
          const y = t.sparse.conv2d(sp, x, { c, h, w: wd, stride, pad });
          const at = `${block} s${stride} p${pad} ${h}x${wd} c${c}`;
          expect(read.lo, at).toBeGreaterThanOrEqual(padBuf.lo);
          expect(read.hi, at).toBeLessThanOrEqual(padBuf.hi);
          maxOver = Math.max(maxOver, read.hi - (padBuf.hi - TILE_SLACK_BYTES));
          const ref = refConv2d(wts, bias, rows, c, h, wd, 3, stride, pad, x, 'none');
          const ob = outBuf as { lo: number; hi: number } | null; // set by the wrapped kernels during the call
          if (ob) { expect(write.lo, at).toBeGreaterThanOrEqual(ob.lo); expect(write.hi, at).toBeLessThanOrEqual(ob.hi); }
          else expect(write.hi - write.lo, at).toBeLessThanOrEqual(rows * ref.oh * ref.ow * 4);
          expect(maxScaledErr(y, ref.y, ref.mag), at).toBeLessThanOrEqual((9 * c + 2) * 2 ** -24 * 1.01);
          cases++;
        }
      }
      expect(cases).toBeGreaterThan(1000);
      // the rounded paths do read past the last plane (so the slack is exercised), by less than a tile
      expect(maxOver).toBeGreaterThan(0);
      expect(maxOver).toBeLessThanOrEqual(TILE_SLACK_BYTES);
    });
  });
}
