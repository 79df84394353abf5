// Threaded mode: several wasm instances (main + workers) on one shared WebAssembly.Memory.
// Runs in Node (worker_threads) and Chromium (module Workers; the vitest server sends COOP/COEP).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, ThreadError, ArgumentError, type Tessera } from '../../bindings/index.js';
import { defaultWasmUrl } from '../../bindings/loader.js';
import { randomF32, sameBits, withProfile } from '../helpers/tiers.js';
import { TIERS } from '../helpers/engine.js';

/** f32 data with the f16 edge cases (ties, overflow, subnormals, signed zero, NaN) sprinkled in. */
function edgeData(n: number, seed: number): Float32Array {
  const x = randomF32(n, seed, -70000, 70000);
  const edges = [0, -0, 65504, 65520, -65520, 1e-8, 2 ** -24, 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, Infinity, -Infinity, NaN, 5.960464477539063e-8];
  for (let i = 0; i < n; i += 97) x[i] = edges[(i / 97) % edges.length];
  return x;
}


describe('threaded mode (shared memory, worker pool)', () => {
  let tk: Tessera;
  beforeAll(async () => { tk = await init({ threads: 2, debug: true }); });
  afterAll(() => tk?.dispose());

  it('grants 2 threads on shared memory where SharedArrayBuffer is available', () => {
    expect(tk.features.threads).toBe(2);
    expect(tk.features.sharedMemory).toBe(true);
    expect(tk.features.threadsReason).toBeUndefined();
    expect(tk.kernels.tierShared()).toBe(1);
    expect(tk.pool.size).toBe(2);
    expect(tk.memory.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('parallel f16 conversion is bit-identical to the single-thread op (odd length, edge values)', async () => {
    const n = 1_000_003; // not a multiple of 8: the last tile has a scalar tail
    const x = edgeData(n, 7);
    const single = tk.f16.fromF32(x);
    const par = await tk.parallel.f16FromF32(x);
    expect(sameBits(par, single)).toBe(true);
    const back1 = tk.f16.toF32(single);
    const back2 = await tk.parallel.f16ToF32(par);
    expect(sameBits(back2, back1)).toBe(true);
  });

  it('zero-copy parallel convert on tensors matches, and both threads did tiles', async () => {
    const n = 1 << 20;
    const x = edgeData(n, 11);
    const src = tk.tensorFrom(x), h1 = tk.tensor('f16', [n]), h2 = tk.tensor('f16', [n]);
    try {
      tk.f16.convert(src, h1);
      const before = [...tk.pool.stats.tilesByThread];
      await tk.parallel.f16Convert(src, h2);
      expect(sameBits(h2.read(), h1.read())).toBe(true);
      // workers-only run: every tile must be done by a worker
      const w0 = tk.pool.stats.tilesByThread[1];
      await tk.pool.run('f32_f16_vcvt__wasmsimd_u16', [[src.ptr, h2.ptr, n / 2], [src.ptr + n * 2, h2.ptr + n, n / 2]], { useMain: false });
      expect(tk.pool.stats.tilesByThread[1] - w0).toBe(2);
      expect(tk.pool.stats.tilesByThread[0]).toBeGreaterThanOrEqual(before[0]);
      expect(sameBits(h2.read(), h1.read())).toBe(true);
    } finally {
      src.dispose(); h1.dispose(); h2.dispose();
    }
  });

  it('concurrent async ops are serialised and all correct', async () => {
    const xs = [1, 2, 3].map((s) => edgeData(200_000 + s * 8, s));
    const outs = await Promise.all(xs.map((x) => tk.parallel.f16FromF32(x)));
    xs.forEach((x, i) => expect(sameBits(outs[i], tk.f16.fromF32(x))).toBe(true));
  });

  it('a trapping tile in a worker is a typed ThreadError; the instance stays usable', async () => {
    const bad = tk.memory.bytes - 8; // reads run past the end of memory -> RuntimeError in the worker
    const e = await tk.pool.run('f32_f16_vcvt__wasmsimd_u16', [[bad, 0, 4096]], { useMain: false }).catch((x) => x);
    expect(e).toBeInstanceOf(ThreadError);
    expect(e.code).toBe('ERR_THREAD');
    expect(e.kernel).toBe('f32_f16_vcvt__wasmsimd_u16');
    expect(e.thread).toBe(1);
    const x = edgeData(50_000, 3);
    expect(sameBits(await tk.parallel.f16FromF32(x), tk.f16.fromF32(x))).toBe(true);
  });

  it('unknown kernels and non-numeric args are rejected before any thread runs', async () => {
    await expect(tk.pool.run('no_such_kernel', [[1, 2, 3]])).rejects.toBeInstanceOf(ArgumentError);
    await expect(tk.pool.runCalls([['f32_f16_vcvt__wasmsimd_u16', 0, NaN, 1]])).rejects.toBeInstanceOf(ArgumentError);
  });

  it('a worker that dies is replaced; the next job runs on all threads again', async () => {
    await tk.pool.crashWorkerForTest(1);
    const x = edgeData(300_000, 5);
    const w0 = tk.pool.stats.tilesByThread[1];
    expect(sameBits(await tk.parallel.f16FromF32(x), tk.f16.fromF32(x))).toBe(true);
    await tk.pool.run('f32_f16_vcvt__wasmsimd_u16', [[0, 0, 0]], { useMain: false }); // a workers-only job proves the replacement runs
    expect(tk.pool.stats.tilesByThread[1]).toBeGreaterThan(w0);
    expect(tk.pool.size).toBe(2);
  });

  it('sparse 1x1 layers (4x1 blocks, unstructured, dense-CHW baseline) split spatially are bit-identical', async () => {
    const rows = 67, cols = 45, n = 1001; // odd sizes: tail rows, tail columns, tiles not dividing n
    const w = tk.sparse.prune(randomF32(rows * cols, 21), rows, cols, { sparsity: 0.7 });
    const bias = randomF32(rows, 22);
    const x = tk.tensorFrom(randomF32(cols * n, 23));
    const y1 = tk.tensor('f32', [rows * n]), y2 = tk.tensor('f32', [rows * n]);
    const layers = [
      tk.sparse.layer(tk.sparse.pack(w, rows, cols, { bias }), { n }, { activation: 'relu6' }),
      tk.sparse.layer(tk.sparse.pack(w, rows, cols, { block: [1, 1], bias }), { n }),
      tk.sparse.denseLayer(w, rows, cols, { n }, { bias, activation: 'relu' }),
      tk.sparse.layer(tk.sparse.pack(w, rows, cols), { n, tile: 16 }),
    ];
    try {
      for (const L of layers) {
        y1.view().fill(1); y2.view().fill(2);
        L.run(x, y1);
        const before = tk.pool.stats.tiles;
        await tk.parallel.sparseRun(L, x, y2);
        expect(tk.pool.stats.tiles - before).toBeGreaterThan(1);
        expect(sameBits(y2.read(), y1.read())).toBe(true);
      }
    } finally {
      layers.forEach((L) => L.dispose()); x.dispose(); y1.dispose(); y2.dispose();
    }
  });

  it('sparse 3x3 conv layers (kernel groups, per-OC kernels; plain, flattened and rounded-row paths) split into bands of output rows are bit-identical', async () => {
    // [cin, cout, h, w, stride, pad, block, sparsity]: 37 output channels leave single rows after the 4-row groups;
    // 15-wide stride 1 takes the flattened-row path, 29-wide stride 2 (15 outputs) the rounded-row path, 16-wide the
    // plain one; pad 0, one output row (more bands asked for than rows), per-OC 16-wide tiles on rounded rows
    const cases: [number, number, number, number, 1 | 2, 0 | 1, [4, 1] | [1, 1], number][] = [
      [24, 37, 15, 15, 1, 1, [4, 1], 0.6], [16, 40, 29, 29, 2, 1, [4, 1], 0.5], [20, 33, 16, 16, 1, 1, [1, 1], 0.8],
      [32, 64, 14, 14, 1, 1, [4, 1], 0.9], [12, 21, 17, 19, 1, 0, [4, 1], 0.5], [9, 14, 3, 40, 1, 0, [4, 1], 0.4],
      [10, 13, 25, 45, 2, 1, [1, 1], 0.7], [8, 8, 2, 33, 2, 1, [4, 1], 0.3]];
    for (const [i, [c, rows, h, w, stride, pad, block, sparsity]] of cases.entries()) {
      const wt = tk.sparse.prune(randomF32(rows * c * 9, 60 + i), rows, c, { sparsity, block, kernelSize: 3 });
      const L = tk.sparse.layer(tk.sparse.pack(wt, rows, c, { block, bias: randomF32(rows, 70 + i), kernelSize: 3 }), { h, w, stride, pad }, { activation: 'relu6' });
      const x = tk.tensorFrom(randomF32(c * h * w, 80 + i));
      const y1 = tk.tensor('f32', [L.outputLength]), y2 = tk.tensor('f32', [L.outputLength]);
      try {
        y1.view().fill(1); y2.view().fill(2);
        L.run(x, y1);
        const before = tk.pool.stats.tiles, used = tk.arena.stats().usedBytes;
        await tk.parallel.sparseRun(L, x, y2);
        expect(tk.pool.stats.tiles - before, `case ${i}`).toBeGreaterThan(1);
        expect(sameBits(y2.read(), y1.read()), `case ${i}`).toBe(true);
        expect(tk.arena.stats().usedBytes, `case ${i}: arena`).toBe(used);
      } finally {
        L.dispose(); x.dispose(); y1.dispose(); y2.dispose();
      }
    }
    // un-awaited chains: each threaded op queues its jobs when called, so a later op reads what an earlier one wrote
    {
      const c = 8, h = 16, n = h * h;
      const mk3 = (seed: number) => tk.sparse.layer(tk.sparse.pack(tk.sparse.prune(randomF32(c * c * 9, seed), c, c, { sparsity: 0.6, kernelSize: 3 }), c, c, { kernelSize: 3 }), { h, w: h, pad: 1 });
      const mk1 = (seed: number) => tk.sparse.layer(tk.sparse.pack(tk.sparse.prune(randomF32(c * c, seed), c, c, { sparsity: 0.6 }), c, c), { n });
      const x = tk.tensorFrom(randomF32(c * n, 3)), mid = tk.tensor('f32', [c * n]), y = tk.tensor('f32', [c * n]);
      const mid0 = tk.tensor('f32', [c * n]), y0 = tk.tensor('f32', [c * n]);
      const layers = [mk3(1), mk3(2), mk1(3), mk1(4)];
      try {
        for (const [a, b] of [[0, 1], [2, 1], [0, 2]] as const) {
          layers[a].run(x, mid0); layers[b].run(mid0, y0);
          mid.view().fill(0); y.view().fill(0);
          await Promise.all([tk.parallel.sparseRun(layers[a], x, mid), tk.parallel.sparseRun(layers[b], mid, y)]);
          expect(sameBits(y.read(), y0.read()), `chain ${a} -> ${b}`).toBe(true);
        }
      } finally { for (const t of [...layers, x, mid, y, mid0, y0]) t.dispose(); }
    }
    // an AutoLayer that picked the dense conv for a 3x3 layer runs it through conv2dRun (split too)
    const c = 16, rows = 24, h = 20, w3 = randomF32(rows * c * 9, 90);
    const auto = tk.sparse.auto(w3, rows, c, { h, w: h }, { kernelSize: 3, policy: 'density' });
    const x = tk.tensorFrom(randomF32(c * h * h, 91)), y1 = tk.tensor('f32', [auto.outputLength]), y2 = tk.tensor('f32', [auto.outputLength]);
    try {
      expect(auto.choice).not.toBe('sparse');
      auto.run(x, y1);
      const before = tk.pool.stats.tiles;
      await tk.parallel.sparseRun(auto, x, y2);
      expect(tk.pool.stats.tiles - before).toBeGreaterThan(1);
      expect(sameBits(y2.read(), y1.read())).toBe(true);
    } finally {
      auto.dispose(); x.dispose(); y1.dispose(); y2.dispose();
    }
  });

  it('explicit bounds checks: the _splat sparse kernels split spatially are bit-identical to one call and to the default kernels', async () => {
    // the _splat variants run the same madds in the same order as the default kernels (see
    // tests/unit/sparse.test.ts), so the threaded explicit instance must match this instance bit for bit
    const ex = await init({ threads: 2, debug: true, boundsChecks: 'explicit' });
    const rows = 67, cols = 45, n = 1001;
    const w = tk.sparse.prune(randomF32(rows * cols, 51), rows, cols, { sparsity: 0.6 });
    const bias = randomF32(rows, 52), xv = randomF32(cols * n, 53);
    const x = ex.tensorFrom(xv), y1 = ex.tensor('f32', [rows * n]), y2 = ex.tensor('f32', [rows * n]);
    const make = (t: Tessera) => [
      t.sparse.layer(t.sparse.pack(w, rows, cols, { bias }), { n }, { activation: 'relu6' }),
      t.sparse.layer(t.sparse.pack(w, rows, cols, { bias }), { n, tile: 12 }),
      t.sparse.layer(t.sparse.pack(w, rows, cols), { n, tile: 16 }),
      t.sparse.denseLayer(w, rows, cols, { n }, { bias, activation: 'relu' }),
    ];
    const layers = make(ex), guard = make(tk);
    try {
      expect(ex.features.boundsChecks).toBe('explicit');
      expect(ex.features.threads).toBe(2);
      for (let i = 0; i < layers.length; i++) {
        y1.view().fill(1); y2.view().fill(2);
        layers[i].run(x, y1);
        const before = ex.pool.stats.tiles;
        await ex.parallel.sparseRun(layers[i], x, y2);
        expect(ex.pool.stats.tiles - before).toBeGreaterThan(1);
        expect(sameBits(y2.read(), y1.read()), `layer ${i}: parallel vs single`).toBe(true);
        // the load32_splat kernels (outside browsers the default is _splat too)
        expect(sameBits(y1.read(), withProfile(tk, { sparseSplat: false }, () => guard[i].apply(xv))), `layer ${i}: _splat vs load32_splat kernels`).toBe(true);
      }
    } finally {
      layers.forEach((L) => L.dispose()); guard.forEach((L) => L.dispose()); x.dispose(); y1.dispose(); y2.dispose(); ex.dispose();
    }
  });

  it('per-thread scratch: each thread gets its own block, substituted into the call', async () => {
    // f32_f16round__wasmsimd_u4(buf, n) rounds in place: give it the scratch as buf; the scratch pointer
    // differs per thread, so all threads touching distinct blocks and no error is what we can observe
    await tk.pool.runCalls(Array.from({ length: 16 }, () => ['f32_f16round__wasmsimd_u4', 0, 1024] as [string, number, number]), { scratch: { bytes: 4096, arg: 0 } });
    await expect(tk.pool.runCalls([['f32_f16round__wasmsimd_u4', 0, 8]], { scratch: { bytes: 64, arg: 5 } })).rejects.toBeInstanceOf(ArgumentError);
  });

  it('threaded ops reject foreign, disposed and mistyped arguments with typed errors before any tile runs', async () => {
    const other = await init();
    const n = 64, rows = 8, cols = 8;
    const w = randomF32(rows * cols, 31);
    const L = tk.sparse.layer(tk.sparse.pack(w, rows, cols), { n });
    const Lother = other.sparse.layer(other.sparse.pack(w, rows, cols), { n });
    const x = tk.tensorFrom(randomF32(cols * n, 32)), y = tk.tensor('f32', [rows * n]);
    const xo = other.tensorFrom(randomF32(cols * n, 32));
    const p = tk.dense.packMatmul(randomF32(cols * rows, 33), cols, rows);
    try {
      const tiles = tk.pool.stats.tiles;
      await expect(tk.parallel.sparseRun(Lother, x, y)).rejects.toBeInstanceOf(ArgumentError);
      await expect(tk.parallel.sparseRun(L, xo, y)).rejects.toBeInstanceOf(ArgumentError);
      await expect(tk.parallel.sparseRun(L, x, x)).rejects.toThrow(/elements|different/);
      await expect(tk.parallel.matmulRun(p, xo, y, n)).rejects.toThrow();
      await expect(tk.parallel.attention(xo, x, x, { heads: 1, seqQ: n, seqK: n, headDim: cols })).rejects.toBeInstanceOf(ArgumentError);
      const gone = tk.tensorFrom(randomF32(cols * n, 34)); gone.dispose();
      await expect(tk.parallel.matmulRun(p, gone, y, n)).rejects.toThrow(/dispos/i);
      expect(tk.pool.stats.tiles).toBe(tiles);
    } finally {
      L.dispose(); Lother.dispose(); x.dispose(); y.dispose(); xo.dispose(); p.dispose(); other.dispose();
    }
  });

  it('packed weights and layers disposed while a threaded op is in flight stay intact until it settles', async () => {
    // dispose() right after starting the op: the memory must not be freed (and re-used by the next
    // allocation, which we fill with garbage) before the workers are done; then it is freed (no leak)
    const m = 96, k = 64, n = 40, rows = 48, cols = 32, ns = 512;
    const a = tk.tensorFrom(randomF32(m * k, 41)), c1 = tk.tensor('f32', [m * n]), c2 = tk.tensor('f32', [m * n]);
    const xs = tk.tensorFrom(randomF32(cols * ns, 43)), y1 = tk.tensor('f32', [rows * ns]), y2 = tk.tensor('f32', [rows * ns]);
    const x3 = tk.tensorFrom(randomF32(8 * 20 * 20, 45)), o1 = tk.tensor('f32', [16 * 20 * 20]), o2 = tk.tensor('f32', [16 * 20 * 20]);
    try {
      const liveBefore = tk.arena.stats().blocks;
      const p = tk.dense.packMatmul(randomF32(k * n, 42), k, n);
      const L = tk.sparse.layer(tk.sparse.pack(tk.sparse.prune(randomF32(rows * cols, 44), rows, cols, { sparsity: 0.5 }), rows, cols), { n: ns });
      const cv = tk.dense.packConv2d(randomF32(16 * 8 * 9, 46), { c: 8, h: 20, w: 20, cout: 16, kh: 3, kw: 3, pad: 1 });
      p.run(a, c1); L.run(xs, y1); cv.run(x3, o1);
      const runs = [tk.parallel.matmulRun(p, a, c2), tk.parallel.sparseRun(L, xs, y2), tk.parallel.conv2dRun(cv, x3, o2)];
      p.dispose(); L.dispose(); cv.dispose();
      expect(p.disposed && L.disposed && cv.disposed).toBe(true);
      expect(() => p.run(a, c1)).toThrow(/dispos/i);
      // blocks of the freed sizes would take their places (first fit) if the frees were not deferred
      const junk = [k * n, 64, rows * cols, 16 * 8 * 9, 4096].map((len) => tk.tensor('f32', [len]));
      junk.forEach((j) => j.view().fill(NaN));
      await Promise.all(runs);
      junk.forEach((j) => j.dispose());
      expect(sameBits(c2.read(), c1.read())).toBe(true);
      expect(sameBits(y2.read(), y1.read())).toBe(true);
      expect(sameBits(o2.read(), o1.read())).toBe(true);
      expect(tk.arena.stats().blocks).toBe(liveBefore); // the deferred frees happened
      await expect(tk.parallel.matmulRun(p, a, c2)).rejects.toThrow(/dispos/i);
    } finally {
      [a, c1, c2, xs, y1, y2, x3, o1, o2].forEach((t) => t.dispose());
    }
  });

  it('memory growth while threaded keeps results right (workers re-read memory.buffer)', async () => {
    const big = tk.tensor('f32', [8 << 20]); // 32 MiB: grows the shared memory
    try {
      const x = edgeData(400_000, 9);
      expect(sameBits(await tk.parallel.f16FromF32(x), tk.f16.fromF32(x))).toBe(true);
    } finally { big.dispose(); }
  });
});

describe('threaded mode fallbacks', () => {
  it('without SharedArrayBuffer: one thread, a stated reason, parallel ops still work', async () => {
    const g = globalThis as any;
    const saved = g.SharedArrayBuffer;
    g.SharedArrayBuffer = undefined;
    let tk: Tessera;
    try {
      tk = await init({ threads: 2 });
    } finally {
      g.SharedArrayBuffer = saved;
    }
    expect(tk.features.threads).toBe(1);
    expect(tk.features.sharedMemory).toBe(false);
    expect(tk.features.threadsReason).toMatch(/SharedArrayBuffer/);
    expect(tk.features.notes.join('\n')).toMatch(/threads: 2 requested, running 1/);
    const x = edgeData(70_000, 1);
    expect(sameBits(await tk.parallel.f16FromF32(x), tk.f16.fromF32(x))).toBe(true);
    tk.dispose();
  });

  it('a single user-supplied binary cannot be shared: one thread with the reason', async () => {
    const tk = await init({ threads: 2, wasm: defaultWasmUrl('simd128') });
    expect(tk.features.threads).toBe(1);
    expect(tk.features.threadsReason).toMatch(/shared/);
    tk.dispose();
  });

  it("threads: 'auto' resolves to a positive count", async () => {
    const tk = await init({ threads: 'auto' });
    expect(tk.features.threads).toBeGreaterThanOrEqual(1);
    tk.dispose();
  });
});

describe('shared-memory safety of the binaries', () => {
  // Every instance re-applies active data segments on instantiation. That is only harmless if the
  // segments lie below heapBase (AS static data), never in the arena that other threads write.
  it('active data segments of the shared flavours lie below heapBase; no memory-growing start function', async () => {
    for (const flavor of TIERS.map((t) => `${t}-shared` as const)) {
      const url = defaultWasmUrl(flavor);
      const bytes = url.protocol === 'file:'
        ? new Uint8Array(await (await import(/* @vite-ignore */ 'node:fs/promises' as string)).readFile(url))
        : new Uint8Array(await (await fetch(url)).arrayBuffer());
      const { segments, hasStart } = scanModule(bytes);
      const tk = await init({ threads: 2, simd: flavor.startsWith('relaxed') ? 'relaxed' : 'simd128' });
      expect(tk.features.sharedMemory).toBe(true);
      const heapBase = tk.kernels.heapBase() >>> 0;
      for (const s of segments) expect(s.offset + s.length).toBeLessThanOrEqual(heapBase);
      expect(hasStart).toBe(false);
      tk.dispose();
    }
  });
});

/** Minimal wasm section walker: active data segments with i32.const offsets, and whether a start section exists. */
function scanModule(b: Uint8Array): { segments: { offset: number; length: number }[]; hasStart: boolean } {
  let p = 8;
  const leb = () => { let r = 0, s = 0, x; do { x = b[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80); return r >>> 0; };
  const sleb = () => { let r = 0, s = 0, x; do { x = b[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80); if (s < 32 && (x & 0x40)) r |= -1 << s; return r; };
  const segments: { offset: number; length: number }[] = [];
  let hasStart = false;
  while (p < b.length) {
    const id = b[p++]; const size = leb(); const end = p + size;
    if (id === 8) hasStart = true;
    if (id === 11) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const kind = leb();
        if (kind === 1) { const len = leb(); p += len; continue; } // passive
        if (kind === 2) leb(); // explicit memory index
        if (b[p++] !== 0x41) throw new Error('data segment offset is not i32.const');
        const offset = sleb();
        if (b[p++] !== 0x0b) throw new Error('unexpected offset expression');
        const len = leb(); p += len;
        segments.push({ offset, length: len });
      }
    }
    p = end;
  }
  return { segments, hasStart };
}
