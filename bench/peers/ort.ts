// onnxruntime-web (wasm EP: ORT CPU EP + MLAS built for wasm SIMD) as a same-process peer. Node only:
// wasm loaded from node_modules, 1 thread, no proxy worker. Weights are initializers (MLAS packs
// them once at session creation); the timed call is session.run (copies inputs in and outputs out).
import { createRequire } from 'node:module';
import path from 'node:path';
import { DT, buildModel, node, tensor, vi } from './onnx.js';

export interface OrtRunner { run: () => Promise<Float32Array>; dispose: () => Promise<void> }
export interface OrtPeer {
  name: 'onnxruntime-web';
  version: string;
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Promise<OrtRunner>;
  /** NCHW Conv, symmetric pad, groups 1 or c */
  conv(x: Float32Array, w: Float32Array, o: { c: number; h: number; w: number; cout: number; k: number; stride: number; pad: number; groups: number }): Promise<OrtRunner>;
}

let cached: Promise<OrtPeer> | null = null;
let moduleP: Promise<any> | null = null;

/** The onnxruntime-web module, configured once per process: wasm from node_modules, 1 thread, no proxy worker. */
export function loadOrtModule(): Promise<any> {
  moduleP ??= (async () => {
    const ort: any = await import('onnxruntime-web');
    const require = createRequire(import.meta.url);
    ort.env.wasm.wasmPaths = path.dirname(require.resolve('onnxruntime-web')) + '/';
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.simd = true;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return ort;
  })();
  return moduleP;
}

export function loadOrt(): Promise<OrtPeer> {
  cached ??= (async () => {
    const ort = await loadOrtModule();
    const session = (model: Uint8Array) => ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3, intraOpNumThreads: 1 });
    const runner = async (model: Uint8Array, feeds: Record<string, any>): Promise<OrtRunner> => {
      const s = await session(model);
      return { run: async () => (await s.run(feeds)).Y.data as Float32Array, dispose: () => s.release() };
    };
    const peer: OrtPeer = {
      name: 'onnxruntime-web',
      version: ort.env.versions?.web ?? 'unknown',
      matmul(a, b, m, k, n) {
        const model = buildModel({ inputs: [vi('A', DT.FLOAT, [m, k])], outputs: [vi('Y', DT.FLOAT, [m, n])],
          initializers: [tensor('B', DT.FLOAT, [k, n], b)], nodes: [node('MatMul', ['A', 'B'], ['Y'])] });
        return runner(model, { A: new ort.Tensor('float32', a, [m, k]) });
      },
      conv(x, w, o) {
        const { c, h, w: W, cout, k, stride, pad, groups } = o;
        const ho = Math.floor((h + 2 * pad - k) / stride) + 1, wo = Math.floor((W + 2 * pad - k) / stride) + 1;
        const model = buildModel({ inputs: [vi('X', DT.FLOAT, [1, c, h, W])], outputs: [vi('Y', DT.FLOAT, [1, cout, ho, wo])],
          initializers: [tensor('W', DT.FLOAT, [cout, c / groups, k, k], w)],
          nodes: [node('Conv', ['X', 'W'], ['Y'], { group: groups, kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [stride, stride] })] });
        return runner(model, { X: new ort.Tensor('float32', x, [1, c, h, W]) });
      },
    };
    return peer;
  })();
  return cached;
}
