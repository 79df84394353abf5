// GEMV (m = 1) paths: the unpacked row-major kernel behind the copying tk.matmul (B streamed through a
// bounded staging buffer, never packed) and the packed panel kernel behind packMatmul, f32 and f16
// weights, on both tiers.
//
// Tolerances: against the f64 reference, errorRatio <= 1, i.e. |got - ref| <= K * 2^-23 * sum|a_k b_k|
// (the f32 dot-product bound with 2x slack for bias and fused/unfused rounding, see dense.test.ts).
// Copying vs packed: bit-identical (no tolerance) — both kernels run one accumulator chain per
// column in k order with the same madd, add the bias after the sum, and form every product x*w
// exactly alike (the f16 fast widening yields w * 2^-112 with x pre-scaled by 2^112, or w itself).
// Widening: bit-identical to an independent f16 decoder (no tolerance): widening is exact.
import { describe, expect, it } from 'vitest';
import { DTypeError, ShapeError, type Tessera } from '../../bindings/index.js';
import { errorRatio, refMatmul, type Act } from '../helpers/ref-dense.js';
import { halfToF32, randomHalf } from '../helpers/halves.js';
import { randomF32, tk } from '../helpers/tiers.js';
import { TIERS } from '../helpers/engine.js';


const isFiniteHalf = (h: number) => (h & 0x7c00) !== 0x7c00;

// (k, n): n below / past every column tile of the row kernel (24, 8, scalar tail) and the 8-wide
// panels incl. leftover panels; k = 1; B spanning several staging blocks (128 KiB: n = 1000 -> 32 f32
// rows per block, 4000 -> 8, 16385 -> 2 rows).
const GEMV_SHAPES: [number, number][] = [
  [1, 1], [1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [3, 23], [5, 24], [2, 25], [64, 31], [100, 47],
  [257, 50], [1, 61], [70, 1000], [40, 4000], [9, 16385],
];

for (const tier of TIERS) {
  describe(`dense GEMV m = 1 [${tier}]`, () => {
    for (const wdt of ['f32', 'f16'] as const) {
      it(`${wdt} weights: copying (unpacked) == packed bit for bit, and within K*2^-23*sum|ab| of f64; tails, k = 1, bias, clamps`, async () => {
        const t = await tk(tier);
        for (const [i, [k, n]] of GEMV_SHAPES.entries()) {
          const act: Act = (['none', 'relu', 'relu6'] as const)[i % 3];
          const a = randomF32(k, 100 + i, -3, 3);
          const b = wdt === 'f32' ? randomF32(k * n, 200 + i) : randomHalf(t, k * n, 200 + i);
          const bias = i % 2 ? randomF32(n, 300 + i, -2, 2) : undefined;
          const y = t.matmul(a, b, 1, k, n, { bias, activation: act });
          const lin = t.dense.packMatmul(b, k, n, { bias, activation: act });
          const want = lin.apply(a, 1);
          lin.dispose();
          expect(Array.from(y), `k=${k} n=${n}`).toEqual(Array.from(want));
          const ref = refMatmul(a, wdt === 'f32' ? b as Float32Array : halfToF32(b as Uint16Array), 1, k, n, bias, act);
          expect(errorRatio(y, ref.y, ref.mag, k), `k=${k} n=${n} act=${act}`).toBeLessThanOrEqual(1);
          if (act === 'relu6') expect(Math.max(...y)).toBeLessThanOrEqual(6);
          if (act !== 'none') expect(Math.min(...y)).toBeGreaterThanOrEqual(0);
        }
      });
    }

    it('small m (2..4, unpacked copying path) and the packed paths for the same shapes agree with f64', async () => {
      const t = await tk(tier);
      // packed m = 2, 3 with k > 256: f16w_gemm_small's K blocks (accumulators parked between blocks)
      for (const [i, [m, k, n]] of ([[2, 70, 1003], [3, 9, 16385], [4, 257, 50], [2, 1, 7], [4, 5, 31], [3, 600, 41], [2, 513, 30]] as const).entries()) {
        for (const wdt of ['f32', 'f16'] as const) {
          const a = randomF32(m * k, 500 + i, -3, 3);
          const b = wdt === 'f32' ? randomF32(k * n, 600 + i) : randomHalf(t, k * n, 600 + i);
          const bias = randomF32(n, 700 + i, -2, 2);
          const ref = refMatmul(a, wdt === 'f32' ? b as Float32Array : halfToF32(b as Uint16Array), m, k, n, bias, 'relu6');
          const lin = t.dense.packMatmul(b, k, n, { bias, activation: 'relu6' });
          for (const y of [t.matmul(a, b, m, k, n, { bias, activation: 'relu6' }), lin.apply(a, m)]) {
            expect(errorRatio(y, ref.y, ref.mag, k), `${wdt} m=${m} k=${k} n=${n}`).toBeLessThanOrEqual(1);
          }
          lin.dispose();
        }
      }
    });

    it('f16 copying: inf/NaN in one staging block (exact widening there), large |x| (no pre-scaling): == packed', async () => {
      const t = await tk(tier);
      const k = 140, n = 1003; // f16 block = 65 rows: 3 blocks; n = 1003: 24-tiles, 8-tiles and a 3-column tail
      for (const big of [false, true]) {
        const a = randomF32(k, 400, big ? -1e6 : 0.5, big ? 1e6 : 1);
        const b = randomHalf(t, k * n, 401);
        b[70 * n + 3] = 0x7c00; // +inf, second block, 24-column tile
        b[72 * n + 1001] = 0x7e00; // NaN, second block, scalar tail column
        b[100 * n + 990] = 0xfc00; // -inf, 8-column tile
        const y = t.matmul(a, b, 1, k, n, { activation: 'relu6' });
        const lin = t.dense.packMatmul(b, k, n, { activation: 'relu6' });
        expect(Array.from(y)).toEqual(Array.from(lin.apply(a, 1)));
        lin.dispose();
        expect(Number.isNaN(y[1001])).toBe(true);
        if (!big) { expect(y[3]).toBe(6); expect(y[990]).toBe(0); } // a > 0: +-inf dominates, then relu6
      }
    });

    it('f16_has_nonfinite: every length 0..80 and every position (32-half steps, 8-half steps, scalar tail)', async () => {
      const t = await tk(tier);
      t.run(() => {
        const p = t.arena.alloc(80 * 2);
        const u16 = t.memory.u16;
        for (let n = 0; n <= 80; n++) {
          for (let pos = -1; pos < n; pos++) {
            for (const bad of [0x7c00, 0xfe01]) { // +inf, a negative NaN
              for (let i = 0; i < n; i++) u16[(p >> 1) + i] = 0x7bff ^ (i & 1 ? 0x8000 : 0); // +-65504 (largest finite)
              if (pos >= 0) u16[(p >> 1) + pos] = bad;
              expect(t.kernels.f16_has_nonfinite(p, n), `n=${n} pos=${pos}`).toBe(pos >= 0 ? 1 : 0);
            }
          }
        }
      });
    });

    it('f16 fast widening is bit-identical to an independent decoder over all 65,536 halves', async () => {
      const t = await tk(tier);
      const all = new Uint16Array(65536).map((_, i) => i);
      const ref = halfToF32(all);
      const refBits = new Uint32Array(ref.buffer);
      // 1) panel widening (GEMM path, both modes): pack all halves as B (k = 8192, n = 8) and widen back
      for (const exact of [0, 1]) {
        const got = t.run(() => {
          const src = t.arena.alloc(65536 * 2), pk = t.arena.alloc(65536 * 2, 64), dst = t.arena.alloc(65536 * 4, 64);
          t.memory.u16.set(all, src >> 1);
          t.kernels.f16_pack_b_nr8(8192, 8, 0, 8192, src, 8, pk);
          t.kernels.f16_widen_panel(pk, 16, dst, 8192, exact); // one panel: a group of 1, row stride 16
          return new Uint32Array(t.memory.f32.slice(dst >> 2, (dst >> 2) + 65536).buffer);
        });
        let bad = 0;
        for (let h = 0; h < 65536; h++) {
          if (!isFiniteHalf(h)) {
            if (exact) expect(Number.isNaN(ref[h]) ? Number.isNaN(new Float32Array(got.buffer)[h]) : got[h] === refBits[h], `h=${h}`).toBe(true);
            continue;
          }
          if (got[h] !== refBits[h]) bad++;
        }
        expect(bad, `exact=${exact}`).toBe(0);
      }
      // 2) both GEMV kernels (x pre-scaled by 2^112, and the rebias multiply for |x| >= 2^16), with the high halves
      //    widened by shr_s and by pmaddwd (kernelProfile.denseGemvF16Dot): k = 1, B = one row of all finite halves;
      //    y = x * w exactly except -0 -> +0 (accumulators start at +0)
      const fin = all.filter(isFiniteHalf);
      const w = halfToF32(fin);
      const saved = t.kernelProfile.denseGemvF16Dot;
      try {
        for (const dot of [false, true]) {
          t.kernelProfile.denseGemvF16Dot = dot;
          for (const x of [1, 65536]) {
            const a = new Float32Array([x]);
            const lin = t.dense.packMatmul(fin, 1, fin.length);
            for (const y of [t.matmul(a, fin, 1, 1, fin.length), lin.apply(a, 1)]) {
              let bad = 0;
              for (let j = 0; j < fin.length; j++) if (y[j] !== Math.fround(x * w[j]) || Object.is(y[j], -0)) bad++;
              expect(bad, `x=${x} dot=${dot}`).toBe(0);
            }
            lin.dispose();
          }
        }
        // 3) a real GEMV (k = 300, n past the 24-column pass, bias + clamp): the two widenings give the same bits
        const k = 300, n = 61, xa = randomF32(k, 31), wb = t.f16.fromF32(randomF32(k * n, 32)), bias = randomF32(n, 33);
        const lin = t.dense.packMatmul(wb, k, n, { bias, activation: 'relu6' });
        const run = (dot: boolean) => { t.kernelProfile.denseGemvF16Dot = dot; return lin.apply(xa, 1); };
        expect(run(true)).toEqual(run(false));
        lin.dispose();
      } finally {
        t.kernelProfile.denseGemvF16Dot = saved;
      }
    });
  });
}

describe('dense apply(..., out): result written into a caller array (no fresh allocation)', () => {
  it('PackedMatmul.apply and PackedConv2d.apply fill and return out; wrong out is a typed error', async () => {
    const t = await tk('simd128');
    const a = randomF32(3 * 20, 1), b = randomF32(20 * 9, 2);
    const lin = t.dense.packMatmul(b, 20, 9);
    const out = new Float32Array(27);
    expect(lin.apply(a, 3, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(lin.apply(a, 3)));
    expect(() => lin.apply(a, 3, new Float32Array(26))).toThrow(ShapeError);
    expect(() => lin.apply(a, 3, new Float64Array(27) as unknown as Float32Array)).toThrow(DTypeError);
    lin.dispose();
    const opts = { c: 4, h: 6, w: 5, cout: 4, kh: 3, kw: 3, pad: 1, groups: 4 };
    const x = randomF32(4 * 6 * 5, 3), w = randomF32(4 * 9, 4);
    const cv = t.dense.packConv2d(w, opts);
    const o2 = new Float32Array(4 * 6 * 5);
    expect(cv.apply(x, 1, o2)).toBe(o2);
    expect(Array.from(o2)).toEqual(Array.from(cv.apply(x)));
    expect(() => cv.apply(x, 1, new Float32Array(3))).toThrow(ShapeError);
    cv.dispose();
  });
});
