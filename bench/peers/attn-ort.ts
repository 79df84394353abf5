// onnxruntime-web (wasm EP: ORT CPU kernels + MLAS compiled to wasm SIMD) attention peer:
// com.microsoft MultiHeadAttention on [1, S, H*D] (BSNH), one session per shape, single thread.
// Node only (loads the .wasm from node_modules, no network).
import { buildModel, DT, node, vi } from './onnx.js';
import { loadOrtModule } from './ort.js';

export interface OrtMha { run(q: Float32Array, k: Float32Array, v: Float32Array): Promise<Float32Array>; release(): Promise<void>; version: string }

/** MultiHeadAttention session for H heads, S1 queries, S2 keys, head dim D (q/k/v/out in [1, S, H*D]). */
export async function ortMha(H: number, S1: number, S2: number, D: number): Promise<OrtMha> {
  const ort = await loadOrtModule();
  const model = buildModel({
    opsets: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    inputs: [vi('Q', DT.FLOAT, [1, S1, H * D]), vi('K', DT.FLOAT, [1, S2, H * D]), vi('V', DT.FLOAT, [1, S2, H * D])],
    outputs: [vi('Y', DT.FLOAT, [1, S1, H * D])],
    nodes: [node('MultiHeadAttention', ['Q', 'K', 'V'], ['Y'], { num_heads: H }, 'com.microsoft')],
  });
  const s = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3, intraOpNumThreads: 1 });
  return {
    version: ort.env.versions?.web ?? '?',
    async run(q, k, v) {
      const out = await s.run({ Q: new ort.Tensor('float32', q, [1, S1, H * D]), K: new ort.Tensor('float32', k, [1, S2, H * D]), V: new ort.Tensor('float32', v, [1, S2, H * D]) });
      return out.Y.data as Float32Array;
    },
    release: () => s.release(),
  };
}
