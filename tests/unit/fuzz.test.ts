// CI slice of the differential fuzzer (tests/fuzz/): a fixed seed, every public op, both tiers, plus
// the threaded ops on a 2-thread instance. Each case is checked against the f64 reference, for stray
// writes anywhere in linear memory, for changed JS inputs and for leaked arena blocks; each hostile
// call must be a typed error that changes nothing. The long run is `npm run fuzz` (scripts/fuzz.ts).
import { describe, expect, it } from 'vitest';
import { init } from '../../bindings/index.js';
import { formatTable, fuzz, totals } from '../fuzz/engine.js';
import { OPS } from '../fuzz/ops.js';
import type { FuzzContext } from '../fuzz/types.js';
import { TIERS } from '../helpers/engine.js';

const SEED = 20261124;
const CASES = 15; // per op per tier: every size class 3 times; ~5-8 s per tier (Node, loaded 2-core machine)

describe('differential fuzz (fixed seed)', () => {
  for (const tier of TIERS) {
    it(`every op, ${tier}: matches the f64 reference, no stray writes, no leaks, bad inputs are typed errors`, async () => {
      const ctx: FuzzContext = { tk: await init({ simd: tier, debug: true }), other: await init({ simd: 'simd128' }) };
      try {
        const rep = await fuzz(ctx, OPS, { seed: SEED, cases: CASES });
        const t = totals(rep.tallies);
        if (rep.problems.length) console.log(formatTable(rep.tallies) + '\n' + rep.problems.join('\n'));
        expect(rep.problems).toEqual([]);
        expect(t.cases).toBe(OPS.length * CASES);
        expect(t.failures + t.corruptions + t.leaks + t.hostileFailures).toBe(0);
        expect(t.hostile).toBeGreaterThan(OPS.length * 5);
      } finally {
        ctx.tk.dispose(); ctx.other.dispose();
      }
    });
  }

  it('threaded ops on a 2-thread instance (or the stated single-thread fallback)', async () => {
    const ctx: FuzzContext = { tk: await init({ threads: 2, debug: true }), other: await init({ simd: 'simd128' }) };
    try {
      const rep = await fuzz(ctx, OPS, { seed: SEED + 1, cases: 10, filter: (op) => !!op.async || op.name === 'f16.convert' });
      if (rep.problems.length) console.log(formatTable(rep.tallies) + '\n' + rep.problems.join('\n'));
      expect(rep.problems).toEqual([]);
      expect(totals(rep.tallies).cases).toBeGreaterThanOrEqual(30);
    } finally {
      ctx.tk.dispose(); ctx.other.dispose();
    }
  });
});
