// Sparse batch-1 FC (GEMV) kernels and their internal plans (bindings/sparse-format.ts planGemv):
// 4x1 "runs" (4 consecutive stored columns share one v128 load of x; pairs of stored columns up to 3
// apart share one x load) and unstructured "gather"
// packs, with u16 and u32 column indices, against the f64 reference; and validateGemvPlan, the
// check between a plan and the kernels, on crafted and fuzzed corrupt plans.
import { describe, expect, it } from 'vitest';
import { SparseFormatError, type SparseBlock, type Tessera } from '../../bindings/index.js';
import { GEMV_RUNS_WORDS, GEMV_U16_MAX_COLS, planGemv, validateGemvPlan, type GemvPlan } from '../../bindings/sparse-format.js';
import { maxScaledErr, refMatmul, sparseWeights, type RefActivation } from '../helpers/ref-sparse.js';
import { randomF32, rng, tk } from '../helpers/tiers.js';
import { TIERS } from '../helpers/engine.js';

/** Same bound as tests/unit/sparse.test.ts: (K+2)u of sum |w*x| (Higham Thm 3.1, any summation order, fused or not). */
const tol = (K: number) => (K + 2) * 2 ** -24 * 1.01;

/** Weights with w[r][c] != 0 exactly where stored(r, c). */
function pattern(rows: number, cols: number, seed: number, stored: (r: number, c: number) => boolean): Float32Array {
  const w = randomF32(rows * cols, seed);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (!stored(r, c)) w[r * cols + c] = 0; else if (w[r * cols + c] === 0) w[r * cols + c] = 0.5;
  return w;
}

function checkGemv(t: Tessera, w: Float32Array, rows: number, cols: number, block: SparseBlock, seed: number, act: RefActivation = 'none', x = randomF32(cols, seed + 1)) {
  const bias = randomF32(rows, seed + 2);
  const sp = t.sparse.pack(w, rows, cols, { block, bias });
  const ref = refMatmul(w, bias, rows, cols, x, 1, act);
  const y = t.sparse.matmul(sp, x, 1, { activation: act });
  expect(maxScaledErr(y, ref.y, ref.mag), `${rows}x${cols} ${block} ${act}`).toBeLessThanOrEqual(tol(cols));
  // the zero-copy layer stages the same plan persistently
  const layer = t.sparse.layer(sp, { n: 1 }, { activation: act });
  try { expect(Array.from(layer.apply(x))).toEqual(Array.from(y)); } finally { layer.dispose(); }
  return { sp, plan: planGemv(sp), y };
}

const W = GEMV_RUNS_WORDS;
const runsOf = (p: GemvPlan) => { let q = 0; for (let b = 0; b < p.nz.length; b += W) q += p.kind === 'runs' ? p.nz[b] : 0; return q; };
/** nz words of block row b of a runs plan: [runs, pairs (c, c+1), (c, c+2), (c, c+3), singles] */
const wordsOf = (p: GemvPlan, b: number) => Array.from(p.nz.subarray(W * b, W * b + W));

for (const tier of TIERS) {
  describe(`sparse batch-1 [${tier}]`, () => {
    it('4x1 runs: runs at the last column, runs crossing block rows, long runs, tails, empty rows, single nonzero', async () => {
      const t = await tk(tier);
      // rows 0-3: columns 7..10 (a run starting at cols-4, the max column); rows 4-7: 0..5 (a run of 6 = run + pair; the walk crosses from column 10 of group 0 to column 0 of group 1); rows 8-11: 2, 4..10 without 8
      // (single 2, run 4..7, pair 9..10); row 12 (tail): 3..6 (tail rows never form runs); 13 rows (1 tail row), 11 columns
      const stored = (r: number, c: number) => r < 4 ? c >= 7 : r < 8 ? c <= 5 : r < 12 ? c === 2 || (c >= 4 && c !== 8) : c >= 3 && c <= 6;
      const a = checkGemv(t, pattern(13, 11, 1, stored), 13, 11, [4, 1], 1);
      expect(a.plan.kind).toBe('runs');
      expect(Array.from(a.plan.nz)).toEqual([1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 4]); // [runs, pairs +1, +2, +3, singles] per block row
      expect(Array.from(a.plan.idx)).toEqual([7, 0, 4, 4, 9, 2, 3, 4, 5, 6]);
      for (const act of ['relu', 'relu6'] as const) checkGemv(t, pattern(13, 11, 1, stored), 13, 11, [4, 1], 2, act);
      // cols = 4: every stored row group is one run starting at column 0 = cols - 4
      expect(runsOf(checkGemv(t, randomF32(8 * 4, 3), 8, 4, [4, 1], 3).plan)).toBe(2);
      // cols < 4: no run fits
      expect(runsOf(checkGemv(t, randomF32(7 * 3, 4), 7, 3, [4, 1], 4).plan)).toBe(0);
      // fully dense with channel tails: 17 columns = 4 runs + 1 single per group
      const d = checkGemv(t, randomF32(15 * 17, 5), 15, 17, [4, 1], 5);
      expect(runsOf(d.plan)).toBe(12);
      // 3 runs per group: the kernel's two-runs-per-step loop, then its one-run tail
      expect(runsOf(checkGemv(t, randomF32(8 * 13, 10), 8, 13, [4, 1], 10).plan)).toBe(6);
      // nothing stored (bias only), one nonzero at the max row and column, empty groups between stored ones
      checkGemv(t, new Float32Array(9 * 6), 9, 6, [4, 1], 6, 'relu');
      checkGemv(t, pattern(9, 6, 7, (r, c) => r === 8 && c === 5), 9, 6, [4, 1], 7);
      checkGemv(t, pattern(12, 9, 8, (r, c) => r >= 8 && c >= 2 && c <= 7), 12, 9, [4, 1], 8);
      // fuzzed patterns and sparsities (runs, singles and the unrolled-by-4 single loop with its tail)
      const r = rng(9);
      for (let it = 0; it < 30; it++) {
        const rows = 1 + Math.floor(r() * 30), cols = 1 + Math.floor(r() * 70);
        checkGemv(t, sparseWeights(rows, cols, r(), 100 + it, [4, 1]), rows, cols, [4, 1], 200 + it, (['none', 'relu', 'relu6'] as const)[it % 3]);
      }
    });

    it('4x1 pairs of columns 1, 2 and 3 apart (loops and tails), the cols-4 limit of the wide ones, skipped lanes ignore Inf', async () => {
      const t = await tk(tier);
      const cols = 20;
      const sets = [
        [0, 2, 5, 8, 10, 12, 16, 19], // every gap 2 or 3 apart, the last one starting at cols - 4
        [17, 19], // 2 apart but starting past cols - 4: two singles
        [0, 2, 4, 6, 8, 10], // three (c, c+2): the two-per-step loop and its tail
        [1, 4, 7, 10, 13, 16], // three (c, c+3), the last at cols - 4
        [0, 1, 3, 4, 6, 7], // three (c, c+1) (cheaper than the wider pairs 1..3 and 4..6)
        [0, 2], // tail row: singles only
      ];
      const rows = 21;
      const stored = (r: number, c: number) => sets[Math.min(r >> 2, 5)].includes(c);
      const a = checkGemv(t, pattern(rows, cols, 30, stored), rows, cols, [4, 1], 30);
      const w0 = wordsOf(a.plan, 0);
      expect([w0[0], w0[1], w0[2] + w0[3], w0[4]]).toEqual([0, 0, 4, 0]);
      expect(wordsOf(a.plan, 1)).toEqual([0, 0, 0, 0, 2]);
      expect(wordsOf(a.plan, 2)).toEqual([0, 0, 3, 0, 0]);
      expect(wordsOf(a.plan, 3)).toEqual([0, 0, 0, 3, 0]);
      expect(wordsOf(a.plan, 4)).toEqual([0, 3, 0, 0, 0]);
      expect(wordsOf(a.plan, 5)).toEqual([0, 0, 0, 0, 2]);
      for (const act of ['relu', 'relu6'] as const) checkGemv(t, pattern(rows, cols, 31, stored), rows, cols, [4, 1], 31, act);
      // a wide pair loads x[c..c+3] and keeps lanes 0 and d: Inf in the lanes between (columns the
      // group does not store) must not reach the sums (no NaN from 0 * Inf)
      const w = pattern(4, 8, 32, (_r, c) => c === 0 || c === 2 || c === 4 || c === 7);
      const sp = t.sparse.pack(w, 4, 8, { block: [4, 1] });
      expect(wordsOf(planGemv(sp), 0)).toEqual([0, 0, 1, 1, 0]);
      const x = randomF32(8, 33);
      const xi = x.map((v, c) => (c === 1 || c === 3 || c === 5 || c === 6 ? Infinity : v));
      const ref = refMatmul(w, undefined, 4, 8, x, 1);
      const y = t.sparse.matmul(sp, xi, 1);
      expect(maxScaledErr(y, ref.y, ref.mag)).toBeLessThanOrEqual(tol(8));
    });

    it('1x1 gather: every row length mod 4, empty rows, max column; masked lanes never turn Inf into NaN', async () => {
      const t = await tk(tier);
      // row r stores r columns (0..12, so nnz % 4 takes every value), always including the max column when r > 0
      const cols = 13, rows = 13;
      const order = [5, 0, 9, 3, 11, 7, 1, 10, 4, 8, 2, 6]; // a permutation of the other columns
      const stored = (r: number, c: number) => r > 0 && (c === cols - 1 || order.indexOf(c) < r - 1);
      const w = pattern(rows, cols, 10, stored);
      const g = checkGemv(t, w, rows, cols, [1, 1], 10);
      expect(g.plan.kind).toBe('gather');
      for (let r = 0; r < rows; r++) expect(g.plan.nz[2 * r], `row ${r}`).toBe(r);
      // Inf in a column row 1 does not store: row 1 (one stored column, three masked lanes) stays finite
      const x = randomF32(cols, 11);
      const c1 = [...Array(cols).keys()].find((c) => !stored(1, c))!;
      x[c1] = Infinity;
      const sp = t.sparse.pack(w, rows, cols, { block: [1, 1] });
      const y = t.sparse.matmul(sp, x, 1);
      const ref = refMatmul(w, undefined, rows, cols, x.map((v, c) => (c === c1 ? 0 : v)), 1); // row 1 never reads column c1
      expect(Number.isFinite(y[1])).toBe(true);
      expect(Math.abs(y[1] - ref.y[1])).toBeLessThanOrEqual(tol(cols) * ref.mag[1]);
      // Inf in the only stored column of row 1: +-Inf, not NaN (padded lanes repeat that column but are masked to 0)
      const x2 = randomF32(cols, 13); x2[cols - 1] = Infinity;
      const y2 = t.sparse.matmul(sp, x2, 1);
      expect(Math.abs(y2[1])).toBe(Infinity);
      const r = rng(14);
      for (let it = 0; it < 30; it++) {
        const rr = 1 + Math.floor(r() * 30), cc = 1 + Math.floor(r() * 70);
        checkGemv(t, sparseWeights(rr, cc, r(), 300 + it, [1, 1]), rr, cc, [1, 1], 400 + it, (['none', 'relu', 'relu6'] as const)[it % 3]);
      }
    });

    it('u32 column indices (cols > 65536): runs and gather reaching the last column', async () => {
      const t = await tk(tier);
      const cols = GEMV_U16_MAX_COLS + 8192, rows = 5;
      // plus, past the u16 range in group 0, three pairs of each kind (the two-per-step loops and their
      // tails): 1 apart at 70100.., 2 apart at 70000.., 3 apart at 70010..
      const pairs0 = [70000, 70002, 70020, 70022, 70040, 70042, 70010, 70013, 70030, 70033, 70050, 70053, 70100, 70101, 70110, 70111, 70120, 70121];
      const stored = (r: number, c: number) => c >= cols - 4 || c < 4 || c === 40000 || (r === 4 && c === 65535) || (r < 4 && pairs0.includes(c));
      for (const block of [[4, 1], [1, 1]] as const) {
        const { plan } = checkGemv(t, pattern(rows, cols, 20, stored), rows, cols, block, 21);
        expect(plan.idx).toBeInstanceOf(Uint32Array);
        if (block[0] === 4) {
          expect(wordsOf(plan, 0)).toEqual([2, 3, 3, 3, 1]);
          expect(Array.from(plan.idx.subarray(0, 11))).toEqual([0, cols - 4, 70100, 70110, 70120, 70000, 70020, 70040, 70010, 70030, 70050]);
        }
      }
    });
  });
}

describe('validateGemvPlan', () => {
  /** a valid plan: 4x1 with a run at cols - 4 in group 0 and pairs in group 1, or a random unstructured pattern */
  const build = (t: Tessera, block: SparseBlock, rows: number, cols: number, seed: number) => {
    const w = block[0] === 4
      ? pattern(rows, cols, seed, (r, c) => r < 4 ? c >= cols - 4 : r < 8 ? [0, 2, 4, 5, 8].includes(c) : (c * 5 + r) % 3 !== 0)
      : sparseWeights(rows, cols, 0.5, seed, block);
    return planGemv(t.sparse.pack(w, rows, cols, { block }));
  };
  const clone = (p: GemvPlan): GemvPlan => ({ kind: p.kind, nz: p.nz.slice(), idx: p.idx.slice(), w: p.w.slice() });

  it('accepts the plans planGemv builds and rejects every crafted out-of-range or inconsistent field', async () => {
    const t = await tk('simd128');
    const rows = 9, cols = 11;
    const runs = build(t, [4, 1], rows, cols, 1), gather = build(t, [1, 1], rows, cols, 2);
    expect(runs.kind).toBe('runs');
    expect(runs.nz[0]).toBe(1); // group 0: one run at cols - 4
    expect(runs.nz[W + 1] * runs.nz[W + 2]).toBeGreaterThan(0); // group 1: pair (4, 5), pair (0, 2), single 8
    expect(() => validateGemvPlan(runs, rows, cols, 4)).not.toThrow();
    expect(() => validateGemvPlan(gather, rows, cols, 1)).not.toThrow();
    const bad: [string, GemvPlan, 4 | 1][] = [];
    const mut = (name: string, base: GemvPlan, blockRows: 4 | 1, f: (p: GemvPlan) => void) => { const p = clone(base); f(p); bad.push([name, p, blockRows]); };
    mut('run starts past cols-4', runs, 4, (p) => { p.idx[0] = cols - 3; });
    mut('single index = cols', runs, 4, (p) => { p.idx[p.idx.length - 1] = cols; });
    mut('run on a tail row', runs, 4, (p) => { p.nz[p.nz.length - W] = 1; });
    for (const k of [1, 2, 3]) mut(`pair (c, c+${k}) on a tail row`, runs, 4, (p) => { p.nz[p.nz.length - W + k] = 1; });
    /** index position of the first pair of kind k (1..3) in group 1 */
    const pairAt = (p: GemvPlan, k: number) => p.nz[0] + p.nz[1] + p.nz[2] + p.nz[3] + p.nz[4] + p.nz[W] + (k > 1 ? p.nz[W + 1] : 0) + (k > 2 ? p.nz[W + 2] : 0);
    mut('pair (c, c+1) starts past cols-2', runs, 4, (p) => { p.idx[pairAt(p, 1)] = cols - 1; });
    mut('pair (c, c+2) starts past cols-4', runs, 4, (p) => { p.idx[pairAt(p, 2)] = cols - 3; });
    mut('pairs count +1', runs, 4, (p) => { p.nz[1] += 1; });
    mut('wide pairs count +1', runs, 4, (p) => { p.nz[3] += 1; });
    mut('singles count +1', runs, 4, (p) => { p.nz[4] += 1; });
    mut('runs count +1', runs, 4, (p) => { p.nz[0] += 1; });
    mut('w one short', runs, 4, (p) => { p.w = p.w.subarray(1); });
    mut('idx one extra', runs, 4, (p) => { p.idx = Uint16Array.from([...p.idx, 0]); });
    mut('u32 indices for <= 65536 columns', runs, 4, (p) => { p.idx = Uint32Array.from(p.idx); });
    mut('nz one word short', runs, 4, (p) => { p.nz = p.nz.subarray(1); });
    mut('runs plan for 1x1 blocks', runs, 1, () => {});
    mut('gather index = cols', gather, 1, (p) => { p.idx[0] = cols; });
    mut('gather padded index = cols', gather, 1, (p) => { p.idx[p.idx.length - 1] = 65535; });
    mut('gather nnz > cols', gather, 1, (p) => { p.nz[0] = cols + 1; });
    mut('gather nnz +4 (past the indices)', gather, 1, (p) => { p.nz[2] += 4; });
    mut('gather w one short', gather, 1, (p) => { p.w = p.w.subarray(1); });
    mut('gather plan for 4x1 blocks', gather, 4, () => {});
    mut('unknown kind', gather, 1, (p) => { (p as { kind: string }).kind = 'dense'; });
    for (const [name, p, br] of bad) expect(() => validateGemvPlan(p, rows, cols, br), name).toThrow(SparseFormatError);
  });

  it('fuzzed corrupt plans: either rejected or every index the kernels would read is in range', async () => {
    const t = await tk('simd128');
    const r = rng(3);
    let rejected = 0;
    for (let it = 0; it < 400; it++) {
      const block: SparseBlock = it & 1 ? [1, 1] : [4, 1];
      const rows = 1 + Math.floor(r() * 12), cols = 1 + Math.floor(r() * 20);
      const p = clone(build(t, block, rows, cols, 10 + it));
      const arr = r() < 0.5 ? p.nz : p.idx;
      if (arr.length === 0) continue;
      const i = Math.floor(r() * arr.length);
      arr[i] = r() < 0.5 ? arr[i] + 1 + Math.floor(r() * 4) : Math.floor(r() * 2 ** (1 + Math.floor(r() * 16)));
      try {
        validateGemvPlan(p, rows, cols, block[0]);
      } catch (e) {
        expect(e).toBeInstanceOf(SparseFormatError);
        rejected++;
        continue;
      }
      // accepted: walk the plan as the kernels do and check every read (independent of the validator)
      let ni = 0, nw = 0;
      for (let b = 0; b < p.nz.length / (p.kind === 'runs' ? W : 2); b++) {
        if (p.kind === 'runs') {
          const g = block[0] === 4 && b < Math.floor(rows / 4) ? 4 : 1;
          // x columns read per index: run and pairs 2 or 3 apart x[c..c+3], pair 1 apart x[c..c+1], single x[c]
          const span = [4, 2, 4, 4, 1];
          for (let k = 0; k < W; k++) for (let q = 0; q < p.nz[W * b + k]; q++) expect(p.idx[ni++] + span[k] - 1).toBeLessThan(cols);
          nw += g + (4 * p.nz[W * b] + 2 * (p.nz[W * b + 1] + p.nz[W * b + 2] + p.nz[W * b + 3]) + p.nz[W * b + 4]) * g;
        } else {
          const packs = Math.ceil(p.nz[2 * b] / 4) * 4;
          for (let s = 0; s < packs; s++) expect(p.idx[ni++]).toBeLessThan(cols);
          nw += packs;
        }
      }
      expect(ni).toBeLessThanOrEqual(p.idx.length);
      expect(nw).toBeLessThanOrEqual(p.w.length);
    }
    expect(rejected).toBeGreaterThan(200);
  });
});
