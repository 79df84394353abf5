/**
 * MobileNet-v1 1.0 backbone (conv0 + 13 depthwise-separable pairs) as shipped in face-api's
 * SSD-MobileNet-v1 (`MobilenetV1/Conv2d_*` weights), described as a flat list of conv layers with
 * batch-norm folded in, in tessera's NCHW/OIHW layout.
 *
 * What the shipped weights contain and how they are folded (graph from face-api's mobileNetV1.ts):
 *   conv0  ("Conv2d_0_pointwise", really a 3x3/s2 conv, HWIO [3,3,3,32]) + convolution_bn_offset -> ReLU6
 *          BN is already folded into the weights; the offset is the bias.
 *   dw i   depthwise 3x3 (HWC1 [3,3,C,1]), stride 2 for i in {2,4,6,12}, then an UNFOLDED
 *          tf.batchNorm(mean, variance, offset=beta, scale=gamma, eps=0.0010000000474974513) -> ReLU6.
 *          Folded here: s = gamma / sqrt(variance + eps); w' = w * s; bias = beta - mean * s (f64, then f32).
 *   pw i   1x1 (HWIO [1,1,Cin,Cout]) + convolution_bn_offset -> ReLU6 (BN already folded).
 * Padding is TensorFlow 'same': out = ceil(in / stride), pad total = max((out-1)*stride + k - in, 0),
 * top/left = floor(total/2), bottom/right = the rest. For stride 2 on an even size that is
 * (0 before, 1 after), i.e. asymmetric; stride 1 gives (1, 1).
 * The SSD head and the extra feature layers are not part of the backbone and are not used.
 */
import type { DecodedWeight } from './weights.js';

export type LayerKind = 'conv' | 'dw' | 'pw';

export interface ConvLayer {
  /** 'conv0', 'dw1', 'pw1', ... 'dw13', 'pw13' */
  name: string;
  kind: LayerKind;
  cin: number;
  cout: number;
  /** kernel size (square) */
  k: number;
  stride: number;
  /** 1 for conv/pw, C for depthwise */
  groups: number;
  hIn: number; wIn: number; hOut: number; wOut: number;
  /** TF 'same' padding [top, left, bottom, right] */
  pad: [number, number, number, number];
  /** OIHW: [cout][cin/groups][k][k] (depthwise: [C][1][3][3]) */
  weight: Float32Array;
  /** per output channel, BN folded */
  bias: Float32Array;
  /** ReLU6 clamp after bias */
  clampMin: number;
  clampMax: number;
  /** multiply-accumulates of this layer */
  macs: number;
}

export const BN_EPSILON = 0.0010000000474974513;
/** dw layers with stride 2 (face-api getStridesForLayerIdx) */
export const STRIDE2_DW = new Set([2, 4, 6, 12]);

export function samePad(inSize: number, k: number, stride: number): { out: number; before: number; after: number } {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

function get(w: Map<string, DecodedWeight>, name: string, shape?: number[]): Float32Array {
  const d = w.get(name);
  if (!d) throw new Error(`missing weight ${name}`);
  if (d.dtype !== 'float32') throw new Error(`${name}: expected float32, got ${d.dtype}`);
  if (shape && d.shape.join(',') !== shape.join(',')) throw new Error(`${name}: expected shape [${shape}], got [${d.shape}]`);
  return d.data as Float32Array;
}

/** HWIO [k,k,cin,cout] -> OIHW [cout,cin,k,k] */
export function hwioToOihw(w: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const o = new Float32Array(w.length);
  for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) for (let i = 0; i < cin; i++) for (let c = 0; c < cout; c++) {
    o[((c * cin + i) * k + y) * k + x] = w[((y * k + x) * cin + i) * cout + c];
  }
  return o;
}

/** OIHW -> HWIO (for tfjs conv2d; depthwise [C,1,k,k] -> [k,k,C,1] is the same call with cin=1 and cout=C then reinterpreted). */
export function oihwToHwio(w: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const o = new Float32Array(w.length);
  for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) for (let i = 0; i < cin; i++) for (let c = 0; c < cout; c++) {
    o[((y * k + x) * cin + i) * cout + c] = w[((c * cin + i) * k + y) * k + x];
  }
  return o;
}

/** Build the folded layer list for an input of inH x inW (RGB). */
export function buildBackbone(w: Map<string, DecodedWeight>, inH: number, inW: number): ConvLayer[] {
  const layers: ConvLayer[] = [];
  let h = inH, wd = inW, c = 3;
  const push = (name: string, kind: LayerKind, cout: number, k: number, stride: number, weight: Float32Array, bias: Float32Array) => {
    const py = samePad(h, k, stride), px = samePad(wd, k, stride);
    const groups = kind === 'dw' ? c : 1;
    layers.push({
      name, kind, cin: c, cout, k, stride, groups, hIn: h, wIn: wd, hOut: py.out, wOut: px.out,
      pad: [py.before, px.before, py.after, px.after], weight, bias, clampMin: 0, clampMax: 6,
      macs: py.out * px.out * cout * (c / groups) * k * k,
    });
    h = py.out; wd = px.out; c = cout;
  };
  // conv0: 3x3 s2, BN folded in the shipped weights
  const w0 = get(w, 'MobilenetV1/Conv2d_0_pointwise/weights', [3, 3, 3, 32]);
  push('conv0', 'conv', 32, 3, 2, hwioToOihw(w0, 3, 3, 32), get(w, 'MobilenetV1/Conv2d_0_pointwise/convolution_bn_offset', [32]).slice());
  for (let i = 1; i <= 13; i++) {
    const p = `MobilenetV1/Conv2d_${i}_depthwise/`;
    const dw = get(w, p + 'depthwise_weights', [3, 3, c, 1]);
    const gamma = get(w, p + 'BatchNorm/gamma', [c]), beta = get(w, p + 'BatchNorm/beta', [c]);
    const mean = get(w, p + 'BatchNorm/moving_mean', [c]), variance = get(w, p + 'BatchNorm/moving_variance', [c]);
    const wf = new Float32Array(c * 9), bf = new Float32Array(c);
    for (let ch = 0; ch < c; ch++) {
      const s = gamma[ch] / Math.sqrt(variance[ch] + BN_EPSILON);
      for (let t = 0; t < 9; t++) wf[ch * 9 + t] = dw[t * c + ch] * s; // HWC1 -> [C][1][3][3]
      bf[ch] = beta[ch] - mean[ch] * s;
    }
    push(`dw${i}`, 'dw', c, 3, STRIDE2_DW.has(i) ? 2 : 1, wf, bf);
    const q = `MobilenetV1/Conv2d_${i}_pointwise/`;
    const pwShape = w.get(q + 'weights')?.shape;
    if (!pwShape) throw new Error(`missing weight ${q}weights`);
    const cout = pwShape[3];
    const pw = get(w, q + 'weights', [1, 1, c, cout]);
    push(`pw${i}`, 'pw', cout, 1, 1, hwioToOihw(pw, 1, c, cout), get(w, q + 'convolution_bn_offset', [cout]).slice());
  }
  return layers;
}

/** Raw (unfolded) depthwise BN parameters, for checking the folding against face-api's own formulation. */
export function rawDepthwiseBn(w: Map<string, DecodedWeight>, i: number) {
  const p = `MobilenetV1/Conv2d_${i}_depthwise/`;
  return {
    filterHwc1: get(w, p + 'depthwise_weights'), gamma: get(w, p + 'BatchNorm/gamma'), beta: get(w, p + 'BatchNorm/beta'),
    mean: get(w, p + 'BatchNorm/moving_mean'), variance: get(w, p + 'BatchNorm/moving_variance'),
  };
}

export function totalMacs(layers: ConvLayer[]): number { return layers.reduce((a, l) => a + l.macs, 0); }

/** Deterministic PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Deterministic synthetic RGB image (uint8, HWC): smooth colour gradients, a few discs and mild
 * noise, so activations have both structure and texture. Preprocessed the way face-api's SSD does:
 * x / 127.5 - 1 (range [-1, 1]).
 */
export function syntheticImage(h: number, w: number, seed = 1): { rgb: Uint8Array; nchw: Float32Array; nhwc: Float32Array } {
  const r = mulberry32(seed);
  const discs = Array.from({ length: 6 }, () => ({ y: r() * h, x: r() * w, rad: (0.08 + 0.2 * r()) * Math.min(h, w), col: [r() * 255, r() * 255, r() * 255] }));
  const rgb = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let px = [255 * x / w, 255 * y / h, 128 + 100 * Math.sin((x + 2 * y) / 9)];
    for (const d of discs) if ((y - d.y) ** 2 + (x - d.x) ** 2 < d.rad ** 2) px = d.col;
    for (let ch = 0; ch < 3; ch++) rgb[(y * w + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(px[ch] + 24 * (r() - 0.5))));
  }
  const nchw = new Float32Array(3 * h * w), nhwc = new Float32Array(3 * h * w);
  for (let i = 0; i < h * w; i++) for (let ch = 0; ch < 3; ch++) {
    const v = rgb[i * 3 + ch] / 127.5 - 1;
    nhwc[i * 3 + ch] = v;
    nchw[ch * h * w + i] = v;
  }
  return { rgb, nchw, nhwc };
}

export function nchwToNhwc(x: Float32Array, c: number, h: number, w: number): Float32Array {
  const o = new Float32Array(x.length);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) o[i * c + ch] = x[ch * h * w + i];
  return o;
}

export function nhwcToNchw(x: Float32Array | ArrayLike<number>, c: number, h: number, w: number): Float32Array {
  const o = new Float32Array(c * h * w);
  for (let i = 0; i < h * w; i++) for (let ch = 0; ch < c; ch++) o[ch * h * w + i] = x[i * c + ch];
  return o;
}

/**
 * Error metric used throughout: max |a - ref| / max |ref| over the tensor (max error relative to
 * the layer's dynamic range). Element-wise relative error is meaningless here because ReLU6 makes
 * many outputs exactly 0 or tiny.
 */
export function maxRelErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) throw new Error(`length mismatch ${a.length} vs ${ref.length}`);
  let e = 0, m = 0;
  for (let i = 0; i < a.length; i++) { e = Math.max(e, Math.abs(a[i] - ref[i])); m = Math.max(m, Math.abs(ref[i])); }
  return m === 0 ? e : e / m;
}

/** Root-mean-square difference relative to the reference RMS (output drift after pruning). */
export function relRmse(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0, m = 0;
  for (let i = 0; i < a.length; i++) { e += (a[i] - ref[i]) ** 2; m += ref[i] ** 2; }
  return Math.sqrt(e / Math.max(m, 1e-30));
}

/** Fraction of the backbone's MACs in the 1x1 (pointwise) layers: the part pruning can speed up. */
export function pointwiseMacFraction(layers: ConvLayer[]): number {
  return layers.filter((l) => l.kind === 'pw').reduce((a, l) => a + l.macs, 0) / totalMacs(layers);
}

/** Amdahl ceiling of the whole backbone when only the 1x1 layers are pruned to `sparsity` (ideal 1/(1-s) speed-up on them). */
export function amdahlCeiling(layers: ConvLayer[], sparsity: number): number {
  const f = pointwiseMacFraction(layers);
  return 1 / ((1 - f) + f * (1 - sparsity));
}

/** sparse.md §4 (MobileNet-v1 1.0 at 224 incl. FC, 95.04 % of MACs sparsifiable) and SparseByteNN's published point. */
export const SPARSE_MD_CEILINGS: Record<number, number> = { 0.3: 1.40, 0.5: 1.91, 0.7: 2.98, 0.9: 6.9 };
export const SPARSEBYTENN_30 = { sparsity: 0.3, speedup: 1.27, note: 'SparseByteNN, MobileNet-v1 @30%, Snapdragon 855, vs its dense' };

/** Fraction of 4x1 blocks (4 consecutive output channels x 1 input channel) holding any nonzero, in a [cout][cin] 1x1 weight; a Cout%4 tail counts as 1x1 blocks. */
export function blockDensity4x1(w: Float32Array, cout: number, cin: number): number {
  let stored = 0, total = 0;
  const g4 = Math.floor(cout / 4) * 4;
  for (let r = 0; r < cout; r += r < g4 ? 4 : 1) {
    const g = r < g4 ? 4 : 1;
    for (let c = 0; c < cin; c++) {
      let nz = false;
      for (let j = 0; j < g && !nz; j++) nz = w[(r + j) * cin + c] !== 0;
      total++; if (nz) stored++;
    }
  }
  return stored / total;
}

/** MAC-weighted stored-block density of the 1x1 layers (weights[i] replaces layers[i].weight when given). */
export function pointwiseBlockDensity(layers: ConvLayer[], weights?: (Float32Array | undefined)[]): number {
  let m = 0, d = 0;
  layers.forEach((l, i) => { if (l.kind === 'pw') { m += l.macs; d += l.macs * blockDensity4x1(weights?.[i] ?? l.weight, l.cout, l.cin); } });
  return d / m;
}

/** Amdahl ceiling from the actual stored-block density of the 1x1 layers (ideal: 1x1 time proportional to stored blocks). */
export function amdahlCeilingFromDensity(layers: ConvLayer[], density: number): number {
  const f = pointwiseMacFraction(layers);
  return 1 / ((1 - f) + f * density);
}
