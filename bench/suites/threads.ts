// Threaded mode vs one thread, measured in the same process on the same data: for every op that has
// a tile splitter in bindings/threads/split.ts, time the synchronous op (tk with 1 thread) and the
// tk.parallel op (tk with ctx.threads threads, shared memory), check the outputs are bit-identical,
// and emit the speed-up. Where shared memory is unavailable the threaded row says why.
import type { Tessera, Tier } from '../../bindings/index.js';
import type { BenchContext, Suite } from '../lib/context.js';

/** A threaded case: set up buffers on both instances; return the two calls and the work per call. */
interface ThreadCase {
  op: string;
  shape: string;
  /** work per call: flops (GFLOP/s) or elements (G elem/s) */
  flops?: number;
  elems?: number;
  setup(one: Tessera, many: Tessera): { single: () => void; parallel: () => Promise<void>; identical: () => boolean; dispose: () => void };
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
        identical: () => { const a = h1.read(), b = h2.read(); for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false; return true; },
        dispose: () => { s1.dispose(); h1.dispose(); s2.dispose(); h2.dispose(); },
      };
    },
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
      const sparse = (one as any).sparse;
      const w = sparse.prune(w0, rows, cols, { sparsity });
      const x = Float32Array.from({ length: cols * n }, rnd);
      const mk = (tk: Tessera) => { const sp = (tk as any).sparse; return dense ? sp.denseLayer(w, rows, cols, { n }) : sp.layer(sp.pack(w, rows, cols), { n }); };
      const L1 = mk(one), L2 = mk(many);
      const x1 = one.tensorFrom(x), y1 = one.tensor('f32', [rows * n]);
      const x2 = many.tensorFrom(x), y2 = many.tensor('f32', [rows * n]);
      return {
        single: () => L1.run(x1, y1),
        parallel: () => (many.parallel as any).sparseRun(L2, x2, y2),
        identical: () => { const a = y1.read(), b = y2.read(); for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false; return true; },
        dispose: () => { L1.dispose(); L2.dispose(); x1.dispose(); y1.dispose(); x2.dispose(); y2.dispose(); },
      };
    },
  };
}

/** Dense GEMM with packed f32 weights (m = k = n = size), row panels of C split across threads. */
function gemmCase(size: number): ThreadCase {
  const m = size, k = size, n = size;
  return {
    op: 'dense GEMM f32 (packed B)', shape: `M${m}xK${k}xN${n}`, flops: 2 * m * n * k,
    setup(one, many) {
      const a = new Float32Array(m * k).map((_, i) => Math.sin(i) * 0.5), b = new Float32Array(k * n).map((_, i) => Math.cos(i) * 0.5);
      const p1 = (one as any).dense.packMatmul(b, k, n), p2 = (many as any).dense.packMatmul(b, k, n);
      const a1 = one.tensorFrom(a), c1 = one.tensor('f32', [m * n]), a2 = many.tensorFrom(a), c2 = many.tensor('f32', [m * n]);
      return {
        single: () => p1.run(a1, c1, m),
        parallel: () => (many.parallel as any).matmulRun(p2, a2, c2, m),
        identical: () => { const x = c1.read(), y = c2.read(); for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false; return true; },
        dispose: () => { p1.dispose(); p2.dispose(); a1.dispose(); c1.dispose(); a2.dispose(); c2.dispose(); },
      };
    },
  };
}

/** Flash attention f32, non-causal, [heads, S, d]: (head, query block) tiles across threads. */
function attentionCase(heads: number, S: number, d: number): ThreadCase {
  return {
    op: 'attention f32 flash', shape: `H=${heads} S=${S} d=${d}`, flops: 4 * heads * S * S * d,
    setup(one, many) {
      const o = { heads, seqQ: S, seqK: S, headDim: d };
      const n = heads * S * d;
      const mk = (seed: number) => new Float32Array(n).map((_, i) => Math.sin(i * 0.37 + seed));
      const q = mk(1), k = mk(2), v = mk(3);
      const t1 = [q, k, v].map((x) => one.tensorFrom(x)), t2 = [q, k, v].map((x) => many.tensorFrom(x));
      const o1 = one.tensor('f32', [n]) as any, o2 = many.tensor('f32', [n]) as any;
      return {
        single: () => (one as any).attention(t1[0], t1[1], t1[2], o, o1),
        parallel: () => (many.parallel as any).attention(t2[0], t2[1], t2[2], o, o2),
        identical: () => { const x = o1.read(), y = o2.read(); for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false; return true; },
        dispose: () => { [...t1, ...t2, o1, o2].forEach((t) => t.dispose()); },
      };
    },
  };
}

/** Cases per family. Families add theirs here when their splitter lands in bindings/threads/split.ts. */
function cases(ctx: BenchContext): ThreadCase[] {
  const out: ThreadCase[] = [f16Case(ctx.quick ? 1 << 21 : 1 << 23)];
  if (hasOp('dense')) out.push(...(ctx.quick ? [1024] : [512, 1024]).map(gemmCase));
  if (hasOp('attention')) out.push(...(ctx.quick ? [attentionCase(2, 4096, 64)] : [attentionCase(2, 1024, 64), attentionCase(4, 4096, 64)]));
  const n = ctx.quick ? 784 : 3136; // 28x28 / 56x56 feature maps
  if (hasOp('sparse')) {
    out.push(sparseCase(512, 512, n, 0.7, false), sparseCase(512, 512, n, 0.7, true));
    if (ctx.full) out.push(sparseCase(512, 512, n, 0.9, false));
  }
  return out.filter((c) => ctx.wants(c.shape));
}

/** Families land at different times: a case runs only when the instance has the family's ops. */
let probeTk: Tessera | null = null;
function hasOp(ns: 'dense' | 'attention' | 'sparse'): boolean {
  const p = probeTk as any;
  if (!p) return false;
  if (ns === 'dense') return typeof p.dense?.packMatmul === 'function' && typeof p.parallel?.matmulRun === 'function';
  if (ns === 'attention') return typeof p.attention === 'function' && typeof p.parallel?.attention === 'function';
  return typeof p.sparse?.layer === 'function' && typeof p.parallel?.sparseRun === 'function';
}

export const threadsSuite: Suite = {
  name: 'threads',
  description: 'threaded mode (shared memory, worker pool) vs one thread, bit-identical outputs checked',
  async run(ctx) {
    const tier: Tier = ctx.tiers[ctx.tiers.length - 1]; // the fastest available tier
    const one = await ctx.tk(tier, 1);
    const many = await ctx.tk(tier, ctx.threads);
    const threads = many.features.threads;
    probeTk = many;
    for (const c of cases(ctx)) {
      const base = { suite: 'threads', op: c.op, shape: c.shape, engine: 'tessera', variant: tier };
      let io;
      try {
        io = c.setup(one, many);
        const t1 = ctx.time(io.single);
        const rate = (ms: number) => (c.flops ? { gflops: c.flops / ms / 1e6 } : { gelems: (c.elems ?? 0) / ms / 1e6 });
        ctx.emit({ ...base, threads: 1, ms: t1.ms, ...rate(t1.ms), runs: t1.runs, spread: t1.spread });
        if (threads < 2) {
          ctx.emit({ ...base, threads: 1, ms: null, error: `threaded mode unavailable: ${many.features.threadsReason ?? 'unknown reason'}` });
          continue;
        }
        const tn = await ctx.timeAsync(io.parallel);
        const same = io.identical();
        ctx.emit({
          ...base, threads, ms: tn.ms, ...rate(tn.ms), runs: tn.runs, spread: tn.spread, maxRelErr: same ? 0 : undefined,
          ratio: { vs: '1 thread', value: t1.ms / tn.ms },
          ...(same ? { note: 'bit-identical to 1 thread' } : { error: 'threaded output differs from the single-thread output' }),
        });
      } catch (e) {
        ctx.emit({ ...base, threads, ms: null, error: String((e as Error)?.message ?? e) });
      } finally {
        io?.dispose();
      }
    }
  },
};
