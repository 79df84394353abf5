/**
 * The backbone on tessera: activations live in linear memory (NCHW, one exact-size arena tensor per
 * layer output, so nothing is copied between layers), weights are packed once per layer, and each
 * layer is one kernel call with bias + ReLU6 fused. Which kernel runs a layer is decided by a small adapter
 * (`LayerFactory`), so swapping dense / sparse / auto is one line at construction.
 */
import type { Tensor, Tessera } from '../../bindings/index.js';
import { convRef } from './reference.js';
import type { ConvLayer } from './model.js';

/** A prepared layer: packed weights owned by the layer, run on arena tensors of exactly its input/output size (NCHW). */
export interface PreparedLayer {
  /** what actually runs: 'dense', 'sparse', 'js', ... (auto reports its choice) */
  readonly impl: string;
  run(x: Tensor<'f32'>, y: Tensor<'f32'>): void;
  dispose(): void;
}

/** Builds the implementation of one layer from its (possibly pruned) OIHW weights. */
export type LayerFactory = (tk: Tessera, layer: ConvLayer, weight: Float32Array) => PreparedLayer;

/** Plain-JS layer on arena memory: validates the plumbing (tensors, taps) without wasm kernels. */
export const jsLayer: LayerFactory = (_tk, layer, weight) => ({
  impl: 'js',
  run(x, y) { y.write(convRef(layer, x.view(), weight)); },
  dispose() {},
});

export class TesseraBackbone {
  readonly layers: ConvLayer[];
  readonly prepared: PreparedLayer[];
  private input: Tensor<'f32'>;
  /** one output tensor per layer (exact size; 18 MB at 224x224), so layers can also be timed alone */
  private acts: Tensor<'f32'>[];

  /**
   * factory(layer) picks the implementation per layer; weights optionally replace layer.weight
   * (e.g. pruned 1x1 weights).
   */
  constructor(tk: Tessera, layers: ConvLayer[], factory: (layer: ConvLayer, index: number) => LayerFactory, weights?: (Float32Array | undefined)[]) {
    this.layers = layers;
    const l0 = layers[0];
    this.input = tk.tensor('f32', [l0.cin, l0.hIn, l0.wIn]);
    this.acts = layers.map((l) => tk.tensor('f32', [l.cout, l.hOut, l.wOut]));
    this.prepared = [];
    try {
      layers.forEach((l, i) => this.prepared.push(factory(l, i)(tk, l, weights?.[i] ?? l.weight)));
    } catch (e) { this.dispose(); throw e; }
  }

  /** NCHW input [3,H,W] -> final NCHW activation (copied out); taps[i] receives every layer's output when given. */
  run(inputNchw: Float32Array, taps?: Float32Array[]): Float32Array {
    this.input.write(inputNchw);
    let x = this.input;
    for (let i = 0; i < this.layers.length; i++) {
      this.prepared[i].run(x, this.acts[i]);
      x = this.acts[i];
      if (taps) taps[i] = x.read();
    }
    return x.read();
  }

  /** Per-layer latency on the resident tensors (each layer's input = the previous layer's output from one full run). */
  timeLayers(inputNchw: Float32Array, time: (fn: () => unknown) => number): number[] {
    this.run(inputNchw);
    return this.layers.map((_, i) => { const x = i === 0 ? this.input : this.acts[i - 1], y = this.acts[i]; return time(() => this.prepared[i].run(x, y)); });
  }

  dispose(): void {
    for (const p of this.prepared) p.dispose();
    this.prepared.length = 0;
    this.input.dispose();
    for (const t of this.acts) t.dispose();
  }
}

// ---- adapters onto tessera's ops ------------------------------------------------------------------
// dense family: tk.dense.packConv2d (NCHW/OIHW; conv0, depthwise via groups = C, 1x1; any pads).
// sparse family: tk.sparse prune / pack / layer / auto / denseLayer (the CHW dense variant of the same
// kernels), NCHW, 1x1 and full 3x3 (stride 1|2, symmetric pad 0|1).

type Geometry = { h: number; w: number; stride?: 1 | 2; pad?: 0 | 1 };
interface LayerLike { run(x: Tensor, y: Tensor): void; dispose(): void }

export function hasDense(tk: Tessera): boolean { return typeof tk.dense?.packConv2d === 'function'; }
export function hasSparse(tk: Tessera): boolean { return typeof tk.sparse?.auto === 'function'; }

/**
 * TF 'same' padding with stride 2 on an even size is (0 before, 1 after). Kernels that only take a
 * symmetric pad get an explicitly padded copy of the input ((H+pb) x (W+pr), zero bottom row /
 * right column) and pad 0, which gives exactly TF's output grid. Costs one copy of the input.
 */
function asymmetricPadAdapter(tk: Tessera, l: ConvLayer, inner: LayerLike, impl: string): PreparedLayer {
  const [pt, pl, pb, pr] = l.pad;
  if (pt !== 0 || pl !== 0) throw new Error(`${l.name}: unsupported padding [${l.pad}]`);
  const hp = l.hIn + pb, wp = l.wIn + pr;
  const padded = tk.tensor('f32', [l.cin, hp, wp]);
  padded.view().fill(0);
  return {
    impl,
    run(x, y) {
      const f = tk.memory.f32, src = x.ptr >> 2, dst = padded.ptr >> 2;
      for (let c = 0; c < l.cin; c++) for (let r = 0; r < l.hIn; r++) {
        const s = src + (c * l.hIn + r) * l.wIn;
        f.copyWithin(dst + (c * hp + r) * wp, s, s + l.wIn); // pad row/column stay 0
      }
      inner.run(padded, y);
    },
    dispose() { inner.dispose(); padded.dispose(); },
  };
}

function geometryOf(l: ConvLayer): { geom: Geometry; explicitPad: boolean } {
  const [pt, pl, pb, pr] = l.pad;
  if (l.k === 1) return { geom: { h: l.hIn, w: l.wIn }, explicitPad: false };
  if (pt === pb && pl === pr && pt === pl && (pt === 0 || pt === 1)) return { geom: { h: l.hIn, w: l.wIn, stride: l.stride as 1 | 2, pad: pt as 0 | 1 }, explicitPad: false };
  return { geom: { h: l.hIn + pb, w: l.wIn + pr, stride: l.stride as 1 | 2, pad: 0 }, explicitPad: true };
}

function wrap<L extends LayerLike>(tk: Tessera, l: ConvLayer, make: (geom: Geometry) => L, impl: (layer: L) => string): PreparedLayer {
  if (l.kind === 'dw') throw new Error(`${l.name}: depthwise conv needs the dense family (tk.conv2d groups=C)`);
  const { geom, explicitPad } = geometryOf(l);
  const inner = make(geom);
  if (explicitPad) return asymmetricPadAdapter(tk, l, inner, impl(inner));
  return { impl: impl(inner), run: (x, y) => inner.run(x, y), dispose: () => inner.dispose() };
}

/** Dense NCHW baseline of the sparse family (every block stored, same kernels' dense variants): 1x1 and full 3x3. */
export const chwDenseLayer: LayerFactory = (tk, l, w) =>
  wrap(tk, l, (geom) => tk.sparse.denseLayer(w, l.cout, l.cin, geom, { bias: l.bias, kernelSize: l.k as 1 | 3, activation: 'relu6' }), () => 'dense-chw');

/** Always sparse (4x1 blocks of the stored nonzeros). */
export const sparseLayer: LayerFactory = (tk, l, w) =>
  wrap(tk, l, (geom) => tk.sparse.layer(tk.sparse.pack(w, l.cout, l.cin, { block: [4, 1], bias: l.bias, kernelSize: l.k as 1 | 3 }), geom, { activation: 'relu6' }), () => 'sparse');

/**
 * tk.sparse.auto with policy 'density': sparse when the stored 4x1-block density is at or below the
 * library's break-even (0.8). Deterministic, so benchmark runs on a loaded machine stay comparable.
 */
export const autoDensityLayer: LayerFactory = (tk, l, w) =>
  wrap(tk, l, (geom) => tk.sparse.auto(w, l.cout, l.cin, geom, { bias: l.bias, block: [4, 1], kernelSize: l.k as 1 | 3, activation: 'relu6', policy: 'density' }),
    (a) => a.choice);

/** tk.sparse.auto (default policy 'measure'): packs both, times both once on this geometry, keeps the faster. */
export const autoLayer: LayerFactory = (tk, l, w) =>
  wrap(tk, l, (geom) => tk.sparse.auto(w, l.cout, l.cin, geom, { bias: l.bias, block: [4, 1], kernelSize: l.k as 1 | 3, activation: 'relu6', policy: 'measure' }),
    (a) => a.choice);

/**
 * The dense family's NCHW conv (tk.dense.packConv2d: conv0 by implicit GEMM / im2col, depthwise via
 * groups = C, 1x1 as GEMM), weights packed once, TF 'same' padding passed as [top, left, bottom, right].
 */
export const denseLayer: LayerFactory = (tk, l, w) => {
  const p = tk.dense.packConv2d(w, { c: l.cin, h: l.hIn, w: l.wIn, cout: l.cout, kh: l.k, kw: l.k, stride: l.stride, pad: l.pad, groups: l.groups, bias: l.bias, activation: 'relu6' });
  return { impl: 'dense', run: (x, y) => p.run(x, y), dispose: () => p.dispose() };
};

/** bestDenseLayer's choice per instance and layer geometry (dense kernel speed does not depend on the weights' values). */
const denseChoice = new WeakMap<Tessera, Map<string, 'dense' | 'dense-chw'>>();

/**
 * Our best dense per layer: depthwise -> tk.dense; conv0 and 1x1 -> whichever of tk.dense.packConv2d
 * and the CHW dense kernels of the sparse family (chwDenseLayer) is faster on this geometry. Measured
 * once per instance and geometry (then cached): both warmed up past wasm tier-up (>= 10 calls and
 * >= 20 ms each), then 7 interleaved single calls each on a constant input; the smaller minimum wins
 * (load only ever adds time). The loser is freed.
 */
export const bestDenseLayer: LayerFactory = (tk, l, w) => {
  if (l.kind === 'dw') return denseLayer(tk, l, w);
  const key = `${l.kind}:${l.cin}x${l.hIn}x${l.wIn}->${l.cout}:k${l.k}s${l.stride}:${l.pad}`;
  let cache = denseChoice.get(tk);
  if (!cache) denseChoice.set(tk, (cache = new Map()));
  const known = cache.get(key);
  if (known) return known === 'dense' ? denseLayer(tk, l, w) : chwDenseLayer(tk, l, w);
  const a = denseLayer(tk, l, w), b = chwDenseLayer(tk, l, w);
  const x = tk.tensor('f32', [l.cin * l.hIn * l.wIn]), y = tk.tensor('f32', [l.cout * l.hOut * l.wOut]);
  try {
    x.view().fill(0.5);
    const one = (p: PreparedLayer) => { const t0 = performance.now(); p.run(x, y); return performance.now() - t0; };
    for (const p of [a, b]) { let n = 0, t = 0; while (n < 10 || t < 20) { t += one(p); n++; } }
    let ma = Infinity, mb = Infinity;
    for (let i = 0; i < 7; i++) { ma = Math.min(ma, one(a)); mb = Math.min(mb, one(b)); }
    const [keep, drop] = ma <= mb ? [a, b] : [b, a];
    drop.dispose();
    cache.set(key, keep.impl as 'dense' | 'dense-chw');
    return keep;
  } catch (e) { a.dispose(); b.dispose(); throw e; } finally { x.dispose(); y.dispose(); }
};

/** Magnitude pruning of a 1x1 layer's [cout][cin] weights in 4x1 blocks (4 output channels x 1 input channel), tk.sparse.prune. */
export function prunePointwise(tk: Tessera, layer: ConvLayer, sparsity: number): Float32Array {
  if (layer.kind !== 'pw') throw new Error(`${layer.name}: only 1x1 layers are pruned`);
  return tk.sparse.prune(layer.weight, layer.cout, layer.cin, { sparsity, block: [4, 1] });
}
