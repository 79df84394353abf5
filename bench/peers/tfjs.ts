// tfjs-backend-wasm (XNNPACK inside) as a same-process peer. Node only: loads the wasm from
// node_modules (no CDN). Under Node tfjs always uses its single-threaded SIMD build; setThreadsCount(1)
// also pins the browser build to one thread. Timing contract (same as our copying APIs): call from
// JS, get a JS array back (dataSync); weights are persistent tensors, so XNNPACK packs them once
// (its operator cache is keyed by tensor id).
import { createRequire } from 'node:module';
import path from 'node:path';

export interface TfjsPeer {
  name: 'tfjs-wasm';
  version: string;
  /**
   * y = a . b (b persistent). Returns a runner that produces a Float32Array (dataSync), a runner that only computes
   * (the wasm backend runs its kernels synchronously: the result is left in its wasm memory and disposed, as between
   * the layers of a model), and a disposer.
   */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): PeerOp;
  /**
   * NHWC conv (tfjs' native layout) with 'same' padding, stride s; depthwise when dw. x is given NCHW and w OIHW
   * (converted once outside the timed call); the runner returns NHWC output.
   */
  conv(x: Float32Array, w: Float32Array, o: { c: number; h: number; w: number; cout: number; k: number; stride: number; dw: boolean }): PeerOp;
}

/** run: compute and read back a fresh JS array (tfjs's dataSync); compute: the same op, result left in wasm memory and disposed. */
export interface PeerOp { run: () => Float32Array; compute: () => void; dispose: () => void }

let cached: Promise<TfjsPeer> | null = null;
let moduleP: Promise<{ tf: typeof import('@tensorflow/tfjs-core'); version: string }> | null = null;

/** tfjs-core with the wasm backend, set up once per process: wasm from node_modules, 1 thread. */
export function loadTfjsModule(): Promise<{ tf: typeof import('@tensorflow/tfjs-core'); version: string }> {
  moduleP ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const tfwasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    tfwasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
    tfwasm.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    return { tf, version: tfwasm.version_wasm };
  })();
  return moduleP;
}

export function loadTfjs(): Promise<TfjsPeer> {
  cached ??= (async () => {
    const { tf, version } = await loadTfjsModule();
    const readback = (build: () => any): Float32Array => { const y = tf.tidy(build); const d = y.dataSync() as Float32Array; y.dispose(); return d; };
    const computeOnly = (build: () => any): void => { tf.tidy(build).dispose(); };
    const peer: TfjsPeer = {
      name: 'tfjs-wasm',
      version,
      matmul(a, b, m, k, n) {
        const at = tf.tensor2d(a, [m, k]), bt = tf.tensor2d(b, [k, n]);
        // a is uploaded each call in a real model; keep it persistent too so only the op + readback are timed, like ORT's feeds
        const op = () => tf.matMul(at, bt);
        return { run: () => readback(op), compute: () => computeOnly(op), dispose: () => { at.dispose(); bt.dispose(); } };
      },
      conv(x, w, o) {
        const { c, h, w: W, cout, k, stride, dw } = o;
        const xn = nchwToNhwc(x, c, h, W);
        const wt = dw ? tf.tensor4d(oihwToHwc1(w, c, k), [k, k, c, 1]) : tf.tensor4d(oihwToHwio(w, cout, c, k), [k, k, c, cout]);
        const xt = tf.tensor4d(xn, [1, h, W, c]);
        const op = () => dw ? tf.depthwiseConv2d(xt as any, wt as any, stride, 'same') : tf.conv2d(xt as any, wt as any, stride, 'same');
        return { run: () => readback(op), compute: () => computeOnly(op), dispose: () => { xt.dispose(); wt.dispose(); } };
      },
    };
    return peer;
  })();
  return cached;
}

export function nchwToNhwc(x: Float32Array, c: number, h: number, w: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let ci = 0; ci < c; ci++) for (let i = 0; i < h * w; i++) y[i * c + ci] = x[ci * h * w + i];
  return y;
}
export function nhwcToNchw(x: Float32Array, c: number, h: number, w: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let ci = 0; ci < c; ci++) for (let i = 0; i < h * w; i++) y[ci * h * w + i] = x[i * c + ci];
  return y;
}
function oihwToHwio(w: Float32Array, cout: number, cin: number, k: number): Float32Array {
  const y = new Float32Array(w.length);
  for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let t = 0; t < k * k; t++) y[(t * cin + i) * cout + o] = w[(o * cin + i) * k * k + t];
  return y;
}
function oihwToHwc1(w: Float32Array, c: number, k: number): Float32Array {
  const y = new Float32Array(w.length);
  for (let ci = 0; ci < c; ci++) for (let t = 0; t < k * k; t++) y[t * c + ci] = w[ci * k * k + t];
  return y;
}
