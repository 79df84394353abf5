// Threaded mode vs one thread, measured in the same process on the same data: for every op that has
// a tile splitter in bindings/threads/split.ts, time the synchronous op (tk with 1 thread) and the
// tk.parallel op (tk with ctx.threads threads, shared memory), check the outputs are bit-identical,
// and emit the speed-up. Where shared memory is unavailable the threaded row says why.
// Host noise (other processes on a 2-core VM) changes from second to second, so the single and
// threaded timings are interleaved (A B A B ...) and the best median of each is kept.
// onnxruntime-web runs the GEMM and attention shapes with the same thread count (ORT fixes its thread
// count per process: run this suite in its own process, as bench/cross.ts does).
import type { SparseLayer, Tessera, Tier } from '../../bindings/index.js';
import type { BenchContext, Suite } from '../lib/context.js';
import type { Timing } from '../lib/timing.js';
import { loadOrtThreaded, type OrtThreadedPeer, type OrtThreadedRunner } from '../peers/ort-threads.js';
import { sameBits } from '../../tests/helpers/tiers.js';

/** A threaded case: set up buffers on both instances; return the two calls and the work per call. */
interface ThreadCase {
  op: string;
  shape: string;
  /** work per call: flops (GFLOP/s) or elements (G elem/s) */
  flops?: number;
  elems?: number;
  setup(one: Tessera, many: Tessera): { single: () => void; parallel: () => Promise<void>; identical: () => boolean; dispose: () => void; output: () => Float32Array };
  /** the same computation in onnxruntime-web (f32 output to compare with ours) */
  peer?: (ort: OrtThreadedPeer) => Promise<OrtThreadedRunner>;
}

/** normwise deviation max|x - ref| / max|ref| of the peer's output from our (unit-tested) output */
function relDiff(x: Float32Array, ref: Float32Array): number {
  let scale = 0, m = 0;
  for (let i = 0; i < ref.length; i++) { scale = Math.max(scale, Math.abs(ref[i])); m = Math.max(m, Math.abs(x[i] - ref[i])); }
  return m / (scale || 1);
}

function f16Case(n: number): ThreadCase {
  return {
    op: 'f32->f16 convert', shape: `n=${n}`, elems: n,
    setup(one, many) {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 1000;
      const s1 = one.tensorFrom(x), h1 = one.tensor('f16', [n]);
      const s2 = many.tensorFrom(x), h2 = many.tensor('f16', [n]);
      return {
        single: () => one.f16.convert(s1, h1),
        parallel: () => many.parallel.f16Convert(s2, h2),
        identical: () => sameBits(h1.read(), h2.read()),
        output: () => new Float32Array(0),
        dispose: () => { s1.dispose(); h1.dispose(); s2.dispose(); h2.dispose(); },
      };
    },
  };
}

/** A resident sparse-family layer built on both instances by `mk`, run with layer.run vs tk.parallel.sparseRun on input x. */
function layerPair(one: Tessera, many: Tessera, mk: (tk: Tessera) => SparseLayer, x: Float32Array): ReturnType<ThreadCase['setup']> {
  const L1 = mk(one), L2 = mk(many);
  const x1 = one.tensorFrom(x), y1 = one.tensor('f32', [L1.outputLength]);
  const x2 = many.tensorFrom(x), y2 = many.tensor('f32', [L2.outputLength]);
  return {
    single: () => L1.run(x1, y1),
    parallel: () => many.parallel.sparseRun(L2, x2, y2),
    identical: () => sameBits(y1.read(), y2.read()),
    output: () => y1.read() as Float32Array,
    dispose: () => { L1.dispose(); L2.dispose(); x1.dispose(); y1.dispose(); x2.dispose(); y2.dispose(); },
  };
}

/** Sparse 1x1 layer (MobileNet-like pointwise conv, CHW), 4x1 blocks at `sparsity`, or its dense-CHW baseline. */
function sparseCase(rows: number, cols: number, n: number, sparsity: number, dense: boolean): ThreadCase {
  const flops = 2 * rows * cols * n; // dense-equivalent, as everywhere in the bench
  return {
    op: dense ? 'dense CHW 1x1 (sparse family baseline)' : `sparse 1x1 4x1-blocks`, shape: `${rows}x${cols} · n=${n}${dense ? '' : ` · sparsity=${sparsity}`}`, flops,
    setup(one, many) {
      let s = 12345;
      const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
      const w0 = Float32Array.from({ length: rows * cols }, rnd);
      const w = one.sparse.prune(w0, rows, cols, { sparsity });
      const x = Float32Array.from({ length: cols * n }, rnd);
      return layerPair(one, many, (tk) => (dense ? tk.sparse.denseLayer(w, rows, cols, { n }) : tk.sparse.layer(tk.sparse.pack(w, rows, cols), { n })), x);
    },
  };
}

/** Sparse 3x3 conv layer (ResNet-like, CHW, pad 1), whole 3x3 kernels pruned in 4-channel groups at `sparsity`. */
function sparseConv3x3Case(c: number, hw: number, sparsity: number): ThreadCase {
  const rows = c, flops = 2 * rows * c * 9 * hw * hw; // dense-equivalent
  return {
    op: 'sparse 3x3 conv 4x1x3x3 groups', shape: `${c}->${rows} @${hw}x${hw} · sparsity=${sparsity}`, flops,
    setup(one, many) {
      let s = 4242;
      const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
      const w = one.sparse.prune(Float32Array.from({ length: rows * c * 9 }, rnd), rows, c, { sparsity, kernelSize: 3 });
      const x = Float32Array.from({ length: c * hw * hw }, rnd);
      return layerPair(one, many, (tk) => tk.sparse.layer(tk.sparse.pack(w, rows, c, { kernelSize: 3 }), { h: hw, w: hw, pad: 1 }), x);
    },
  };
}

/** Dense GEMM with packed f32 weights (m = k = n = size), row panels of C split across threads. */
function gemmCase(size: number): ThreadCase {
  const m = size, k = size, n = size;
  const a = new Float32Array(m * k).map((_, i) => Math.sin(i) * 0.5), b = new Float32Array(k * n).map((_, i) => Math.cos(i) * 0.5);
  return {
    op: 'dense GEMM f32 (packed B)', shape: `M${m}xK${k}xN${n}`, flops: 2 * m * n * k,
    peer: (ort) => ort.matmul(a, b, m, k, n),
    setup(one, many) {
      const p1 = one.dense.packMatmul(b, k, n), p2 = many.dense.packMatmul(b, k, n);
      const a1 = one.tensorFrom(a), c1 = one.tensor('f32', [m * n]), a2 = many.tensorFrom(a), c2 = many.tensor('f32', [m * n]);
      return {
        single: () => p1.run(a1, c1, m),
        parallel: () => many.parallel.matmulRun(p2, a2, c2, m),
        identical: () => sameBits(c1.read(), c2.read()),
        output: () => c1.read() as Float32Array,
        dispose: () => { p1.dispose(); p2.dispose(); a1.dispose(); c1.dispose(); a2.dispose(); c2.dispose(); },
      };
    },
  };
}

/** Dense GEMV (m = 1) with packed f32 or f16 weights: column ranges of y split across threads (memory- / widening-bound). */
function gemvCase(k: number, n: number, f16: boolean): ThreadCase {
  const a = new Float32Array(k).map((_, i) => Math.sin(i) * 0.5), b = new Float32Array(k * n).map((_, i) => Math.cos(i * 0.7) * 0.5);
  return {
    op: `dense GEMV ${f16 ? 'f16' : 'f32'} weights (packed B)`, shape: `M1xK${k}xN${n}`, flops: 2 * k * n,
    setup(one, many) {
      const w = (tk: Tessera) => (f16 ? tk.f16.fromF32(b) : b);
      const p1 = one.dense.packMatmul(w(one), k, n), p2 = many.dense.packMatmul(w(many), k, n);
      const a1 = one.tensorFrom(a), c1 = one.tensor('f32', [n]), a2 = many.tensorFrom(a), c2 = many.tensor('f32', [n]);
      return {
        single: () => p1.run(a1, c1, 1),
        parallel: () => many.parallel.matmulRun(p2, a2, c2, 1),
        identical: () => sameBits(c1.read(), c2.read()),
        output: () => c1.read() as Float32Array,
        dispose: () => { p1.dispose(); p2.dispose(); a1.dispose(); c1.dispose(); a2.dispose(); c2.dispose(); },
      };
    },
  };
}

/** Flash attention f32, non-causal, [heads, S, d]: (head, query block) tiles across threads. */
function attentionCase(heads: number, S: number, d: number): ThreadCase {
  const n = heads * S * d;
  const mk = (seed: number) => new Float32Array(n).map((_, i) => Math.sin(i * 0.37 + seed));
  const q = mk(1), k = mk(2), v = mk(3);
  return {
    op: 'attention f32 flash', shape: `H=${heads} S=${S} d=${d}`, flops: 4 * heads * S * S * d,
    peer: (ort) => ort.attention(q, k, v, heads, S, d),
    setup(one, many) {
      const o = { heads, seqQ: S, seqK: S, headDim: d };
      const t1 = [q, k, v].map((x) => one.tensorFrom(x)), t2 = [q, k, v].map((x) => many.tensorFrom(x));
      const o1 = one.tensor('f32', [heads, S, d]), o2 = many.tensor('f32', [heads, S, d]);
      return {
        single: () => { one.attention(t1[0], t1[1], t1[2], o, o1); },
        parallel: async () => { await many.parallel.attention(t2[0], t2[1], t2[2], o, o2); },
        identical: () => sameBits(o1.read(), o2.read()),
        output: () => o1.read() as Float32Array,
        dispose: () => { [...t1, ...t2, o1, o2].forEach((t) => t.dispose()); },
      };
    },
  };
}

/** PASA decode step on tk.pasaKVCache (32 query heads, d = 128, 2048 cached rows): one call per KV head across threads
 *  (MQA, one KV head: the tile kernel's rows split in chunks). */
function pasaCacheCase(kvHeads: number): ThreadCase {
  const H = 32, D = 128, L = 2048;
  const mk = (n: number, seed: number) => new Float32Array(n).map((_, i) => Math.sin(i * 0.37 + seed));
  const q = mk(H * D, 1), k = mk(kvHeads * L * D, 2), v = mk(kvHeads * L * D, 3);
  return {
    op: 'PASA decode (tk.pasaKVCache)', shape: `H=${H} kvHeads=${kvHeads} d=${D} kv=${L}`, elems: 2 * kvHeads * L * D,
    setup(one, many) {
      const o = { heads: H, kvHeads, headDim: D, capacity: L };
      const c1 = one.pasaKVCache(o), c2 = many.pasaKVCache(o);
      c1.append(k, v); c2.append(k, v);
      const q1 = one.tensorFrom(q, [H, 1, D]), q2 = many.tensorFrom(q, [H, 1, D]);
      const o1 = one.tensor('f32', [H, 1, D]), o2 = many.tensor('f32', [H, 1, D]);
      return {
        single: () => { c1.decode(q1, o1); },
        parallel: async () => { await many.parallel.pasaDecode(c2, q2, o2); },
        identical: () => sameBits(o1.read(), o2.read()),
        output: () => o1.read() as Float32Array,
        dispose: () => { [q1, q2, o1, o2, c1, c2].forEach((t) => t.dispose()); },
      };
    },
  };
}

/** Dense NCHW conv (packed OIHW weights, one image): (image, output-channel block) tiles across threads. */
function convCase(c: number, hw: number, cout: number, k: number): ThreadCase {
  const o = { c, h: hw, w: hw, cout, kh: k, kw: k, pad: (k - 1) >> 1 };
  const x = new Float32Array(c * hw * hw).map((_, i) => Math.sin(i) * 0.5), w = new Float32Array(cout * c * k * k).map((_, i) => Math.cos(i) * 0.1);
  return {
    op: `dense conv ${k}x${k} s1 NCHW f32 (packed)`, shape: `${hw}x${hw}x${c}->${cout}`, flops: 2 * cout * hw * hw * c * k * k,
    setup(one, many) {
      const p1 = one.dense.packConv2d(w, o), p2 = many.dense.packConv2d(w, o);
      const x1 = one.tensorFrom(x), y1 = one.tensor('f32', [cout * hw * hw]), x2 = many.tensorFrom(x), y2 = many.tensor('f32', [cout * hw * hw]);
      return {
        single: () => p1.run(x1, y1),
        parallel: () => many.parallel.conv2dRun(p2, x2, y2),
        identical: () => sameBits(y1.read(), y2.read()),
        output: () => y1.read() as Float32Array,
        dispose: () => { p1.dispose(); p2.dispose(); x1.dispose(); y1.dispose(); x2.dispose(); y2.dispose(); },
      };
    },
  };
}

/**
 * Control: what two threads can get on this machine right now. Many independent 96x96x96 GEMM tiles
 * on L1-resident data (pure compute, no shared bandwidth): on an idle 2-core machine this scales ~2x;
 * a lower ratio means other processes hold a core and bounds every other threaded ratio of the run.
 */
function scalingProbe(tiles: number): ThreadCase {
  const d = 96;
  const a = new Float32Array(d * d).map((_, i) => Math.sin(i)), b = new Float32Array(d * d).map((_, i) => Math.cos(i));
  return {
    op: 'scaling probe: independent L1-resident GEMM tiles', shape: `${tiles} x ${d}x${d}x${d}`, flops: tiles * 2 * d * d * d,
    setup(one, many) {
      const mk = (tk: Tessera) => {
        const p = tk.dense.packMatmul(b, d, d), ta = tk.tensorFrom(a), tc = tk.tensor('f32', [tiles * d * d]);
        const ptr = (p as unknown as { ptr: number }).ptr, mr = tk.dense.matmulMR(); // the tile the ops run
        const calls = Array.from({ length: tiles }, (_, i) => ['f32_gemm_nc', mr, d, d, d, ta.ptr, d, ptr, 0, 0, tc.ptr + i * d * d * 4, d, 0, 0, 0, 0, 0] as [string, ...number[]]);
        return { p, ta, tc, calls };
      };
      const o = mk(one), m = mk(many);
      const scratch = one.arena.allocPersistent(one.kernels.f32_gemm_nc_scratch(one.dense.matmulMR()), 64, 'probe scratch');
      const k = one.kernels as unknown as Record<string, (...x: number[]) => void>;
      return {
        single: () => { for (const c of o.calls) { const args = c.slice(1) as number[]; args[15] = scratch; k.f32_gemm_nc(...args); } },
        parallel: () => many.pool.runCalls(m.calls, { scratch: { bytes: many.kernels.f32_gemm_nc_scratch(many.dense.matmulMR()), arg: 15 } }),
        identical: () => sameBits(o.tc.read(), m.tc.read()),
        output: () => new Float32Array(0),
        dispose: () => { for (const x of [o, m]) { x.p.dispose(); x.ta.dispose(); x.tc.dispose(); } one.arena.free(scratch); },
      };
    },
  };
}

/** Cases per family. Families add theirs here when their splitter lands in bindings/threads/split.ts. */
function cases(ctx: BenchContext): ThreadCase[] {
  const out: ThreadCase[] = [scalingProbe(64), f16Case(ctx.quick ? 1 << 21 : 1 << 23)];
  out.push(...(ctx.quick ? [1024] : [512, 1024]).map(gemmCase));
  out.push(gemvCase(4096, 4096, false), gemvCase(4096, 4096, true));
  out.push(...(ctx.quick ? [attentionCase(1, 4096, 64)] : [attentionCase(2, 1024, 64), attentionCase(4, 4096, 64)]));
  out.push(pasaCacheCase(32));
  if (ctx.full) out.push(pasaCacheCase(1)); // MQA: the tile kernel, one KV head's rows split across the threads
  const n = ctx.quick ? 784 : 3136; // 28x28 / 56x56 feature maps
  out.push(sparseCase(512, 512, n, 0.7, false), sparseCase(512, 512, n, 0.7, true));
  if (ctx.full) out.push(sparseCase(512, 512, n, 0.9, false));
  out.push(sparseConv3x3Case(64, 56, 0.7));
  out.push(convCase(64, 56, 64, 3));
  return out.filter((c) => ctx.wants(c.shape));
}

export const threadsSuite: Suite = {
  name: 'threads',
  description: 'threaded mode (shared memory, worker pool) vs one thread, bit-identical outputs checked',
  async run(ctx) {
    const tier: Tier = ctx.tiers[ctx.tiers.length - 1]; // the fastest available tier
    const one = await ctx.tk(tier, 1);
    const many = await ctx.tk(tier, ctx.threads);
    const threads = many.features.threads;
    // ORT with the same thread count; a failure (e.g. ORT already initialised in this process) is reported once
    let ort: OrtThreadedPeer | null = null, ortError = '';
    if (threads >= 2) {
      try { ort = await withTimeout(loadOrtThreaded(threads), 60_000, 'onnxruntime-web init'); } catch (e) { ortError = String((e as Error)?.message ?? e); }
    }
    const reps = ctx.quick ? 2 : 3;
    for (const c of cases(ctx)) {
      const base = { suite: 'threads', op: c.op, shape: c.shape, engine: 'tessera', variant: tier };
      const rate = (ms: number) => (c.flops ? { gflops: c.flops / ms / 1e6 } : { gelems: (c.elems ?? 0) / ms / 1e6 });
      let io;
      try {
        io = c.setup(one, many);
        if (threads < 2) {
          const t1 = ctx.time(io.single);
          ctx.emit({ ...base, threads: 1, ms: t1.ms, ...rate(t1.ms), runs: t1.runs, spread: t1.spread });
          ctx.emit({ ...base, threads: 1, ms: null, error: `threaded mode unavailable: ${many.features.threadsReason ?? 'unknown reason'}` });
          continue;
        }
        let t1: Timing | null = null, tn: Timing | null = null;
        for (let r = 0; r < reps; r++) {
          const a = ctx.time(io.single);
          if (!t1 || a.ms < t1.ms) t1 = a;
          const b = await ctx.timeAsync(io.parallel);
          if (!tn || b.ms < tn.ms) tn = b;
        }
        const same = io.identical();
        ctx.emit({ ...base, threads: 1, ms: t1!.ms, ...rate(t1!.ms), runs: t1!.runs, spread: t1!.spread, note: `best of ${reps} interleaved medians` });
        ctx.emit({
          ...base, threads, ms: tn!.ms, ...rate(tn!.ms), runs: tn!.runs, spread: tn!.spread, maxRelErr: same ? 0 : undefined,
          ratio: { vs: '1 thread', value: t1!.ms / tn!.ms },
          ...(same ? { note: 'bit-identical to 1 thread' } : { error: 'threaded output differs from the single-thread output' }),
        });
        if (c.peer) {
          const pbase = { suite: 'threads', op: c.op, shape: c.shape, engine: 'onnxruntime-web', variant: ort ? `${ort.version} wasm EP` : 'wasm EP', threads };
          if (!ort) { ctx.emit({ ...pbase, ms: null, error: ortError || 'not run' }); continue; }
          let runner: OrtThreadedRunner | null = null;
          try {
            runner = await c.peer(ort);
            const y = await runner.run();
            const err = relDiff(y, io.output());
            const tp = await ctx.timeAsync(runner.run);
            ctx.emit({ ...pbase, ms: tp.ms, ...rate(tp.ms), runs: tp.runs, spread: tp.spread, maxRelErr: err,
              note: `err = max|ORT - tessera| / max|tessera|; tessera ${threads} threads is ${(tp.ms / tn!.ms).toFixed(2)}x this` });
            // the ratio row the report's "ours vs peers" charts read
            ctx.emit({ ...base, variant: `${tier} vs ORT`, threads, ms: tn!.ms, ...rate(tn!.ms), ratio: { vs: `onnxruntime-web ${threads}T`, value: tp.ms / tn!.ms } });
          } catch (e) {
            ctx.emit({ ...pbase, ms: null, error: String((e as Error)?.message ?? e).slice(0, 300) });
          } finally {
            await runner?.dispose();
          }
        }
      } catch (e) {
        ctx.emit({ ...base, threads, ms: null, error: String((e as Error)?.message ?? e) });
      } finally {
        io?.dispose();
      }
    }
  },
};

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what} did not finish within ${ms / 1000} s`)), ms); })]).finally(() => clearTimeout(timer));
}
