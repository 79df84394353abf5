/**
 * Runtime-neutral suite runner: no node:/Deno/Bun/DOM APIs here, so the same code runs in Node,
 * Deno, Bun and browsers. Entries (bench/run.ts for CLI runtimes, bench/web/entry.ts for browsers)
 * parse arguments, supply host facts they can see (CPU model, platform), print lines and save files.
 *
 * Output protocol (one JSON object per line, in this order):
 *   {"info":true,"env":{...}}      environment of this run
 *   {...Result}                    one per measurement (see report.ts)
 *   {"done":true,"ms":...}         end marker (the cross-runtime driver waits for it)
 */
import { init, type Tier } from '../../bindings/index.js';
import { probeSharedMemory } from '../../bindings/env.js';
import { SUITES } from '../suites/index.js';
import { BenchContext } from './context.js';
import type { Environment, Result } from './report.js';
import { timerResolutionMs } from './timing.js';

export interface RunnerArgs {
  only?: string[];
  /** suites to leave out (the cross-runtime driver runs 'threads' in a process of its own) */
  exclude?: string[];
  quick?: boolean;
  full?: boolean;
  tiers?: Tier[];
  threads?: number;
  shapes?: string[];
  assetBase?: string;
}

export interface HostInfo { cpu?: string; cores?: number; platform?: string; loadAvg?: number }

/** Parse `--key=value` / `--flag` arguments into RunnerArgs (unknown keys are ignored). */
export function parseArgs(argv: readonly string[]): RunnerArgs & { raw: Record<string, string> } {
  const raw: Record<string, string> = {};
  for (const a of argv) {
    if (!a.startsWith('--')) continue;
    const [k, ...v] = a.slice(2).split('=');
    raw[k] = v.length ? v.join('=') : 'true';
  }
  const list = (k: string) => (raw[k] && raw[k] !== 'true' ? raw[k].split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  return {
    raw,
    only: list('only'),
    exclude: list('exclude'),
    quick: raw.quick === 'true' || (raw.full !== 'true' && raw.quick !== 'false' && raw.default !== 'true'),
    full: raw.full === 'true',
    tiers: list('tiers') as Tier[] | undefined,
    threads: raw.threads ? Number(raw.threads) : undefined,
    shapes: list('shapes'),
    assetBase: raw.assetBase,
  };
}

/** The environment record for this runtime (tessera's own feature detection + what the host can tell). */
export async function environment(args: RunnerArgs, host: HostInfo = {}): Promise<Environment> {
  const g = globalThis as any;
  const probe = await init();
  const f = probe.features, kernelProfile = { ...probe.kernelProfile };
  probe.dispose();
  const shared = probeSharedMemory();
  // --tiers=best: the tier init() picks in this runtime (the cross-runtime default outside Node)
  const all: Tier[] = f.relaxedSimd ? ['simd128', 'relaxed'] : ['simd128'];
  const tiers = args.tiers?.[0] === ('best' as Tier) ? [f.tier] : args.tiers?.[0] === ('all' as Tier) ? all : args.tiers ?? all;
  return {
    runtime: f.runtime,
    runtimeVersion: f.runtime === 'browser' ? browserVersion(String(g.navigator?.userAgent ?? '')) : f.runtimeVersion,
    engine: f.engine,
    tier: tiers.join('+'),
    relaxedSimd: f.relaxedSimd,
    fusedMadd: f.fusedMadd,
    threads: shared.ok ? args.threads ?? 2 : 1,
    crossOriginIsolated: !!g.crossOriginIsolated,
    cpu: host.cpu ?? 'unknown',
    cores: host.cores ?? (g.navigator?.hardwareConcurrency || 1),
    platform: host.platform ?? String(g.navigator?.platform ?? 'unknown'),
    date: new Date().toISOString(),
    timerResolutionMs: timerResolutionMs(),
    float16Array: f.float16Array,
    boundsChecks: f.boundsChecks,
    kernelProfile,
    sharedMemory: shared.ok,
    threadsReason: shared.ok ? undefined : shared.reason,
    userAgent: g.navigator?.userAgent,
    preset: args.full ? 'full' : args.quick ? 'quick' : 'default',
    loadAvg: host.loadAvg,
    notes: f.notes,
  };
}

function browserVersion(ua: string): string {
  const m = ua.match(/(HeadlessChrome|Chrome|Firefox|Version)\/([\d.]+)/);
  return m ? `${m[1].replace('HeadlessChrome', 'Chromium')} ${m[2]}` : ua;
}

/** Run the selected suites, printing the protocol lines through `print`. */
export async function runBench(args: RunnerArgs, print: (line: string) => void, host: HostInfo = {}, log: (msg: string) => void = () => {}): Promise<{ env: Environment; results: Result[] }> {
  const t0 = performance.now();
  const env = await environment(args, host);
  print(JSON.stringify({ info: true, env }));
  const ctx = new BenchContext({
    quick: !!args.quick, full: !!args.full, tiers: env.tier.split('+') as Tier[], print, threads: env.threads,
    shapes: args.shapes, runtime: env.runtime, assetBase: args.assetBase,
  });
  const known = new Set(SUITES.map((s) => s.name));
  for (const o of args.only ?? []) if (!known.has(o)) log(`warning: --only=${o} matches no suite (have: ${[...known].join(', ')})`);
  const suiteSeconds: Record<string, number> = {};
  for (const s of SUITES) {
    if (args.only && !args.only.includes(s.name)) continue;
    if (args.exclude?.includes(s.name)) continue;
    log(`# suite ${s.name}: ${s.description}`);
    const ts = performance.now();
    try {
      await s.run(ctx);
    } catch (e) {
      ctx.emit({ suite: s.name, op: '(suite)', shape: '', engine: 'tessera', variant: '', threads: 1, ms: null, error: String((e as Error)?.stack ?? e).slice(0, 2000) });
    }
    suiteSeconds[s.name] = Math.round((performance.now() - ts) / 100) / 10;
    log(`# suite ${s.name} took ${suiteSeconds[s.name]} s`);
  }
  await ctx.dispose();
  print(JSON.stringify({ done: true, ms: performance.now() - t0, suiteSeconds }));
  return { env, results: ctx.results };
}
