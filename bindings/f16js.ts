/** Small pure-JS half helpers (used by the start-up self-test and for input normalisation). */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round a number to the nearest binary16 value (ties to even), returned as a JS number. */
export function f16roundJs(x: number): number {
  const m = (Math as any).f16round;
  if (typeof m === 'function') return m(x);
  f32[0] = x; // NB: a double is first rounded to f32; exact for the f32 inputs we use it on
  const a = u32[0] & 0x7fffffff;
  const s = u32[0] >>> 31 ? -1 : 1;
  if (a > 0x7f800000) return NaN;
  if (a >= 0x477ff000) return s * Infinity; // >= 65520
  const v = f32[0] * s;
  // spacing of halves around v: 2^-24 in the subnormal range, else 2^(exponent - 10)
  const q = v < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(v)) - 10);
  let r = v / q;
  const fl = Math.floor(r);
  r = r - fl > 0.5 || (r - fl === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
  return s * r * q;
}

/** View the bits of a Uint16Array or Float16Array as a Uint16Array (no copy). */
export function halfBits(h: ArrayBufferView & { length: number }): Uint16Array {
  return h instanceof Uint16Array ? h : new Uint16Array(h.buffer, h.byteOffset, h.length);
}

export function isFloat16Array(x: unknown): boolean {
  const F = (globalThis as any).Float16Array;
  return typeof F === 'function' && x instanceof F;
}
