// f16 test data shared by the dense tests: an independent decoder (@petamoriken/float16, not the
// library's own) and random half weights with the values the fast widening must get right.
import { getFloat16 } from '@petamoriken/float16';
import type { Tessera } from '../../bindings/index.js';
import { randomF32, rng } from './tiers.js';

const dv = new DataView(new ArrayBuffer(2));

/** Decode half bits to f32 values with an independent library. */
export function halfToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) { dv.setUint16(0, bits[i]); out[i] = getFloat16(dv, 0); }
  return out;
}

/** Random half bits in [-1, 1) with exact zeros, -0 and subnormals mixed in. */
export function randomHalf(t: Tessera, n: number, seed: number): Uint16Array {
  const h = t.f16.fromF32(randomF32(n, seed));
  const r = rng(seed + 99);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.05) h[i] = 0;
    else if (u < 0.1) h[i] = (Math.floor(r() * 1023) + 1) | (r() < 0.5 ? 0x8000 : 0); // subnormal
    else if (u < 0.12) h[i] = 0x8000; // -0
  }
  return h;
}
