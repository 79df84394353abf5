// Differential fuzzer over every public op: `npm run fuzz -- [--seed N] [--cases N] [--minutes M]
//   [--tiers simd128,relaxed] [--ops name,prefix*] [--threads N] [--first N] [--json file] [--list]`
// Each case runs on a debug instance: f64 reference + tolerance, no stray write anywhere in linear
// memory, no JS input touched, no leaked arena block; hostile calls must be typed errors that change
// nothing. Exit code 1 on any failure. Reproduce one case with --seed S --ops NAME --first I --cases 1.
import { writeFileSync } from 'node:fs';
import { init, type Tier } from '../bindings/index.js';
import { formatTable, fuzz, totals, type FuzzReport } from '../tests/fuzz/engine.js';
import { OPS } from '../tests/fuzz/ops.js';
import type { FuzzContext } from '../tests/fuzz/types.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith('--')) continue;
  const [k, v] = a.slice(2).split('=');
  if (v !== undefined) args.set(k, v);
  else if (i + 1 < process.argv.length && !process.argv[i + 1].startsWith('--')) args.set(k, process.argv[++i]);
  else args.set(k, 'true');
}
const num = (k: string, d: number) => (args.has(k) ? Number(args.get(k)) : d);

if (args.has('list')) {
  for (const op of OPS) console.log(`${op.name.padEnd(22)} ${op.family.padEnd(7)} ${op.tolerance}`);
  process.exit(0);
}

const seed = num('seed', Date.now() % 1e9);
const minutes = num('minutes', 0);
const cases = num('cases', minutes ? 1e9 : 200);
const first = num('first', 0);
const threads = num('threads', 1);
const tiers = (args.get('tiers') ?? 'simd128,relaxed').split(',') as Tier[];
const pats = args.get('ops')?.split(',');
const filter = pats ? (op: { name: string }) => pats.some((p) => (p.endsWith('*') ? op.name.startsWith(p.slice(0, -1)) : op.name === p)) : undefined;

console.log(`tessera fuzz: seed ${seed}, ${minutes ? `${minutes} min` : `${cases} cases/op`}, tiers ${tiers.join(', ')}, threads ${threads}, ${OPS.length} ops`);
const reports: FuzzReport[] = [];
const budgetMs = minutes ? (minutes * 60_000) / tiers.length : 0;
for (const tier of tiers) {
  const ctx: FuzzContext = {
    tk: await init({ simd: tier, debug: true, threads }),
    other: await init({ simd: 'simd128' }),
    renew: async () => { ctx.tk.dispose(); ctx.tk = await init({ simd: tier, debug: true, threads }); },
  };
  const tk = ctx.tk;
  const rep = await fuzz(ctx, OPS, {
    seed, cases, first, budgetMs, filter, maxProblems: 50,
    onProgress: (t) => process.stdout.write(`  [${tier}] ${t.op}: ${t.cases} cases, ${t.hostile} bad inputs, ${t.failures + t.corruptions + t.leaks + t.hostileFailures} problems\n`),
  });
  reports.push(rep);
  console.log(`\n== ${tier} (${tk.features.runtime} ${tk.features.runtimeVersion}, threads ${tk.features.threads}) — ${(rep.ms / 1000).toFixed(1)} s\n${formatTable(rep.tallies)}\n`);
  for (const p of rep.problems) console.log(`  ! ${p}`);
  ctx.tk.dispose(); ctx.other.dispose();
}
const all = totals(reports.flatMap((r) => r.tallies));
const problems = all.failures + all.corruptions + all.leaks + all.hostileFailures;
console.log(`\nSUMMARY seed=${seed}: ${all.cases} cases fuzzed (${all.expectedErrors} typed rejections of invalid shapes), ${all.hostile} bad inputs tried, ` +
  `${all.failures} failures, ${all.corruptions} corruptions found, ${all.leaks} leaks, ${all.hostileFailures} bad inputs mishandled`);
if (args.has('json')) {
  writeFileSync(args.get('json')!, JSON.stringify({ seed, cases, minutes, tiers, threads, node: process.version, totals: all, reports }, null, 2));
}
process.exit(problems ? 1 : 0);
