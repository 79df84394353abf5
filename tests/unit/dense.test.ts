// Dense GEMM / GEMV / conv2d against an f64 reference (tests/helpers/ref-dense.ts), on both tiers.
//
// Tolerance (all cases): |got - ref| <= K * 2^-23 * sum_k |a_k b_k| for every output (errorRatio <= 1).
// Justification: an f32 dot product of length K accumulated in any order has |error| <=
// K * u * sum|a_k b_k| (u = 2^-24) to first order; blocked/split accumulators and the fused (relaxed)
// vs unfused roundings stay inside that bound, and we allow 2x for the bias add and the
// second-order term. f16 weights: the reference uses the f16-rounded weights (decoded by an
// independent library), so the same bound applies — widening f16 -> f32 is exact.
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, DisposedError, ShapeError, type Tessera } from '../../bindings/index.js';
import { errorRatio, refConv2d, refMatmul, type Act } from '../helpers/ref-dense.js';
import { halfToF32, randomHalf } from '../helpers/halves.js';
import { randomF32, tk } from '../helpers/tiers.js';
import { HAS_RELAXED, TIERS } from '../helpers/engine.js';


// (m, k, n): k below / at / above / multiple of the K block (256), n below / past the 8-wide tile,
// m below / past the MR-row tile and past the 120-row M block, and M = 1 (GEMV path).
const MATMUL_SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 3, 5], [1, 64, 8], [1, 100, 17], [1, 257, 40], [1, 513, 24],
  [2, 7, 3], [3, 1, 9], [4, 16, 8], [5, 33, 16], [6, 8, 7], [7, 255, 15],
  [12, 256, 24], [13, 257, 23], [17, 512, 9], [31, 70, 33], [121, 40, 10], [130, 300, 50],
  [5, 4000, 9], // small M: one long K block per 3840 rows of k (m <= 2*MR), so two blocks here
];

for (const tier of TIERS) {
  describe(`dense matmul [${tier}]`, () => {
    it('f32 weights: edge shapes, bias and every activation within K*2^-23*sum|ab|', async () => {
      const t = await tk(tier);
      let worst = 0;
      for (const [i, [m, k, n]] of MATMUL_SHAPES.entries()) {
        const act: Act = (['none', 'relu', 'relu6'] as const)[i % 3];
        const a = randomF32(m * k, 10 + i, -2, 2), b = randomF32(k * n, 20 + i);
        const bias = i % 2 ? randomF32(n, 30 + i, -3, 3) : undefined;
        const ref = refMatmul(a, b, m, k, n, bias, act);
        const y = t.matmul(a, b, m, k, n, { bias, activation: act });
        const e = errorRatio(y, ref.y, ref.mag, k);
        expect(e, `m=${m} k=${k} n=${n} act=${act}`).toBeLessThanOrEqual(1);
        worst = Math.max(worst, e);
      }
      expect(worst).toBeLessThanOrEqual(1);
    });

    it('f16 weights (Uint16Array bits): fast and exact widening, reference on the f16 values', async () => {
      const t = await tk(tier);
      for (const [i, [m, k, n]] of MATMUL_SHAPES.entries()) {
        const a = randomF32(m * k, 40 + i), b16 = randomHalf(t, k * n, 50 + i);
        const bias = randomF32(n, 60 + i);
        const ref = refMatmul(a, halfToF32(b16), m, k, n, bias, 'relu6');
        const y = t.matmul(a, b16, m, k, n, { bias, activation: 'relu6' });
        expect(errorRatio(y, ref.y, ref.mag, k), `m=${m} k=${k} n=${n}`).toBeLessThanOrEqual(1);
      }
    });

    it('f16 weights with large activations (|a| >= 2^16: no pre-scaling, multiply path)', async () => {
      const t = await tk(tier);
      for (const [m, k, n] of [[1, 50, 20], [3, 50, 20], [13, 50, 20]] as const) {
        const a = randomF32(m * k, 90, -1e6, 1e6), b16 = randomHalf(t, k * n, 91);
        const ref = refMatmul(a, halfToF32(b16), m, k, n);
        expect(errorRatio(t.matmul(a, b16, m, k, n), ref.y, ref.mag, k), `m=${m}`).toBeLessThanOrEqual(1);
      }
    });

    it('f16 weights with inf/NaN take the exact widening path', async () => {
      const t = await tk(tier);
      for (const m of [1, 3]) {
        const k = 20, n = 12;
        const a = randomF32(m * k, 70, 0.5, 1); // positive, so inf * a = +inf
        const b16 = t.f16.fromF32(randomF32(k * n, 71));
        b16[5 * n + 2] = 0x7c00; // +inf in column 2
        b16[7 * n + 9] = 0x7e00; // NaN in column 9
        const y = t.matmul(a, b16, m, k, n);
        const bf = halfToF32(b16);
        for (let i = 0; i < m; i++) {
          expect(y[i * n + 2]).toBe(Infinity);
          expect(Number.isNaN(y[i * n + 9])).toBe(true);
          for (const j of [0, 1, 3, 8, 11]) {
            let s = 0, g = 0;
            for (let p = 0; p < k; p++) { s += a[i * k + p] * bf[p * n + j]; g += Math.abs(a[i * k + p] * bf[p * n + j]); }
            expect(Math.abs(y[i * n + j] - s)).toBeLessThanOrEqual(k * 2 ** -23 * g);
          }
        }
      }
    });

    it('packed form: run() on arena tensors equals the copying API bit for bit; arena returns to baseline', async () => {
      const t = await tk(tier);
      const before = t.memoryStats().usedBytes;
      for (const [m, k, n] of [[1, 300, 37], [9, 129, 20], [64, 64, 64]] as const) {
        const a = randomF32(m * k, 80), b = randomF32(k * n, 81), bias = randomF32(n, 82);
        const want = t.matmul(a, b, m, k, n, { bias, activation: 'relu' });
        const lin = t.dense.packMatmul(b, k, n, { bias, activation: 'relu' });
        const at = t.tensorFrom(a), ot = t.tensor('f32', [m * n]);
        lin.run(at, ot, m);
        expect(Array.from(ot.read())).toEqual(Array.from(want));
        expect(Array.from(lin.apply(a, m))).toEqual(Array.from(want));
        at.dispose(); ot.dispose(); lin.dispose();
        lin.dispose(); // idempotent
        expect(() => lin.apply(a, m)).toThrow(DisposedError);
      }
      expect(t.memoryStats().usedBytes).toBe(before);
    });

    it('the 5x8 and 6x8 tiles (tuning knob tk.dense.mr) give the same accuracy', async () => {
      const t = await tk(tier);
      try {
        for (const mr of [5, 6]) {
          t.dense.mr = mr;
          for (const [m, k, n] of [[13, 300, 17], [6, 9, 8], [1, 40, 9]] as const) {
            const a = randomF32(m * k, mr), b = randomF32(k * n, mr + 1);
            const ref = refMatmul(a, b, m, k, n);
            expect(errorRatio(t.matmul(a, b, m, k, n), ref.y, ref.mag, k), `mr=${mr} ${m}x${k}x${n}`).toBeLessThanOrEqual(1);
          }
          const x = randomF32(5 * 9 * 10, 3), w = randomF32(13 * 5 * 9, 4);
          const o = { n: 1, c: 5, h: 9, w: 10, cout: 13, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1, groups: 1 };
          const ref = refConv2d(x, w, o);
          expect(errorRatio(t.conv2d(x, w, { c: 5, h: 9, w: 10, cout: 13, kh: 3, kw: 3, pad: 1 }), ref.y, ref.mag, 45)).toBeLessThanOrEqual(1);
        }
      } finally {
        t.dense.mr = 4;
      }
    });

    it('typed errors before any kernel runs', async () => {
      const t = await tk(tier);
      const before = t.memoryStats().usedBytes;
      const a = new Float32Array(6), b = new Float32Array(12);
      expect(() => t.matmul(new Float64Array(6) as any, b, 2, 3, 4)).toThrow(DTypeError);
      expect(() => t.matmul(a, new Int32Array(12) as any, 2, 3, 4)).toThrow(DTypeError);
      expect(() => t.matmul(a, b, 2, 3, 5)).toThrow(ShapeError);
      expect(() => t.matmul(a, b, 3, 3, 4)).toThrow(ShapeError);
      expect(() => t.matmul(a, b, 2, 3, 4, { bias: new Float32Array(3) })).toThrow(ShapeError);
      expect(() => t.matmul(a, b, 2, 3, 4, { activation: 'gelu' as any })).toThrow(ArgumentError);
      expect(() => t.matmul(a, b, 2, 0 as any, 4)).toThrow(ShapeError);
      expect(() => t.matmul(a, b, 2.5, 3, 4)).toThrow(ShapeError);
      const lin = t.dense.packMatmul(b, 3, 4);
      const at = t.tensor('f32', [6]), ot = t.tensor('f32', [7]), oh = t.tensor('f16', [8]);
      expect(() => lin.run(at, ot, 2)).toThrow(ShapeError);
      expect(() => lin.run(at, oh, 2)).toThrow(DTypeError);
      expect(() => lin.run(at, at, 2)).toThrow(ShapeError);
      expect(() => lin.run(new Float32Array(6) as any, ot, 2)).toThrow(DTypeError);
      expect(() => { t.dense.mr = 7; }).toThrow(ArgumentError);
      at.dispose(); ot.dispose(); oh.dispose(); lin.dispose();
      expect(t.memoryStats().usedBytes).toBe(before);
    });
  });

  describe(`dense conv2d NCHW [${tier}]`, () => {
    interface C { n?: number; c: number; h: number; w: number; cout: number; kh: number; kw: number; s?: [number, number]; p?: [number, number, number, number]; d?: [number, number]; g?: number }
    const CASES: C[] = [
      // 1x1 (plain GEMM on the planes): pixel tails, cout tails
      { c: 3, h: 5, w: 7, cout: 5, kh: 1, kw: 1 }, { n: 2, c: 16, h: 13, w: 11, cout: 13, kh: 1, kw: 1 }, { c: 37, h: 16, w: 16, cout: 7, kh: 1, kw: 1 },
      // stride-1 implicit GEMM: 3x3 pad 1, odd sizes, no pad, asymmetric pad, 5x5, 1x3
      { c: 4, h: 9, w: 11, cout: 7, kh: 3, kw: 3, p: [1, 1, 1, 1] }, { n: 2, c: 8, h: 17, w: 20, cout: 13, kh: 3, kw: 3, p: [1, 1, 1, 1] },
      { c: 5, h: 8, w: 9, cout: 6, kh: 3, kw: 3 }, { c: 3, h: 7, w: 10, cout: 4, kh: 3, kw: 3, p: [0, 2, 1, 0] },
      { c: 2, h: 12, w: 12, cout: 9, kh: 5, kw: 5, p: [2, 2, 2, 2] }, { c: 6, h: 6, w: 15, cout: 5, kh: 1, kw: 3, p: [0, 1, 0, 1] },
      { c: 1, h: 3, w: 3, cout: 1, kh: 3, kw: 3, p: [1, 1, 1, 1] },
      // im2col path: stride 2 (MobileNet's first layer shape, shrunk), stride [2,1], dilation 2, 1x1 stride 2
      { c: 3, h: 16, w: 15, cout: 8, kh: 3, kw: 3, s: [2, 2], p: [1, 1, 1, 1] }, { c: 4, h: 9, w: 9, cout: 6, kh: 3, kw: 3, s: [2, 1], p: [0, 1, 0, 1] },
      { c: 3, h: 11, w: 10, cout: 5, kh: 3, kw: 3, d: [2, 2], p: [2, 2, 2, 2] }, { c: 8, h: 9, w: 9, cout: 10, kh: 1, kw: 1, s: [2, 2] },
      // depthwise: 3x3 stride 1 and 2 (fast paths), odd widths below/above the vector width, 5x5 generic, asymmetric pad
      { c: 6, h: 10, w: 13, cout: 6, kh: 3, kw: 3, p: [1, 1, 1, 1], g: 6 }, { n: 2, c: 3, h: 5, w: 3, cout: 3, kh: 3, kw: 3, p: [1, 1, 1, 1], g: 3 },
      { c: 5, h: 11, w: 17, cout: 5, kh: 3, kw: 3, s: [2, 2], p: [1, 1, 1, 1], g: 5 }, { c: 4, h: 12, w: 12, cout: 4, kh: 3, kw: 3, s: [2, 2], p: [0, 0, 1, 1], g: 4 },
      { c: 3, h: 9, w: 8, cout: 3, kh: 5, kw: 5, p: [2, 2, 2, 2], g: 3 }, { c: 2, h: 7, w: 9, cout: 2, kh: 3, kw: 3, g: 2 },
      // depthwise generic path over the staged-row ring: stride above the kernel height (rows skipped), kh != kw,
      // sh != sw, asymmetric pads, a bottom pad reaching past the input
      { c: 3, h: 11, w: 10, cout: 3, kh: 1, kw: 1, s: [3, 3], g: 3 }, { c: 2, h: 10, w: 9, cout: 2, kh: 2, kw: 3, s: [3, 1], p: [0, 1, 2, 0], g: 2 },
      { c: 3, h: 9, w: 11, cout: 3, kh: 5, kw: 3, s: [2, 1], p: [2, 1, 2, 1], g: 3 },
      // tiling boundaries: im2col blocks (256 px) ending mid-row, several stride-1 bands (64 channels x 64 padded columns
      // -> 14 output rows per band), 1x1 pixel blocks (128 px) with a tail, wide depthwise rows
      { c: 3, h: 40, w: 40, cout: 6, kh: 3, kw: 3, s: [2, 2], p: [1, 1, 1, 1] }, { c: 64, h: 20, w: 62, cout: 5, kh: 3, kw: 3, p: [1, 1, 1, 1] },
      { c: 9, h: 15, w: 19, cout: 11, kh: 1, kw: 1 }, { c: 2, h: 6, w: 41, cout: 2, kh: 3, kw: 3, s: [2, 2], p: [1, 1, 1, 1], g: 2 },
      { c: 2, h: 5, w: 45, cout: 2, kh: 3, kw: 3, p: [1, 1, 1, 1], g: 2 },
      // depthwise 3x3 in bands (32 output rows at stride 1, 16 at stride 2): bands clear of the padding rows read the
      // input directly (edge strips from the ring), a partial last strip; asymmetric pads shifting which columns are interior
      { c: 3, h: 75, w: 21, cout: 3, kh: 3, kw: 3, p: [1, 1, 1, 1], g: 3 }, { c: 2, h: 70, w: 14, cout: 2, kh: 3, kw: 3, p: [2, 0, 0, 2], g: 2 },
      { c: 2, h: 80, w: 37, cout: 2, kh: 3, kw: 3, s: [2, 2], p: [1, 1, 1, 1], g: 2 }, { c: 2, h: 70, w: 30, cout: 2, kh: 3, kw: 3, s: [2, 2], p: [0, 0, 1, 1], g: 2 },
    ];
    const full = (o: C) => ({
      n: o.n ?? 1, c: o.c, h: o.h, w: o.w, cout: o.cout, kh: o.kh, kw: o.kw, sh: o.s?.[0] ?? 1, sw: o.s?.[1] ?? 1, dh: o.d?.[0] ?? 1, dw: o.d?.[1] ?? 1,
      pt: o.p?.[0] ?? 0, pl: o.p?.[1] ?? 0, pb: o.p?.[2] ?? 0, pr: o.p?.[3] ?? 0, groups: o.g ?? 1,
    });
    const api = (o: C, extra: object = {}) => ({ n: o.n, c: o.c, h: o.h, w: o.w, cout: o.cout, kh: o.kh, kw: o.kw, stride: o.s, pad: o.p, dilation: o.d, groups: o.g, ...extra });

    it('all paths (1x1, stride-1 implicit GEMM, im2col, depthwise) with bias + relu6, f32 and f16 weights', async () => {
      const t = await tk(tier);
      const before = t.memoryStats().usedBytes;
      for (const [i, o] of CASES.entries()) {
        const f = full(o);
        const kdim = (f.groups > 1 ? 1 : f.c) * f.kh * f.kw;
        const x = randomF32(f.n * f.c * f.h * f.w, 100 + i, -2, 2), w = randomF32(f.cout * kdim, 200 + i);
        const bias = randomF32(f.cout, 300 + i);
        const act: Act = (['relu6', 'none', 'relu'] as const)[i % 3];
        const ref = refConv2d(x, w, { ...f, bias, act });
        const y = t.conv2d(x, w, api(o, { bias, activation: act }));
        expect(errorRatio(y, ref.y, ref.mag, kdim), `f32 case ${i} ${JSON.stringify(o)}`).toBeLessThanOrEqual(1);
        const w16 = randomHalf(t, w.length, 400 + i);
        const ref16 = refConv2d(x, halfToF32(w16), { ...f, bias, act });
        const y16 = t.conv2d(x, w16, api(o, { bias, activation: act }));
        expect(errorRatio(y16, ref16.y, ref16.mag, kdim), `f16 case ${i} ${JSON.stringify(o)}`).toBeLessThanOrEqual(1);
      }
      expect(t.memoryStats().usedBytes).toBe(before);
    });

    it('the _splat micro-kernels (tk.dense.splatA) give the same bits as load32_splat, every MR, GEMM and conv paths', async () => {
      // same madds in the same order per output (only how A's values reach the registers differs)
      const t = await tk(tier);
      const saved = [t.dense.mr, t.dense.splatA] as const;
      try {
        for (const mr of [4, 5, 6]) {
          t.dense.mr = mr;
          const run = (sa: boolean, f: () => Float32Array) => { t.dense.splatA = sa; return f(); };
          for (const [i, [m, k, n]] of MATMUL_SHAPES.entries()) {
            const a = randomF32(m * k, 500 + i), b = randomF32(k * n, 600 + i), b16 = randomHalf(t, k * n, 700 + i);
            for (const w of [b, b16]) {
              const f = () => t.matmul(a, w, m, k, n, { activation: 'relu6' });
              expect(run(true, f), `mr=${mr} ${m}x${k}x${n}`).toEqual(run(false, f));
            }
          }
          for (const [i, o] of CASES.entries()) {
            if (o.g) continue; // depthwise has no GEMM tile
            const f = full(o);
            const x = randomF32(f.n * f.c * f.h * f.w, 800 + i), w = randomF32(f.cout * f.c * f.kh * f.kw, 900 + i);
            const g = () => t.conv2d(x, w, api(o, { bias: randomF32(f.cout, 1000 + i) }));
            expect(run(true, g), `mr=${mr} conv case ${i}`).toEqual(run(false, g));
          }
        }
      } finally {
        [t.dense.mr, t.dense.splatA] = saved;
      }
    });

    it('the pre-broadcast matmul path (kernelProfile.denseMatmulPreA: A packed [K][6][4], 6x8 _pre) gives the same bits', async () => {
      const t = await tk(tier);
      const saved = [t.dense.mr, t.dense.splatA, t.kernelProfile.denseMatmulPreA] as const;
      try {
        t.dense.mr = 4; t.dense.splatA = false;
        const run = (pre: boolean, f: () => Float32Array) => { t.kernelProfile.denseMatmulPreA = pre; return f(); };
        // m > 4 (smaller m runs the GEMV paths, not f32_gemm_nc): tails of the 6-row tile and the 120-row M block, K past
        // the 256 K block, n past the 8-wide panel; NaN, -0 and +-inf in A (same products, same order: same bits)
        const shapes = [...MATMUL_SHAPES.filter(([m]) => m > 4), [5, 7, 9], [7, 300, 17], [13, 513, 40], [121, 256, 33], [250, 1, 8], [6, 6, 6]];
        for (const [i, [m, k, n]] of shapes.entries()) {
          const a = randomF32(m * k, 500 + i), b = randomF32(k * n, 600 + i), b16 = randomHalf(t, k * n, 700 + i), bias = randomF32(n, 650 + i);
          if (a.length > 8) { a[1] = NaN; a[3] = -0; a[a.length - 2] = Infinity; a[a.length - 1] = -Infinity; }
          for (const w of [b, b16]) {
            const f = () => t.matmul(a, w, m, k, n, { activation: 'relu6', bias });
            expect(run(true, f), `${m}x${k}x${n}`).toEqual(run(false, f));
          }
        }
      } finally {
        [t.dense.mr, t.dense.splatA, t.kernelProfile.denseMatmulPreA] = saved;
      }
    });

    it('packed form on arena tensors equals the copying API', async () => {
      const t = await tk(tier);
      for (const o of [CASES[4], CASES[11], CASES[15]]) {
        const f = full(o);
        const kdim = (f.groups > 1 ? 1 : f.c) * f.kh * f.kw;
        const x = randomF32(f.n * f.c * f.h * f.w, 7), w = randomF32(f.cout * kdim, 8);
        const want = t.conv2d(x, w, api(o));
        const cv = t.dense.packConv2d(w, api(o));
        const [co, ho, wo] = cv.outShape;
        const xt = t.tensorFrom(x), ot = t.tensor('f32', [f.n * co * ho * wo]);
        cv.run(xt, ot, f.n);
        expect(Array.from(ot.read())).toEqual(Array.from(want));
        xt.dispose(); ot.dispose(); cv.dispose();
        expect(() => cv.run(xt, ot)).toThrow(DisposedError);
      }
    });

    it('typed errors', async () => {
      const t = await tk(tier);
      const x = new Float32Array(2 * 5 * 5), w = new Float32Array(3 * 2 * 9);
      const o = { c: 2, h: 5, w: 5, cout: 3, kh: 3, kw: 3, pad: 1 };
      expect(() => t.conv2d(new Float64Array(50) as any, w, o)).toThrow(DTypeError);
      expect(() => t.conv2d(x, new Float32Array(10), o)).toThrow(ShapeError);
      expect(() => t.conv2d(x, w, { ...o, h: 6 })).toThrow(ShapeError);
      expect(() => t.conv2d(x, w, { ...o, groups: 3 })).toThrow(ArgumentError);
      expect(() => t.conv2d(x, new Float32Array(18), { ...o, groups: 2, cout: 3 })).toThrow(ShapeError);
      expect(() => t.conv2d(x, w, { ...o, kh: 9, pad: 0 })).toThrow(ShapeError);
      expect(() => t.conv2d(x, w, { ...o, stride: 0 })).toThrow(ShapeError);
      expect(() => t.conv2d(x, w, { ...o, layout: 'nhwc' as any })).toThrow(ArgumentError);
      expect(() => t.conv2d(x, w, { ...o, activation: 'tanh' as any })).toThrow(ArgumentError);
      expect(() => t.conv2d(x, w, { ...o, bias: new Float32Array(2) })).toThrow(ShapeError);
    });
  });
}

describe.skipIf(!HAS_RELAXED)('dense: simd128 vs relaxed (differential; needs relaxed SIMD)', () => {
  it('GEMM, GEMV and convs agree within the accumulation bound', async () => {
    const s = await tk('simd128'), r = await tk('relaxed');
    for (const [m, k, n] of [[1, 1000, 33], [37, 777, 29]] as const) {
      const a = randomF32(m * k, 1), b = randomF32(k * n, 2);
      const ys = s.matmul(a, b, m, k, n), yr = r.matmul(a, b, m, k, n);
      const mag = refMatmul(a, b, m, k, n).mag;
      // both are within K*2^-24*mag of the exact result, so within 2x that of each other
      expect(errorRatio(ys, Float64Array.from(yr), mag, k)).toBeLessThanOrEqual(1);
    }
    const o = { c: 16, h: 14, w: 14, cout: 24, kh: 3, kw: 3, pad: 1 };
    const x = randomF32(16 * 14 * 14, 3), w = randomF32(24 * 16 * 9, 4);
    const ref = refConv2d(x, w, { n: 1, c: 16, h: 14, w: 14, cout: 24, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1, groups: 1 });
    expect(errorRatio(s.conv2d(x, w, o), Float64Array.from(r.conv2d(x, w, o)), ref.mag, 16 * 9)).toBeLessThanOrEqual(1);
  });
});
