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
