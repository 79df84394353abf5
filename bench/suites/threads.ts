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

/** Cases per family. Families add theirs here when their splitter lands in bindings/threads/split.ts. */
function cases(ctx: BenchContext): ThreadCase[] {
  const out: ThreadCase[] = [f16Case(ctx.quick ? 1 << 21 : 1 << 23)];
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
