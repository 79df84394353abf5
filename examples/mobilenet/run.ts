// MobileNet-v1 backbone end to end, from the weights shipped in @vladmandic/face-api.
//   npx tsx examples/mobilenet/run.ts [--size=224] [--tier=simd128|relaxed] [--sparsity=0.7] [--layers]
// Prints whole-backbone latency for tfjs-wasm (dense) and tessera (dense, and with the 1x1 layers
// pruned to --sparsity and the auto dense/sparse choice), the per-layer error against tfjs-wasm,
// and with --layers a per-layer latency table. Wrap timing runs in `flock /tmp/tessera-bench.lock`.
import { init, type Tier } from '../../bindings/index.js';
import { time } from '../../bench/lib/timing.js';
import { loadFaceApiSsdMobilenet } from './load.js';
import { amdahlCeiling, buildBackbone, maxRelErr, nhwcToNchw, relRmse, syntheticImage, totalMacs } from './model.js';
import { autoLayer, denseLayer, hasDense, hasSparse, prunePointwise, TesseraBackbone } from './tessera.js';
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
const tTf = ms(() => tfb.run(img.nhwc));
console.log(`${tfjsVersion()} dense: ${tTf.toFixed(2)} ms`);

const tk = await init({ simd: tier, maxMemoryBytes: 1 << 30 });
const rows: Record<string, number[]> = {};
if (perLayer) rows['tfjs-wasm'] = tfb.timeLayers(img.nhwc, ms);
if (!hasDense(tk)) {
  console.log('tessera: dense conv2d is not in this build yet; nothing more to run');
} else {
  const dense = new TesseraBackbone(tk, layers, () => denseLayer);
  const taps: Float32Array[] = [];
  const denseOut = dense.run(img.nchw, taps);
  const tDense = ms(() => dense.run(img.nchw));
  console.log(`tessera ${tk.features.tier} dense: ${tDense.toFixed(2)} ms (${(tTf / tDense).toFixed(2)}x vs tfjs-wasm)`);
  console.log('per-layer max error vs tfjs-wasm (max|diff| / max|tfjs|):');
  console.log(layers.map((l, i) => `  ${l.name.padEnd(6)} ${maxRelErr(taps[i], nhwcToNchw(tfTaps[i], l.cout, l.hOut, l.wOut)).toExponential(2)}`).join('\n'));
  if (perLayer) rows['tessera dense'] = dense.timeLayers(img.nchw, ms);
  dense.dispose();
  if (hasSparse(tk)) {
    const w = layers.map((l) => (l.kind === 'pw' ? prunePointwise(tk, l, sparsity) : undefined));
    const net = new TesseraBackbone(tk, layers, (l) => (l.kind === 'pw' ? autoLayer : denseLayer), w);
    const out = net.run(img.nchw);
    const t = ms(() => net.run(img.nchw));
    console.log(`tessera ${tk.features.tier} 1x1 pruned ${sparsity * 100}% (auto: ${net.prepared.map((p) => p.impl[0]).join('')}): ${t.toFixed(2)} ms ` +
      `(${(tDense / t).toFixed(2)}x vs our dense, ${(tTf / t).toFixed(2)}x vs tfjs-wasm; Amdahl ceiling ${amdahlCeiling(layers, sparsity).toFixed(2)}x); drift ${relRmse(out, denseOut).toExponential(2)}`);
    if (perLayer) rows[`tessera ${sparsity * 100}% auto`] = net.timeLayers(img.nchw, ms);
    net.dispose();
  }
}
if (perLayer) {
  const names = Object.keys(rows);
  console.log(`\n| layer | shape | MMACs | ${names.map((n) => `${n} ms`).join(' | ')} |\n|---|---|---:|${names.map(() => '---:').join('|')}|`);
  layers.forEach((l, i) => console.log(`| ${l.name} | ${l.hIn}x${l.wIn}x${l.cin}->${l.hOut}x${l.wOut}x${l.cout} s${l.stride} | ${(l.macs / 1e6).toFixed(1)} | ${names.map((n) => rows[n][i].toFixed(3)).join(' | ')} |`));
  console.log(`| sum | | ${(totalMacs(layers) / 1e6).toFixed(1)} | ${names.map((n) => rows[n].reduce((a, b) => a + b, 0).toFixed(2)).join(' | ')} |`);
}
tfb.dispose();
