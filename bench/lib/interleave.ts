/**
 * Interleaved timing for ratios on a loaded machine: the contenders take turns (round-robin, order
 * rotated every round), so a burst of load from a neighbour hits all of them instead of one. Each
 * sample repeats a call until it lasts >= minSampleMs; the result per contender is the median
 * per-call time over the rounds. Use it when the number that matters is a ratio between contenders.
 */
export interface InterleavedTiming { ms: number; minMs: number; runs: number; spread: number }

export function timeInterleaved(fns: Record<string, () => unknown>, o: { rounds?: number; minSampleMs?: number; warmup?: number } = {}): Record<string, InterleavedTiming> {
  const rounds = o.rounds ?? 15, minSample = o.minSampleMs ?? 20, warm = o.warmup ?? 4;
  const names = Object.keys(fns);
  const inner: Record<string, number> = {};
  for (const n of names) {
    let best = Infinity;
    for (let i = 0; i < warm; i++) { const t0 = performance.now(); fns[n](); best = Math.min(best, performance.now() - t0); }
    inner[n] = Math.max(1, Math.ceil(minSample / Math.max(best, 1e-3)));
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(j + r) % names.length];
      const f = fns[n], k = inner[n];
      const t0 = performance.now();
      for (let i = 0; i < k; i++) f();
      samples[n].push((performance.now() - t0) / k);
    }
  }
  const out: Record<string, InterleavedTiming> = {};
  for (const n of names) {
    const s = samples[n].sort((a, b) => a - b);
    const med = s[s.length >> 1];
    out[n] = { ms: med, minMs: s[0], runs: s.length, spread: (s[Math.floor(s.length * 0.75)] - s[Math.floor(s.length * 0.25)]) / med };
  }
  return out;
}
