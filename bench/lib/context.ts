import { init, type Tessera, type Tier } from '../../bindings/index.js';
import type { Result } from './report.js';
import { time, type TimingOptions } from './timing.js';

/** What a suite gets: instances per tier, timing, and an emit() that prints one JSON line per result. */
export class BenchContext {
  readonly quick: boolean;
  readonly results: Result[] = [];
  readonly tiers: Tier[];
  private instances = new Map<Tier, Tessera>();
  constructor(opts: { quick: boolean; tiers: Tier[]; print?: (line: string) => void }) {
    this.quick = opts.quick;
    this.tiers = opts.tiers;
    if (opts.print) this.print = opts.print;
  }
  print = (line: string) => console.log(line);

  async tk(tier: Tier): Promise<Tessera> {
    let t = this.instances.get(tier);
    if (!t) { t = await init({ simd: tier, maxMemoryBytes: 1024 * 1024 * 1024 }); this.instances.set(tier, t); }
    return t;
  }

  time(fn: () => unknown, o: TimingOptions = {}) {
    return time(fn, this.quick ? { minRuns: 5, minTotalMs: 150, maxWarmup: 8, ...o } : o);
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
