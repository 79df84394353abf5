// Plain-TS float64 reference for tessera's attention (golden = softmax(Q K^T * scale) V in f64 on the
// same, already rounded, inputs), plus the input generators of pasa.md §3.3 / §6.
import { f16round } from '@petamoriken/float16';
import { rng } from './tiers.js';

export interface RefShape {
  heads: number; kvHeads?: number; seqQ: number; seqK: number; headDim: number;
  causal?: boolean; scale?: number; kvCapacity?: number;
}

/** f64 golden: out [heads, seqQ, d]. Bottom-right causal: key t masked for row r iff t > r + (seqK - seqQ); fully masked rows -> 0. */
export function refAttention(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, s: RefShape): Float64Array {
  const H = s.heads, KH = s.kvHeads ?? H, S1 = s.seqQ, S2 = s.seqK, D = s.headDim, cap = s.kvCapacity ?? S2;
  const scale = s.scale ?? 1 / Math.sqrt(D);
  const out = new Float64Array(H * S1 * D);
  const sc = new Float64Array(S2);
  const group = H / KH;
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / group);
    const kb = kh * cap * D;
    for (let r = 0; r < S1; r++) {
      const qb = (h * S1 + r) * D;
      const lim = s.causal ? Math.min(S2, r + (S2 - S1) + 1) : S2;
      if (lim <= 0) continue; // fully masked row: 0
      let mx = -Infinity;
      for (let t = 0; t < lim; t++) {
        let acc = 0;
        for (let x = 0; x < D; x++) acc += q[qb + x] * k[kb + t * D + x];
        sc[t] = acc * scale;
        if (sc[t] > mx) mx = sc[t];
      }
      let sum = 0;
      for (let t = 0; t < lim; t++) { sc[t] = Math.exp(sc[t] - mx); sum += sc[t]; }
      const ob = (h * S1 + r) * D;
      for (let t = 0; t < lim; t++) {
        const w = sc[t] / sum;
        for (let x = 0; x < D; x++) out[ob + x] += w * v[kb + t * D + x];
      }
    }
  }
  return out;
}

export function rmse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) { const e = a[i] - b[i]; s += e * e; }
  return Math.sqrt(s / a.length);
}

export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / a.length);
}

export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
export function countNonFinite(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) n++;
  return n;
}

/** Round every element to the nearest fp16 value (the "fp16-rounded inputs" of pasa.md §6). */
export function roundF16Array(a: Float32Array): Float32Array {
  const o = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = f16round(a[i]);
  return o;
}

/** pasa.md distype 0: U[mean - am, mean + am), rounded to fp16. */
export function genUniform(n: number, seed: number, mean: number, am: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f16round((r() - 0.5) * 2 * am + mean);
  return a;
}

/** pasa.md distype 1 ("normal + Bernoulli hybrid, as in FA3"): N(mean, 1) + N(0, am) * Bernoulli(p), rounded to fp16. */
export function genHybrid(n: number, seed: number, mean: number, am: number, p = 0.001): Float32Array {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let x = mean + gauss();
    const g = gauss();
    if (r() < p) x += am * g;
    a[i] = f16round(x);
  }
  return a;
}
