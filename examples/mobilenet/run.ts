// MobileNet-v1 backbone end to end, from the weights shipped in @vladmandic/face-api.
//   npx tsx examples/mobilenet/run.ts [--size=224] [--tier=simd128|relaxed] [--sparsity=0.7] [--layers]
// Prints whole-backbone latency for tfjs-wasm (dense) and tessera (dense, and with the 1x1 layers
// pruned to --sparsity and the auto dense/sparse choice), the per-layer error against tfjs-wasm,
// and with --layers a per-layer latency table. Wrap timing runs in `flock /tmp/tessera-bench.lock`.
import { init, type Tier } from '../../bindings/index.js';
import { time } from '../../bench/lib/timing.js';
import { timeInterleaved } from '../../bench/lib/interleave.js';
import { loadFaceApiSsdMobilenet } from './load.js';
import { amdahlCeiling, buildBackbone, maxRelErr, nhwcToNchw, relRmse, syntheticImage, totalMacs } from './model.js';
import { autoLayer, bestDenseLayer, hasDense, hasSparse, prunePointwise, TesseraBackbone } from './tessera.js';
import { initTfjsWasm, TfjsBackbone, tfjsVersion } from './tfjs.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, '').split('='); return [k, v ?? 'true']; }));
const size = Number(args.size ?? 224);
const tier = (args.tier ?? 'simd128') as Tier;
const sparsity = Number(args.sparsity ?? 0.7);
const perLayer = args.layers === 'true';
const ms = (fn: () => unknown) => time(fn, { minRuns: 5, minTotalMs: 300 }).ms;

const weights = await loadFaceApiSsdMobilenet();
const layers = buildBackbone(weights, size, size);
const img = syntheticImage(size, size, 1);
console.log(`MobileNet-v1 backbone ${size}x${size}, ${(totalMacs(layers) / 1e6).toFixed(1)} M MACs, ${layers.length} conv layers`);

await initTfjsWasm();
const tfb = new TfjsBackbone(layers);
const tfTaps: Float32Array[] = [];
tfb.run(img.nhwc, tfTaps);

const tk = await init({ simd: tier, maxMemoryBytes: 1 << 30 });
if (!hasDense(tk) || !hasSparse(tk)) throw new Error('this build lacks tk.dense or tk.sparse');
// our dense = best dense kernel per layer (tk.dense vs the CHW dense kernels, measured at build)
const dense = new TesseraBackbone(tk, layers, () => bestDenseLayer);
const taps: Float32Array[] = [];
const denseOut = dense.run(img.nchw, taps);
console.log(`per-layer max error of tessera ${tk.features.tier} dense vs ${tfjsVersion()} (max|diff| / max|tfjs|), kernel:`);
console.log(layers.map((l, i) => `  ${l.name.padEnd(6)} ${maxRelErr(taps[i], nhwcToNchw(tfTaps[i], l.cout, l.hOut, l.wOut)).toExponential(2)}  ${dense.prepared[i].impl}`).join('\n'));
const w = layers.map((l) => (l.kind === 'pw' ? prunePointwise(tk, l, sparsity) : undefined));
const net = new TesseraBackbone(tk, layers, (l) => (l.kind === 'pw' ? autoLayer : bestDenseLayer), w);
const out = net.run(img.nchw);
// whole backbone, contenders interleaved so the ratios survive machine load
const t = timeInterleaved({ tfjs: () => tfb.run(img.nhwc), dense: () => dense.run(img.nchw), pruned: () => net.run(img.nchw) });
console.log(`\nwhole backbone (median ms, interleaved): ${tfjsVersion()} ${t.tfjs.ms.toFixed(2)} | tessera ${tk.features.tier} dense ${t.dense.ms.toFixed(2)} ` +
  `(${(t.tfjs.ms / t.dense.ms).toFixed(2)}x vs tfjs) | 1x1 pruned ${sparsity * 100}% auto ${t.pruned.ms.toFixed(2)} ` +
  `(${(t.dense.ms / t.pruned.ms).toFixed(2)}x vs our dense, ${(t.tfjs.ms / t.pruned.ms).toFixed(2)}x vs tfjs; Amdahl ceiling ${amdahlCeiling(layers, sparsity).toFixed(2)}x)`);
console.log(`auto choice per 1x1 layer: ${net.prepared.filter((_, i) => layers[i].kind === 'pw').map((p) => p.impl).join(' ')}; output drift vs unpruned ${relRmse(out, denseOut).toExponential(2)} (rel. RMS)`);
if (perLayer) {
  const rows: Record<string, number[]> = {
    'tfjs-wasm': tfb.timeLayers(img.nhwc, ms), 'tessera dense': dense.timeLayers(img.nchw, ms), [`tessera ${sparsity * 100}% auto`]: net.timeLayers(img.nchw, ms),
  };
  const names = Object.keys(rows);
  console.log(`\nper layer (each alone, not interleaved: orientation only; tfjs rows include its upload + readback)`);
  console.log(`| layer | shape | MMACs | ${names.map((n) => `${n} ms`).join(' | ')} |\n|---|---|---:|${names.map(() => '---:').join('|')}|`);
  layers.forEach((l, i) => console.log(`| ${l.name} | ${l.hIn}x${l.wIn}x${l.cin}->${l.hOut}x${l.wOut}x${l.cout} s${l.stride} | ${(l.macs / 1e6).toFixed(1)} | ${names.map((n) => rows[n][i].toFixed(3)).join(' | ')} |`));
  console.log(`| sum | | ${(totalMacs(layers) / 1e6).toFixed(1)} | ${names.map((n) => rows[n].reduce((a, b) => a + b, 0).toFixed(2)).join(' | ')} |`);
}
dense.dispose(); net.dispose(); tfb.dispose();
