/** Benchmark result records (one JSON line each) and the Markdown summary. */
export interface Result {
  suite: string;
  op: string;
  shape: string;
  engine: string; // 'tessera' | 'tfjs-wasm' | 'onnxruntime-web' | ...
  variant: string; // tier, dtype, sparsity, ...
  threads: number;
  ms: number | null;
  gflops?: number;
  gbps?: number;
  gelems?: number;
  runs?: number;
  spread?: number;
  maxRelErr?: number;
  rmse?: number;
  peakBytes?: number;
  ratio?: { vs: string; value: number };
  error?: string;
  note?: string;
}

export interface Environment {
  runtime: string; runtimeVersion: string; engine?: string; tier: string; relaxedSimd: boolean; fusedMadd: boolean;
  threads: number; crossOriginIsolated: boolean; cpu: string; cores: number; platform: string; date: string;
  /** measured step of performance.now() */
  timerResolutionMs?: number;
  float16Array?: boolean;
  /** shared WebAssembly.Memory usable here (threads possible) */
  sharedMemory?: boolean;
  /** tk.features.boundsChecks: 'explicit' when every wasm load/store carries an inline check (Deno) */
  boundsChecks?: 'guard' | 'explicit';
  /** the kernel variants the suites' instances run (tk.kernelProfile, init's default for this runtime) */
  kernelProfile?: Record<string, boolean>;
  /** why threaded runs fell back to one thread */
  threadsReason?: string;
  userAgent?: string;
  preset?: 'quick' | 'default' | 'full';
  /** host 1-minute load average around the run (other processes competing for the cores make ratios noisy) */
  loadAvg?: number;
  notes?: string[];
}

export function fmt(x: number | undefined | null, digits = 3): string {
  if (x === undefined || x === null || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 0.01 ? x.toFixed(digits - 1) : x.toExponential(1);
}

export function markdownTable(results: Result[]): string {
  const rows = ['| suite | op | shape | engine | variant | ms | GFLOP/s | G elem/s | GB/s | ratio | err | note |', '|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---|'];
  for (const r of results) {
    rows.push(`| ${r.suite} | ${r.op} | ${r.shape} | ${r.engine} | ${r.variant} | ${r.ms === null ? 'n/a' : fmt(r.ms)} | ${fmt(r.gflops)} | ${fmt(r.gelems)} | ${fmt(r.gbps)} | ` +
      `${r.ratio ? `${fmt(r.ratio.value)}× vs ${r.ratio.vs}` : ''} | ${fmt(r.maxRelErr ?? r.rmse)} | ${r.error ?? r.note ?? ''} |`);
  }
  return rows.join('\n');
}
