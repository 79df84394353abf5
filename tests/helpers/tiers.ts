import { init, type KernelProfile, type Tessera, type Tier } from '../../bindings/index.js';
import { mulberry32 } from '../../examples/mobilenet/model.js';

const cache = new Map<string, Promise<Tessera>>();

/** One shared instance per tier per test file (init is serialised: concurrent init is an error by design). */
export function tk(tier: Tier, debug = true): Promise<Tessera> {
  const key = `${tier}:${debug}`;
  let p = cache.get(key);
  if (!p) {
    const prev = [...cache.values()].pop() ?? Promise.resolve();
    p = prev.catch(() => undefined).then(() => init({ simd: tier, debug }));
    cache.set(key, p);
  }
  return p;
}

/** Run f (synchronous: the profile is restored when it returns) with parts of t's kernel profile overridden, then restore them. */
export function withProfile<T>(t: Tessera, p: Partial<KernelProfile>, f: () => T): T {
  const saved = { ...t.kernelProfile };
  Object.assign(t.kernelProfile, p);
  try { return f(); } finally { Object.assign(t.kernelProfile, saved); }
}

/** Deterministic PRNG (mulberry32, the example model's) so failures reproduce. */
export const rng = mulberry32;

/** Uniform f32 array in [lo, hi). */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** Bit-identical (NaN payloads aside, Object.is: -0 differs from +0, NaN equals NaN), same length. */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
