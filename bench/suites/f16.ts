// f32 <-> f16 conversion throughput: the raw kernel on arena tensors (zero-copy) and the copying
// API (tk.f16.fromF32 / toF32, which stream through a bounded tile).
import type { Tier } from '../../bindings/index.js';
import type { Suite } from '../lib/context.js';

export const f16Suite: Suite = {
  name: 'f16',
  description: 'f32<->f16 conversion (G elem/s), kernel and copying API',
  async run(ctx) {
    const n = 1 << 20;
    for (const tier of ctx.tiers as Tier[]) {
      const tk = await ctx.tk(tier);
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 1000;
      const src = tk.tensorFrom(x);
      const h = tk.tensor('f16', [n]);
      const back = tk.tensor('f32', [n]);
      tk.f16.convert(src, h);
      tk.f16.convert(h, back);
      const err = maxRelErr(x, back.read());
      const k = tk.kernels;
      const cases: [string, () => void][] = [
        ['f32_f16_vcvt__wasmsimd_u16', () => k.f32_f16_vcvt__wasmsimd_u16(src.ptr, h.ptr, n)],
        ['f16_f32_vcvt__wasmsimd_u16', () => k.f16_f32_vcvt__wasmsimd_u16(h.ptr, back.ptr, n)],
        ['f32_f16_vcvt__scalar_u1', () => k.f32_f16_vcvt__scalar_u1(src.ptr, h.ptr, n)],
        ['f16_f32_vcvt__scalar_u1', () => k.f16_f32_vcvt__scalar_u1(h.ptr, back.ptr, n)],
      ];
      for (const [name, fn] of cases) {
        const t = ctx.time(fn);
        ctx.emit({ suite: 'f16', op: name, shape: `n=${n}`, engine: 'tessera', variant: tier, threads: 1, ms: t.ms, gelems: n / t.ms / 1e6, runs: t.runs, spread: t.spread, maxRelErr: err });
      }
      const hb = h.read();
      for (const [name, fn] of [['tk.f16.fromF32 (copying API)', () => tk.f16.fromF32(x)], ['tk.f16.toF32 (copying API)', () => tk.f16.toF32(hb)]] as [string, () => void][]) {
        const t = ctx.time(fn);
        ctx.emit({ suite: 'f16', op: name, shape: `n=${n}`, engine: 'tessera', variant: tier, threads: 1, ms: t.ms, gelems: n / t.ms / 1e6, runs: t.runs, spread: t.spread });
      }
      src.dispose(); h.dispose(); back.dispose();
    }
  },
};

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.abs(a[i]));
  return m;
}
