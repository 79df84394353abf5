// Plain-TS f64 reference for IEEE binary16, written from the format definition (independent of
// bindings/f16js.ts, which the library itself uses): round-to-nearest-even in exact f64 arithmetic.

/** Nearest binary16 value of x (ties to even) as a number; NaN stays NaN, |x| >= 65520 becomes +-inf. */
export function refRoundHalf(x: number): number {
  if (Number.isNaN(x) || !Number.isFinite(x) || x === 0) return x;
  const s = x < 0 ? -1 : 1, a = Math.abs(x);
  // quantum (spacing of halves) at a: 2^(e-10) for normal e >= -14, 2^-24 below (subnormals)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; // log2 rounding guard
  else if (2 ** (e + 1) <= a) e++;
  const q = 2 ** (Math.max(e, -14) - 10);
  const t = a / q; // exact: a is an f32 (24 bits) and q a power of two
  const f = Math.floor(t), frac = t - f;
  const r = (frac > 0.5 || (frac === 0.5 && f % 2 === 1) ? f + 1 : f) * q;
  if (r > 65504) return s * Infinity;
  return s * r; // keeps -0 for tiny negatives (s * 0 = -0)
}

/** Bits of a binary16 value that refRoundHalf produced (NaN -> 0x7e00, canonical quiet NaN). */
export function refHalfBits(h: number): number {
  if (Number.isNaN(h)) return 0x7e00;
  const sign = h < 0 || Object.is(h, -0) ? 0x8000 : 0;
  const a = Math.abs(h);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24); // subnormal: mantissa counts 2^-24
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; else if (2 ** (e + 1) <= a) e++;
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

/** Value of binary16 bits (exact). */
export function refHalfValue(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 31, m = bits & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** True when bits encode a NaN (any payload). */
export function isHalfNaN(bits: number): boolean { return (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0; }
