// The differential fuzzer (tests/fuzz/run.ts) in a browser page, with the CLI's options as query
// parameters: `npx tsx bench/probes/browser.ts --probe=fuzz [--browser=chromium] --minutes=5 --seed=7
// --threads=2 [--tiers=simd128] [--ops=tk.matmul,sparse*]`. Tiers default to what the engine can run.
// The page's last line is SUMMARY ...; `problems=N` after it is what the driver's exit code reflects.
import type { Tier } from '../../bindings/index.js';
import { probeRelaxedSimd } from '../../bindings/env.js';
import { runFuzz } from '../../tests/fuzz/run.js';

const q = new URLSearchParams((globalThis as { location?: { search: string } }).location?.search ?? '');
const num = (k: string, d: number) => (q.has(k) ? Number(q.get(k)) : d);
const minutes = num('minutes', 0);
const r = await runFuzz({
  seed: num('seed', Date.now() % 1e9), minutes, cases: num('cases', minutes ? 1e9 : 50), first: num('first', 0), threads: num('threads', 1),
  tiers: (q.get('tiers')?.split(',') ?? (probeRelaxedSimd() ? ['simd128', 'relaxed'] : ['simd128'])) as Tier[],
  ops: q.get('ops')?.split(','),
}, (l) => console.log(l));
console.log(`problems=${r.problems}`);
if (r.problems) throw new Error(`fuzz: ${r.problems} problems`);
