// Plain-TypeScript f64 references for the dense family, plus the error-bound helpers the tests use.
// Each reference also returns `mag` = sum of |products| per output, the scale of the rounding error
// an f32 dot product of length K can accumulate (|err| <= K * 2^-24 * mag for a naive recursive sum,
// about the same for blocked sums; the tests state their bound relative to this).

export type Act = 'none' | 'relu' | 'relu6';

export function applyAct(v: number, act: Act | undefined): number {
  if (act === 'relu') return Math.max(v, 0);
  if (act === 'relu6') return Math.min(Math.max(v, 0), 6);
  return v;
}

/** C = act(A.B + bias) in f64. Returns values and per-output magnitude sum(|a||b|) (+|bias|). */
export function refMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number,
  bias?: ArrayLike<number>, act?: Act): { y: Float64Array; mag: Float64Array } {
  const y = new Float64Array(m * n), mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j] : 0, g = bias ? Math.abs(bias[j]) : 0;
      for (let p = 0; p < k; p++) { const t = a[i * k + p] * b[p * n + j]; s += t; g += Math.abs(t); }
      y[i * n + j] = applyAct(s, act);
      mag[i * n + j] = g;
    }
  }
  return { y, mag };
}

export interface RefConvOpts {
  n: number; c: number; h: number; w: number; cout: number; kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number; pt: number; pl: number; pb: number; pr: number; groups: number;
  bias?: ArrayLike<number>; act?: Act;
}

/** NCHW / OIHW conv in f64 (groups 1 or depthwise groups = c = cout). */
export function refConv2d(x: ArrayLike<number>, wt: ArrayLike<number>, o: RefConvOpts): { y: Float64Array; mag: Float64Array; ho: number; wo: number } {
  const ho = Math.floor((o.h + o.pt + o.pb - ((o.kh - 1) * o.dh + 1)) / o.sh) + 1;
  const wo = Math.floor((o.w + o.pl + o.pr - ((o.kw - 1) * o.dw + 1)) / o.sw) + 1;
  const dwise = o.groups > 1;
  const cpg = dwise ? 1 : o.c;
  const y = new Float64Array(o.n * o.cout * ho * wo), mag = new Float64Array(y.length);
  for (let b = 0; b < o.n; b++) for (let co = 0; co < o.cout; co++) for (let oy = 0; oy < ho; oy++) for (let ox = 0; ox < wo; ox++) {
    let s = o.bias ? o.bias[co] : 0, g = o.bias ? Math.abs(o.bias[co]) : 0;
    for (let ci = 0; ci < cpg; ci++) {
      const cin = dwise ? co : ci;
      for (let ky = 0; ky < o.kh; ky++) for (let kx = 0; kx < o.kw; kx++) {
        const iy = oy * o.sh - o.pt + ky * o.dh, ix = ox * o.sw - o.pl + kx * o.dw;
        if (iy < 0 || iy >= o.h || ix < 0 || ix >= o.w) continue;
        const t = x[((b * o.c + cin) * o.h + iy) * o.w + ix] * wt[((co * cpg + ci) * o.kh + ky) * o.kw + kx];
        s += t; g += Math.abs(t);
      }
    }
    const idx = ((b * o.cout + co) * ho + oy) * wo + ox;
    y[idx] = applyAct(s, o.act);
    mag[idx] = g;
  }
  return { y, mag, ho, wo };
}

/**
 * Worst ratio |got - want| / (K * 2^-23 * mag + tiny) over all outputs: <= 1 means every output is
 * within K ulps-of-magnitude (2x the naive-sum worst case K * 2^-24, to allow the blocked sum order
 * and the fused/unfused difference). NaN/length mismatches return Infinity.
 */
export function errorRatio(got: ArrayLike<number>, want: Float64Array, mag: Float64Array, k: number): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  const u = k * 2 ** -23;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= Infinity)) return Infinity;
    worst = Math.max(worst, d / (u * mag[i] + 1e-30));
  }
  return worst;
}
