// Seeded random helpers for the fuzzer (the tests' mulberry32; every case has its own seed so it reproduces alone).
import { rng } from '../helpers/tiers.js';
import type { SizeClass } from './types.js';

export class Rng {
  /** uniform in [0, 1) */
  readonly next: () => number;
  constructor(seed: number) { this.next = rng(seed); }
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  pick<T>(a: readonly T[]): T { return a[Math.floor(this.next() * a.length)]; }
  bool(p = 0.5): boolean { return this.next() < p; }
  u32(): number { return Math.floor(this.next() * 4294967296) >>> 0; }
}

/** Seed of case i of op `name` under run seed `seed` (FNV-1a mix). */
export function caseSeed(seed: number, name: string, i: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (const c of `${name}#${i}`) { h ^= c.charCodeAt(0); h = Math.imul(h, 0x01000193); }
  h ^= h >>> 15; h = Math.imul(h, 0x2c1b3c6d); h ^= h >>> 12;
  return h >>> 0;
}

const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 97, 101, 127, 131, 251, 257];

/** A dimension of the given class; `large` is the op's large size, `maxPrime` caps primes. */
export function dimOf(r: Rng, cls: SizeClass, large: number, maxPrime = large): number {
  switch (cls) {
    case 'zero': return 0;
    case 'one': return 1;
    case 'small': return r.int(2, 16);
    case 'prime': { const p = PRIMES.filter((x) => x <= maxPrime); return r.pick(p); }
    case 'large': return r.int(Math.ceil(large / 2), large);
  }
}

/** Value distributions. 'special' mixes NaN, +-Inf, +-0 and subnormals into uniform values. */
export type ValueMode = 'uniform' | 'wide' | 'special';

export function fillF32(r: Rng, a: Float32Array, mode: ValueMode): Float32Array {
  for (let i = 0; i < a.length; i++) {
    if (mode === 'uniform') a[i] = r.next() * 2 - 1;
    else if (mode === 'wide') a[i] = (r.bool() ? -1 : 1) * 2 ** (r.next() * 40 - 20);
    else {
      const k = r.next();
      a[i] = k < 0.02 ? NaN : k < 0.03 ? Infinity : k < 0.04 ? -Infinity : k < 0.06 ? (r.bool() ? 0 : -0) : k < 0.07 ? 1e-40 * (r.bool() ? 1 : -1) : r.next() * 2 - 1;
    }
  }
  return a;
}

/**
 * Place an array in memory the way callers do: usually its own buffer, sometimes a view with an
 * offset inside a larger buffer whose other bytes are sentinels (must survive the op), sometimes a
 * SharedArrayBuffer. Returns the view to pass.
 */
export function place<T extends Float32Array | Uint16Array | Uint8Array>(r: Rng, a: T): T {
  const k = r.next();
  const C = a.constructor as { new(b: ArrayBufferLike, off: number, n: number): T; BYTES_PER_ELEMENT: number };
  if (k < 0.25) {
    const pre = r.int(1, 9), post = r.int(1, 9);
    const buf = new ArrayBuffer((pre + a.length + post) * C.BYTES_PER_ELEMENT);
    new Uint8Array(buf).fill(0x3c);
    const v = new C(buf, pre * C.BYTES_PER_ELEMENT, a.length);
    (v as any).set(a);
    return v;
  }
  if (k < 0.35 && typeof SharedArrayBuffer !== 'undefined') {
    const v = new C(new SharedArrayBuffer(Math.max(a.byteLength, 1)), 0, a.length);
    (v as any).set(a);
    return v;
  }
  return a;
}

export function placementOf(a: ArrayBufferView): string {
  const shared = typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
  return shared ? 'shared' : a.byteOffset > 0 ? `view@${a.byteOffset}` : 'own';
}
