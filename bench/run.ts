// Benchmark in THIS runtime (Node via tsx, Deno, Bun): prints the environment, one JSON line per
// result and a Markdown summary; writes bench/results/<runtime>-latest.{jsonl,md} unless --no-save.
// The cross-runtime driver (bench/cross.ts, `npm run bench`) runs this same file in every runtime.
//   flags: --only=f16,threads  --full (long preset; default is quick)  --tiers=simd128,relaxed
//          --threads=2  --shapes=1024,S=4096  --out=DIR  --no-save  --lines-only (protocol lines only)
//   node:  npx tsx bench/run.ts --only=f16
//   deno:  node_modules/.bin/deno run -A --sloppy-imports bench/run.ts --only=f16
//   bun:   node_modules/.bin/bun bench/run.ts --only=f16
// node:fs / node:os are available in all three runtimes (Deno and Bun implement them).
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { markdownTable } from './lib/report.js';
import { parseArgs, runBench } from './lib/runner.js';

const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const args = parseArgs(argv);
const linesOnly = args.raw['lines-only'] === 'true';
const host = { cpu: cpus()[0]?.model?.trim() ?? 'unknown', cores: cpus().length, platform: `${platform()}-${arch()}`, loadAvg: loadavg()[0] };

const { env, results } = await runBench(args, (line) => console.log(line), host, (msg) => console.error(msg));

if (!linesOnly) {
  const md = `# tessera benchmark — ${env.runtime} ${env.runtimeVersion}\n\n` +
    `Environment: ${env.cpu} (${env.cores} cores), ${env.platform}, tiers ${env.tier}, relaxed SIMD ${env.relaxedSimd ? 'yes' : 'no'}` +
    ` (FMA ${env.fusedMadd ? 'fused' : 'unfused'}), threads ${env.threads}, ${env.date}, preset ${env.preset}\n\n` + markdownTable(results) + '\n';
  console.log('\n' + md);
  if (args.raw['no-save'] !== 'true') {
    const outDir = String(args.raw.out ?? 'bench/results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(`${outDir}/${env.runtime}-latest.jsonl`, [JSON.stringify({ info: true, env }), ...results.map((r) => JSON.stringify(r))].join('\n') + '\n');
    writeFileSync(`${outDir}/${env.runtime}-latest.md`, md);
  }
}
// worker pools are disposed by the runner; exit explicitly anyway so a stray handle cannot hang CI
if (g.Deno) g.Deno.exit(0); else g.process.exit(0);
