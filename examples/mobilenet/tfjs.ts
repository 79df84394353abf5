/**
 * The same backbone on @tensorflow/tfjs-backend-wasm (XNNPACK, NHWC, single thread), the peer we
 * compare against. Each layer is one fused op: tf.fused.conv2d / tf.fused.depthwiseConv2d with
 * bias and 'relu6' (XNNPACK applies bias + clamp inside the convolution). Weights are uploaded once
 * as persistent tensors (tfjs-wasm caches the packed XNNPACK operator per filter tensor).
 *
 * `runFaceApiStyle` is face-api's own formulation (unfolded tf.batchNorm after the depthwise conv,
 * tf.add + clipByValue after conv/pw) and exists only to check our BN folding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { BN_EPSILON, oihwToHwio, STRIDE2_DW, type ConvLayer } from './model.js';
import type { DecodedWeight } from './weights.js';

let ready: Promise<void> | null = null;

/**
 * Select the wasm backend with 1 thread; the binaries come from node_modules (file path in Node,
 * dev-server URL in a browser). repoRoot: the repository root as a URL when this module is bundled
 * elsewhere (e.g. the browser bench bundle); default: resolved from this file.
 */
export function initTfjsWasm(repoRoot?: URL): Promise<void> {
  if (!ready) {
    ready = (async () => {
      const rel = 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'; // non-literal: see load.ts
      const up = '../../';
      const dir = new URL(rel, repoRoot ?? new URL(up, import.meta.url));
      setWasmPaths(dir.protocol === 'file:' ? decodeURIComponent(dir.pathname) : dir.href);
      setThreadsCount(1);
      if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: wasm backend failed to initialise');
      await tf.ready();
    })();
  }
  return ready;
}

export const tfjsVersion = (): string => `tfjs-backend-wasm ${version_wasm}`;



export class TfjsBackbone {
  readonly layers: ConvLayer[];
  private filters: tf.Tensor4D[] = [];
  private biases: tf.Tensor1D[] = [];

  /** weights: optional replacement OIHW weights per layer (e.g. pruned) */
  constructor(layers: ConvLayer[], weights?: (Float32Array | undefined)[]) {
    this.layers = layers;
    layers.forEach((l, i) => {
      const w = weights?.[i] ?? l.weight;
      this.filters.push(l.kind === 'dw'
        ? tf.tensor4d(oihwToHwio(w, l.k, 1, l.cout), [l.k, l.k, l.cout, 1]) // [C,1,k,k] -> [k,k,C,1]
        : tf.tensor4d(oihwToHwio(w, l.k, l.cin, l.cout), [l.k, l.k, l.cin, l.cout]));
      this.biases.push(tf.tensor1d(l.bias));
    });
  }

  /** NHWC input [1,H,W,3] -> final NHWC activation; `taps` receives every layer's NHWC output when given. */
  run(inputNhwc: Float32Array, taps?: Float32Array[]): Float32Array {
    const l0 = this.layers[0];
    const out = tf.tidy(() => {
      let x: tf.Tensor4D = tf.tensor4d(inputNhwc, [1, l0.hIn, l0.wIn, l0.cin]);
      this.layers.forEach((l, i) => {
        const args = { x, filter: this.filters[i], strides: l.stride, pad: 'same' as const, bias: this.biases[i], activation: 'relu6' as const };
        x = l.kind === 'dw' ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
        if (taps) taps[i] = x.dataSync() as Float32Array;
      });
      return x;
    });
    const d = out.dataSync() as Float32Array;
    out.dispose();
    return d;
  }

  /**
   * Per-layer latency: each layer alone on a persistent input tensor (the previous layer's output
   * from one full run), timed with `time` (returns ms). Output read back with dataSync like run().
   */
  timeLayers(inputNhwc: Float32Array, time: (fn: () => unknown) => number): number[] {
    const taps: Float32Array[] = [];
    this.run(inputNhwc, taps);
    return this.layers.map((l, i) => {
      const x = tf.tensor4d(i === 0 ? inputNhwc : taps[i - 1], [1, l.hIn, l.wIn, l.cin]);
      const args = { x, filter: this.filters[i], strides: l.stride, pad: 'same' as const, bias: this.biases[i], activation: 'relu6' as const };
      const ms = time(() => { const y = l.kind === 'dw' ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args); y.dataSync(); y.dispose(); });
      x.dispose();
      return ms;
    });
  }

  dispose(): void {
    for (const t of [...this.filters, ...this.biases]) t.dispose();
    this.filters = []; this.biases = [];
  }
}

/**
 * face-api's exact formulation on the raw shipped weights (unfolded depthwise BN), returning every
 * layer's NHWC output. Slow path, for verification only.
 */
export function runFaceApiStyle(w: Map<string, DecodedWeight>, inputNhwc: Float32Array, h: number, wd: number): Float32Array[] {
  const t = (name: string) => { const d = w.get(name)!; return tf.tensor(d.data as Float32Array, d.shape); };
  const outs: Float32Array[] = [];
  tf.tidy(() => {
    const layer = (x: tf.Tensor4D, p: string, s: number) => {
      const y = tf.clipByValue(tf.add(tf.conv2d(x, t(p + 'weights') as tf.Tensor4D, s, 'same'), t(p + 'convolution_bn_offset')), 0, 6) as tf.Tensor4D;
      outs.push(y.dataSync() as Float32Array);
      return y;
    };
    let x = layer(tf.tensor4d(inputNhwc, [1, h, wd, 3]), 'MobilenetV1/Conv2d_0_pointwise/', 2);
    for (let i = 1; i <= 13; i++) {
      const p = `MobilenetV1/Conv2d_${i}_depthwise/`;
      const s = STRIDE2_DW.has(i) ? 2 : 1;
      let y = tf.depthwiseConv2d(x, t(p + 'depthwise_weights') as tf.Tensor4D, s, 'same');
      y = tf.batchNorm(y, t(p + 'BatchNorm/moving_mean') as tf.Tensor1D, t(p + 'BatchNorm/moving_variance') as tf.Tensor1D,
        t(p + 'BatchNorm/beta') as tf.Tensor1D, t(p + 'BatchNorm/gamma') as tf.Tensor1D, BN_EPSILON);
      x = tf.clipByValue(y, 0, 6) as tf.Tensor4D;
      outs.push(x.dataSync() as Float32Array);
      x = layer(x, `MobilenetV1/Conv2d_${i}_pointwise/`, 1);
    }
  });
  return outs;
}
