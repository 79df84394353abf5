// Emulated half precision: bit-exact against an independent implementation (@petamoriken/float16)
// over all 65,536 halves, every rounding tie and its f32 neighbours, and millions of random floats.
import { getFloat16, setFloat16 } from '@petamoriken/float16';
import { describe, expect, it } from 'vitest';
import { DTypeError } from '../../bindings/index.js';
import { rng, tk } from '../helpers/tiers.js';
import { TIERS } from '../helpers/engine.js';

const dv = new DataView(new ArrayBuffer(4));
/** Reference f32 -> f16 bits. NaN is compared by NaN-ness (the library canonicalises payloads). */
function refBits(x: number): number {
  setFloat16(dv, 0, x);
  return dv.getUint16(0);
}
function isNanHalf(h: number): boolean { return (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0; }

function countMismatches(x: Float32Array, h: Uint16Array): { bad: number; first?: string } {
  let bad = 0; let first: string | undefined;
  for (let i = 0; i < x.length; i++) {
    const want = refBits(x[i]);
    const ok = isNanHalf(want) ? isNanHalf(h[i]) : h[i] === want;
    if (!ok) { bad++; first ??= `x=${x[i]} got 0x${h[i].toString(16)} want 0x${want.toString(16)}`; }
  }
  return { bad, first };
}

/** Every half, every midpoint between neighbouring halves, and each midpoint's f32 neighbours. */
function tieCases(): Float32Array {
  const f = new Float32Array(1); const u = new Uint32Array(f.buffer);
  const out: number[] = [];
  for (let h = 0; h < 0x7c00; h++) {
    for (const s of [0, 0x8000]) {
      const a = getFloat16(new DataView(new Uint16Array([h | s]).buffer), 0, true);
      const b = getFloat16(new DataView(new Uint16Array([(h + 1) | s]).buffer), 0, true);
      f[0] = (a + b) / 2; // exact midpoint (fits in f32)
      const mid = u[0];
      for (const d of [-1, 0, 1]) { u[0] = mid + d; out.push(f[0]); }
    }
  }
  return new Float32Array(out);
}

for (const tier of TIERS) {
  describe(`f16 conversions [${tier}]`, () => {
    it('f16 -> f32 is exact for all 65,536 halves', async () => {
      const t = await tk(tier);
      const all = new Uint16Array(65536).map((_, i) => i);
      const f = t.f16.toF32(all);
      const d = new DataView(all.buffer);
      let bad = 0;
      for (let i = 0; i < 65536; i++) {
        const want = getFloat16(d, i * 2, true);
        if (!Object.is(f[i], want) && !(Number.isNaN(want) && Number.isNaN(f[i]))) bad++;
      }
      expect(bad).toBe(0);
    });

    it('f32 -> f16 round-trips all 65,536 halves (NaN payloads kept, quieted)', async () => {
      const t = await tk(tier);
      const all = new Uint16Array(65536).map((_, i) => i);
      const back = t.f16.fromF32(t.f16.toF32(all));
      let bad = 0;
      for (let i = 0; i < 65536; i++) {
        const want = isNanHalf(i) ? i | 0x200 : i; // signalling NaN -> quiet NaN, payload kept
        if (back[i] !== want) bad++;
      }
      expect(bad).toBe(0);
    });

    it('f32 -> f16 rounds every tie to even and its f32 neighbours to nearest', async () => {
      const t = await tk(tier);
      const x = tieCases();
      expect(x.length).toBeGreaterThan(180_000);
      const r = countMismatches(x, t.f16.fromF32(x));
      expect(r.first).toBeUndefined();
      expect(r.bad).toBe(0);
    });

    it('f32 -> f16 matches on 2M random bit patterns and 2M log-uniform magnitudes', async () => {
      const t = await tk(tier);
      const n = 1 << 21;
      const r = rng(tier === 'simd128' ? 1 : 2);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = (r() * 2 ** 32) >>> 0;
      const x1 = new Float32Array(bits.buffer);
      const x2 = new Float32Array(n);
      for (let i = 0; i < n; i++) x2[i] = (r() < 0.5 ? -1 : 1) * 2 ** (-26 + 43 * r()); // [2^-26, 2^17]
      for (const x of [x1, x2]) {
        const m = countMismatches(x, t.f16.fromF32(x));
        expect(m.first).toBeUndefined();
      }
    });

    it('strict rounding equals the f16 round trip, and Tensor convert matches the copying API', async () => {
      const t = await tk(tier);
      const x = new Float32Array(10_001).map((_, i) => (i - 5000) * 13.37 + 1 / (i + 1));
      const viaBits = t.f16.toF32(t.f16.fromF32(x));
      expect(t.f16.round(x)).toEqual(viaBits);
      const src = t.tensorFrom(x);
      const dst = t.tensor('f16', [x.length]);
      t.f16.convert(src, dst);
      expect(dst.read()).toEqual(t.f16.fromF32(x));
      src.dispose(); dst.dispose();
    });

    it('odd lengths (tails), empty input, subarray views and huge inputs streamed in bounded tiles', async () => {
      const t = await tk(tier);
      for (const n of [0, 1, 7, 8, 9, 15, 17]) {
        const x = new Float32Array(n).map((_, i) => i + 0.5);
        expect(t.f16.toF32(t.f16.fromF32(x))).toEqual(x);
      }
      const big = new Float32Array(3 * 65536 + 5).map((_, i) => (i % 2048) - 1024);
      const view = big.subarray(3, big.length - 1);
      const before = t.memoryStats().usedBytes;
      t.arena.resetPeak();
      expect(t.f16.toF32(t.f16.fromF32(view))).toEqual(view);
      expect(t.memoryStats().peakBytes - before).toBeLessThan(512 * 1024); // tiles, not problem size
      expect(t.memoryStats().usedBytes).toBe(before);
    });

    it('accepts Float16Array where the runtime has one, and rejects wrong dtypes', async () => {
      const t = await tk(tier);
      const F16 = (globalThis as any).Float16Array;
      if (F16) {
        const a = new F16([1.5, -2, 65504]);
        expect(Array.from(t.f16.toF32(a))).toEqual([1.5, -2, 65504]);
      }
      expect(() => t.f16.fromF32(new Float64Array(3) as any)).toThrow(DTypeError);
      expect(() => t.f16.toF32(new Float32Array(3) as any)).toThrow(DTypeError);
    });
  });
}
