// Sparse family: packing/validation/serialization, sparse matmul / 1x1 / 3x3 conv against an f64
// reference, zero-copy layers, auto choice, and hostile inputs (corrupt matrices and bytes must be a
// SparseFormatError, never an out-of-bounds access: every instance runs with debug guard bytes, which
// tk.run verifies after each op).
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, DTypeError, init, ShapeError, SparseFormatError, SparseMatrix, type SparseBlock, type Tessera,
} from '../../bindings/index.js';
import { chwgemmKernelName, spmmKernelName } from '../../bindings/ops/sparse.js';
import { maxScaledErr, refConv2d, refMatmul, resignSparseBytes, sparseWeights, type RefActivation } from '../helpers/ref-sparse.js';
import { randomF32, rng, sameBits, tk, withProfile } from '../helpers/tiers.js';
import { HAS_RELAXED, TIERS } from '../helpers/engine.js';

/**
 * Tolerance: f32 accumulation of K products (in any order, fused or not) has error at most
 * gamma_K = K*u/(1-K*u) times sum|products| (u = 2^-24, Higham Thm 3.1), plus one rounding of the
 * result and one of the bias add. maxScaledErr divides by exactly that sum, so the bound is (K+2)*u.
 */
const tol = (K: number) => (K + 2) * 2 ** -24 * 1.01;

const BLOCKS: SparseBlock[] = [[4, 1], [1, 1]];

function checkMatmul(t: Tessera, w: Float32Array, rows: number, cols: number, n: number, block: SparseBlock, act: RefActivation, seed: number, tile?: 8 | 12 | 16 | 32) {
  const bias = randomF32(rows, seed + 5);
  const sp = t.sparse.pack(w, rows, cols, { block, bias });
  const x = randomF32(cols * n, seed + 6);
  const y = t.sparse.matmul(sp, x, n, { activation: act, tile });
  const ref = refMatmul(w, bias, rows, cols, x, n, act);
  expect(y.length).toBe(rows * n);
  const e = maxScaledErr(y, ref.y, ref.mag);
  expect(e, `rows=${rows} cols=${cols} n=${n} block=${block} act=${act} tile=${tile}`).toBeLessThanOrEqual(tol(cols));
  return y;
}

for (const tier of TIERS) {
  describe(`sparse [${tier}]`, () => {
    it('packs, reports sparsity and block fill, and unpacks exactly', async () => {
      const t = await tk(tier);
      for (const block of BLOCKS) {
        const w = sparseWeights(13, 11, 0.6, 1, block);
        const bias = randomF32(13, 2);
        const sp = t.sparse.pack(w, 13, 11, { block, bias });
        const d = sp.toDense();
        expect(Array.from(d.weights)).toEqual(Array.from(w));
        expect(Array.from(d.bias)).toEqual(Array.from(bias));
        const zeros = w.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
        expect(sp.sparsity).toBeCloseTo(zeros / w.length, 12);
        expect(sp.blockFill).toBe(1); // random nonzero weights, whole blocks pruned
        expect(sp.groups).toBe(block[0] === 4 ? 3 : 0);
        expect(sp.singleRows).toBe(block[0] === 4 ? 1 : 13);
      }
      // partially filled 4x1 blocks: fill < 1, zeros stored inside blocks
      const w = new Float32Array(8 * 3); w[0] = 1; w[3 * 3 + 1] = 2; w[5 * 3 + 2] = 3;
      const sp = t.sparse.pack(w, 8, 3);
      expect(sp.storedBlocks).toBe(3);
      expect(sp.blockFill).toBeCloseTo(3 / 12, 12);
      // threshold: magnitude pruning at pack time
      const sp2 = t.sparse.pack(new Float32Array([0.25, -0.5, 0.125, 2]), 1, 4, { block: [1, 1], threshold: 0.25 }); // |w| <= threshold counts as zero
      expect(sp2.storedBlocks).toBe(2);
      expect(Array.from(sp2.toDense().weights)).toEqual([0, -0.5, 0, 2]);
    });

    it('prune() zeroes the lowest-magnitude blocks to the requested sparsity', async () => {
      const t = await tk(tier);
      const w = randomF32(16 * 10, 3);
      const p = t.sparse.prune(w, 16, 10, { sparsity: 0.5, block: [4, 1] });
      const sp = t.sparse.pack(p, 16, 10);
      expect(sp.storedBlocks).toBe(20);
      expect(sp.blockFill).toBe(1);
      const p3 = t.sparse.prune(randomF32(6 * 5 * 9, 4), 6, 5, { sparsity: 0.7, block: [4, 1], kernelSize: 3 });
      const sp3 = t.sparse.pack(p3, 6, 5, { kernelSize: 3 });
      expect(sp3.storedBlocks).toBe(15 - Math.round(0.7 * 15)); // 3 block rows (1 group + 2 tail rows) x 5 columns
      expect(() => t.sparse.prune(w, 16, 10, { sparsity: 1.5 })).toThrow(ArgumentError);
    });

    it('matmul: empty rows/columns, all-zero, fully dense, single nonzero', async () => {
      const t = await tk(tier);
      for (const block of BLOCKS) {
        const rows = 9, cols = 7;
        const w = randomF32(rows * cols, 10);
        for (let c = 0; c < cols; c++) { w[0 * cols + c] = 0; w[1 * cols + c] = 0; w[2 * cols + c] = 0; w[3 * cols + c] = 0; w[8 * cols + c] = 0; } // empty rows (a whole group + tail row)
        for (let r = 0; r < rows; r++) { w[r * cols + 2] = 0; w[r * cols + 6] = 0; } // empty columns
        checkMatmul(t, w, rows, cols, 11, block, 'none', 11);
        checkMatmul(t, new Float32Array(rows * cols), rows, cols, 5, block, 'relu', 12); // nothing stored: bias only
        checkMatmul(t, randomF32(rows * cols, 13), rows, cols, 19, block, 'none', 13); // fully dense
        const one = new Float32Array(rows * cols); one[5 * cols + 4] = 1.5;
        const y = checkMatmul(t, one, rows, cols, 3, block, 'none', 14);
        expect(y.length).toBe(27);
      }
    });

    it('matmul: fuzzed patterns, channel and spatial tails, every tile and activation', async () => {
      const t = await tk(tier);
      const r = rng(99);
      for (let it = 0; it < 40; it++) {
        const rows = 1 + Math.floor(r() * 22), cols = 1 + Math.floor(r() * 30);
        const n = [1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 31, 33, 47][Math.floor(r() * 13)];
        const block = BLOCKS[it & 1];
        const w = sparseWeights(rows, cols, r(), 200 + it, block);
        const act = (['none', 'relu', 'relu6'] as const)[it % 3];
        const tiles = block[0] === 4 ? [8, 12, 16] as const : [16, 32] as const;
        checkMatmul(t, w, rows, cols, n, block, act, 300 + it, tiles[it % tiles.length]);
      }
      // batch-1 (GEMV kernels) with long rows: exercises the 4-wide / 8-wide unrolled walks and their tails
      // (cols > 65536 switches from u16 column indices to the i32 delta walk)
      for (const [rows, cols, s] of [[13, 100, 0.3], [7, 257, 0.8], [21, 64, 0], [6, 70001, 0.995]] as const) {
        for (const block of BLOCKS) checkMatmul(t, sparseWeights(rows, cols, s, rows + cols, block), rows, cols, 1, block, 'relu6', 400 + rows);
      }
    });

    it('conv2d 3x3: stride 1/2, pad 0/1, kernel groups and single kernels, odd sizes', async () => {
      const t = await tk(tier);
      const r = rng(7);
      for (let it = 0; it < 24; it++) {
        const rows = 1 + Math.floor(r() * 10), c = 1 + Math.floor(r() * 6);
        const h = 1 + Math.floor(r() * 12), wd = 1 + Math.floor(r() * 19);
        const stride = (1 + (it & 1)) as 1 | 2, pad = (it % 5 === 4 ? 0 : 1) as 0 | 1;
        if (h + 2 * pad < 3 || wd + 2 * pad < 3) continue;
        const block = BLOCKS[(it >> 1) & 1];
        const w = sparseWeights(rows, c, r() * 0.9, 500 + it, block, 3);
        const bias = randomF32(rows, 600 + it);
        const sp = t.sparse.pack(w, rows, c, { block, bias, kernelSize: 3 });
        const x = randomF32(c * h * wd, 700 + it);
        const act = (['none', 'relu', 'relu6'] as const)[it % 3];
        const y = t.sparse.conv2d(sp, x, { c, h, w: wd, stride, pad, activation: act });
        const ref = refConv2d(w, bias, rows, c, h, wd, 3, stride, pad, x, act);
        expect(y.length).toBe(rows * ref.oh * ref.ow);
        expect(maxScaledErr(y, ref.y, ref.mag), `it=${it} ${rows}x${c} ${h}x${wd} s${stride} p${pad} ${block}`).toBeLessThanOrEqual(tol(9 * c));
      }
      // widths that are not a multiple of the tile: stride 1 runs whole tiles over (oh-1)*Wp + ow
      // flattened positions rounded up (7x7: 61 -> 64); stride 2 rounds rows up to whole tiles when they
      // would end in two or more tail tiles (ow = 7 with either tile; 14 with 16-pixel single-channel
      // tiles). Whether their junk reads stay inside the staging slack: tests/unit/sparse-conv-extent.test.ts.
      for (const [h, wd, c, stride] of [[7, 7, 3, 1], [14, 14, 2, 1], [5, 3, 1, 1], [1, 9, 2, 1], [13, 13, 2, 2], [28, 27, 1, 2], [9, 5, 3, 2]] as const) {
        for (const block of BLOCKS) {
          const rows = 9, w = sparseWeights(rows, c, 0.5, 800 + h, block, 3), bias = randomF32(rows, 801);
          const sp = t.sparse.pack(w, rows, c, { block, bias, kernelSize: 3 });
          const x = randomF32(c * h * wd, 802);
          const y = t.sparse.conv2d(sp, x, { c, h, w: wd, stride, activation: 'relu6' });
          const ref = refConv2d(w, bias, rows, c, h, wd, 3, stride, 1, x, 'relu6');
          expect(maxScaledErr(y, ref.y, ref.mag), `${h}x${wd} c${c} s${stride} ${block}`).toBeLessThanOrEqual(tol(9 * c));
        }
      }
    });

    it('conv2d 1x1 equals matmul over H*W', async () => {
      const t = await tk(tier);
      const w = sparseWeights(6, 5, 0.5, 31, [4, 1]);
      const sp = t.sparse.pack(w, 6, 5);
      const x = randomF32(5 * 3 * 7, 32);
      expect(Array.from(t.sparse.conv2d(sp, x, { c: 5, h: 3, w: 7 }))).toEqual(Array.from(t.sparse.matmul(sp, x, 21)));
      expect(() => t.sparse.conv2d(sp, x, { c: 5, h: 3, w: 7, stride: 2 })).toThrow(ArgumentError);
    });

    it('zero-copy layers (row panels), dense baseline layer and auto choice match the reference', async () => {
      const t = await tk(tier);
      const before = t.memoryStats().usedBytes;
      const rows = 23, cols = 19, n = 37;
      const w = sparseWeights(rows, cols, 0.6, 41, [4, 1]);
      const bias = randomF32(rows, 42);
      const x = randomF32(cols * n, 43);
      const ref = refMatmul(w, bias, rows, cols, x, n, 'relu6');
      const sp = t.sparse.pack(w, rows, cols, { bias });
      const tx = t.tensorFrom(x, [cols, n]), ty = t.tensor('f32', [rows, n]);
      for (const chunkBytes of [1, 300, undefined]) {
        const l = t.sparse.layer(sp, { n, chunkBytes }, { activation: 'relu6' });
        ty.view().fill(NaN);
        l.run(tx, ty);
        expect(maxScaledErr(ty.read() as Float32Array, ref.y, ref.mag)).toBeLessThanOrEqual(tol(cols));
        l.dispose();
        const d = t.sparse.denseLayer(w, rows, cols, { n, chunkBytes }, { bias, activation: 'relu6' });
        expect(maxScaledErr(d.apply(x), ref.y, ref.mag)).toBeLessThanOrEqual(tol(cols));
        d.dispose();
      }
      for (const policy of ['measure', 'density'] as const) {
        const a = t.sparse.auto(w, rows, cols, { n }, { bias, activation: 'relu6', policy });
        expect(['sparse', 'dense', 'dense-chw']).toContain(a.choice);
        if (policy === 'measure') expect(Object.keys(a.timings ?? {}).sort()).toEqual(['dense', 'dense-chw', 'sparse']);
        expect(maxScaledErr(a.apply(x), ref.y, ref.mag)).toBeLessThanOrEqual(tol(cols));
        a.dispose();
      }
      // the dense family's op behind the same interface (GEMV for n = 1, 1x1 conv otherwise)
      for (const nn of [1, n]) {
        const xx = randomF32(cols * nn, 46);
        const rr = refMatmul(w, bias, rows, cols, xx, nn, 'relu');
        const df = t.sparse.denseFamilyLayer(w, rows, cols, { n: nn }, { bias, activation: 'relu' });
        expect(maxScaledErr(df.apply(xx), rr.y, rr.mag)).toBeLessThanOrEqual(tol(cols));
        df.dispose();
        const a1 = t.sparse.auto(w, rows, cols, { n: nn }, { bias, activation: 'relu' });
        expect(maxScaledErr(a1.apply(xx), rr.y, rr.mag)).toBeLessThanOrEqual(tol(cols));
        a1.dispose();
      }
      // conv layer with panels
      const w3 = sparseWeights(9, 4, 0.5, 44, [4, 1], 3);
      const sp3 = t.sparse.pack(w3, 9, 4, { kernelSize: 3, bias: bias.subarray(0, 9) });
      const x3 = randomF32(4 * 10 * 13, 45);
      const ref3 = refConv2d(w3, bias.subarray(0, 9), 9, 4, 10, 13, 3, 2, 1, x3);
      for (const chunkBytes of [1, undefined]) {
        const l3 = t.sparse.layer(sp3, { h: 10, w: 13, stride: 2, pad: 1, chunkBytes });
        expect(l3.outputShape).toEqual([9, ref3.oh, ref3.ow]);
        expect(maxScaledErr(l3.apply(x3), ref3.y, ref3.mag)).toBeLessThanOrEqual(tol(36));
        l3.dispose();
      }
      const d3 = t.sparse.denseLayer(w3, 9, 4, { h: 10, w: 13, stride: 2, pad: 1 }, { kernelSize: 3, bias: bias.subarray(0, 9) });
      expect(maxScaledErr(d3.apply(x3), ref3.y, ref3.mag)).toBeLessThanOrEqual(tol(36));
      d3.dispose();
      const a3 = t.sparse.auto(w3, 9, 4, { h: 10, w: 13, stride: 2, pad: 1 }, { kernelSize: 3, bias: bias.subarray(0, 9) });
      expect(maxScaledErr(a3.apply(x3), ref3.y, ref3.mag)).toBeLessThanOrEqual(tol(36));
      a3.dispose();
      // pointer form (engines with their own ping-pong buffers)
      {
        const l = t.sparse.layer(sp, { n }, { activation: 'relu6' });
        ty.view().fill(NaN);
        l.runPtr(tx.ptr, ty.ptr);
        expect(maxScaledErr(ty.read() as Float32Array, ref.y, ref.mag)).toBeLessThanOrEqual(tol(cols));
        expect(() => l.runPtr(tx.ptr, tx.ptr)).toThrow(ArgumentError);
        expect(() => l.runPtr(tx.ptr + 2, ty.ptr)).toThrow(ArgumentError);
        expect(() => l.runPtr(tx.ptr, t.memory.bytes - 8)).toThrow(ArgumentError);
        l.dispose();
      }
      // shape / dtype errors on run
      const l = t.sparse.layer(sp, { n });
      expect(() => l.run(ty, ty)).toThrow(ShapeError);
      l.dispose();
      expect(() => l.run(tx, ty)).toThrow(/dispose/);
      tx.dispose(); ty.dispose();
      expect(t.memoryStats().usedBytes).toBe(before); // arena back to baseline
    });

    it('serialization round trip (bytes in, bytes out)', async () => {
      const t = await tk(tier);
      for (const [block, ks] of [[[4, 1], 1], [[1, 1], 1], [[4, 1], 3], [[1, 1], 3]] as const) {
        const w = sparseWeights(7, 6, 0.5, 51, block, ks);
        const sp = t.sparse.pack(w, 7, 6, { block, bias: randomF32(7, 52), kernelSize: ks });
        const bytes = sp.serialize();
        const back = t.sparse.deserialize(bytes);
        expect(back.serialize()).toEqual(bytes);
        expect(Array.from(back.toDense().weights)).toEqual(Array.from(w));
        expect(back.kernelSize).toBe(ks);
        expect(back.block).toEqual(block);
      }
      // an all-zero matrix serializes too
      const z = t.sparse.pack(new Float32Array(12), 3, 4);
      expect(t.sparse.deserialize(z.serialize()).storedBlocks).toBe(0);
    });

    it('rejects corrupt packed matrices with SparseFormatError; instance and other tensors stay intact', async () => {
      const t = await tk(tier); // debug guards on: any out-of-bounds write would throw MemoryCorruptionError
      const sentinel = t.tensorFrom(randomF32(64, 61));
      const sentinelData = sentinel.read();
      const before = t.memoryStats().usedBytes;
      const r = rng(62);
      let rejected = 0, accepted = 0;
      for (let it = 0; it < 300; it++) {
        const rows = 2 + Math.floor(r() * 9), cols = 2 + Math.floor(r() * 9), ks = (it % 4 === 3 ? 3 : 1) as 1 | 3;
        const block = BLOCKS[it & 1];
        const w = sparseWeights(rows, cols, 0.5, 1000 + it, block, ks);
        w[0] = 1; // at least one stored block
        const sp = t.sparse.pack(w, rows, cols, { block, kernelSize: ks }) as any;
        const m = Math.floor(r() * 9);
        const pick = (a: ArrayLike<number>) => Math.floor(r() * a.length);
        const bump = () => { const d = Math.floor(r() * 2 ** (1 + Math.floor(r() * 31))) * (r() < 0.5 ? -1 : 1); return d === 0 ? 1 : d; };
        switch (m) {
          case 0: { const i = pick(sp.nnz); sp.nnz[i] = (sp.nnz[i] + bump()) >>> 0; break; }
          case 1: { const i = pick(sp.delta); sp.delta[i] = (sp.delta[i] + bump()) | 0; break; }
          case 2: sp.first = sp.first + bump(); break;
          case 3: sp.vals = sp.vals.subarray(0, Math.max(0, sp.vals.length - 1 - Math.floor(r() * 5))); break;
          case 4: sp.rows = sp.rows + bump(); break;
          case 5: sp.cols = Math.max(1, sp.cols - 1 - Math.floor(r() * 3)); break;
          case 6: sp.delta = new Int32Array([...sp.delta, 0]); break;
          case 7: sp.nnz = new Uint32Array(sp.nnz.length + 1); break;
          default: { const i = pick(sp.delta), j = pick(sp.delta); const tmp = sp.delta[i]; sp.delta[i] = sp.delta[j]; sp.delta[j] = tmp + (i === j ? 1 : 0); }
        }
        try {
          // n alternates 5 (CHW walk) and 1 (batch-1 plan: runs / gather staging)
          const n = (it >> 1) & 1 ? 1 : 5;
          if (ks === 1) t.sparse.matmul(sp, randomF32(Math.max(0, sp.cols) * n, it), n);
          else t.sparse.conv2d(sp, randomF32(Math.max(0, sp.cols) * 5 * 6, it), { c: sp.cols, h: 5, w: 6 });
          // a mutation can leave a valid matrix (e.g. a swap of equal deltas): then it must really be valid
          expect(() => t.sparse.validate(sp)).not.toThrow();
          accepted++;
        } catch (e) {
          if (!(e instanceof SparseFormatError || e instanceof ShapeError)) throw e;
          rejected++;
        }
      }
      expect(rejected).toBeGreaterThan(250);
      t.arena.check();
      expect(Array.from(sentinel.read())).toEqual(Array.from(sentinelData));
      expect(t.memoryStats().usedBytes).toBe(before);
      // still usable
      checkMatmul(t, sparseWeights(5, 4, 0.3, 63, [4, 1]), 5, 4, 6, [4, 1], 'none', 64);
      sentinel.dispose();
      expect(accepted + rejected).toBe(300);
      // constructing a malformed matrix directly is rejected too
      expect(() => new SparseMatrix({ rows: 4, cols: 4, kernelSize: 1, blockRows: 4, first: 0, nnz: new Uint32Array([1]), delta: new Int32Array([4]), vals: new Float32Array(8) }))
        .toThrow(SparseFormatError);
      expect(() => t.sparse.matmul({} as any, new Float32Array(4), 1)).toThrow(DTypeError);
    });

    it('rejects corrupt serialized bytes with SparseFormatError', async () => {
      const t = await tk(tier);
      const w = sparseWeights(9, 8, 0.5, 71, [4, 1]);
      const sp = t.sparse.pack(w, 9, 8, { bias: randomF32(9, 72) });
      const good = sp.serialize();
      const x = randomF32(8 * 3, 73);
      const want = t.sparse.matmul(sp, x, 3);
      const r = rng(74);
      let rejected = 0;
      for (let it = 0; it < 400; it++) {
        let b = good.slice();
        const kind = it % 4;
        if (kind === 0) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8); // bit flip (payload: checksum)
        else if (kind === 1) b = b.subarray(0, Math.floor(r() * b.length)); // truncation
        else if (kind === 2) { b = new Uint8Array(b.length + 1 + Math.floor(r() * 8)); b.set(good); } // trailing bytes
        else {
          // a payload or header word overwritten, then the checksum re-signed: structural checks only
          const o = 8 + 4 * Math.floor(r() * ((b.length - 8) / 4));
          if (o !== 36) new DataView(b.buffer).setUint32(o, Math.floor(r() * 2 ** 32), true);
          resignSparseBytes(b);
        }
        try {
          const back = t.sparse.deserialize(b);
          // only possible when the change left a valid matrix (a float value, a header word such as cols that
          // stays consistent, re-signed): it must then be safe to run
          if (back.cols <= 4096) expect(t.sparse.matmul(back, randomF32(back.cols * 3, it), 3).length).toBe(back.rows * 3);
        } catch (e) {
          expect(e).toBeInstanceOf(SparseFormatError);
          rejected++;
        }
      }
      expect(rejected).toBeGreaterThan(300);
      expect(() => t.sparse.deserialize(new Uint8Array(0))).toThrow(SparseFormatError);
      // the checksum flag cannot be switched off: a clear flag is itself corruption, even with the bytes otherwise intact
      const unsigned = good.slice(); unsigned[6] &= ~1;
      expect(() => t.sparse.deserialize(unsigned)).toThrow(/checksum flag/);
      expect(() => t.sparse.deserialize([1, 2] as any)).toThrow(DTypeError);
      expect(Array.from(t.sparse.matmul(t.sparse.deserialize(good), x, 3))).toEqual(Array.from(want));
      t.arena.check();
    });

    it('argument errors are typed', async () => {
      const t = await tk(tier);
      const sp = t.sparse.pack(randomF32(8, 81), 2, 4);
      expect(() => t.sparse.matmul(sp, new Float32Array(7), 2)).toThrow(ShapeError);
      expect(() => t.sparse.matmul(sp, new Float32Array(8), 0)).toThrow(ShapeError);
      expect(() => t.sparse.matmul(sp, new Float64Array(8) as any, 2)).toThrow(DTypeError);
      expect(() => t.sparse.matmul(sp, new Float32Array(8), 2, { activation: 'gelu' as any })).toThrow(ArgumentError);
      expect(() => t.sparse.matmul(sp, new Float32Array(8), 2, { tile: 32 })).toThrow(ArgumentError);
      expect(() => t.sparse.pack(randomF32(8, 82), 3, 4)).toThrow(ShapeError);
      expect(() => t.sparse.pack(randomF32(8, 82), 2, 4, { block: [2, 1] as any })).toThrow(ArgumentError);
      const sp3 = t.sparse.pack(randomF32(2 * 4 * 9, 83), 2, 4, { kernelSize: 3 });
      expect(() => t.sparse.conv2d(sp3, new Float32Array(4 * 5 * 5), { c: 4, h: 5, w: 5, stride: 3 as any })).toThrow(ArgumentError);
      expect(() => t.sparse.conv2d(sp3, new Float32Array(3 * 5 * 5), { c: 3, h: 5, w: 5 })).toThrow(ShapeError);
      expect(() => t.sparse.conv2d(sp3, new Float32Array(4), { c: 4, h: 1, w: 1, pad: 0 })).toThrow(ShapeError);
      // 3x3 weights are not a matmul (batch 1 and batched alike; found by the fuzzer through a deserialized kernelSize byte)
      for (const n of [1, 2, 7]) expect(() => t.sparse.matmul(sp3, new Float32Array(4 * n), n)).toThrow(/kernelSize 3.*sparse\.conv2d/);
      expect(() => t.sparse.matmul(sp3, new Float32Array(8), 2)).toThrow(ShapeError);
      t.arena.check();
    });
  });
}

describe.skipIf(!HAS_RELAXED)('sparse: simd128 vs relaxed (differential; needs relaxed SIMD)', () => {
  it('agree within the accumulation bound on matmul and conv', async () => {
    const a = await tk('simd128'), b = await tk('relaxed');
    for (let it = 0; it < 6; it++) {
      const rows = 5 + it * 3, cols = 7 + it * 5, n = 3 + it * 7;
      const w = sparseWeights(rows, cols, 0.5, 900 + it, BLOCKS[it & 1]);
      const x = randomF32(cols * n, 950 + it);
      const ya = a.sparse.matmul(a.sparse.pack(w, rows, cols, { block: BLOCKS[it & 1] }), x, n);
      const yb = b.sparse.matmul(b.sparse.pack(w, rows, cols, { block: BLOCKS[it & 1] }), x, n);
      const ref = refMatmul(w, undefined, rows, cols, x, n);
      // each is within (K+2)u of the exact result, so they are within twice that of each other
      expect(maxScaledErr(ya, Float64Array.from(yb), ref.mag)).toBeLessThanOrEqual(2 * tol(cols));
      const w3 = sparseWeights(rows, 3, 0.4, 970 + it, [4, 1], 3);
      const x3 = randomF32(3 * 9 * 11, 980 + it);
      const ca = a.sparse.conv2d(a.sparse.pack(w3, rows, 3, { kernelSize: 3 }), x3, { c: 3, h: 9, w: 11, stride: (1 + (it & 1)) as 1 | 2 });
      const cb = b.sparse.conv2d(b.sparse.pack(w3, rows, 3, { kernelSize: 3 }), x3, { c: 3, h: 9, w: 11, stride: (1 + (it & 1)) as 1 | 2 });
      const r3 = refConv2d(w3, undefined, rows, 3, 9, 11, 3, 1 + (it & 1), 1, x3);
      expect(maxScaledErr(ca, Float64Array.from(cb), r3.mag)).toBeLessThanOrEqual(2 * tol(27));
    }
  });
});

/**
 * Under init({ boundsChecks: 'explicit' }) (the default in Deno) the 4x1-block kernels are the `_splat`
 * variants (one v128 load of a block's 4 weights + lane shuffles instead of 4 load32_splat). They run
 * the same madds into the same accumulators in the same order as the default kernels, and a shuffled
 * lane has the loaded weight's exact bits, so every output must be BIT-IDENTICAL to the load32_splat
 * kernels' (forced with tk.kernelProfile.sparseSplat = false: outside browsers the default is _splat
 * too); one reference check per shape keeps both honest.
 */
const plain = <T>(t: Tessera, f: () => T): T => withProfile(t, { sparseSplat: false }, f);
for (const tier of TIERS) {
  describe(`sparse [${tier}]: explicit bounds-check kernels`, () => {
    it('select the _splat kernels and match the default kernels bit for bit (1x1 every tile, dense-CHW, 3x3, panels)', async () => {
      const base = await tk(tier);
      const ex = await init({ simd: tier, debug: true, boundsChecks: 'explicit' });
      try {
        expect(base.features.boundsChecks).toBe('guard');
        expect(ex.features.boundsChecks).toBe('explicit');
        for (const tile of [8, 12, 16] as const) {
          // tile 12 has no _splat build (it spills; see scripts/gen-sparse.mjs): loadsplat in both modes
          const sfx = tile === 12 ? '' : '_splat';
          expect(spmmKernelName(ex, 4, tile)).toBe(`f32_spmm_${tile}x4__wasmsimd${sfx}`);
          expect(plain(base, () => spmmKernelName(base, 4, tile))).toBe(`f32_spmm_${tile}x4__wasmsimd`);
          expect(chwgemmKernelName(ex, tile)).toBe(`f32_chwgemm_${tile}x4__wasmsimd${sfx}`);
          expect(typeof ex.kernels[spmmKernelName(ex, 4, tile)]).toBe('function');
          expect(typeof ex.kernels[chwgemmKernelName(ex, tile)]).toBe('function');
        }
        const r = rng(1234);
        for (let it = 0; it < 24; it++) {
          const rows = 1 + Math.floor(r() * 22), cols = 1 + Math.floor(r() * 30);
          const n = [2, 3, 5, 7, 8, 9, 13, 17, 31, 33, 47][Math.floor(r() * 11)];
          const block = BLOCKS[it % 4 === 3 ? 1 : 0];
          const w = sparseWeights(rows, cols, r(), 1300 + it, block);
          const bias = randomF32(rows, 1400 + it), x = randomF32(cols * n, 1500 + it);
          const activation = (['none', 'relu', 'relu6'] as const)[it % 3];
          const tile = block[0] === 4 ? ([8, 12, 16] as const)[it % 3] : 16;
          const ya = plain(base, () => base.sparse.matmul(base.sparse.pack(w, rows, cols, { block, bias }), x, n, { activation, tile }));
          const yb = ex.sparse.matmul(ex.sparse.pack(w, rows, cols, { block, bias }), x, n, { activation, tile });
          expect(sameBits(yb, ya), `matmul it=${it} ${rows}x${cols} n=${n} ${block} tile=${tile}`).toBe(true);
          const ref = refMatmul(w, bias, rows, cols, x, n, activation);
          expect(maxScaledErr(yb, ref.y, ref.mag)).toBeLessThanOrEqual(tol(cols));
          // dense-CHW baseline (same tile) and a row-panel split (chunkBytes) through zero-copy layers
          const da = base.sparse.denseLayer(w, rows, cols, { n, tile }, { bias, activation });
          const db = ex.sparse.denseLayer(w, rows, cols, { n, tile }, { bias, activation });
          expect(sameBits(db.apply(x), plain(base, () => da.apply(x))), `dense-chw it=${it} tile=${tile}`).toBe(true);
          da.dispose(); db.dispose();
          const la = base.sparse.layer(base.sparse.pack(w, rows, cols, { block, bias }), { n, tile, chunkBytes: 200 });
          const lb = ex.sparse.layer(ex.sparse.pack(w, rows, cols, { block, bias }), { n, tile, chunkBytes: 200 });
          expect(sameBits(lb.apply(x), plain(base, () => la.apply(x))), `layer it=${it}`).toBe(true);
          la.dispose(); lb.dispose();
        }
        for (let it = 0; it < 16; it++) {
          const rows = 1 + Math.floor(r() * 13), c = 1 + Math.floor(r() * 6);
          const h = 1 + Math.floor(r() * 12), wd = 1 + Math.floor(r() * 21);
          const stride = (1 + (it & 1)) as 1 | 2, pad = (it % 5 === 4 ? 0 : 1) as 0 | 1;
          if (h + 2 * pad < 3 || wd + 2 * pad < 3) continue;
          const w = sparseWeights(rows, c, r() * 0.9, 1600 + it, [4, 1], 3);
          const bias = randomF32(rows, 1700 + it), x = randomF32(c * h * wd, 1800 + it);
          const o = { c, h, w: wd, stride, pad, activation: 'relu' as const };
          const ya = plain(base, () => base.sparse.conv2d(base.sparse.pack(w, rows, c, { bias, kernelSize: 3 }), x, o));
          const yb = ex.sparse.conv2d(ex.sparse.pack(w, rows, c, { bias, kernelSize: 3 }), x, o);
          expect(sameBits(yb, ya), `conv it=${it} ${rows}x${c} ${h}x${wd} s${stride} p${pad}`).toBe(true);
          const ref = refConv2d(w, bias, rows, c, h, wd, 3, stride, pad, x, 'relu');
          expect(maxScaledErr(yb, ref.y, ref.mag)).toBeLessThanOrEqual(tol(9 * c));
          const g = { h, w: wd, stride, pad };
          const da = base.sparse.denseLayer(w, rows, c, g, { kernelSize: 3, bias });
          const db = ex.sparse.denseLayer(w, rows, c, g, { kernelSize: 3, bias });
          expect(sameBits(db.apply(x), plain(base, () => da.apply(x))), `dense 3x3 it=${it}`).toBe(true);
          da.dispose(); db.dispose();
        }
      } finally { ex.dispose(); }
    });
  });
}
