/**
 * Plain-TypeScript reference of the folded backbone (NCHW, f64 accumulation, f32 storage between
 * layers). Slow (~1 GMAC/s); used on small inputs to check the tfjs and tessera runs layer by layer.
 */
import type { ConvLayer } from './model.js';

/** One conv layer: NCHW in [cin, hIn, wIn] -> out [cout, hOut, wOut], bias + clamp fused. */
export function convRef(l: ConvLayer, x: Float32Array, weight = l.weight, bias = l.bias): Float32Array {
  const { cin, cout, k, stride, groups, hIn, wIn, hOut, wOut } = l;
  const [pt, pl] = l.pad;
  const cpg = cin / groups, opg = cout / groups;
  const y = new Float32Array(cout * hOut * wOut);
  for (let oc = 0; oc < cout; oc++) {
    const g = Math.floor(oc / opg);
    for (let oy = 0; oy < hOut; oy++) for (let ox = 0; ox < wOut; ox++) {
      let acc = bias[oc];
      for (let i = 0; i < cpg; i++) {
        const ic = g * cpg + i;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride + ky - pt;
          if (iy < 0 || iy >= hIn) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * stride + kx - pl;
            if (ix < 0 || ix >= wIn) continue;
            acc += weight[((oc * cpg + i) * k + ky) * k + kx] * x[(ic * hIn + iy) * wIn + ix];
          }
        }
      }
      y[(oc * hOut + oy) * wOut + ox] = Math.min(l.clampMax, Math.max(l.clampMin, acc));
    }
  }
  return y;
}

/** Whole backbone; returns every layer's output (NCHW). */
export function backboneRef(layers: ConvLayer[], input: Float32Array, weights?: Float32Array[]): Float32Array[] {
  const outs: Float32Array[] = [];
  let x = input;
  layers.forEach((l, i) => { x = convRef(l, x, weights?.[i] ?? l.weight); outs.push(x); });
  return outs;
}
