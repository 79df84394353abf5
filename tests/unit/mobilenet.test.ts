// End to end on a real network: the MobileNet-v1 backbone of face-api's SSD-MobileNet-v1 (weights
// shipped in the @vladmandic/face-api npm package), loaded with our own tfjs-manifest reader, checked
// layer by layer against tfjs-backend-wasm and a plain-TS f64 reference. Runs in Node (weights read
// with node:fs through a lazy import) and in Chromium (weights fetched from the Vite dev server).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFaceApiSsdMobilenet } from '../../examples/mobilenet/load.js';
import { blockDensity4x1, buildBackbone, maxRelErr, nhwcToNchw, syntheticImage, totalMacs, type ConvLayer } from '../../examples/mobilenet/model.js';
import { backboneRef } from '../../examples/mobilenet/reference.js';
import { autoLayer, bestDenseLayer, denseLayer, jsLayer, prunePointwise, sparseLayer, TesseraBackbone, type LayerFactory } from '../../examples/mobilenet/tessera.js';
import { initTfjsWasm, runFaceApiStyle, TfjsBackbone } from '../../examples/mobilenet/tfjs.js';
import { tk as tkFor } from '../helpers/tiers.js';
import { TIERS } from '../helpers/engine.js';
import { decodeWeight, halfToFloat, loadWeights, ManifestError, type DecodedWeight } from '../../examples/mobilenet/weights.js';

describe('tfjs weights manifest reader', () => {
  const f32 = (a: number[]) => new Uint8Array(new Float32Array(a).buffer);
  it('decodes float32, int32, uint8/uint16 (scale, min) and float16 across shards', async () => {
    // one group, two shards; weights are back to back across the shard boundary
    const bytes = new Uint8Array([
      ...f32([1.5, -2]),                                 // a: float32 [2]
      ...new Uint8Array(new Int32Array([7, -9]).buffer), // b: int32 [2]
      0, 255, 10,                                        // c: uint8 -> float32 [3]
      ...new Uint8Array(new Uint16Array([0, 1000]).buffer), // d: uint16 -> float32 [2]
      ...new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00]).buffer), // e: float16 [2,2]
      3, 4,                                              // f: uint8 -> int32 [2]
    ]);
    const shards: Record<string, Uint8Array> = { 'x.bin': bytes.slice(0, 10), 'y.bin': bytes.slice(10) };
    const manifest = [{
      paths: ['x.bin', 'y.bin'],
      weights: [
        { name: 'a', shape: [2], dtype: 'float32' },
        { name: 'b', shape: [2], dtype: 'int32' },
        { name: 'c', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
        { name: 'd', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.01, min: 2 } },
        { name: 'e', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
        { name: 'f', shape: [2], dtype: 'int32', quantization: { dtype: 'uint8', scale: 1.5, min: 0 } },
      ],
    }];
    const w = await loadWeights(manifest, async (p) => shards[p]);
    expect([...w.get('a')!.data]).toEqual([1.5, -2]);
    expect([...w.get('b')!.data]).toEqual([7, -9]);
    expect([...w.get('c')!.data]).toEqual([-1, 126.5, 4]);
    expect([...w.get('d')!.data]).toEqual([2, Math.fround(1000 * 0.01 + 2)]);
    expect([...w.get('e')!.data]).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(w.get('e')!.shape).toEqual([2, 2]);
    expect([...w.get('f')!.data]).toEqual([5, 6]); // round(4.5) = 5, round(6) = 6, as tfjs does
    expect(w.get('f')!.dtype).toBe('int32');
  });

  it('rejects truncated shards, unknown dtypes and missing quantization parameters', async () => {
    const spec = { name: 'a', shape: [4], dtype: 'float32' };
    await expect(loadWeights([{ paths: ['p'], weights: [spec] }], async () => new Uint8Array(12))).rejects.toThrow(ManifestError);
    await expect(loadWeights([{ paths: ['p'], weights: [spec] }], async () => new Uint8Array(20))).rejects.toThrow(/weights use 16 bytes, shards hold 20/);
    expect(() => decodeWeight({ name: 's', shape: [1], dtype: 'string' }, new Uint8Array(1))).toThrow(ManifestError);
    expect(() => decodeWeight({ name: 'q', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8' } }, new Uint8Array(1))).toThrow(/scale and min/);
    await expect(loadWeights({ nope: 1 }, async () => new Uint8Array())).rejects.toThrow(ManifestError);
  });

  it('halfToFloat covers normals, subnormals, signed zero, inf and NaN', () => {
    expect(halfToFloat(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0400)).toBe(2 ** -14);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });
});

describe('MobileNet-v1 backbone from @vladmandic/face-api weights', () => {
  let weights: Map<string, DecodedWeight>;
  beforeAll(async () => {
    weights = await loadFaceApiSsdMobilenet();
    await initTfjsWasm();
  });

  it('loads the shipped SSD-MobileNet-v1 manifest (uint8-quantized) in this runtime', () => {
    expect(weights.size).toBe(151);
    const c0 = weights.get('MobilenetV1/Conv2d_0_pointwise/weights')!;
    expect(c0.shape).toEqual([3, 3, 3, 32]);
    expect(c0.stored).toBe('uint8');
    // the manifest records the SSD preprocessing: resize to 512x512, x * (2/255) - 1
    expect([...weights.get('Preprocessor/ResizeImage/size')!.data]).toEqual([512, 512]);
    expect(weights.get('Preprocessor/mul/x')!.data[0]).toBeCloseTo(2 / 255, 7);
    // every dequantized uint8 value lies on its grid q * scale + min, q in [0, 255]
    const pw13 = weights.get('MobilenetV1/Conv2d_13_pointwise/weights')!;
    expect(pw13.shape).toEqual([1, 1, 1024, 1024]);
    const { scale, min } = pw13.quantization as { scale: number; min: number };
    let offGrid = 0, lo = Infinity, hi = -Infinity;
    for (const v of pw13.data) {
      const q = (v - min) / scale;
      lo = Math.min(lo, q); hi = Math.max(hi, q);
      if (Math.abs(q - Math.round(q)) > 1e-3) offGrid++; // f32 storage rounding is ~1e-6 of a step
    }
    expect(offGrid).toBe(0);
    expect(Math.round(lo)).toBeGreaterThanOrEqual(0);
    expect(Math.round(hi)).toBeLessThanOrEqual(255);
  });

  it('graph at 224x224: standard MobileNet-v1 1.0 shapes, TF "same" padding, 567.7 M MACs', () => {
    const layers = buildBackbone(weights, 224, 224);
    expect(layers.length).toBe(27);
    const pw = layers.filter((l) => l.kind === 'pw').map((l) => `${l.hOut}:${l.cin}>${l.cout}`);
    expect(pw).toEqual(['112:32>64', '56:64>128', '56:128>128', '28:128>256', '28:256>256', '14:256>512',
      '14:512>512', '14:512>512', '14:512>512', '14:512>512', '14:512>512', '7:512>1024', '7:1024>1024']);
    expect(layers[0]).toMatchObject({ kind: 'conv', cin: 3, cout: 32, stride: 2, hOut: 112, pad: [0, 0, 1, 1] });
    expect(layers[3]).toMatchObject({ name: 'dw2', stride: 2, hIn: 112, hOut: 56, pad: [0, 0, 1, 1] });
    expect(layers[1]).toMatchObject({ name: 'dw1', stride: 1, pad: [1, 1, 1, 1] });
    // sparse.md: 568.7 M MACs with the 1.0 M-MAC FC classifier, which the detector backbone does not have
    expect(totalMacs(layers) / 1e6).toBeCloseTo(567.7, 1);
  });

  it('BN folding and tfjs-wasm fused layers agree with face-api\'s own formulation and the f64 reference, layer by layer', () => {
    // small input keeps the f64 reference fast in both runtimes; 40 = even, so every stride-2
    // layer uses the asymmetric (0, 1) 'same' padding, like 224 and 512
    const H = 40;
    const layers = buildBackbone(weights, H, H);
    const img = syntheticImage(H, H, 7);
    const ref = backboneRef(layers, img.nchw);
    const taps: Float32Array[] = [];
    const tb = new TfjsBackbone(layers);
    tb.run(img.nhwc, taps);
    tb.dispose();
    const faceApi = runFaceApiStyle(weights, img.nhwc, H, H);
    let worstFolded = 0, worstFaceApi = 0;
    layers.forEach((l: ConvLayer, i) => {
      worstFolded = Math.max(worstFolded, maxRelErr(nhwcToNchw(taps[i], l.cout, l.hOut, l.wOut), ref[i]));
      worstFaceApi = Math.max(worstFaceApi, maxRelErr(nhwcToNchw(faceApi[i], l.cout, l.hOut, l.wOut), ref[i]));
    });
    // Measured ~1e-5 (max abs error / layer range, chained through 27 layers, f32 sums of up to
    // 1024*9 terms vs f64). 1e-4 leaves 10x margin; a layout, padding or folding bug is O(1).
    expect(worstFolded).toBeLessThan(1e-4);
    expect(worstFaceApi).toBeLessThan(1e-4);
  });

  it('TesseraBackbone plumbing (arena ping-pong, taps) with the plain-JS layer reproduces the reference exactly', async () => {
    const tk = await tkFor('simd128');
    const H = 24;
    const layers = buildBackbone(weights, H, H);
    const img = syntheticImage(H, H, 3);
    const ref = backboneRef(layers, img.nchw);
    const net = new TesseraBackbone(tk, layers, () => jsLayer);
    const taps: Float32Array[] = [];
    const out = net.run(img.nchw, taps);
    net.dispose();
    layers.forEach((_, i) => expect(taps[i]).toEqual(ref[i])); // same code on the same f32 data: bit-identical
    expect(out).toEqual(ref[ref.length - 1]);
  });

  /** worst over layers of max|ours - tfjs| / max|tfjs| */
  function worstVsTfjs(layers: ConvLayer[], ours: Float32Array[], tf: Float32Array[]): number {
    return Math.max(...layers.map((l, i) => maxRelErr(ours[i], nhwcToNchw(tf[i], l.cout, l.hOut, l.wOut))));
  }
  function tfjsTaps(layers: ConvLayer[], input: Float32Array, w?: (Float32Array | undefined)[]): Float32Array[] {
    const tb = new TfjsBackbone(layers, w);
    const taps: Float32Array[] = [];
    tb.run(input, taps);
    tb.dispose();
    return taps;
  }
  // Tolerance for tessera vs tfjs-wasm, both f32: measured worst layer 1.1e-5 (simd128) / 1.3e-5
  // (relaxed, FMA) at 224x224: different summation orders (NCHW GEMM / direct vs XNNPACK NHWC) compounded
  // through 27 chained layers. 1e-4 keeps ~8x margin; a wrong pad, stride, bias or layout is O(1).
  const TOL = 1e-4;

  // 224: the standard shapes (even sizes -> asymmetric TF 'same' pads at stride 2);
  // 57: odd sizes (symmetric pads at stride 2) and spatial tails (57^2, 29^2, 15^2, 8^2 pixels)
  for (const H of [224, 57]) {
    it(`tessera dense backbone (tk.dense, and best kernel per layer) matches tfjs-wasm layer by layer at ${H}x${H}, both tiers`, async () => {
      const layers = buildBackbone(weights, H, H);
      const img = syntheticImage(H, H, 11);
      const ref = tfjsTaps(layers, img.nhwc);
      const finals: Float32Array[] = [];
      for (const tier of TIERS) {
        const tk = await tkFor(tier);
        for (const f of [denseLayer, bestDenseLayer] as LayerFactory[]) {
          const net = new TesseraBackbone(tk, layers, () => f);
          const taps: Float32Array[] = [];
          finals.push(net.run(img.nchw, taps));
          net.dispose();
          expect(worstVsTfjs(layers, taps, ref)).toBeLessThan(TOL);
        }
      }
      // differential: every variant agrees with the first (simd128, tk.dense) on the final output
      for (const o of finals.slice(1)) expect(maxRelErr(o, finals[0])).toBeLessThan(TOL);
    });
  }

  it('1x1 layers pruned with tk.sparse.prune (magnitude, 4x1 blocks): only whole blocks removed, block density <= 1 - s', async () => {
    const tk = await tkFor('simd128');
    const layers = buildBackbone(weights, 224, 224);
    for (const s of [0.3, 0.7, 0.9]) {
      for (const l of layers.filter((x) => x.kind === 'pw')) {
        const w = prunePointwise(tk, l, s);
        // prune zeroes round(s * blocks) blocks: density <= 1 - s up to one block of rounding
        expect(blockDensity4x1(w, l.cout, l.cin)).toBeLessThanOrEqual(1 - s + 1 / ((l.cout / 4) * l.cin));
        let changed = 0, kept = 0, nonzeroChanged = 0, partialBlocks = 0;
        for (let i = 0; i < w.length; i++) {
          if (w[i] !== l.weight[i]) { changed++; if (w[i] !== 0) nonzeroChanged++; } else if (w[i] !== 0) kept++;
        }
        // each 4x1 block (4 output channels at one input channel) is either all zero or untouched
        for (let r = 0; r + 4 <= l.cout; r += 4) for (let c = 0; c < l.cin; c++) {
          let zeroed = 0, zero = 0;
          for (let j = 0; j < 4; j++) { const i = (r + j) * l.cin + c; if (w[i] === 0) zero++; if (w[i] === 0 && l.weight[i] !== 0) zeroed++; }
          if (zeroed > 0 && zero !== 4) partialBlocks++;
        }
        expect(nonzeroChanged).toBe(0); // pruning only writes zeros
        expect(partialBlocks).toBe(0);
        // (the shipped weights already have zero blocks: pw1 is past 30 % before pruning)
        if (blockDensity4x1(l.weight, l.cout, l.cin) > 1 - s + 1e-9) expect(changed).toBeGreaterThan(0);
        expect(kept).toBeGreaterThan(0);
      }
    }
  });

  for (const H of [224, 57]) {
    it(`pruned backbone (70 % 4x1 blocks) on sparse and auto 1x1 layers matches tfjs-wasm with the same pruned weights at ${H}x${H}, both tiers`, async () => {
      const layers = buildBackbone(weights, H, H);
      const img = syntheticImage(H, H, 5);
      const tk0 = await tkFor('simd128');
      const pruned = layers.map((l) => (l.kind === 'pw' ? prunePointwise(tk0, l, 0.7) : undefined));
      const ref = tfjsTaps(layers, img.nhwc, pruned);
      for (const tier of TIERS) {
        const tk = await tkFor(tier);
        for (const f of [sparseLayer, autoLayer] as LayerFactory[]) {
          const net = new TesseraBackbone(tk, layers, (l) => (l.kind === 'pw' ? f : bestDenseLayer), pruned);
          const taps: Float32Array[] = [];
          net.run(img.nchw, taps);
          if (f === sparseLayer) expect(net.prepared.filter((p) => p.impl === 'sparse').length).toBe(13);
          net.dispose();
          expect(worstVsTfjs(layers, taps, ref)).toBeLessThan(TOL);
        }
      }
    });
  }
});
