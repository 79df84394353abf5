import { init, type Tessera, type Tier } from '../../bindings/index.js';
import type { Result } from './report.js';
import { time, timeAsync, type TimingOptions } from './timing.js';

/** What a suite gets: instances per tier, timing, and an emit() that prints one JSON line per result. */
export interface BenchOptions {
  quick: boolean;
  tiers: Tier[];
  print?: (line: string) => void;
  /** --full: the long preset (all shapes, more samples). */
  full?: boolean;
  /** Threads for the threaded comparisons (suites compare 1 vs this). Default 2. */
  threads?: number;
  /** --shapes=...: substrings; suites skip shapes whose label matches none (see wants()). */
  shapes?: string[];
  /** runtime name ('node' | 'deno' | 'bun' | 'browser'), for suites that must know (e.g. peers). */
  runtime?: string;
  /** Browser runs: URL prefix of the repository root (peers load their .wasm from <root>/node_modules/...). */
  assetBase?: string;
}

export class BenchContext {
  readonly quick: boolean;
  readonly full: boolean;
  readonly results: Result[] = [];
  readonly tiers: Tier[];
  readonly threads: number;
  readonly runtime: string;
  readonly assetBase: string | undefined;
  private shapes: string[] | null;
  private instances = new Map<string, Promise<Tessera>>();
  constructor(opts: BenchOptions) {
    this.quick = opts.quick;
    this.full = !!opts.full;
    this.tiers = opts.tiers;
    this.threads = opts.threads ?? 2;
    this.runtime = opts.runtime ?? 'node';
    this.assetBase = opts.assetBase;
    this.shapes = opts.shapes?.length ? opts.shapes : null;
    if (opts.print) this.print = opts.print;
  }
  print = (line: string) => console.log(line);

  /** Cached instance per (tier, threads). threads > 1 = threaded mode (may fall back: check features.threads). */
  tk(tier: Tier, threads = 1): Promise<Tessera> {
    const key = `${tier}/${threads}`;
    let t = this.instances.get(key);
    if (!t) {
      const prev = [...this.instances.values()].pop() ?? Promise.resolve();
      // init() is not re-entrant: chain after the previous one
      t = prev.catch(() => undefined).then(() => init({ simd: tier, threads, maxMemoryBytes: 1024 * 1024 * 1024 }));
      this.instances.set(key, t);
    }
    return t;
  }

  /** Shape filter from --shapes (always true without it). */
  wants(shapeLabel: string): boolean {
    return !this.shapes || this.shapes.some((s) => shapeLabel.includes(s));
  }

  private preset(o: TimingOptions): TimingOptions {
    return this.quick ? { minRuns: 5, minTotalMs: 150, maxWarmup: 8, ...o } : this.full ? { minRuns: 11, minTotalMs: 1500, ...o } : o;
  }

  time(fn: () => unknown, o: TimingOptions = {}) {
    return time(fn, this.preset(o));
  }

  /** Timing for async (threaded) calls, same method as time(). */
  timeAsync(fn: () => Promise<unknown>, o: TimingOptions = {}) {
    return timeAsync(fn, this.preset(o));
  }

  /** Terminate worker pools (lets Deno/Bun/Node exit) and drop the instances. */
  async dispose(): Promise<void> {
    for (const p of this.instances.values()) { try { (await p).dispose(); } catch { /* failed init: nothing to free */ } }
    this.instances.clear();
  }

  emit(r: Result): Result {
    this.results.push(r);
    this.print(JSON.stringify(r));
    return r;
  }
}

export interface Suite {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<void>;
}
