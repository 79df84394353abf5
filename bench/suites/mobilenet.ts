// MobileNet-v1 backbone end to end (face-api's shipped SSD-MobileNet-v1 weights, 224x224 synthetic
// image, batch 1, single thread): tfjs-backend-wasm dense (XNNPACK, NHWC) vs tessera dense (NCHW)
// vs tessera with the 1x1 layers magnitude-pruned in 4x1 blocks to 30/50/70/90 % and run with the
// auto dense/sparse choice. Every timed output is checked layer by layer against tfjs-wasm running
// the same (pruned) weights; drift = relative RMS of the pruned backbone's output vs the unpruned one.
import type { Tier } from '../../bindings/index.js';
import type { Suite } from '../lib/context.js';
import { loadFaceApiSsdMobilenet } from '../../examples/mobilenet/load.js';
import {
  amdahlCeiling, buildBackbone, maxRelErr, nhwcToNchw, pointwiseMacFraction, relRmse, SPARSE_MD_CEILINGS, SPARSEBYTENN_30,
  syntheticImage, totalMacs, type ConvLayer,
} from '../../examples/mobilenet/model.js';
import { autoLayer, denseLayer, hasDense, hasSparse, prunePointwise, TesseraBackbone } from '../../examples/mobilenet/tessera.js';
import { initTfjsWasm, TfjsBackbone, tfjsVersion } from '../../examples/mobilenet/tfjs.js';

const SIZE = 224;
const SPARSITIES = [0.3, 0.5, 0.7, 0.9];

/** worst per-layer error of tessera taps (NCHW) against tfjs taps (NHWC) */
function worstLayerErr(layers: ConvLayer[], ours: Float32Array[], tf: Float32Array[]): number {
  let e = 0;
  layers.forEach((l, i) => { e = Math.max(e, maxRelErr(ours[i], nhwcToNchw(tf[i], l.cout, l.hOut, l.wOut))); });
  return e;
}

export const mobilenetSuite: Suite = {
  name: 'mobilenet',
  description: `MobileNet-v1 backbone ${SIZE}x${SIZE} (face-api weights): tessera dense / pruned 1x1 (4x1 blocks, auto) vs tfjs-wasm, whole-network ms`,
  async run(ctx) {
    const weights = await loadFaceApiSsdMobilenet();
    const layers = buildBackbone(weights, SIZE, SIZE);
    const macs = totalMacs(layers);
    const shape = `${SIZE}x${SIZE}x3 -> 7x7x1024`;
    const img = syntheticImage(SIZE, SIZE, 1);
    const gflops = (ms: number) => (2 * macs) / ms / 1e6;

    await initTfjsWasm();
    const tfDense = new TfjsBackbone(layers);
    const tfTaps: Float32Array[] = [];
    tfDense.run(img.nhwc, tfTaps);
    const tTf = ctx.time(() => tfDense.run(img.nhwc));
    ctx.emit({ suite: 'mobilenet', op: 'backbone dense', shape, engine: 'tfjs-wasm', variant: tfjsVersion(), threads: 1, ms: tTf.ms, gflops: gflops(tTf.ms), runs: tTf.runs, spread: tTf.spread,
      note: `${(macs / 1e6).toFixed(1)} M MACs; 1x1 layers ${(100 * pointwiseMacFraction(layers)).toFixed(2)} % of MACs` });

    // pruned weights are a property of the model, not of the tier: build them once (with the first tier's tk.sparse.prune)
    let pruned: Map<number, (Float32Array | undefined)[]> | null = null;
    const tfPrunedTaps = new Map<number, Float32Array[]>();

    for (const tier of ctx.tiers as Tier[]) {
      const tk = await ctx.tk(tier);
      if (!hasDense(tk)) {
        ctx.emit({ suite: 'mobilenet', op: 'backbone dense', shape, engine: 'tessera', variant: tier, threads: 1, ms: null, error: 'tessera dense conv2d not available in this build' });
        continue;
      }
      const dense = new TesseraBackbone(tk, layers, () => denseLayer);
      const taps: Float32Array[] = [];
      const denseOut = dense.run(img.nchw, taps);
      const errDense = worstLayerErr(layers, taps, tfTaps);
      const tDense = ctx.time(() => dense.run(img.nchw));
      dense.dispose();
      ctx.emit({ suite: 'mobilenet', op: 'backbone dense', shape, engine: 'tessera', variant: tier, threads: 1, ms: tDense.ms, gflops: gflops(tDense.ms), runs: tDense.runs, spread: tDense.spread,
        maxRelErr: errDense, ratio: { vs: 'tfjs-wasm dense', value: tTf.ms / tDense.ms }, note: 'err = worst layer vs tfjs-wasm' });

      if (!hasSparse(tk)) {
        ctx.emit({ suite: 'mobilenet', op: 'backbone pruned', shape, engine: 'tessera', variant: tier, threads: 1, ms: null, error: 'tessera sparse ops not available in this build' });
        continue;
      }
      if (!pruned) {
        pruned = new Map();
        for (const s of SPARSITIES) {
          const w = layers.map((l) => (l.kind === 'pw' ? prunePointwise(tk, l, s) : undefined));
          pruned.set(s, w);
          const tfp = new TfjsBackbone(layers, w);
          const t: Float32Array[] = [];
          tfp.run(img.nhwc, t);
          tfp.dispose();
          tfPrunedTaps.set(s, t);
        }
      }
      for (const s of SPARSITIES) {
        const w = pruned.get(s)!;
        const net = new TesseraBackbone(tk, layers, (l) => (l.kind === 'pw' ? autoLayer : denseLayer), w);
        const ptaps: Float32Array[] = [];
        const out = net.run(img.nchw, ptaps);
        const err = worstLayerErr(layers, ptaps, tfPrunedTaps.get(s)!);
        const drift = relRmse(out, denseOut);
        const nSparse = net.prepared.filter((p) => p.impl === 'sparse').length;
        const t = ctx.time(() => net.run(img.nchw));
        net.dispose();
        const ceil = amdahlCeiling(layers, s);
        ctx.emit({ suite: 'mobilenet', op: `backbone 1x1 pruned ${Math.round(s * 100)}% (auto)`, shape, engine: 'tessera', variant: tier, threads: 1, ms: t.ms,
          gflops: gflops(t.ms), runs: t.runs, spread: t.spread, maxRelErr: err, ratio: { vs: 'tessera dense', value: tDense.ms / t.ms },
          note: `${(tTf.ms / t.ms).toFixed(2)}× vs tfjs-wasm dense; Amdahl ceiling ${ceil.toFixed(2)}× (sparse.md ${SPARSE_MD_CEILINGS[s]}×)` +
            `${s === SPARSEBYTENN_30.sparsity ? `; SparseByteNN ${SPARSEBYTENN_30.speedup}× @30% (SD855)` : ''}; ${nSparse}/13 1x1 layers sparse; output drift vs unpruned ${drift.toExponential(2)} (rel. RMS)` });
      }
    }
    tfDense.dispose();
  },
};
