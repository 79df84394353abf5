// Browser entry of the benchmark (bundled by bench/cross.ts with esbuild into .bench-web/bench.mjs).
// Arguments come from the query string (?only=f16&full&threads=2), exactly like the CLI flags.
// Lines go to window.benchEmit (exposed by the Playwright driver) and into the page.
import { parseArgs, runBench } from '../lib/runner.js';

const w = window as any;
const params = new URLSearchParams(location.search);
const argv = [...params.entries()].map(([k, v]) => (v === '' ? `--${k}` : `--${k}=${v}`));
const args = parseArgs(argv);
args.assetBase ??= new URL('../../', import.meta.url).href; // repository root as served
const out = document.getElementById('out')!;
const state = (w.__tesseraBench = { lines: [] as string[], done: false, error: null as string | null });

function print(line: string) {
  state.lines.push(line);
  w.benchEmit?.(line);
  try {
    const r = JSON.parse(line);
    if (r.info) out.textContent += `env: ${JSON.stringify(r.env)}\n`;
    else if (!r.done) out.textContent += `${r.suite} | ${r.op} | ${r.shape} | ${r.engine} ${r.variant} t${r.threads} | ${r.ms === null ? 'n/a ' + (r.error ?? '') : r.ms.toFixed(3) + ' ms'}\n`;
  } catch { out.textContent += line + '\n'; }
}

runBench(args, print, {}, (msg) => { out.textContent += msg + '\n'; w.benchLog?.(msg); })
  .then(() => { state.done = true; document.title = 'done'; out.textContent += 'done\n'; })
  .catch((e) => { state.error = String(e?.stack ?? e); state.done = true; w.benchEmit?.(JSON.stringify({ fatal: state.error })); out.textContent += state.error; });
