// Fuzz specs: attention (tk.attention arrays / tensors, tk.attentionDecode).
//
// Reference: softmax(Q K^T * scale) V in f64 on the same inputs (f16 inputs at their exact values;
// in the fp16 precisions the f32 inputs are first rounded to fp16, as the op documents).
// Tolerance per output row (u = 2^-24, u16 = 2^-11, V = max |v| over the keys the row sees):
//   E    = max_t gamma(D) * scale * sum_x |q_x k_tx| + u * |s_t|        (score error: dot product + scale)
//   f32  : V * (2.5 E + gamma(seqK + 8 (blocks + 2)) + 16 u (blocks + 2))
//          a perturbation E of every score changes each softmax weight by a factor in e^(+-2E), and the
//          output is a convex combination of v rows; the rest covers the exp polynomial (a few ulp),
//          the per-block rescales and the f32 sum of seqK weighted rows.
//   f16  : the same with E16 = E + 2 u16 max|s| (scores rounded to fp16, twice) and 4 u16 for
//          fp16 probabilities, plus u16 |ref| for the fp16 output rounding.
//   pasa : the fp16 error model of pasa.md §2.5 (pasaLogitError below). The kernel never forms q.k: a row's
//          logit for key t of block j is S'_t + c a_j (c = beta/(1-beta) = 31, a_j = mean of S' over the block's
//          keys, masked ones included), with K' = f16(scale (k - beta kbar_j)) and S' = f16(q.K') rounded.
//          Exactly, sigma_t + c mean_j(sigma) = scale q.k_t (sigma_t = q.kappa_t, kappa = scale (k - beta kbar)),
//          so the logit error is  dS'_t + c da_j  with
//            |dS'_t| <= b_t = (u16 + gamma(D)) sum_x |q_x kappa_tx| + u16 |sigma_t|            (K', dot, S' rounding)
//                             + gamma(nv+3) scale sum_x |q_x| (|k_tx| + |kbar_x|)             (f32 kbar and shift)
//            |da_j|  <= mean over the block's keys of b_t  (+ f32 sum)
//          c da_j is one constant per block: it cancels when the row sees one block only, else it is
//          amplified 31x -- the price of recovering the removed mean (pasa.md §2.1 (*)); with tiny blocks (4 keys)
//          the mean averages few rounding errors, so it dominates (fuzz seed 4242 cases 164/663: the kernel
//          equals an f64 emulation of §2.5 to 1 fp16 ulp, and the error vanishes when K' and S' are not rounded).
//          Logit errors within [-L, L] change the softmax weights by factors within e^(+-2L): the output error
//          is <= V (e^(2.5 L) - 1) (2.5: the same slack as the f32 bound), plus 4 u16 V for fp16
//          probabilities and P.V, the f32 base and u16 |ref| for the output rounding.
//   pasa-faithful: the reference implementation's all-fp16 recurrence; only gross errors are checked:
//          <= max(2^-5 V, pasa's bound) + u16 |ref|. It forms K', S' and the block means like pasa (so pasa's
//          logit error model is a floor for its error: seed 509658472 case 98, bk = 4, scale = 2, was 5% over
//          2^-5 V for that reason) and adds fp16 rounding of its running state, which is not modelled here;
//          its accuracy is studied in the attention suite and pasa.md §6.
// Special values: NaN placed in v must reach every output the key is visible to (NaN propagates) and no
// other output (causal: masked keys are excluded, as in the golden).
import { ArgumentError, DTypeError, DisposedError, ShapeError, type Tensor, type Tessera } from '../../bindings/index.js';
import { refHalfBits, refHalfValue, refRoundHalf } from '../helpers/ref-f16.js';
import { dimOf, fillF32, place, placementOf, type Rng } from './rng.js';
import { gamma } from './compare.js';
import type { FuzzContext, HostileCase, OpSpec, SizeClass } from './types.js';

type Precision = 'f32' | 'f16' | 'pasa' | 'pasa-faithful';
const TOL = 'f32: V*(2.5E + gamma(seqK+8(blocks+2)) + 16u(blocks+2)), E = score error bound; fp16 precisions add fp16 score/probability/output rounding (see ops-attention.ts)';
const u = 2 ** -24, u16 = 2 ** -11;
// gamma(m) = m*u / (1 - m*u), u = 2^-24 (shared with the GEMM-like ops)

interface Shape { heads: number; kvHeads: number; seqQ: number; seqK: number; d: number; cap: number; causal: boolean; scale: number; precision: Precision; bc: number }

/** Returns a message or null. q/k/v are the values the kernel sees (already f16-rounded where the op rounds). */
function checkAttention(got: unknown, q: Float64Array, k: Float64Array, v: Float64Array, s: Shape): string | null {
  if (!(got instanceof Float32Array)) return `result is ${got?.constructor?.name ?? typeof got}, not a Float32Array`;
  const { heads, kvHeads, seqQ: S1, seqK: S2, d: D, cap, scale } = s;
  if (got.length !== heads * S1 * D) return `result has ${got.length} elements, want ${heads * S1 * D}`;
  const group = heads / kvHeads, blocks = Math.ceil(S2 / s.bc);
  const sc = new Float64Array(S2), err = new Float64Array(S2);
  for (let h = 0; h < heads; h++) {
    const kb = Math.floor(h / group) * cap * D;
    for (let r = 0; r < S1; r++) {
      const qb = (h * S1 + r) * D, ob = qb;
      const lim = s.causal ? Math.min(S2, r + (S2 - S1) + 1) : S2;
      const want = new Float64Array(D);
      let E = 0, V = 0, maxS = 0;
      if (lim > 0) {
        let mx = -Infinity;
        for (let t = 0; t < lim; t++) {
          let acc = 0, mag = 0;
          for (let x = 0; x < D; x++) { const p = q[qb + x] * k[kb + t * D + x]; acc += p; mag += Math.abs(p); }
          sc[t] = acc * scale; err[t] = gamma(D) * scale * mag + u * Math.abs(sc[t]);
          if (sc[t] > mx) mx = sc[t];
          E = Math.max(E, err[t]); maxS = Math.max(maxS, Math.abs(sc[t]));
          for (let x = 0; x < D; x++) { const a = Math.abs(v[kb + t * D + x]); if (a > V) V = a; } // NaN skipped
        }
        let sum = 0;
        for (let t = 0; t < lim; t++) { sc[t] = Math.exp(sc[t] - mx); sum += sc[t]; }
        for (let t = 0; t < lim; t++) { const w = sc[t] / sum; for (let x = 0; x < D; x++) want[x] += w * v[kb + t * D + x]; }
      }
      const base = V * (gamma(S2 + 8 * (blocks + 2)) + 16 * u * (blocks + 2));
      const pasaLike = s.precision === 'pasa' || s.precision === 'pasa-faithful';
      const L = pasaLike && lim > 0 ? pasaLogitError(q, qb, k, kb, lim, s) : 0;
      for (let x = 0; x < D; x++) {
        const g = got[ob + x], w = want[x];
        if (Number.isNaN(w)) { if (!Number.isNaN(g)) return `head ${h} row ${r} [${x}]: got ${g}, want NaN`; continue; }
        let tol: number;
        if (s.precision === 'f32') tol = V * 2.5 * E + base;
        else if (s.precision === 'pasa-faithful') tol = Math.max(V * 2 ** -5, V * (Math.expm1(2.5 * L) + 4 * u16) + base) + u16 * Math.abs(w);
        else if (s.precision === 'pasa') tol = V * (Math.expm1(2.5 * L) + 4 * u16) + base + u16 * Math.abs(w);
        else tol = V * (2.5 * (E + 2 * u16 * maxS) + 4 * u16) + base + u16 * Math.abs(w);
        if (!(Math.abs(g - w) <= tol)) return `head ${h} row ${r} [${x}]: got ${g}, want ${w} (|err| ${Math.abs(g - w)} > tol ${tol}; V=${V} E=${E})`;
      }
    }
  }
  return null;
}

/** Bound on the logit errors of one PASA row (see the header): max over the row's visible keys t of
 *  b_t + c * mean_{block(t)} b  (the c term only if the row sees more than one block), + f32 bookkeeping. */
function pasaLogitError(q: Float64Array, qb: number, k: Float64Array, kb: number, lim: number, s: Shape): number {
  const { seqK: S2, d: D, scale, bc } = s;
  const beta = 31 / 32, c = beta / (1 - beta);
  const kbar = new Float64Array(D);
  let worst = 0, maxA = 0, nBlocks = 0, single = 0;
  for (let c0 = 0; c0 < lim; c0 += bc) {
    const nv = Math.min(bc, S2 - c0);
    kbar.fill(0);
    for (let t = 0; t < nv; t++) for (let x = 0; x < D; x++) kbar[x] += k[kb + (c0 + t) * D + x] / nv;
    let sumB = 0, sumS = 0, blockWorst = 0;
    for (let t = 0; t < nv; t++) {
      let M = 0, sig = 0, F = 0;
      for (let x = 0; x < D; x++) {
        const kap = scale * (k[kb + (c0 + t) * D + x] - beta * kbar[x]);
        M += Math.abs(q[qb + x] * kap); sig += q[qb + x] * kap;
        F += Math.abs(q[qb + x]) * (Math.abs(k[kb + (c0 + t) * D + x]) + Math.abs(kbar[x]));
      }
      // 1.001: second-order terms (products of two relative errors <= u16^2 ~ 2.4e-7 of the same magnitudes)
      const b = 1.001 * ((u16 + gamma(D)) * M + u16 * Math.abs(sig) + gamma(nv + 3) * scale * F);
      sumB += b; sumS += Math.abs(sig);
      if (c0 + t < lim) blockWorst = Math.max(blockWorst, b);
    }
    const aErr = sumB / nv + gamma(nv) * sumS / nv; // mean of the bounds + the f32 sum of nv values
    maxA = Math.max(maxA, Math.abs(sumS / nv) + aErr);
    single = Math.max(single, blockWorst);
    worst = Math.max(worst, blockWorst + c * aErr);
    nBlocks++;
  }
  // f32 frame bookkeeping (running mean of the a_j, d_new, d_old: a few roundings of values <= c max|a|)
  return nBlocks > 1 ? worst + 8 * u * c * maxA : single;
}

function dims(r: Rng, size: SizeClass) {
  const which = r.int(0, 3);
  const pick = (i: number, L: number) => (i === which ? dimOf(r, size, L, 67) : dimOf(r, r.bool() ? 'small' : 'one', L, 13));
  const kvHeads = Math.max(pick(0, 4), which === 0 ? 0 : 1), group = r.pick([1, 1, 2, 3]);
  return { kvHeads, heads: kvHeads * group, seqQ: pick(1, 96), seqK: pick(2, 256), d: which === 3 && size === 'zero' ? 0 : r.pick([4, 8, 12, 16, 32, 64, 68, 128]) };
}

/** An input in the requested dtype; returns what to pass and the values the kernel computes with. */
function input(r: Rng, n: number, f16: boolean, nanRate: number, roundTo16: boolean): { pass: Float32Array | Uint16Array; vals: Float64Array } {
  const a = fillF32(r, new Float32Array(n), 'uniform');
  for (let i = 0; i < n; i++) if (r.bool(nanRate)) a[i] = NaN;
  if (!f16) return { pass: a, vals: Float64Array.from(a, (x) => (roundTo16 ? refRoundHalf(x) : x)) };
  const bits = Uint16Array.from(a, (x) => refHalfBits(refRoundHalf(x)));
  return { pass: bits, vals: Float64Array.from(bits, refHalfValue) };
}

type Form = 'arrays' | 'tensors' | 'decode';

function spec(name: string, form: Form, par = false): OpSpec {
  return {
    name, family: 'attention', tolerance: TOL, async: par,
    gen({ tk }, r, size) {
      const dd = dims(r, size);
      const { heads, kvHeads, d } = dd;
      const seqQ = form === 'decode' ? 1 : dd.seqQ, seqK = dd.seqK;
      const cap = seqK + (r.bool(0.3) ? r.int(1, 9) : 0);
      const precision: Precision = r.pick(['f32', 'f32', 'f16', 'pasa', 'pasa-faithful']);
      const causal = form !== 'decode' && r.bool(0.4);
      const scale = r.bool(0.7) ? 1 / Math.sqrt(Math.max(d, 1)) : r.pick([0.05, 0.5, 2]);
      const bq = r.bool(0.7) ? undefined : r.pick([8, 16, 64]), bk = r.bool(0.7) ? undefined : r.pick([4, 32, 128]);
      const bc = bk ?? (precision === 'f32' ? 64 : 128);
      const f16q = r.bool(0.25), f16kv = r.bool(0.25);
      const frame = form === 'decode' && r.bool(0.3) ? 'first' as const : undefined; // both frames are exact: same bound
      // NaN in v, causal or not (also in cache rows past seqK): it must reach exactly the outputs its key is visible to
      const nanV = r.bool(0.1) ? 0.01 : 0;
      const round = precision !== 'f32';
      const q = input(r, heads * seqQ * d, f16q, 0, round), kk = input(r, kvHeads * cap * d, f16kv, 0, round), v = input(r, kvHeads * cap * d, f16kv, nanV, round);
      const s: Shape = { heads, kvHeads, seqQ, seqK, d, cap, causal, scale, precision, bc };
      const opts = { heads, kvHeads, seqQ, seqK, headDim: d, causal, scale, precision, kvCapacity: cap, blockQ: bq, blockK: bk };
      const desc = `${form} heads=${heads}/${kvHeads} seqQ=${seqQ} seqK=${seqK} cap=${cap} d=${d} ${precision} causal=${causal} scale=${scale.toFixed(3)} bq=${bq} bk=${bk} q:${f16q ? 'f16' : 'f32'} kv:${f16kv ? 'f16' : 'f32'}${nanV ? ' NaN-in-v' : ''}${frame ? ' frame first' : ''}`;
      const expectError = heads === 0 || kvHeads === 0 || seqK === 0 || seqQ === 0 || d === 0 ? ShapeError : undefined;
      const check = (got: unknown) => checkAttention(got, q.vals, kk.vals, v.vals, s);
      if (form !== 'tensors' || expectError) {
        const qp = place(r, q.pass as Float32Array);
        const desc2 = desc + ` q:${placementOf(qp)}`;
        const run = form === 'decode'
          ? () => tk.attentionDecode(qp, kk.pass, v.pass, { heads, kvHeads, headDim: d, kvLength: seqK, scale, precision, blockK: bk, pasaFrame: frame })
          : () => tk.attention(qp, kk.pass, v.pass, opts);
        return { desc: desc2, inputs: [qp, kk.pass, v.pass], expectError, run, check };
      }
      const tq = tk.tensorFrom(q.pass, [heads, seqQ, d]), tkk = tk.tensorFrom(kk.pass, [kvHeads, cap, d]), tv = tk.tensorFrom(v.pass, [kvHeads, cap, d]);
      const out = r.bool() ? (tk.tensor('f32', [heads, seqQ, d]) as Tensor<'f32'>) : undefined;
      let res: Tensor<'f32'> | undefined;
      return {
        desc: desc + (out ? ' out given' : ''), arenaOutputs: out ? [out.ptr] : [],
        run: async () => { res = par ? await tk.parallel.attention(tq, tkk, tv, opts, out) : tk.attention(tq, tkk, tv, opts, out); return res.read(); },
        check,
        dispose: () => { tq.dispose(); tkk.dispose(); tv.dispose(); out?.dispose(); if (res !== out) res?.dispose(); },
      };
    },
    hostile: (ctx, r) => hostile(ctx, r, form),
  };
}

function hostile({ tk, other }: FuzzContext, r: Rng, form: Form): HostileCase {
  const heads = r.int(1, 3), seqQ = r.int(1, 5), seqK = r.int(1, 9), d = 4 * r.int(1, 4);
  const q = fillF32(r, new Float32Array(heads * seqQ * d), 'uniform'), k = fillF32(r, new Float32Array(heads * seqK * d), 'uniform');
  const o = { heads, seqQ, seqK, headDim: d };
  if (form === 'tensors') {
    const tq = tk.tensorFrom(q, [heads, seqQ, d]), tkk = tk.tensorFrom(k, [heads, seqK, d]), tv = tk.tensorFrom(k.slice(), [heads, seqK, d]);
    const fix: { dispose(): void }[] = [tq, tkk, tv];
    const dispose = () => fix.forEach((x) => x.dispose());
    switch (r.int(0, 4)) {
      case 0: { const ok = other.tensorFrom(k, [heads, seqK, d]); fix.push(ok);
        return { desc: 'k from another instance', call: () => tk.attention(tq, ok, tv, o), expect: [ArgumentError], msg: /another tessera instance/, dispose }; }
      case 1: { const oo = other.tensor('f32', [heads, seqQ, d]); fix.push(oo);
        return { desc: 'out from another instance', call: () => tk.attention(tq, tkk, tv, o, oo as Tensor<'f32'>), expect: [ArgumentError], msg: /another tessera instance/, dispose }; }
      case 2: return { desc: 'out = q', call: () => tk.attention(tq, tkk, tv, o, tq as Tensor<'f32'>), expect: [ArgumentError], msg: /out must not be/, dispose };
      case 3: { const dk = tk.tensorFrom(k); dk.dispose(); return { desc: 'disposed k', call: () => tk.attention(tq, dk, tv, o), expect: [DisposedError], dispose }; }
      default: return { desc: 'plain object as k', call: () => tk.attention(tq, { dtype: 'f32', length: k.length, ptr: 0 } as any, tv, o), expect: [ArgumentError, DTypeError], dispose };
    }
  }
  if (form === 'decode') {
    switch (r.int(0, 2)) {
      case 0: return { desc: 'kvLength > capacity', call: () => tk.attentionDecode(q.subarray(0, heads * d), k, k, { heads, headDim: d, kvLength: seqK + 1 }), expect: [ShapeError] };
      case 1: return { desc: 'kvLength 0', call: () => tk.attentionDecode(q.subarray(0, heads * d), k, k, { heads, headDim: d, kvLength: 0 }), expect: [ShapeError] };
      default: return { desc: 'options missing', call: () => tk.attentionDecode(q.subarray(0, heads * d), k, k, null as any), expect: [ArgumentError, ShapeError] };
    }
  }
  switch (r.int(0, 8)) {
    case 0: { const key = r.pick(['heads', 'seqQ', 'seqK', 'headDim'] as const); const bad = r.pick<any>([0, -1, 2.5, NaN, '4', null]);
      return { desc: `${key} = ${String(bad)}`, call: () => tk.attention(q, k, k, { ...o, [key]: bad }), expect: [ShapeError] }; }
    case 1: return { desc: 'headDim not a multiple of 4', call: () => tk.attention(q, k, k, { ...o, headDim: d + 1 }), expect: [ShapeError] };
    case 2: return { desc: 'kvHeads does not divide heads', call: () => tk.attention(q, k, k, { ...o, kvHeads: heads + 1 }), expect: [ShapeError] };
    case 3: return { desc: 'k one element short', call: () => tk.attention(q, k.subarray(1), k, o), expect: [ShapeError], msg: /k has/ };
    case 4: { const p = r.pick<any>(['bf16', 'f64', 3, 'F32']); return { desc: `precision ${String(p)}`, call: () => tk.attention(q, k, k, { ...o, precision: p }), expect: [ArgumentError], msg: /precision/ }; }
    case 5: { const sc = r.pick<any>([0, -1, NaN, Infinity, '1']); return { desc: `scale ${String(sc)}`, call: () => tk.attention(q, k, k, { ...o, scale: sc }), expect: [ArgumentError], msg: /scale/ }; }
    case 6: { const b = r.pick<any>([0, 7, 4097, 1.5]); return { desc: `blockQ ${b}`, call: () => tk.attention(q, k, k, { ...o, blockQ: b }), expect: [ArgumentError], msg: /blockQ/ }; }
    case 7: return { desc: 'k f32, v f16', call: () => tk.attention(q, k, new Uint16Array(k.length), o), expect: [DTypeError] };
    default: return { desc: 'q = Float64Array', call: () => tk.attention(new Float64Array(q.length) as any, k, k, o), expect: [DTypeError] };
  }
}

/** [kvHeads][n][d] rows [from, from + n) of a [kvHeads][cap][d] array (f32 or half bits) */
function rowsOf<T extends Float32Array | Uint16Array>(a: T, kvHeads: number, cap: number, d: number, from: number, n: number): T {
  const o = new (a.constructor as new (n: number) => T)(kvHeads * n * d);
  for (let g = 0; g < kvHeads; g++) o.set(a.subarray((g * cap + from) * d, (g * cap + from + n) * d), g * n * d);
  return o;
}

/**
 * tk.pasaKVCache: the rows arrive in 1-4 appends of random sizes and forms (f32 / f16 arrays, f32 / f16 tensors), now
 * and then with junk rows appended and truncated away (their blocks' K' must be rebuilt from the kept keys), then one
 * decode (array or tensor q). The result must equal tk.attentionDecode(..., 'pasa') on the same rows bit for bit (the
 * documented contract; groups above 8 query heads per KV head run the tile kernel on both sides), and stay within the
 * PASA bound against the f64 golden. The cache's own tensors are the declared outputs; all else in linear memory must stay.
 */
function pasaCacheSpec(par: boolean): OpSpec {
 return {
  name: par ? 'parallel.pasaDecode' : 'PasaKVCache.decode', family: 'attention', async: par,
  tolerance: 'bit-identical to tk.attentionDecode(pasa); the pasa bound (above) against the golden',
  gen({ tk }, r, size) {
    const dd = dims(r, size);
    const { kvHeads, d, seqK } = dd;
    // a quarter of the cases with MQA-like groups (> 8 query heads per KV head: the tile kernel on the prepared halves)
    const heads = kvHeads > 0 && kvHeads <= 4 && r.bool(0.25) ? kvHeads * r.pick([9, 12, 16, 33]) : dd.heads;
    const cap = seqK + r.int(0, 12);
    const bk = r.bool(0.5) ? undefined : r.pick([4, 8, 32, 128]);
    const bc = bk ?? 128;
    const scale = r.bool(0.7) ? 1 / Math.sqrt(Math.max(d, 1)) : r.pick([0.05, 0.5, 2]);
    const f16q = r.bool(0.3);
    const q = input(r, heads * d, f16q, 0, true), kk = input(r, kvHeads * cap * d, false, 0, true), v = input(r, kvHeads * cap * d, false, r.bool(0.1) ? 0.01 : 0, true);
    const k16 = Uint16Array.from(kk.pass as Float32Array, (x) => refHalfBits(refRoundHalf(x))), v16 = Uint16Array.from(v.pass as Float32Array, (x) => refHalfBits(refRoundHalf(x)));
    const s: Shape = { heads, kvHeads, seqQ: 1, seqK, d, cap, causal: false, scale, precision: 'pasa', bc };
    const opts = { heads, kvHeads, headDim: d, capacity: cap, scale, blockK: bk };
    const desc0 = `heads=${heads}/${kvHeads} len=${seqK} cap=${cap} d=${d} scale=${scale.toFixed(3)} bk=${bk} q:${f16q ? 'f16' : 'f32'}`;
    if (heads === 0 || kvHeads === 0 || d === 0 || seqK === 0) {
      // seqK = 0: an empty cache cannot decode; zero dims: the cache cannot be made
      return { desc: desc0, expectError: ShapeError, run: () => { const c = tk.pasaKVCache({ ...opts, capacity: Math.max(cap, 1) }); try { return c.decode(q.pass); } finally { c.dispose(); } }, check: () => null };
    }
    // the append schedule: cut points, forms, an optional junk append + truncate
    const cuts = [0, ...Array.from({ length: r.int(0, 3) }, () => r.int(1, seqK)).sort((a, b) => a - b), seqK].filter((x, i, a) => i === 0 || x > a[i - 1]);
    const forms = cuts.slice(1).map(() => r.pick(['f32', 'f16', 'f32 tensor', 'f16 tensor'] as const));
    const junk = cap > seqK && r.bool(0.3) ? r.int(1, cap - seqK) : 0;
    const junkAt = r.int(0, cuts.length - 2);
    const qForm = !par && r.bool() ? 'array' : 'tensor'; // parallel.pasaDecode takes tensors
    const cache = tk.pasaKVCache(opts);
    const desc = `${desc0} appends ${cuts.slice(1).map((c, i) => `${c - cuts[i]}:${forms[i]}`).join(',')}${junk ? ` junk ${junk} after #${junkAt}` : ''} q:${qForm}`;
    const appendRows = (from: number, n: number, form: string, src32: Float32Array, src16: Uint16Array, vs32: Float32Array, vs16: Uint16Array) => {
      const half = form.startsWith('f16');
      const kr = half ? rowsOf(src16, kvHeads, cap, d, from, n) : rowsOf(src32, kvHeads, cap, d, from, n);
      const vr = half ? rowsOf(vs16, kvHeads, cap, d, from, n) : rowsOf(vs32, kvHeads, cap, d, from, n);
      if (!form.endsWith('tensor')) { cache.append(kr, vr); return; }
      const kt = tk.tensorFrom(kr), vt = tk.tensorFrom(vr);
      try { cache.append(kt, vt); } finally { kt.dispose(); vt.dispose(); }
    };
    return {
      desc, arenaOutputs: cache._blocks(),
      run: async () => {
        for (let i = 0; i + 1 < cuts.length; i++) {
          appendRows(cuts[i], cuts[i + 1] - cuts[i], forms[i], kk.pass as Float32Array, k16, v.pass as Float32Array, v16);
          if (junk && i === junkAt) { // rows that will be rolled back: negated keys, so a stale K' would show
            const neg = (kk.pass as Float32Array).map((x) => -x - 1);
            appendRows(cuts[i + 1], Math.min(junk, cap - cuts[i + 1]), 'f32', neg, k16, v.pass as Float32Array, v16);
            cache.truncate(cuts[i + 1]);
          }
        }
        let got: Float32Array;
        if (qForm === 'array') got = cache.decode(q.pass);
        else {
          const qt = tk.tensorFrom(q.pass, [heads, 1, d]);
          try { const ot = par ? await tk.parallel.pasaDecode(cache, qt) : cache.decode(qt); got = ot.read(); ot.dispose(); } finally { qt.dispose(); }
        }
        const ref = tk.attentionDecode(q.pass, kk.pass, v.pass, { heads, kvHeads, headDim: d, kvLength: seqK, scale, precision: 'pasa', blockK: bk });
        return { got, ref };
      },
      check: (res) => {
        const { got, ref } = res as { got: Float32Array; ref: Float32Array };
        for (let i = 0; i < got.length; i++) if (!Object.is(got[i], ref[i])) return `[${i}]: cache ${got[i]} vs attentionDecode ${ref[i]} (must be bit-identical)`;
        return checkAttention(got, q.vals, kk.vals, v.vals, s);
      },
      dispose: () => cache.dispose(),
    };
  },
  hostile: par ? undefined : ({ tk, other }, r) => {
    const heads = r.int(1, 4), d = 4 * r.int(1, 3), cap = r.int(2, 9);
    const cache = tk.pasaKVCache({ heads, headDim: d, capacity: cap });
    const row = (n: number) => fillF32(r, new Float32Array(heads * n * d), 'uniform');
    cache.append(row(1), row(1));
    const dispose = () => cache.dispose();
    // a rejected call must leave the cache as it was: same length, same decode bits (a plain Error counts as mishandled)
    const q0 = row(1), before = cache.decode(q0);
    const same = (call: () => unknown) => () => {
      try { return call(); } finally {
        const after = cache.length === 1 ? cache.decode(q0) : null;
        if (!after || !after.every((x, i) => Object.is(x, before[i]))) throw new Error('a rejected call changed the cache');
      }
    };
    switch (r.int(0, 7)) {
      case 0: return { desc: 'append past capacity', call: same(() => cache.append(row(cap), row(cap))), expect: [ShapeError], msg: /do not fit/, dispose };
      case 1: return { desc: 'k and v lengths differ', call: same(() => cache.append(row(1), row(2))), expect: [ShapeError], dispose };
      case 2: return { desc: 'rows not a multiple of kvHeads*headDim', call: same(() => cache.append(row(1).subarray(1), row(1).subarray(1))), expect: [ShapeError], dispose };
      case 3: return { desc: 'k = Float64Array', call: same(() => cache.append(new Float64Array(heads * d) as any, row(1))), expect: [DTypeError], dispose };
      case 4: { const bad = r.pick<any>([-1, 2, 0.5, NaN, '1']); return { desc: `truncate(${String(bad)})`, call: same(() => cache.truncate(bad)), expect: [ShapeError], dispose }; }
      case 5: { const fq = other.tensorFrom(row(1)); return { desc: 'q from another instance', call: same(() => cache.decode(fq)), expect: [ArgumentError], msg: /another tessera instance/, dispose: () => { fq.dispose(); dispose(); } }; }
      case 6: return { desc: 'q one element short', call: same(() => cache.decode(row(1).subarray(1))), expect: [ShapeError], dispose };
      default: { dispose(); return { desc: 'decode on a disposed cache', call: () => cache.decode(row(1)), expect: [DisposedError] }; }
    }
  },
 };
}

export const ATTENTION_OPS: OpSpec[] = [spec('tk.attention', 'arrays'), spec('tk.attention(tensors)', 'tensors'), spec('tk.attentionDecode', 'decode'),
  { ...spec('parallel.attention', 'tensors', true), hostile: undefined }, pasaCacheSpec(false), pasaCacheSpec(true)];
export type { Tessera };
