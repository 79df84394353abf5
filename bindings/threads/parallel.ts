/**
 * tk.parallel: async ops whose tiles run on tk.pool (all threads, shared memory). Results are
 * bit-identical to the synchronous ops: the same kernels run on the same bytes, only the thread
 * that runs each tile changes. With one thread they still work (all tiles on the main thread).
 *
 * Buffers used by an in-flight async op are persistent arena blocks freed in `finally`, so a
 * synchronous op called while one is awaiting cannot reset them.
 */
import { ABI } from '../abi.js';
import { ArgumentError, DTypeError, DisposedError, ShapeError } from '../errors.js';
import { halfBits, isFloat16Array } from '../f16js.js';
import { Tensor } from '../memory.js';
import { F16_TILE } from '../ops/f16.js';
import type { Tessera } from '../tessera.js';
import { dim, scratchBytes, tensor } from '../validate.js';
import { attnTileFlag, checkAttentionTensors, decodeCall, fwdCall, FWD_SCRATCH_ARG, decodeScratchBytes, tileReadsKV, useDecodeKernel, type AttentionOptions } from '../ops/attention.js';
import { PackedConv2d, PackedMatmul, gemvExact, gemvScratchBytes, usesGemv, type MatmulOptions, type WeightArray } from '../ops/dense.js';
import { AutoLayer, chwgemmKernelName, conv3x3Work, DenseFamilyLayer, SparseLayer, spmmKernelName, type SparseLayerInternals } from '../ops/sparse.js';
import { PasaKVCache } from '../ops/pasa-cache.js';
import { splitAttention, splitColumns, splitConv, splitF16Convert, splitGemmRows, splitGemvColumns, type KernelName, } from './split.js';

type TileCallT = [string, ...number[]];

/** Below this many multiply-adds a conv runs as one call (a pool job costs tens of microseconds). */
export const PARALLEL_CONV_MIN_MACS = 1 << 17;
/** GEMV (m = 1) rows below this many multiply-adds run as one call: 1 MiB of f32 weights streams in ~35 µs, about a worker round trip. */
export const PARALLEL_GEMV_MIN_MACS = 1 << 18;

export class ParallelOps {
  constructor(private tk: Tessera) {}

  /** Threads the ops use (tk.pool.size). */
  get threads(): number { return this.tk.pool.size; }

  /** Zero-copy f32 <-> f16 conversion between two arena tensors of the same length. */
  async f16Convert(src: Tensor, dst: Tensor): Promise<void> {
    this.#alive();
    tensor('parallel.f16Convert', 'src', src, this.tk.arena, ['f32', 'f16']);
    tensor('parallel.f16Convert', 'dst', dst, this.tk.arena, ['f32', 'f16']);
    if (src.length !== dst.length) throw new ShapeError(`parallel.f16Convert: src has ${src.length} elements, dst ${dst.length}`);
    let calls;
    if (src.dtype === 'f32' && dst.dtype === 'f16') calls = splitF16Convert('f32_f16_vcvt__wasmsimd_u16', src.ptr, 4, dst.ptr, 2, src.length, this.threads);
    else if (src.dtype === 'f16' && dst.dtype === 'f32') calls = splitF16Convert('f16_f32_vcvt__wasmsimd_u16', src.ptr, 2, dst.ptr, 4, src.length, this.threads);
    else throw new DTypeError(`parallel.f16Convert: needs f32 -> f16 or f16 -> f32, got ${src.dtype} -> ${dst.dtype}`);
    // the tiles run later (queued jobs, workers): keep both blocks allocated even if disposed meanwhile
    const release = [src.pin(), dst.pin()];
    try {
      await this.tk.pool.runCalls(calls);
    } finally { release.forEach((r) => r()); }
  }

  /** f32 -> f16 bits, like tk.f16.fromF32 but split across threads (streams through threads x 64 Ki-element tiles). */
  async f16FromF32(x: Float32Array): Promise<Uint16Array> {
    this.#alive();
    if (!(x instanceof Float32Array)) throw new DTypeError(`parallel.f16FromF32 expects a Float32Array, got ${x === null ? 'null' : typeof x}`);
    const out = new Uint16Array(x.length);
    await this.#stream(x.length, 4, 2, 'f32_f16_vcvt__wasmsimd_u16',
      (pi, off, n) => this.tk.memory.f32.set(x.subarray(off, off + n), pi >> 2),
      (po, off, n) => out.set(this.tk.memory.u16.subarray(po >> 1, (po >> 1) + n), off));
    return out;
  }

  /** f16 bits (Uint16Array / Float16Array) -> f32, like tk.f16.toF32 but split across threads. */
  async f16ToF32(h: Uint16Array | ArrayBufferView): Promise<Float32Array> {
    this.#alive();
    if (!(h instanceof Uint16Array) && !isFloat16Array(h)) throw new DTypeError('parallel.f16ToF32 expects a Uint16Array (half bits) or Float16Array');
    const bits = halfBits(h as Uint16Array);
    const out = new Float32Array(bits.length);
    await this.#stream(bits.length, 2, 4, 'f16_f32_vcvt__wasmsimd_u16',
      (pi, off, n) => this.tk.memory.u16.set(bits.subarray(off, off + n), pi >> 1),
      (po, off, n) => out.set(this.tk.memory.f32.subarray(po >> 2, (po >> 2) + n), off));
    return out;
  }

  /**
   * Run a resident sparse layer (or its dense-CHW baseline) on tensors across tk.pool, bit-identical to layer.run(x, y):
   * a 1x1 layer split into spatial tiles (column ranges of X and Y), a 3x3 conv layer into bands of output rows
   * (#sparseConv3x3). An AutoLayer whose choice is the dense conv runs through conv2dRun. n = 1 (GEMV: a sparse batch-1
   * FC, or an AutoLayer's dense GEMV) runs as one call.
   */
  async sparseRun(layer: SparseLayer | AutoLayer, x: Tensor, y: Tensor): Promise<void> {
    this.#alive();
    const inner = layer instanceof AutoLayer ? layer.layer : layer;
    if (!(inner instanceof SparseLayer)) {
      // an AutoLayer that chose tk.dense's packed op: a conv runs split by conv2dRun, a GEMV as one call (the dense
      // op's own checks either way)
      if (layer instanceof AutoLayer) {
        if (inner instanceof DenseFamilyLayer && inner.conv) {
          tensor('parallel.sparseRun', 'x', x, this.tk.arena, 'f32', layer.inputLength); // this op's names in its errors
          tensor('parallel.sparseRun', 'y', y, this.tk.arena, 'f32', layer.outputLength);
          await this.conv2dRun(inner.conv, x, y, 1);
        } else layer.run(x, y);
        return;
      }
      throw new ArgumentError('parallel.sparseRun: layer must be a SparseLayer or AutoLayer (tk.sparse.layer / auto / denseLayer)');
    }
    const L = inner.internals(); // DisposedError once disposed
    if (L.tk !== this.tk) throw new ArgumentError('parallel.sparseRun: the layer belongs to another tessera instance');
    if (this.threads < 2 || (!L.geom && L.n <= 1)) { inner.run(x, y); return; }
    tensor('parallel.sparseRun', 'x', x, this.tk.arena, 'f32', L.inputLength);
    tensor('parallel.sparseRun', 'y', y, this.tk.arena, 'f32', L.outputLength);
    if (x.ptr === y.ptr) throw new ArgumentError('parallel.sparseRun: x and y must be different tensors');
    if (L.geom) { await this.#sparseConv3x3(inner, L, x, y); return; }
    const sp = L.meta, st = L.st, n = L.n, os = n * 4, px = x.ptr, py = y.ptr;
    let calls;
    if (L.dense) {
      // same kernel choice as runDenseMatmul in ops/sparse.ts
      const k = chwgemmKernelName(this.tk, L.tile);
      calls = splitColumns(n, L.tile, this.threads, (s, c) => [k, c, sp.groups, sp.singleRows, sp.cols, px + s * 4, st.w, py + s * 4, os, os, L.lo, L.hi]);
    } else {
      // same kernel choice as runMatmul in ops/sparse.ts; the delta walk starts at row sp.first
      const k = spmmKernelName(this.tk, sp.blockRows, L.tile);
      const x0 = px + sp.first * n * 4;
      calls = splitColumns(n, L.tile, this.threads, (s, c) => [k, c, sp.groups, sp.singleRows, x0 + s * 4, st.w, st.nz, st.dm, py + s * 4, os, L.lo, L.hi]);
    }
    await this.#pinned([x, y, inner], () => this.tk.pool.runCalls(calls));
  }

  /**
   * A sparse 3x3 conv layer (x, y checked by sparseRun) across the pool, as three pool jobs queued at once, so they run
   * after the jobs of ops called before and before those of ops called after (docs/threads.md, "Ordering"): x padded (one
   * call), layer.run's row panels each over 2 x threads bands of output rows (spatial parts: every thread streams the
   * whole weight panel over its band, so the input is read once as on one thread; splitting the channel panels finer
   * instead made every call sweep the whole input: 1.33-1.46x with 2 threads), then the unpad of the rounded-up paths
   * (one call). Bit-identical to layer.run (Conv3x3Work).
   */
  async #sparseConv3x3(layer: SparseLayer, L: SparseLayerInternals, x: Tensor, y: Tensor): Promise<void> {
    const g = L.geom!, a = this.tk.arena, chunks = L.chunks!;
    const work = conv3x3Work(this.tk, L.meta, L.st, g, L.lo, L.hi);
    const held: number[] = [];
    const release = [x.pin(), y.pin(), layer.pin()];
    try {
      const pp = a.allocPersistent(g.paddedBytes, 64, 'parallel-pad'); held.push(pp);
      const tmp = work.tmpBytes ? a.allocPersistent(work.tmpBytes, 64, 'parallel-out') : 0;
      if (tmp) held.push(tmp);
      // the pad and the unpad are one call each: a one-call job runs on the calling thread when its turn comes (no
      // round trip to the workers; split across them, the two extra round trips cost more than the copies: 1.10x)
      const pool = this.tk.pool;
      const jobs = [pool.runCalls([['f32_pad3x3_chw', g.c, g.h, g.w, g.pad, g.stride, x.ptr, pp]]),
        pool.runCalls(work.calls(chunks, pp, tmp || y.ptr, 2 * this.threads) as TileCallT[])];
      const un = work.unpad(tmp, y.ptr);
      if (un) jobs.push(pool.runCalls([['f32_unpad_rows', ...un]]));
      // every job settles before the blocks they use are freed
      const bad = (await Promise.allSettled(jobs)).find((r) => r.status === 'rejected');
      if (bad) throw (bad as PromiseRejectedResult).reason;
    } finally {
      for (const b of held) a.free(b);
      release.forEach((r) => r());
      if (a.debug) a.check();
    }
  }

  /**
   * Zero-copy GEMM with packed weights, split across tk.pool: out[m x n] = act(a[m x k] · B + bias).
   * Bit-identical to packed.run(a, out, m). Row panels of C; the GEMV shapes (m = 1, and f16 weights
   * with m <= 2) split the columns instead (ranges of >= 48 starting on multiples of 24, so f16 panel groups stay whole),
   * from PARALLEL_GEMV_MIN_MACS multiply-adds per row on.
   */
  async matmulRun(packed: PackedMatmul, a: Tensor, out: Tensor, m?: number): Promise<void> {
    this.#alive();
    if (!(packed instanceof PackedMatmul)) throw new ArgumentError('parallel.matmulRun: packed must be a PackedMatmul (tk.dense.packMatmul)');
    const P = packed.internals(); // DisposedError once disposed
    if (P.tk !== this.tk) throw new ArgumentError('parallel.matmulRun: the packed weights belong to another tessera instance');
    const mm = m ?? (a?.length ?? 0) / P.k;
    if (this.threads < 2 || !Number.isSafeInteger(mm) || mm < 1) { packed.run(a, out, mm); return; } // one call (or the op's own typed error)
    const gemv = usesGemv(P.dtype, mm); // m = 1 (and f16 m <= 2): split the columns, ranges of >= 48 that start on multiples of 24
    if (gemv && (P.k * P.n < PARALLEL_GEMV_MIN_MACS || P.n <= 48)) {
      packed.run(a, out, mm); return; // one call (or the op's own typed error)
    }
    tensor('parallel.matmulRun', 'a', a, this.tk.arena, 'f32', mm * P.k);
    tensor('parallel.matmulRun', 'out', out, this.tk.arena, 'f32', mm * P.n);
    if (a.ptr === out.ptr) throw new ArgumentError('parallel.matmulRun: a and out must be different tensors');
    const k = this.tk.kernels, pa = a.ptr, pc = out.ptr;
    const { clampOn, lo, hi } = P.act;
    const f16 = P.dtype === 'f16' ? 1 : 0;
    if (gemv) {
      // per row, column ranges [c0, c0+cc) through the one-call GEMV's entry (it offsets B, y and bias)
      const calls: TileCallT[] = [];
      for (let r = 0; r < mm; r++) {
        const x = pa + r * P.k * 4, y = pc + r * P.n * 4;
        calls.push(...splitGemvColumns(P.n, this.threads, (c0, cc): TileCallT =>
          ['gemv_nc_cols', f16, P.k, c0, cc, x, P.ptr, y, P.biasPtr, clampOn, lo, hi, gemvExact(this.tk, P.exact16), 0]));
      }
      await this.#pinned([a, out, packed], () => this.tk.pool.runCalls(calls, { scratch: { bytes: gemvScratchBytes(f16, P.k), arg: 12 } }));
      return;
    }
    const mmr = this.tk.dense.matmulMR(); // MR (low byte) + variant bits
    const calls = splitGemmRows(mm, mmr & ABI.DENSE_MR_MASK, this.threads, (s, c) =>
      ['f32_gemm_nc', mmr, c, P.n, P.k, pa + s * P.k * 4, P.k, P.ptr, f16, P.exact16, pc + s * P.n * 4, P.n, P.biasPtr, clampOn, lo, hi, 0]);
    await this.#pinned([a, out, packed], () => this.tk.pool.runCalls(calls, { scratch: { bytes: k.f32_gemm_nc_scratch(mmr), arg: 15 } }));
  }

  /**
   * Zero-copy NCHW conv2d with packed weights (tk.dense.packConv2d), split into (image, output-channel
   * block) tiles across tk.pool: out[n][cout][ho][wo] = conv(x[n][c][h][w]). Bit-identical to
   * packed.run(x, out, n), and validates its arguments the same way (typed errors before any tile).
   * Channel blocks start at multiples of the MR the weights were packed with (depthwise: any channel).
   * Runs as packed.run with one thread or under PARALLEL_CONV_MIN_MACS multiply-adds.
   */
  async conv2dRun(packed: PackedConv2d, x: Tensor, out: Tensor, n?: number): Promise<void> {
    this.#alive();
    const where = 'parallel.conv2dRun';
    if (!(packed instanceof PackedConv2d)) throw new ArgumentError(`${where}: packed must be a PackedConv2d (tk.dense.packConv2d)`);
    if (n === undefined) n = packed.n; // as PackedConv2d.run's default parameter: the packing options' n
    const P = packed.internals(); // DisposedError once disposed
    if (P.tk !== this.tk) throw new ArgumentError(`${where}: the packed weights belong to another tessera instance`);
    const g = P.geom;
    // the same checks, in the same order, as PackedConv2d.run
    dim(where, 'n', n, 1, ShapeError);
    tensor(where, 'x', x, this.tk.arena, 'f32', n * g.c * g.h * g.w);
    tensor(where, 'out', out, this.tk.arena, 'f32', n * g.cout * g.ho * g.wo);
    if (x.ptr === out.ptr) throw new ArgumentError(`${where}: x and out must be different tensors`);
    const kdim = (P.depthwise ? 1 : g.c) * g.kh * g.kw;
    if (this.threads < 2 || n * g.cout * g.ho * g.wo * kdim < PARALLEL_CONV_MIN_MACS) { packed.run(x, out, n); return; }
    // below: the tile calls of PackedConv2d.exec, with x / out moved by image and w / bias / out by channel
    const k = this.tk.kernels, mr = P.mr, kmr = this.tk.dense.kernelMR(mr); // kmr: the kernels' mr argument
    const { clampOn, lo, hi } = P.act;
    const inImg = g.c * g.h * g.w * 4, outImg = g.cout * g.ho * g.wo * 4, inPlane = g.h * g.w * 4, outPlane = g.ho * g.wo * 4;
    const wf16 = P.dtype === 'f16' ? 1 : 0;
    const px = x.ptr, po = out.ptr, pw = P.ptr, pbias = P.biasPtr;
    const bias = (c0: number) => (pbias ? pbias + c0 * 4 : 0);
    let calls: TileCallT[], bytes: number;
    if (P.depthwise) {
      // channel c: input plane c, weights [kh][kw] at c*kh*kw, bias c, output plane c
      const pitch = k.dwconv_pitch(g.w, g.pl, g.pr, g.kw, g.sw, g.wo);
      bytes = scratchBytes('parallel.conv2dRun', k.f32_dwconv_scratch(g.kh, pitch));
      calls = splitConv(n, g.c, 1, 4, this.threads, (i, c0, cc) => ['f32_dwconv_nchw', cc, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.pr, g.ho, g.wo,
        px + i * inImg + c0 * inPlane, pw + c0 * g.kh * g.kw * 4, bias(c0), po + i * outImg + c0 * outPlane, clampOn, lo, hi, 0]);
    } else {
      // output channel block [c0, c0+cc), c0 a multiple of mr: packed panels c0/mr.. ([kdim][mr] each)
      const wAt = (c0: number) => pw + c0 * kdim * (wf16 ? 2 : 4);
      const minChunk = 2 * mr;
      if (g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt + g.pl + g.pb + g.pr === 0) {
        bytes = scratchBytes('parallel.conv2dRun', k.f32_conv1x1_scratch(mr, kdim));
        calls = splitConv(n, g.cout, mr, minChunk, this.threads, (i, c0, cc) => ['f32_conv1x1_nchw', kmr, cc, g.c, g.h * g.w,
          px + i * inImg, wAt(c0), wf16, bias(c0), po + i * outImg + c0 * outPlane, clampOn, lo, hi, 0]);
      } else if (g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1) {
        const wp = g.w + g.pl + g.pr;
        const bh = k.conv_s1_band_rows(g.c, g.kh, wp, g.ho);
        bytes = scratchBytes('parallel.conv2dRun', k.f32_conv_s1_scratch(mr, g.c, g.kh, g.kw, wp, bh));
        calls = splitConv(n, g.cout, mr, minChunk, this.threads, (i, c0, cc) => ['f32_conv_s1_nchw', kmr, cc, g.c, g.h, g.w, g.kh, g.kw, g.pt, g.pl, g.pr, g.ho, g.wo, bh,
          px + i * inImg, wAt(c0), wf16, bias(c0), po + i * outImg + c0 * outPlane, clampOn, lo, hi, 0]);
      } else {
        const pb = k.conv_im2col_block(kdim);
        bytes = scratchBytes('parallel.conv2dRun', k.f32_conv_im2col_scratch(mr, kdim, pb));
        calls = splitConv(n, g.cout, mr, minChunk, this.threads, (i, c0, cc) => ['f32_conv_im2col_nchw', kmr, cc, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.ho, g.wo, pb,
          px + i * inImg, wAt(c0), wf16, bias(c0), po + i * outImg + c0 * outPlane, clampOn, lo, hi, 0]);
      }
    }
    const arg = calls[0].length - 2; // every conv driver takes its scratch pointer last (calls[0][0] is the kernel name)
    // x, out and the packed weights stay allocated until the tiles are done, even if disposed meanwhile
    await this.#pinned([x, out, packed], () => this.tk.pool.runCalls(calls, { scratch: { bytes, arg } }));
  }

  /** Copying GEMM like tk.matmul (packs b, copies a in and the result out), with the multiply split across threads. */
  async matmul(a: Float32Array, b: WeightArray, m: number, k: number, n: number, opts?: MatmulOptions): Promise<Float32Array> {
    this.#alive();
    const packed = this.tk.dense.packMatmul(b, k, n, opts);
    let ta: Tensor | null = null, tc: Tensor | null = null;
    try {
      if (!(a instanceof Float32Array)) throw new DTypeError('parallel.matmul: a must be a Float32Array');
      dim('parallel.matmul', 'm', m, 1, ShapeError);
      if (a.length !== m * k) throw new ShapeError(`parallel.matmul: a has ${a.length} elements, expected m*k = ${m}*${k}`);
      ta = this.tk.tensorFrom(a);
      tc = this.tk.tensor('f32', [m * n]);
      await this.matmulRun(packed, ta, tc, m);
      return tc.read() as Float32Array;
    } finally {
      ta?.dispose(); tc?.dispose(); packed.dispose();
    }
  }

  /**
   * Flash attention on tensors (the zero-copy form of tk.attention), split into (query head, query-row
   * block) tiles across tk.pool (the decode-kernel shapes, as useDecodeKernel picks: one call per KV head).
   * q [heads, seqQ, d], k / v [kvHeads, kvCapacity, d] (f32 or f16),
   * out f32 [heads, seqQ, d] (allocated if not given). Bit-identical to tk.attention(q, k, v, o, out).
   * On the tile kernel, 'pasa', 'pasa-faithful' and 'f16' on f32 k/v first prepare every KV head in one parallel phase;
   * that costs 2 · kvHeads · seqK · d · 4 bytes, where the one-thread op keeps one KV head at a time. The decode
   * kernels (seqQ = 1, 'pasa' included) read k / v in place, with no prepare phase.
   */
  async attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions, out?: Tensor<'f32'>): Promise<Tensor<'f32'>> {
    this.#alive();
    const p = checkAttentionTensors('parallel.attention', this.tk.arena, q, k, v, o, out);
    if (this.threads < 2) return this.tk.attention(q, k, v, o, out);
    const kern = this.tk.kernels, a = this.tk.arena;
    const res = out ?? this.tk.tensor('f32', [p.heads, p.s1, p.d]);
    const qe = q.dtype === 'f16' ? 2 : 4, ke = k.dtype === 'f16' ? 2 : 4;
    const kvF16 = k.dtype === 'f16' ? ABI.ATTN_FLAG_Q_F16 : 0, qF16 = q.dtype === 'f16' ? ABI.ATTN_FLAG_Q_F16 : 0;
    const decode = useDecodeKernel(p, k.dtype as 'f32' | 'f16'); // reads f32 or f16 K/V in place: no prep
    const raw = tileReadsKV(p, k.dtype as 'f32' | 'f16'); // the tile kernel reads k / v as they are (f16: widened per key block)
    const prep = !decode && !raw;
    const rows = prep ? kern.attention_prep_rows(p.s2, p.bc, p.mode) : p.s2;
    const held: number[] = [];
    const release = [q.pin(), k.pin(), v.pin(), res.pin()]; // tiles run after awaits: keep the blocks if disposed meanwhile
    try {
      // per KV head: the K/V the forward kernel reads (raw rows, or prepared K' / V16 buffers)
      const kv: { k: number; v: number; stride: number }[] = [];
      const prepCalls: TileCallT[] = [];
      for (let g = 0; g < p.kvHeads; g++) {
        const kp0 = k.ptr + g * p.cap * p.d * ke, vp0 = v.ptr + g * p.cap * p.d * ke;
        if (!prep) { kv.push({ k: kp0, v: vp0, stride: p.d }); continue; }
        const kp = a.allocPersistent(rows * p.d * 4, 64, "attn K'"); held.push(kp);
        const vp = a.allocPersistent(rows * p.d * 4, 64, 'attn V16'); held.push(vp);
        kv.push({ k: kp, v: vp, stride: p.d });
        prepCalls.push(['attention_prep_kv', kp0, vp0, p.d, p.d, p.s2, p.d, kp, vp, p.mode, p.flags | kvF16, p.scale, p.beta, p.bc]);
      }
      if (prepCalls.length) await this.tk.pool.runCalls(prepCalls);
      if (decode) {
        // decode fast path (as tk.attention): one call per KV head, its group's query rows against K/V streamed once
        const decodeCalls = kv.map((h, g) => decodeCall(p, q.ptr + g * p.group * p.d * qe, res.ptr + g * p.group * p.d * 4,
          h.k, h.v, p.d, q.dtype as 'f32' | 'f16', k.dtype as 'f32' | 'f16', 0) as TileCallT);
        await this.tk.pool.runCalls(decodeCalls, { scratch: { bytes: decodeScratchBytes(kern, p), arg: decodeCalls[0].length - 2 } });
        return res;
      }
      const flags = (p.flags & ~ABI.ATTN_FLAG_Q_F16) | qF16 | attnTileFlag(this.tk) | (raw === 'f16' ? ABI.ATTN_FLAG_KV_F16 : 0);
      const causal = (p.flags & ABI.ATTN_FLAG_CAUSAL) !== 0;
      const calls = splitAttention(p.heads, p.s1, p.br, causal, this.threads, (h, r0, rc) => {
        const g = Math.floor(h / p.group), off = (h * p.s1 + r0) * p.d;
        return fwdCall(p, { q: q.ptr + off * qe, qStride: p.s1 * p.d, o: res.ptr + off * 4, oStride: p.s1 * p.d, nh: 1, s1: rc,
          k: kv[g].k, v: kv[g].v, kvRows: rows, kvStride: kv[g].stride, flags });
      });
      await this.tk.pool.runCalls(calls, { scratch: { bytes: scratchBytes('parallel.attention', kern.attention_scratch_bytes(p.d, p.br, p.bc, flags)), arg: FWD_SCRATCH_ARG } });
    } catch (e) {
      if (!out) res.dispose();
      throw e;
    } finally {
      for (const b of held) a.free(b);
      release.forEach((r) => r());
    }
    return res;
  }

  /**
   * One PASA decode step on a tk.pasaKVCache, its (KV head, query-row chunk) kernel calls split across tk.pool: q an
   * f32 / f16 tensor [heads, 1, headDim], out f32 (allocated if not given). Bit-identical to cache.decode(q, out).
   * While it runs, the cache's append / truncate throw and its dispose() is deferred.
   */
  async pasaDecode(cache: PasaKVCache, q: Tensor, out?: Tensor<'f32'>): Promise<Tensor<'f32'>> {
    const what = 'parallel.pasaDecode';
    this.#alive();
    if (!(cache instanceof PasaKVCache)) throw new DTypeError(`${what}: cache must be a PasaKVCache (tk.pasaKVCache), got ${cache === null ? 'null' : typeof cache}`);
    if (!cache._ownedBy(this.tk)) throw new ArgumentError(`${what}: cache belongs to another tessera instance`);
    if (!(q instanceof Tensor)) throw new DTypeError(`${what}: q must be a Tensor (tk.tensor / tk.tensorFrom); the array form is cache.decode(q)`);
    if (this.threads < 2) return cache.decode(q, out);
    const res = cache._decodeTarget(what, q, out);
    const release = [q.pin(), res.pin(), cache._hold()];
    try {
      const { calls, scratchBytes, scratchArg } = cache._decodeCalls(q.ptr, q.dtype as 'f32' | 'f16', res.ptr, this.threads);
      await this.tk.pool.runCalls(calls as TileCallT[], { scratch: { bytes: scratchBytes, arg: scratchArg } });
    } catch (e) {
      if (!out) res.dispose();
      throw e;
    } finally {
      release.forEach((r) => r());
    }
    return res;
  }

  /** Keep tensors / packed weights allocated while `fn`'s tiles may still touch them (a dispose() meanwhile is deferred). */
  async #pinned<T>(ts: { pin(): () => void }[], fn: () => Promise<T>): Promise<T> {
    const release = ts.map((t) => t.pin());
    try { return await fn(); } finally { release.forEach((r) => r()); }
  }

  async #stream(total: number, inBytes: number, outBytes: number, kernel: KernelName,
    copyIn: (pi: number, off: number, n: number) => void, copyOut: (po: number, off: number, n: number) => void): Promise<void> {
    const chunk = Math.min(F16_TILE * 4 * this.threads, Math.max(total, 8));
    const a = this.tk.arena;
    const pi = a.allocPersistent(chunk * inBytes, 64, 'parallel-in');
    let po = -1;
    try {
      po = a.allocPersistent(chunk * outBytes, 64, 'parallel-out');
      for (let off = 0; off < total; off += chunk) {
        const n = Math.min(chunk, total - off);
        copyIn(pi, off, n);
        await this.tk.pool.runCalls(splitF16Convert(kernel, pi, inBytes, po, outBytes, n, this.threads));
        copyOut(po, off, n);
      }
    } finally {
      a.free(pi);
      if (po >= 0) a.free(po);
      if (a.debug) a.check();
    }
  }

  #alive(): void {
    if (this.tk.disposed) throw new DisposedError('tessera instance');
  }
}
