// Shared result check for the GEMM-like ops (dense and sparse): every finite reference output y[i]
// is a sum of K products; f32 evaluation in any order, with products rounded or fused, stays within
//   gamma(K+1) * mag[i] + (K+1) * 2^-149,   gamma(m) = m*u / (1 - m*u), u = 2^-24,
// where mag[i] = sum |terms| (the f64 reference computes it) and the last term covers underflow.
// NaN must propagate as NaN and infinities must match exactly.

export interface SumRef {
  y: Float64Array;
  mag: Float64Array;
  /** products per output: one count for all outputs, or one per output */
  terms: number | Float64Array;
}

export const gamma = (m: number): number => (m * 2 ** -24) / (1 - m * 2 ** -24);

export function compareSum(got: unknown, ref: SumRef): string | null {
  if (!(got instanceof Float32Array)) return `result is ${got?.constructor?.name ?? typeof got}, not a Float32Array`;
  if (got.length !== ref.y.length) return `result has ${got.length} elements, want ${ref.y.length}`;
  for (let i = 0; i < got.length; i++) {
    const want = ref.y[i], g = got[i];
    if (Number.isNaN(want)) { if (!Number.isNaN(g)) return `element ${i}: got ${g}, want NaN (NaN must propagate)`; continue; }
    if (!Number.isFinite(want)) { if (g !== want) return `element ${i}: got ${g}, want ${want}`; continue; }
    const k = typeof ref.terms === 'number' ? ref.terms : ref.terms[i];
    const tol = gamma(k + 1) * ref.mag[i] + (k + 1) * 2 ** -149;
    if (!(Math.abs(g - want) <= tol)) return `element ${i}: got ${g}, want ${want} (|err| ${Math.abs(g - want)} > tol ${tol})`;
  }
  return null;
}
