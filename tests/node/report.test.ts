// The benchmark report (bench/lib/html.ts): the at-a-glance table picks each runtime's own tier and
// the right row, colours only comparisons with peers, and the per-kernel charts leave out runtimes
// that did not run a tier (instead of drawing an "n/a" for them).
import { describe, expect, it } from 'vitest';
import { renderHtml, renderMarkdown, type RuntimeRun } from '../../bench/lib/html.js';
import type { Environment, Result } from '../../bench/lib/report.js';

const env = (runtime: string, relaxed: boolean): Environment => ({
  runtime, runtimeVersion: '1', tier: relaxed ? 'simd128+relaxed' : 'simd128', relaxedSimd: relaxed, fusedMadd: relaxed,
  threads: 2, crossOriginIsolated: true, cpu: 'test', cores: 2, platform: 'test', date: '2026-11-24',
});
const gemm = (tier: string, gflops: number, ratio: number): Result => ({
  suite: 'dense', op: 'matmul', shape: '1024x1024x1024', engine: 'tessera', variant: `${tier} f32 packed apply (B packed once)`,
  threads: 1, ms: 1, gflops, ratio: { vs: 'tfjs-wasm', value: ratio },
});
const pasa = (tier: string, ratio: number): Result => ({
  suite: 'attention', op: 'attention', shape: 'S2048 H1 D64', engine: 'tessera', variant: `pasa tensors ${tier}`,
  threads: 1, ms: 1, gflops: 30, ratio: { vs: 'tessera f32 tensors', value: ratio },
});
const runs: RuntimeRun[] = [
  { runtime: 'alpha', status: 'ok', env: env('alpha', true), seconds: 1, results: [gemm('simd128', 36, 1.17), gemm('relaxed', 50, 1.61), pasa('relaxed', 0.88)] },
  { runtime: 'beta', status: 'ok', env: env('beta', false), seconds: 1, results: [gemm('simd128', 30, 0.93)] },
];

describe('benchmark report', () => {
  it('at a glance: one row per headline, the tier init() picks in each runtime', () => {
    const md = renderMarkdown(runs, 'test');
    expect(md).toContain('| ratio | alpha (relaxed) | beta (simd128) |');
    expect(md).toContain('| GEMM 1024³, packed weights, vs tfjs-wasm | 1.61× | 0.93× |');
    expect(md).toMatch(/\| PASA attention \(fp16, no overflow\) vs our f32, S = 2048 \| 0\.88× \|  \|/);
    expect(md).not.toContain('conv 3×3'); // rows without data are left out
  });

  it('html: peers coloured by who is faster, self-comparisons plain; no n/a bars for tiers a runtime did not run', () => {
    const html = renderHtml(runs, 'test');
    const glance = html.slice(html.indexOf('<table class="glance">'), html.indexOf('</table>', html.indexOf('<table class="glance">')));
    expect(glance).toContain('class="num win" title="vs tfjs-wasm">1.61×');
    expect(glance).toContain('class="num lose" title="vs tfjs-wasm">0.93×');
    expect(glance).toContain('class="num" title="vs tessera f32 tensors">0.88×');
    // beta ran only simd128: the relaxed GEMM row has no "beta: n/a"; alpha ran both tiers, so nothing is n/a
    expect(html).not.toContain('beta: n/a');
    expect(html).not.toContain('alpha: n/a');
  });
});
