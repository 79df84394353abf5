// @tensorflow/tfjs-backend-wasm (XNNPACK inside) attention peer: tfjs has no fused attention, so the
// composite that reaches XNNPACK's GEMM is per head: matMul(q_h, transpose(k_h)) * scale -> softmax -> matMul(., v_h)
// (batched matMul with transposeB falls back to tfjs' scalar loop). Single-threaded SIMD build in Node.
import { loadTfjsModule } from './tfjs.js';

export interface TfjsAttn { run(): Float32Array; dispose(): void; version: string }

/** Inputs [H, S, D] are uploaded once (like weights/activations already on the backend); run() computes and reads back. */
export async function tfjsAttention(q: Float32Array, k: Float32Array, v: Float32Array, H: number, S1: number, S2: number, D: number): Promise<TfjsAttn> {
  const { tf, version } = await loadTfjsModule();
  const qs = tf.unstack(tf.tensor3d(q, [H, S1, D])), ks = tf.unstack(tf.tensor3d(k, [H, S2, D])), vs = tf.unstack(tf.tensor3d(v, [H, S2, D]));
  const scale = 1 / Math.sqrt(D);
  return {
    version,
    run() {
      const y = tf.tidy(() => tf.stack(qs.map((qh, h) => tf.matMul(tf.softmax(tf.mul(tf.matMul(qh, tf.transpose(ks[h])), scale)), vs[h]))));
      const d = y.dataSync() as Float32Array;
      y.dispose();
      return d;
    },
    dispose() { for (const t of [...qs, ...ks, ...vs]) t.dispose(); },
  };
}
