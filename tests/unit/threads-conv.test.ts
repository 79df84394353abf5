// Threaded dense / depthwise NCHW conv ((image, output-channel block) tiles across the pool) is
// bit-identical to the single-thread PackedConv2d.run, validates like it, and leaves the arena as it found it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Tessera } from '../../bindings/index.js';
import type { Conv2dOptions } from '../../bindings/ops/dense.js';
import { ArgumentError, DTypeError, DisposedError, ShapeError } from '../../bindings/errors.js';
import { randomF32, sameBits } from '../helpers/tiers.js';


type Case = { name: string; n: number; f16?: boolean; o: Omit<Conv2dOptions, 'bias' | 'n'> & { bias?: boolean } };

// every kernel path of PackedConv2d.exec: 1x1 (conv1x1), stride 1 with pads (implicit GEMM), stride 2
// (im2col), depthwise 3x3 s1 / s2 (fast paths) and 5x5 (generic); odd channel counts leave a partial
// last MR panel; sizes are above PARALLEL_CONV_MIN_MACS so the pool really splits them.
const CASES: Case[] = [
  { name: '1x1 37->29, 2 images, bias + relu6', n: 2, o: { c: 37, h: 14, w: 13, cout: 29, kh: 1, kw: 1, bias: true, activation: 'relu6' } },
  { name: '3x3 s1 pad 1, 19->43', n: 1, o: { c: 19, h: 17, w: 15, cout: 43, kh: 3, kw: 3, pad: 1, bias: true } },
  { name: '3x3 s1 pad 1, 16->33 f16 weights, 2 images, relu', n: 2, f16: true, o: { c: 16, h: 12, w: 12, cout: 33, kh: 3, kw: 3, pad: 1, activation: 'relu' } },
  { name: '3x3 s2 pad 1, 13->31, 2 images, bias + relu6', n: 2, o: { c: 13, h: 21, w: 19, cout: 31, kh: 3, kw: 3, stride: 2, pad: 1, bias: true, activation: 'relu6' } },
  { name: '3x3 s2 asym pads [0,1,1,0], 24->24', n: 1, o: { c: 24, h: 24, w: 24, cout: 24, kh: 3, kw: 3, stride: 2, pad: [0, 1, 1, 0] } as Case['o'] },
  { name: 'depthwise 3x3 s1 pad 1, c=37, 2 images, bias + relu6', n: 2, o: { c: 37, h: 29, w: 31, cout: 37, kh: 3, kw: 3, pad: 1, groups: 37, bias: true, activation: 'relu6' } },
  { name: 'depthwise 3x3 s2 pad 1, c=45', n: 1, o: { c: 45, h: 40, w: 38, cout: 45, kh: 3, kw: 3, stride: 2, pad: 1, groups: 45, bias: true } },
  { name: 'depthwise 5x5 s1 pad 2, c=21 (generic path)', n: 2, o: { c: 21, h: 24, w: 23, cout: 21, kh: 5, kw: 5, pad: 2, groups: 21 } },
];

describe('threaded conv2d', () => {
  let tk: Tessera;
  beforeAll(async () => { tk = await init({ threads: 2, debug: true }); });
  afterAll(() => tk?.dispose());

  it('runs with 2 threads', () => { expect(tk.parallel.threads).toBe(2); });

  for (const cs of CASES) {
    it(`${cs.name}: same bits as one thread, split into tiles`, async () => {
      const base = tk.arena.stats();
      const { bias: withBias, ...o } = cs.o;
      const groups = o.groups ?? 1;
      const wlen = o.cout * (o.c / groups) * o.kh * o.kw;
      const w32 = randomF32(wlen, 2);
      const packed = tk.dense.packConv2d(cs.f16 ? tk.f16.fromF32(w32) : w32, { ...o, bias: withBias ? randomF32(o.cout, 3) : undefined });
      const [co, ho, wo] = packed.outShape;
      const x = tk.tensorFrom(randomF32(cs.n * o.c * o.h * o.w, 1));
      const y1 = tk.tensor('f32', [cs.n * co * ho * wo]), y2 = tk.tensor('f32', [cs.n * co * ho * wo]);
      try {
        y1.view().fill(1); y2.view().fill(2);
        packed.run(x, y1, cs.n);
        const before = tk.pool.stats.tiles;
        await tk.parallel.conv2dRun(packed, x, y2, cs.n);
        expect(tk.pool.stats.tiles - before).toBeGreaterThan(1);
        expect(sameBits(y2.read(), y1.read())).toBe(true);
      } finally {
        packed.dispose(); x.dispose(); y1.dispose(); y2.dispose();
      }
      const after = tk.arena.stats();
      expect(after.usedBytes).toBe(base.usedBytes);
      expect(after.blocks).toBe(base.blocks);
    });
  }

  it('uses the MR the weights were packed with, not the current tk.dense.mr', async () => {
    const mr0 = tk.dense.mr;
    const o = { c: 20, h: 15, w: 15, cout: 41, kh: 3, kw: 3, pad: 1 };
    tk.dense.mr = mr0 === 4 ? 6 : 4;
    const packed = tk.dense.packConv2d(randomF32(41 * 20 * 9, 8), o);
    tk.dense.mr = mr0;
    const x = tk.tensorFrom(randomF32(20 * 225, 9)), y1 = tk.tensor('f32', [41 * 225]), y2 = tk.tensor('f32', [41 * 225]);
    try {
      packed.run(x, y1);
      await tk.parallel.conv2dRun(packed, x, y2);
      expect(sameBits(y2.read(), y1.read())).toBe(true);
    } finally { packed.dispose(); x.dispose(); y1.dispose(); y2.dispose(); }
  });

  it('falls back to one call for small work (same bits)', async () => {
    const o = { c: 3, h: 5, w: 5, cout: 4, kh: 3, kw: 3, pad: 1 };
    const packed = tk.dense.packConv2d(randomF32(4 * 3 * 9, 4), o);
    const x = tk.tensorFrom(randomF32(75, 5)), y1 = tk.tensor('f32', [100]), y2 = tk.tensor('f32', [100]);
    try {
      packed.run(x, y1);
      await tk.parallel.conv2dRun(packed, x, y2);
      expect(sameBits(y2.read(), y1.read())).toBe(true);
    } finally { packed.dispose(); x.dispose(); y1.dispose(); y2.dispose(); }
  });

  it('typed errors for bad arguments, before any tile runs', async () => {
    const base = tk.arena.stats();
    const o = { c: 16, h: 16, w: 16, cout: 16, kh: 3, kw: 3, pad: 1 };
    const packed = tk.dense.packConv2d(randomF32(16 * 16 * 9, 6), o);
    const x = tk.tensorFrom(randomF32(16 * 256, 7)), y = tk.tensor('f32', [16 * 256]);
    const short = tk.tensor('f32', [16 * 256 - 1]), half = tk.tensor('f16', [16 * 256]);
    const other = await init({ threads: 1 });
    const foreign = other.tensor('f32', [16 * 256]);
    try {
      y.view().fill(7);
      const tiles = tk.pool.stats.tiles;
      const run = (...a: unknown[]) => (tk.parallel.conv2dRun as (...b: unknown[]) => Promise<void>)(...a);
      await expect(run(packed, short, y)).rejects.toBeInstanceOf(ShapeError);
      await expect(run(packed, x, short)).rejects.toBeInstanceOf(ShapeError);
      await expect(run(packed, x, y, 2)).rejects.toBeInstanceOf(ShapeError); // tensors hold one image
      await expect(run(packed, x, y, 0)).rejects.toBeInstanceOf(ShapeError);
      await expect(run(packed, x, y, 1.5)).rejects.toBeInstanceOf(ShapeError);
      await expect(run(packed, half, y)).rejects.toBeInstanceOf(DTypeError);
      await expect(run(packed, x, x)).rejects.toBeInstanceOf(ArgumentError);
      await expect(run(packed, { ptr: x.ptr, length: x.length, dtype: 'f32' }, y)).rejects.toThrow();
      await expect(run(packed, foreign, y)).rejects.toThrow();
      await expect(run({ geom: packed.geom }, x, y)).rejects.toBeInstanceOf(ArgumentError);
      await expect(run(other.dense.packConv2d(randomF32(16 * 16 * 9, 6), o), x, y)).rejects.toBeInstanceOf(ArgumentError);
      const dead = tk.tensor('f32', [16 * 256]); dead.dispose();
      await expect(run(packed, x, dead)).rejects.toBeInstanceOf(DisposedError);
      expect(tk.pool.stats.tiles).toBe(tiles); // nothing ran
      expect(y.view().every((v) => v === 7)).toBe(true);
      // the single-thread op rejects the same arguments with the same error classes
      expect(() => packed.run(short, y)).toThrow(ShapeError);
      expect(() => packed.run(half as never, y)).toThrow(DTypeError);
      expect(() => packed.run(x, x)).toThrow(ArgumentError);
      const p2 = tk.dense.packConv2d(randomF32(16 * 16 * 9, 6), o); p2.dispose();
      await expect(run(p2, x, y)).rejects.toBeInstanceOf(DisposedError);
      expect(() => p2.run(x, y)).toThrow(DisposedError);
    } finally {
      packed.dispose(); x.dispose(); y.dispose(); short.dispose(); half.dispose(); foreign.dispose(); other.dispose();
    }
    const after = tk.arena.stats();
    expect(after.usedBytes).toBe(base.usedBytes);
    expect(after.blocks).toBe(base.blocks);
  });
});
