// onnxruntime-web with N intra-op threads, for the threaded comparison (bench/suites/threads.ts).
// ORT reads env.wasm.numThreads once, when its wasm initialises, and keeps it for the whole process,
// so this loader must be the first ORT user in its process: the cross-runtime driver runs the threads
// suite in a process of its own. Node/Deno/Bun find the wasm in node_modules; in a browser the
// bundle's node:module shim maps the same lookup to <served root>/node_modules/... (bench/cross.ts).
import { createRequire } from 'node:module';
import path from 'node:path';
import { DT, buildModel, node, tensor, vi } from './onnx.js';

export interface OrtThreadedRunner { run: () => Promise<Float32Array>; dispose: () => Promise<void> }
export interface OrtThreadedPeer {
  version: string;
  threads: number;
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Promise<OrtThreadedRunner>;
  /** softmax(Q K^T / sqrt(d)) V on [1, H, S, d] from MatMul/Transpose/Mul/Softmax (what exported models contain; ORT fuses it to FusedMatMul + Softmax + MatMul). */
  attention(q: Float32Array, k: Float32Array, v: Float32Array, heads: number, s: number, d: number): Promise<OrtThreadedRunner>;
}

let cached: { threads: number; peer: Promise<OrtThreadedPeer> } | null = null;

export function loadOrtThreaded(threads: number): Promise<OrtThreadedPeer> {
  if (cached && cached.threads !== threads) return Promise.reject(new Error(`onnxruntime-web was initialised with ${cached.threads} threads in this process`));
  cached ??= {
    threads,
    peer: (async () => {
      const ort: any = await import('onnxruntime-web');
      const require = createRequire(import.meta.url);
      ort.env.wasm.wasmPaths = path.dirname(require.resolve('onnxruntime-web')) + '/';
      ort.env.wasm.numThreads = threads;
      ort.env.wasm.simd = true;
      ort.env.wasm.proxy = false;
      ort.env.logLevel = 'error';
      const runner = async (model: Uint8Array, feeds: Record<string, unknown>): Promise<OrtThreadedRunner> => {
        const s = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3, intraOpNumThreads: threads });
        return { run: async () => (await s.run(feeds)).Y.data as Float32Array, dispose: () => s.release() };
      };
      return {
        version: ort.env.versions?.web ?? 'unknown',
        threads,
        matmul(a, b, m, k, n) {
          const model = buildModel({ inputs: [vi('A', DT.FLOAT, [m, k])], outputs: [vi('Y', DT.FLOAT, [m, n])],
            initializers: [tensor('B', DT.FLOAT, [k, n], b)], nodes: [node('MatMul', ['A', 'B'], ['Y'])] });
          return runner(model, { A: new ort.Tensor('float32', a, [m, k]) });
        },
        attention(q, k, v, heads, s, d) {
          const dims = [1, heads, s, d];
          const model = buildModel({
            inputs: [vi('Q', DT.FLOAT, dims), vi('K', DT.FLOAT, dims), vi('V', DT.FLOAT, dims)], outputs: [vi('Y', DT.FLOAT, dims)],
            initializers: [tensor('scale', DT.FLOAT, [], new Float32Array([1 / Math.sqrt(d)]))],
            nodes: [node('Transpose', ['K'], ['Kt'], { perm: [0, 1, 3, 2] }), node('MatMul', ['Q', 'Kt'], ['QK']), node('Mul', ['QK', 'scale'], ['QKs']),
              node('Softmax', ['QKs'], ['P'], { axis: 3 }), node('MatMul', ['P', 'V'], ['Y'])],
          });
          return runner(model, { Q: new ort.Tensor('float32', q, dims), K: new ort.Tensor('float32', k, dims), V: new ort.Tensor('float32', v, dims) });
        },
      } satisfies OrtThreadedPeer;
    })(),
  };
  return cached.peer;
}
