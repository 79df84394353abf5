// npm run bench — runs the benchmark suites in this runtime and prints the environment, one JSON
// line per result, and a Markdown summary; also writes bench/results/<runtime>-latest.{jsonl,md}.
//   flags: --only=f16,gemm   --quick   --tiers=simd128,relaxed   --out=DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import { init, type Tier } from '../bindings/index.js';
import { BenchContext } from './lib/context.js';
import { markdownTable, type Environment } from './lib/report.js';
import { SUITES } from './suites/index.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, '').split('='); return [k, v ?? 'true']; }));
const only = args.only ? String(args.only).split(',') : null;
const quick = args.quick === 'true' || process.env.BENCH_QUICK === '1';

const probe = await init();
const tiers: Tier[] = args.tiers ? (String(args.tiers).split(',') as Tier[]) : probe.features.relaxedSimd ? ['simd128', 'relaxed'] : ['simd128'];
const env: Environment = {
  runtime: probe.features.runtime, runtimeVersion: probe.features.runtimeVersion, tier: tiers.join('+'), relaxedSimd: probe.features.relaxedSimd,
  fusedMadd: probe.features.fusedMadd, threads: 1, crossOriginIsolated: probe.features.crossOriginIsolated,
  cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, platform: `${platform()}-${process.arch}`, date: new Date().toISOString(),
};
probe.dispose();
console.log(JSON.stringify({ info: true, env }));

const ctx = new BenchContext({ quick, tiers });
for (const s of SUITES) {
  if (only && !only.includes(s.name)) continue;
  console.error(`# suite ${s.name}: ${s.description}`);
  try {
    await s.run(ctx);
  } catch (e) {
    ctx.emit({ suite: s.name, op: '(suite)', shape: '', engine: 'tessera', variant: '', threads: 1, ms: null, error: (e as Error).stack ?? String(e) });
  }
}

const md = `# tessera benchmark — ${env.runtime} ${env.runtimeVersion}\n\n` +
  `Environment: ${env.cpu} (${env.cores} cores), ${env.platform}, tiers ${env.tier}, relaxed SIMD ${env.relaxedSimd ? 'yes' : 'no'}` +
  ` (FMA ${env.fusedMadd ? 'fused' : 'unfused'}), threads ${env.threads}, ${env.date}${quick ? ', --quick' : ''}\n\n` + markdownTable(ctx.results) + '\n';
console.log('\n' + md);
const outDir = String(args.out ?? 'bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}/${env.runtime}-latest.jsonl`, [JSON.stringify({ info: true, env }), ...ctx.results.map((r) => JSON.stringify(r))].join('\n') + '\n');
writeFileSync(`${outDir}/${env.runtime}-latest.md`, md);
