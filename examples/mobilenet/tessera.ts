/**
 * The backbone on tessera: activations live in linear memory (NCHW, two ping-pong arena tensors
 * sized for the largest layer), weights are packed once per layer, and each layer is one kernel
 * call with bias + ReLU6 fused. Which kernel runs a layer is decided by a small adapter
 * (`LayerFactory`), so swapping dense / sparse / auto is one line at construction.
 */
import type { Tensor, Tessera } from '../../bindings/index.js';
import { convRef } from './reference.js';
import type { ConvLayer } from './model.js';

/** A prepared layer: packed weights owned by the layer, run on arena pointers (NCHW). */
export interface PreparedLayer {
  /** what actually runs: 'dense', 'sparse', 'js', ... (auto reports its choice) */
  readonly impl: string;
  run(inPtr: number, outPtr: number): void;
  dispose(): void;
}

/** Builds the implementation of one layer from its (possibly pruned) OIHW weights. */
export type LayerFactory = (tk: Tessera, layer: ConvLayer, weight: Float32Array) => PreparedLayer;

/** Plain-JS layer on arena memory: validates the plumbing (ping-pong, taps) without wasm kernels. */
export const jsLayer: LayerFactory = (tk, layer, weight) => ({
  impl: 'js',
  run(inPtr, outPtr) {
    const n = layer.cin * layer.hIn * layer.wIn;
    const x = tk.memory.f32.slice(inPtr >> 2, (inPtr >> 2) + n);
    tk.memory.f32.set(convRef(layer, x, weight), outPtr >> 2);
  },
  dispose() {},
});

export class TesseraBackbone {
  readonly layers: ConvLayer[];
  readonly prepared: PreparedLayer[];
  private tk: Tessera;
  private input: Tensor<'f32'>;
  private bufs: [Tensor<'f32'>, Tensor<'f32'>];

  /**
   * factory(layer) picks the implementation per layer; weights optionally replace layer.weight
   * (e.g. pruned 1x1 weights).
   */
  constructor(tk: Tessera, layers: ConvLayer[], factory: (layer: ConvLayer, index: number) => LayerFactory, weights?: (Float32Array | undefined)[]) {
    this.tk = tk;
    this.layers = layers;
    const l0 = layers[0];
    const maxAct = Math.max(...layers.map((l) => l.cout * l.hOut * l.wOut));
    this.input = tk.tensor('f32', [l0.cin, l0.hIn, l0.wIn]);
    this.bufs = [tk.tensor('f32', [maxAct]), tk.tensor('f32', [maxAct])];
    this.prepared = layers.map((l, i) => factory(l, i)(tk, l, weights?.[i] ?? l.weight));
  }

  /** NCHW input [3,H,W] -> final NCHW activation (copied out); taps[i] receives every layer's output when given. */
  run(inputNchw: Float32Array, taps?: Float32Array[]): Float32Array {
    this.input.write(inputNchw);
    return this.tk.run(() => {
      let src = this.input.ptr;
      let k = 0;
      for (let i = 0; i < this.layers.length; i++) {
        const dst = this.bufs[k].ptr;
        this.prepared[i].run(src, dst);
        if (taps) taps[i] = this.read(dst, this.layers[i]);
        src = dst; k ^= 1;
      }
      return this.read(src, this.layers[this.layers.length - 1]);
    });
  }

  private read(ptr: number, l: ConvLayer): Float32Array {
    const n = l.cout * l.hOut * l.wOut;
    return this.tk.memory.f32.slice(ptr >> 2, (ptr >> 2) + n);
  }

  dispose(): void {
    for (const p of this.prepared) p.dispose();
    this.input.dispose(); this.bufs[0].dispose(); this.bufs[1].dispose();
  }
}

// ---- adapters onto tessera's ops (dense: tk.conv2d pre-packed; sparse: tk.sparse) -----------------
// Filled in when the dense and sparse families are merged; until then they report what is missing.

/** The subset of the tessera API this example uses (structural, so it compiles before the ops exist). */
interface DenseApi { conv2d?: unknown }
interface SparseApi { sparse?: { prune?: unknown; auto?: unknown } }

export function hasDense(tk: Tessera): boolean { return typeof (tk as unknown as DenseApi).conv2d === 'function'; }
export function hasSparse(tk: Tessera): boolean { return typeof (tk as unknown as SparseApi).sparse?.prune === 'function'; }

export const denseLayer: LayerFactory = (tk) => {
  if (!hasDense(tk)) throw new Error('tessera dense conv2d is not available in this build (dense family not merged yet)');
  throw new Error('denseLayer: adapter not wired yet');
};

export const sparseLayer: LayerFactory = (tk) => {
  if (!hasSparse(tk)) throw new Error('tessera sparse ops are not available in this build (sparse family not merged yet)');
  throw new Error('sparseLayer: adapter not wired yet');
};

/** Auto dense/sparse choice per layer (tk.sparse.auto). */
export const autoLayer: LayerFactory = (tk) => {
  if (!hasSparse(tk)) throw new Error('tessera sparse ops are not available in this build (sparse family not merged yet)');
  throw new Error('autoLayer: adapter not wired yet');
};

/** Magnitude pruning of a 1x1 layer's [cout][cin] weights in 4x1 blocks (4 output channels x 1 input channel). */
export function prunePointwise(tk: Tessera, layer: ConvLayer, sparsity: number): Float32Array {
  if (!hasSparse(tk)) throw new Error('tessera sparse ops are not available in this build (sparse family not merged yet)');
  void layer; void sparsity;
  throw new Error('prunePointwise: adapter not wired yet');
}
