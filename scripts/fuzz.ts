// Differential fuzzer over every public op: `npm run fuzz -- [--seed N] [--cases N] [--minutes M]
//   [--tiers simd128,relaxed] [--ops name,prefix*] [--threads N] [--first N] [--json file] [--list]`
// Each case runs on a debug instance: f64 reference + tolerance, no stray write anywhere in linear
// memory, no JS input touched, no leaked arena block; hostile calls must be typed errors that change
// nothing. Exit code 1 on any failure. Reproduce one case with --seed S --ops NAME --first I --cases 1.
// In a browser: `npx tsx bench/probes/browser.ts --probe=fuzz [--browser=chromium] --minutes=5 --seed=1 ...`.
import { writeFileSync } from 'node:fs';
import type { Tier } from '../bindings/index.js';
import { OPS } from '../tests/fuzz/ops.js';
import { runFuzz } from '../tests/fuzz/run.js';

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
const threads = num('threads', 1);
const tiers = (args.get('tiers') ?? 'simd128,relaxed').split(',') as Tier[];
const r = await runFuzz({ seed, minutes, cases, first: num('first', 0), threads, tiers, ops: args.get('ops')?.split(',') }, (l) => console.log(l));
if (args.has('json')) {
  writeFileSync(args.get('json')!, JSON.stringify({ seed, cases, minutes, tiers, threads, node: process.version, totals: r.totals, reports: r.reports }, null, 2));
}
process.exit(r.problems ? 1 : 0);
