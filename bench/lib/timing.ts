/**
 * Robust timing for noisy 2-core VMs:
 *  - warm up until the best time stops improving (Liftoff -> TurboFan tier-up; wasm has no OSR);
 *  - a sample repeats the call until it lasts >= minSampleMs, divided by the repeat count;
 *  - take >= minRuns samples and keep sampling until minTotalMs elapsed; report the median.
 */
export interface TimingOptions { minRuns?: number; maxRuns?: number; minTotalMs?: number; minSampleMs?: number; maxWarmup?: number }
export interface Timing { ms: number; minMs: number; runs: number; inner: number; spread: number }

const now = () => performance.now();

export function time(fn: () => unknown, o: TimingOptions = {}): Timing {
  const minRuns = o.minRuns ?? 7, maxRuns = o.maxRuns ?? 60, minTotal = o.minTotalMs ?? 800, minSample = o.minSampleMs ?? 5;
  // calibrate inner repeats from one call (this first call also triggers compilation)
  let t0 = now(); fn(); let one = now() - t0;
  // warm-up: until the best of the last 3 calls stops improving by > 2%
  let best = one, stale = 0;
  for (let w = 0; w < (o.maxWarmup ?? 30) && stale < 3; w++) {
    t0 = now(); fn(); const t = now() - t0;
    if (t < best * 0.98) { best = t; stale = 0; } else stale++;
    if (w > 3 && best > 200) break; // long calls: a few are enough
  }
  const inner = Math.max(1, Math.ceil(minSample / Math.max(best, 1e-3)));
  const samples: number[] = [];
  const start = now();
  while (samples.length < minRuns || (now() - start < minTotal && samples.length < maxRuns)) {
    t0 = now();
    for (let i = 0; i < inner; i++) fn();
    samples.push((now() - t0) / inner);
  }
  samples.sort((a, b) => a - b);
  const med = samples[samples.length >> 1];
  const q1 = samples[Math.floor(samples.length * 0.25)], q3 = samples[Math.floor(samples.length * 0.75)];
  return { ms: med, minMs: samples[0], runs: samples.length, inner, spread: (q3 - q1) / med };
}

/** Same method as time(), for async calls (threaded ops): each call is awaited before the next starts. */
export async function timeAsync(fn: () => Promise<unknown>, o: TimingOptions = {}): Promise<Timing> {
  const minRuns = o.minRuns ?? 7, maxRuns = o.maxRuns ?? 60, minTotal = o.minTotalMs ?? 800, minSample = o.minSampleMs ?? 5;
  let t0 = now(); await fn(); const one = now() - t0;
  let best = one, stale = 0;
  for (let w = 0; w < (o.maxWarmup ?? 30) && stale < 3; w++) {
    t0 = now(); await fn(); const t = now() - t0;
    if (t < best * 0.98) { best = t; stale = 0; } else stale++;
    if (w > 3 && best > 200) break;
  }
  const inner = Math.max(1, Math.ceil(minSample / Math.max(best, 1e-3)));
  const samples: number[] = [];
  const start = now();
  while (samples.length < minRuns || (now() - start < minTotal && samples.length < maxRuns)) {
    t0 = now();
    for (let i = 0; i < inner; i++) await fn();
    samples.push((now() - t0) / inner);
  }
  samples.sort((a, b) => a - b);
  const med = samples[samples.length >> 1];
  const q1 = samples[Math.floor(samples.length * 0.25)], q3 = samples[Math.floor(samples.length * 0.75)];
  return { ms: med, minMs: samples[0], runs: samples.length, inner, spread: (q3 - q1) / med };
}

/** Smallest observable step of performance.now() in ms (browsers clamp it: 5 us isolated, 100 us otherwise). */
export function timerResolutionMs(): number {
  let best = Infinity;
  for (let i = 0; i < 20; i++) {
    const a = now();
    let b = now();
    while (b === a) b = now();
    best = Math.min(best, b - a);
  }
  return best;
}
