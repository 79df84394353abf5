// MobileNet-v1 backbone end to end (face-api's shipped SSD-MobileNet-v1 weights, 224x224 synthetic
// image, batch 1, single thread): tfjs-backend-wasm dense (XNNPACK, NHWC) vs tessera dense (NCHW,
// tk.dense.packConv2d) vs tessera with the 1x1 layers magnitude-pruned in 4x1 blocks
// (tk.sparse.prune) to 30/50/70/90 % and run with the auto dense/sparse choice (tk.sparse.auto,
// policy 'density': deterministic; the default 'measure' policy mis-picks dense for some 70 %-pruned
// layers when neighbours load the machine, which made run-to-run ratios unstable).
// Correctness: every timed network is checked layer by layer against tfjs-wasm running the same
// (pruned) weights (maxRelErr = worst layer of max|diff|/max|tfjs|). Drift = relative RMS of the
// pruned backbone's output vs the unpruned one (no fine-tuning: accuracy is not the point).
// Timing: the contenders of one tier take turns (bench/lib/interleave.ts) so ratios survive load.
import type { Tier } from '../../bindings/index.js';
import type { Suite } from '../lib/context.js';
import { timeInterleaved } from '../lib/interleave.js';
import { faceApiModelDir, loadFaceApiSsdMobilenet } from '../../examples/mobilenet/load.js';
import {
  amdahlCeiling, amdahlCeilingFromDensity, buildBackbone, pointwiseBlockDensity, maxRelErr, nhwcToNchw, pointwiseMacFraction, relRmse, SPARSE_MD_CEILINGS, SPARSEBYTENN_30,
  syntheticImage, totalMacs, type ConvLayer,
} from '../../examples/mobilenet/model.js';
import { autoDensityLayer, bestDenseLayer, denseLayer, hasDense, hasSparse, prunePointwise, TesseraBackbone } from '../../examples/mobilenet/tessera.js';
import { initTfjsWasm, TfjsBackbone, tfjsVersion } from '../../examples/mobilenet/tfjs.js';

const SIZE = 224;
const SPARSITIES = [0.3, 0.5, 0.7, 0.9];
const pct = (s: number) => `${Math.round(s * 100)}%`;

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
    // the cross-runtime runner (browser bundle) passes the repository root as served; else resolve from the source tree
    const root = ctx.assetBase ? new URL(ctx.assetBase) : undefined;
    const weights = await loadFaceApiSsdMobilenet(root && faceApiModelDir(root));
    const layers = buildBackbone(weights, SIZE, SIZE);
    const macs = totalMacs(layers);
    const shape = `${SIZE}x${SIZE}x3 -> 7x7x1024`;
    const img = syntheticImage(SIZE, SIZE, 1);
    const gflops = (ms: number) => (2 * macs) / ms / 1e6;
    const base = { suite: 'mobilenet', shape, threads: 1 };
    const rounds = ctx.quick ? 7 : 21;

    await initTfjsWasm(root);
    const tfDense = new TfjsBackbone(layers);
    const tfTaps: Float32Array[] = [];
    tfDense.run(img.nhwc, tfTaps);

    // pruned weights are a property of the model, not of the tier: pruned once (tk.sparse.prune is plain TS)
    let pruned: Map<number, (Float32Array | undefined)[]> | null = null;
    const tfPrunedTaps = new Map<number, Float32Array[]>();

    for (const tier of ctx.tiers as Tier[]) {
      const tk = await ctx.tk(tier);
      if (!hasDense(tk) || !hasSparse(tk)) {
        ctx.emit({ ...base, op: 'backbone', engine: 'tessera', variant: tier, ms: null, error: `needs tk.dense (${hasDense(tk)}) and tk.sparse (${hasSparse(tk)})` });
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
      // "our dense" = best dense kernel per layer (tk.dense vs the CHW dense kernels, measured at build);
      // the tk.dense-only network is timed too, for transparency
      const dense = new TesseraBackbone(tk, layers, () => bestDenseLayer);
      const denseOnly = new TesseraBackbone(tk, layers, () => denseLayer);
      const taps: Float32Array[] = [];
      const denseOut = dense.run(img.nchw, taps);
      const errDense = worstLayerErr(layers, taps, tfTaps);
      const taps2: Float32Array[] = [];
      denseOnly.run(img.nchw, taps2);
      const errDenseOnly = worstLayerErr(layers, taps2, tfTaps);
      const nets = new Map<number, { net: TesseraBackbone; err: number; drift: number; density: number }>();
      for (const s of SPARSITIES) {
        const net = new TesseraBackbone(tk, layers, (l) => (l.kind === 'pw' ? autoDensityLayer : bestDenseLayer), pruned.get(s));
        const ptaps: Float32Array[] = [];
        const out = net.run(img.nchw, ptaps);
        nets.set(s, { net, err: worstLayerErr(layers, ptaps, tfPrunedTaps.get(s)!), drift: relRmse(out, denseOut), density: pointwiseBlockDensity(layers, pruned.get(s)) });
      }
      const fns: Record<string, () => unknown> = { tfjs: () => tfDense.run(img.nhwc), dense: () => dense.run(img.nchw), denseOnly: () => denseOnly.run(img.nchw) };
      for (const [s, n] of nets) fns[pct(s)] = () => n.net.run(img.nchw);
      const t = timeInterleaved(fns, { rounds });

      ctx.emit({ ...base, op: 'backbone dense', engine: 'tfjs-wasm', variant: `${tfjsVersion()} (timed with ${tier})`, ms: t.tfjs.ms, gflops: gflops(t.tfjs.ms), runs: t.tfjs.runs, spread: t.tfjs.spread,
        note: `${(macs / 1e6).toFixed(1)} M MACs; 1x1 layers ${(100 * pointwiseMacFraction(layers)).toFixed(2)} % of MACs` });
      const chw = dense.prepared.filter((p) => p.impl === 'dense-chw').length;
      ctx.emit({ ...base, op: 'backbone dense (best per layer)', engine: 'tessera', variant: tier, ms: t.dense.ms, gflops: gflops(t.dense.ms), runs: t.dense.runs, spread: t.dense.spread,
        maxRelErr: errDense, ratio: { vs: 'tfjs-wasm dense', value: t.tfjs.ms / t.dense.ms },
        note: `err = worst layer vs tfjs-wasm (max|diff|/max|ref|); ${chw}/14 conv0+1x1 layers on the CHW dense kernels, rest tk.dense; unpruned 1x1 block density ${pointwiseBlockDensity(layers).toFixed(3)}` });
      ctx.emit({ ...base, op: 'backbone dense (tk.dense only)', engine: 'tessera', variant: tier, ms: t.denseOnly.ms, gflops: gflops(t.denseOnly.ms), runs: t.denseOnly.runs, spread: t.denseOnly.spread,
        maxRelErr: errDenseOnly, ratio: { vs: 'tfjs-wasm dense', value: t.tfjs.ms / t.denseOnly.ms } });
      for (const [s, n] of nets) {
        const ts = t[pct(s)];
        const nSparse = n.net.prepared.filter((p) => p.impl === 'sparse').length;
        ctx.emit({ ...base, op: `backbone 1x1 pruned ${pct(s)} (auto: density)`, engine: 'tessera', variant: tier, ms: ts.ms, gflops: gflops(ts.ms), runs: ts.runs, spread: ts.spread,
          maxRelErr: n.err, ratio: { vs: 'tessera dense', value: t.dense.ms / ts.ms },
          note: `${(t.tfjs.ms / ts.ms).toFixed(2)}× vs tfjs-wasm dense; Amdahl ceiling ${amdahlCeiling(layers, s).toFixed(2)}× (sparse.md ${SPARSE_MD_CEILINGS[s]}×), ` +
            `${amdahlCeilingFromDensity(layers, n.density).toFixed(2)}× at the stored 4x1-block density ${n.density.toFixed(3)}` +
            `${s === SPARSEBYTENN_30.sparsity ? `; SparseByteNN ${SPARSEBYTENN_30.speedup}× @30% (SD855)` : ''}; ${nSparse}/13 1x1 layers sparse; output drift vs unpruned ${n.drift.toExponential(2)} (rel. RMS)` });
        n.net.dispose();
      }
      if (!ctx.quick) {
        // per-layer breakdown (each layer alone; noisy, for orientation): where the time goes
        const tl = dense.timeLayers(img.nchw, (fn) => ctx.time(fn, { minTotalMs: 200 }).ms);
        const pwMs = tl.filter((_, i) => layers[i].kind === 'pw').reduce((a, b) => a + b, 0), all = tl.reduce((a, b) => a + b, 0);
        layers.forEach((l, i) => ctx.emit({ ...base, op: `layer ${l.name} dense`, shape: `${l.hIn}x${l.wIn}x${l.cin}->${l.hOut}x${l.wOut}x${l.cout} s${l.stride}`, engine: 'tessera', variant: tier,
          ms: tl[i], gflops: (2 * l.macs) / tl[i] / 1e6 }));
        ctx.emit({ ...base, op: 'time share of 1x1 layers (dense, per-layer sum)', engine: 'tessera', variant: tier, ms: all,
          note: `1x1 = ${(100 * pwMs / all).toFixed(1)} % of time -> time-based Amdahl ceilings ${SPARSITIES.map((s) => `${pct(s)}: ${(1 / (1 - pwMs / all * s)).toFixed(2)}×`).join(', ')}` });
      }
      dense.dispose(); denseOnly.dispose();
    }
    tfDense.dispose();
  },
};
