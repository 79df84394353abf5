// The differential fuzzer's driver, runtime-neutral: scripts/fuzz.ts (Node CLI, `npm run fuzz`) and
// bench/probes/fuzz.ts (any browser, through bench/probes/browser.ts) both call runFuzz.
import { init, type Tier } from '../../bindings/index.js';
import { formatTable, fuzz, totals, type FuzzReport } from './engine.js';
import { OPS } from './ops.js';
import type { FuzzContext } from './types.js';

export interface FuzzRunOptions {
  seed: number; minutes: number; cases: number; first: number; threads: number; tiers: Tier[];
  /** op names or `prefix*` patterns; all ops when absent */
  ops?: string[];
}

export interface FuzzRunResult { reports: FuzzReport[]; totals: ReturnType<typeof totals>; problems: number }

/** Fuzz every selected op on each tier (a debug instance per tier), printing progress and tables through `log`. */
export async function runFuzz(o: FuzzRunOptions, log: (line: string) => void): Promise<FuzzRunResult> {
  const pats = o.ops;
  const filter = pats ? (op: { name: string }) => pats.some((p) => (p.endsWith('*') ? op.name.startsWith(p.slice(0, -1)) : op.name === p)) : undefined;
  log(`tessera fuzz: seed ${o.seed}, ${o.minutes ? `${o.minutes} min` : `${o.cases} cases/op`}, tiers ${o.tiers.join(', ')}, threads ${o.threads}, ${OPS.length} ops`);
  const reports: FuzzReport[] = [];
  const budgetMs = o.minutes ? (o.minutes * 60_000) / o.tiers.length : 0;
  for (const tier of o.tiers) {
    const ctx: FuzzContext = {
      tk: await init({ simd: tier, debug: true, threads: o.threads }),
      other: await init({ simd: 'simd128' }),
      renew: async () => { ctx.tk.dispose(); ctx.tk = await init({ simd: tier, debug: true, threads: o.threads }); },
    };
    const tk = ctx.tk;
    const rep = await fuzz(ctx, OPS, {
      seed: o.seed, cases: o.cases, first: o.first, budgetMs, filter, maxProblems: 50,
      onProgress: (t) => log(`  [${tier}] ${t.op}: ${t.cases} cases, ${t.hostile} bad inputs, ${t.failures + t.corruptions + t.leaks + t.hostileFailures} problems`),
    });
    reports.push(rep);
    log(`\n== ${tier} (${tk.features.runtime} ${tk.features.runtimeVersion}, threads ${tk.features.threads}) — ${(rep.ms / 1000).toFixed(1)} s\n${formatTable(rep.tallies)}\n`);
    for (const p of rep.problems) log(`  ! ${p}`);
    ctx.tk.dispose(); ctx.other.dispose();
  }
  const all = totals(reports.flatMap((r) => r.tallies));
  const problems = all.failures + all.corruptions + all.leaks + all.hostileFailures;
  log(`\nSUMMARY seed=${o.seed}: ${all.cases} cases fuzzed (${all.expectedErrors} typed rejections of invalid shapes), ${all.hostile} bad inputs tried, ` +
    `${all.failures} failures, ${all.corruptions} corruptions found, ${all.leaks} leaks, ${all.hostileFailures} bad inputs mishandled`);
  return { reports, totals: all, problems };
}
