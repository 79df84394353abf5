// Fuzz engine shared by the CI test (tests/unit/fuzz.test.ts) and `npm run fuzz` (scripts/fuzz.ts).
//
// For every case of every op (on a debug instance, so free memory is filled and guarded):
//   1. generate inputs for a size class (0, 1, small, prime, large) and value mode;
//   2. copy every JS input's whole backing store, snapshot linear memory (Arena.snapshot);
//   3. run the op; a typed error is a pass only if the case expects exactly that error;
//   4. corruption checks: no byte of linear memory changed outside the op's outputs and the blocks
//      it allocated (ArenaSnapshot.verify, which also checks guards and free memory), no JS input or
//      sentinel byte around an input/output view changed;
//   5. compare with the f64 reference (the spec's tolerance);
//   6. dispose, then the arena must be back where it was (no leaked block).
// Hostile cases: a bad call must throw one of the expected typed errors (naming the problem) and
// change no byte of linear memory; the next case then proves the instance still works.
import { KERNEL_PROFILE_KEYS, TesseraError, type Tessera } from '../../bindings/index.js';
import { caseSeed, Rng } from './rng.js';
import { SIZE_CLASSES, type FuzzCase, type FuzzContext, type HostileCase, type OpSpec } from './types.js';

export interface OpTally {
  op: string;
  cases: number;
  /** valid-looking cases rejected with the expected typed error (e.g. 0-sized dims) */
  expectedErrors: number;
  failures: number;
  corruptions: number;
  leaks: number;
  hostile: number;
  hostileFailures: number;
  ms: number;
}

export interface FuzzReport {
  tier: string;
  seed: number;
  tallies: OpTally[];
  /** first messages (capped), each with what reproduces it */
  problems: string[];
  ms: number;
}

export interface FuzzOptions {
  seed: number;
  /** cases per op (hostile calls: half as many) */
  cases: number;
  /** stop starting new cases after this many ms (0 = no limit) */
  budgetMs?: number;
  /** start case index (the long run continues where the CI seed stops) */
  first?: number;
  filter?: (op: OpSpec) => boolean;
  maxProblems?: number;
  onProgress?: (t: OpTally) => void;
}

function snapshotBacking(views: ArrayBufferView[]): Uint8Array[] {
  return views.map((v) => new Uint8Array(v.buffer).slice());
}

/** Which bytes of each backing store changed outside the allowed views. */
function backingChanges(views: ArrayBufferView[], before: Uint8Array[], allowed: ArrayBufferView[]): string | null {
  for (let k = 0; k < views.length; k++) {
    const now = new Uint8Array(views[k].buffer), was = before[k];
    if (now.length !== was.length) return `input ${k}: backing store length changed (${was.length} -> ${now.length})`;
    for (let i = 0; i < now.length; i++) {
      if (now[i] === was[i]) continue;
      const ok = allowed.some((a) => a.buffer === views[k].buffer && i >= a.byteOffset && i < a.byteOffset + a.byteLength);
      if (!ok) return `JS buffer ${k} byte ${i} changed (outside the op's outputs)`;
    }
  }
  return null;
}

function errName(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
}

export async function runCase(ctx: FuzzContext, c: FuzzCase): Promise<{ kind: 'ok' | 'expected' | 'failure' | 'corruption' | 'leak'; msg?: string }> {
  const tk = ctx.tk;
  const views = [...(c.inputs ?? []), ...(c.jsOutputs ?? [])];
  const before = snapshotBacking(views);
  const snap = tk.arena.snapshot(c.arenaOutputs ?? []);
  let got: unknown, err: unknown = null;
  try { got = await c.run(); } catch (e) { err = e; }
  try {
    snap.verify();
  } catch (e) {
    return { kind: 'corruption', msg: errName(e) };
  }
  const changed = backingChanges(views, before, c.jsOutputs ?? []);
  if (changed) return { kind: 'corruption', msg: changed };
  if (c.expectError) {
    if (err instanceof c.expectError) return { kind: 'expected' };
    return { kind: 'failure', msg: err ? `expected ${c.expectError.name}, got ${errName(err)}` : `expected ${c.expectError.name}, but the call succeeded` };
  }
  if (err) return { kind: 'failure', msg: `threw ${errName(err)}${err instanceof TesseraError ? '' : ' (not a typed TesseraError)'}` };
  const bad = c.check(got);
  return bad ? { kind: 'failure', msg: bad } : { kind: 'ok' };
}

export async function runHostile(ctx: FuzzContext, h: HostileCase): Promise<string | null> {
  const snap = ctx.tk.arena.snapshot();
  let got: unknown, err: unknown = null;
  try { got = await h.call(); } catch (e) { err = e; }
  try { snap.verify(); } catch (e) { return `corrupted memory: ${errName(e)}`; }
  if (err === null) {
    if (h.orValid) return h.orValid(got);
    return `accepted (expected ${h.expect.map((e) => e.name).join(' | ')})`;
  }
  if (!h.expect.some((E) => err instanceof E)) return `threw ${errName(err)}, expected ${h.expect.map((e) => e.name).join(' | ')}`;
  if (h.msg && !h.msg.test((err as Error).message)) return `message "${(err as Error).message}" does not match ${h.msg}`;
  return null;
}

/** Fuzz every op in `ops` on ctx.tk (one tier). */
export async function fuzz(ctx: FuzzContext, ops: readonly OpSpec[], o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const problems: string[] = [];
  const maxProblems = o.maxProblems ?? 20;
  const note = (m: string) => { if (problems.length < maxProblems) problems.push(m); };
  const tallies: OpTally[] = [];
  const first = o.first ?? 0;
  const over = () => !!o.budgetMs && performance.now() - t0 > o.budgetMs;
  const selected = ops.filter((op) => !o.filter || o.filter(op));
  for (const op of selected) {
    const t: OpTally = { op: op.name, cases: 0, expectedErrors: 0, failures: 0, corruptions: 0, leaks: 0, hostile: 0, hostileFailures: 0, ms: 0 };
    tallies.push(t);
    const opBudget = o.budgetMs ? o.budgetMs / selected.length : 0;
    const opStart = performance.now();
    for (let i = first; i < first + o.cases; i++) {
      if (over() || (opBudget && performance.now() - opStart > opBudget && i > first)) break;
      const s = caseSeed(o.seed, op.name, i);
      // every kernel variant (bit-identical choices) drawn per case from a stream of its own, not the generator's
      const kp = ctx.tk.kernelProfile, pr = new Rng(s ^ 0x5bd1e995);
      for (const key of KERNEL_PROFILE_KEYS) kp[key] = pr.bool();
      const variants = Object.entries(kp).filter(([, on]) => on).map(([k]) => k).join('+') || 'none';
      const where = `${op.name} [${ctx.tk.features.tier}] seed ${o.seed} case ${i} (kernel variants: ${variants})`;
      const r = new Rng(s);
      const size = SIZE_CLASSES[i % SIZE_CLASSES.length];
      const base = ctx.tk.memoryStats();
      let c: FuzzCase;
      try { c = op.gen(ctx, r, size); } catch (e) { t.cases++; t.failures++; note(`${where}: generator threw ${errName(e)}`); continue; }
      const res = await runCase(ctx, c);
      t.cases++;
      try { c.dispose?.(); } catch (e) { res.kind = 'failure'; res.msg = `dispose threw ${errName(e)}`; }
      if (res.kind === 'expected') t.expectedErrors++;
      else if (res.kind === 'failure') { t.failures++; note(`${where} (${c.desc}): ${res.msg}`); }
      else if (res.kind === 'corruption') {
        t.corruptions++; note(`${where} (${c.desc}): CORRUPTION ${res.msg}`);
        if (!ctx.renew) break;
        await ctx.renew(); continue;
      }
      const after = ctx.tk.memoryStats();
      if (after.usedBytes !== base.usedBytes || after.blocks !== base.blocks) {
        t.leaks++;
        note(`${where} (${c.desc}): LEAK arena ${base.blocks} blocks / ${base.usedBytes} B -> ${after.blocks} / ${after.usedBytes} B`);
      }
      if (op.hostile && i % 2 === 0) {
        const hr = new Rng(s ^ 0x9e3779b9);
        const hb = ctx.tk.memoryStats();
        let h: HostileCase;
        try { h = op.hostile(ctx, hr); } catch (e) { t.hostile++; t.hostileFailures++; note(`${where}: hostile generator threw ${errName(e)}`); continue; }
        const bad = await runHostile(ctx, h);
        try { h.dispose?.(); } catch { /* a disposed-twice fixture is fine */ }
        t.hostile++;
        if (bad) {
          t.hostileFailures++; note(`${where} hostile (${h.desc}): ${bad}`);
          if (bad.startsWith('corrupted memory')) { t.corruptions++; if (!ctx.renew) break; await ctx.renew(); continue; }
        }
        const ha = ctx.tk.memoryStats();
        if (ha.usedBytes !== hb.usedBytes || ha.blocks !== hb.blocks) { t.leaks++; note(`${where} hostile (${h.desc}): LEAK ${hb.blocks} -> ${ha.blocks} blocks`); }
      }
    }
    t.ms = performance.now() - opStart;
    o.onProgress?.(t);
  }
  return { tier: ctx.tk.features.tier, seed: o.seed, tallies, problems, ms: performance.now() - t0 };
}

export function totals(ts: readonly OpTally[]): Omit<OpTally, 'op'> {
  const z = { cases: 0, expectedErrors: 0, failures: 0, corruptions: 0, leaks: 0, hostile: 0, hostileFailures: 0, ms: 0 };
  for (const t of ts) for (const k of Object.keys(z) as (keyof typeof z)[]) z[k] += t[k];
  return z;
}

/** Fixed-width summary table. */
export function formatTable(ts: readonly OpTally[]): string {
  const head = ['op', 'cases', 'typed-rejects', 'failures', 'corruptions', 'leaks', 'bad-inputs', 'bad-input-fails', 'seconds'];
  const row = (n: string, t: Omit<OpTally, 'op'>) => [n, t.cases, t.expectedErrors, t.failures, t.corruptions, t.leaks, t.hostile, t.hostileFailures, (t.ms / 1000).toFixed(1)].map(String);
  const rows = ts.map((t) => row(t.op, t));
  rows.push(row('TOTAL', totals(ts)));
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

export type { Tessera };
