/**
 * Attention: softmax(Q K^T * scale) V per head, tiled flash attention in wasm (never an S1 x S2 buffer).
 *
 *   tk.attention(q, k, v, { heads, kvHeads?, seqQ, seqK, headDim, causal?, scale?, precision?, beta? })
 *
 * Layout [heads, seq, headDim] row-major for q and the output, [kvHeads, kvCapacity, headDim] for k and v
 * (kvCapacity defaults to seqK; a larger capacity lets a preallocated KV cache be used without copying,
 * only its first seqK rows per head are read). kvHeads must divide heads (grouped-query attention: query
 * head h uses KV head floor(h / (heads / kvHeads))).
 *
 * precision:
 *   'f32'           f32 flash attention (default; the fast, accurate path).
 *   'f16'           naive fp16 flash attention with strict fp16 rounding of the scores (pasa.md "naive_post":
 *                   S = f16(f16(QK^T)·scale)); overflows to non-finite output exactly where fp16 hardware does.
 *   'pasa'          PASA (pasa.md §2.5): fp16 Q, K', V, scores and probabilities, f32 row bookkeeping, f32
 *                   output accumulator, beta = 31/32 by default; exact for any seqK (tail blocks use their own mean).
 *   'pasa-faithful' the reference implementation's all-fp16 recurrence (pasa.md §2.3), 128-key blocks padded
 *                   by duplicating keys, beta = 0.9689941 by default; for comparison with the paper's hardware.
 * In the fp16 precisions the inputs are rounded to fp16 first (f16 inputs are used as is) and the output is
 * rounded to fp16 (returned as f32 values).
 *
 * Forms: arrays in / Float32Array out (the copying form streams one KV-head group at a time, so wasm memory
 * holds one group plus O(tile) scratch), or Tensors in / Tensor out (zero-copy, `tk.attention(qT, kT, vT, o)`).
 * Decode (seqQ = 1, f32 or f16 k/v, <= 8 query heads per KV head) runs f32_attn_decode_1x4__wasmsimd for 'f32'
 * (assembly/attention/decode.ts: K and V streamed once per KV head, in memory order; f16 k/v read as halves and
 * widened exactly in the kernel) and pasa_attn_decode_1x4__wasmsimd for 'pasa' (K' formed per key block); everything
 * else the tile kernel.
 * f16 k/v in 'f32' and 'f16' precision are read as halves by the tile kernel too (one key block widened at a time).
 * Memory (tile kernel): scratch (3·d·bq + bk·(d + bq) + 5·bq)·4 + 64 bytes (attention_scratch_bytes, bq rounded up to
 * 24, bk to 12; + bk·d·4 for f16 k/v), plus — in 'pasa', 'pasa-faithful', and 'f16' on f32 k/v — one prepared KV head
 * (2·seqK·d·4 bytes). The decode kernels need no prepared KV head, only their own scratch from d, the group size and
 * (PASA) bk (f32_attn_decode_scratch_bytes, pasa_attn_decode_scratch_bytes), independent of seqK.
 */
import { ABI } from '../abi.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { halfBits, isFloat16Array } from '../f16js.js';
import { Tensor, type Arena } from '../memory.js';
import type { Tessera } from '../tessera.js';
import { options, scratchBytes, tensor as tensorArg } from '../validate.js';

export type AttentionPrecision = 'f32' | 'f16' | 'pasa' | 'pasa-faithful';

export interface AttentionOptions {
  heads: number;
  /** KV heads (divides heads). Default: heads. */
  kvHeads?: number;
  seqQ: number;
  seqK: number;
  headDim: number;
  /** Bottom-right aligned causal mask: key t is masked for query row r iff t > r + (seqK - seqQ). Rows with no visible key output 0. */
  causal?: boolean;
  /** Softmax scale. Default 1/sqrt(headDim). */
  scale?: number;
  precision?: AttentionPrecision;
  /** PASA shift fraction in (0, 1). Default 31/32 ('pasa'), 0.9689941 ('pasa-faithful', the reference's fixed point for 128-key blocks). */
  beta?: number;
  /** Rows per KV head in k and v (>= seqK), for KV caches. Default seqK. */
  kvCapacity?: number;
  /** Query rows per tile (multiple of 8; the kernel rounds it up to a multiple of 24, its row-tile alignment). Default 48. */
  blockQ?: number;
  /** Keys per tile (multiple of 4). Default 72 for 'f32' (a multiple of both tiers' key tiles), 128 otherwise (the PASA shift block n). */
  blockK?: number;
  /** PASA frame (pasa.md §2.2): running mean of the block pseudo-averages (default) or the first block's. Both are exact. */
  pasaFrame?: 'running' | 'first';
  /** 'f32' drops every fp16 rounding from 'pasa' (the exact recurrence in f32; for testing the algebra). Default 'f16'. */
  pasaStorage?: 'f16' | 'f32';
}

export interface AttentionDecodeOptions {
  heads: number;
  kvHeads?: number;
  headDim: number;
  /** Valid rows of the KV cache (the new token included). */
  kvLength: number;
  scale?: number;
  precision?: AttentionPrecision;
  beta?: number;
  /** PASA only: keys per PASA block (the shift block n; default 128), as AttentionOptions.blockK. */
  blockK?: number;
  /** PASA only: as AttentionOptions.pasaFrame. */
  pasaFrame?: 'running' | 'first';
  /** PASA only: as AttentionOptions.pasaStorage. */
  pasaStorage?: 'f16' | 'f32';
}

type HalfOrF32 = Float32Array | Uint16Array;
type AttnInput = Float32Array | Uint16Array | ArrayBufferView;

const MODE = { 'f32': ABI.ATTN_MODE_F32, 'f16': ABI.ATTN_MODE_F16, 'pasa': ABI.ATTN_MODE_PASA, 'pasa-faithful': ABI.ATTN_MODE_FAITHFUL } as const;
const FLAG_CAUSAL = ABI.ATTN_FLAG_CAUSAL, FLAG_F16 = ABI.ATTN_FLAG_Q_F16, FLAG_STORE_F32 = ABI.ATTN_FLAG_STORE_F32, FLAG_FRAME_FIRST = ABI.ATTN_FLAG_FRAME_FIRST;
const FLAG_KV_F16 = ABI.ATTN_FLAG_KV_F16, FLAG_TILE4 = ABI.ATTN_FLAG_TILE4;

/** @internal attention_fwd's tile flag for this instance (tk.kernelProfile.attentionTile4). Same bits. */
export function attnTileFlag(tk: Tessera): number {
  return tk.kernelProfile.attentionTile4 ? FLAG_TILE4 : 0;
}

interface Plan {
  heads: number; kvHeads: number; group: number; s1: number; s2: number; d: number; cap: number;
  mode: number; flags: number; scale: number; beta: number; br: number; bc: number; precision: AttentionPrecision;
}

/** Largest accepted headDim (real models use 64-256): keeps every attention scratch size far below 2^31 bytes. */
export const MAX_HEAD_DIM = 16384;

function isInt(x: unknown, min: number): x is number { return typeof x === 'number' && Number.isSafeInteger(x) && x >= min; }

/** Validate options (typed errors, before any kernel). @internal also used by bindings/ops/pasa-cache.ts. */
const ATTENTION_KEYS = ['heads', 'kvHeads', 'seqQ', 'seqK', 'headDim', 'causal', 'scale', 'precision', 'beta', 'kvCapacity', 'blockQ', 'blockK',
  'pasaFrame', 'pasaStorage'] as const;
const DECODE_KEYS = ['heads', 'kvHeads', 'headDim', 'kvLength', 'scale', 'precision', 'beta', 'blockK', 'pasaFrame', 'pasaStorage'] as const;

export function attentionPlan(o: AttentionOptions, what: string): Plan {
  if (typeof o !== 'object' || o === null) throw new ArgumentError(`${what}: options object is required`);
  options(what, o, ATTENTION_KEYS);
  const { heads, seqQ, seqK, headDim } = o;
  const kvHeads = o.kvHeads ?? heads;
  for (const [n, val] of [['heads', heads], ['kvHeads', kvHeads], ['seqQ', seqQ], ['seqK', seqK], ['headDim', headDim]] as const) {
    if (!isInt(val, 1)) throw new ShapeError(`${what}: ${n} must be a positive integer, got ${String(val)}`);
  }
  if (heads % kvHeads !== 0) throw new ShapeError(`${what}: kvHeads (${kvHeads}) must divide heads (${heads})`);
  if (headDim % 4 !== 0) throw new ShapeError(`${what}: headDim must be a multiple of 4, got ${headDim}`);
  // the kernels address their scratch with 32-bit offsets: with blockQ, blockK <= 4096 and <= 8 rows per decode call,
  // headDim <= MAX_HEAD_DIM keeps every attention scratch (tile: ~20520·4·d bytes with the f16 staging tile) below 2^31 (scratchBytes() would
  // refuse a larger one as an OutOfMemoryError; this names the cause)
  if (headDim > MAX_HEAD_DIM) throw new ShapeError(`${what}: headDim must be at most ${MAX_HEAD_DIM}, got ${headDim}`);
  const cap = o.kvCapacity ?? seqK;
  if (!isInt(cap, seqK)) throw new ShapeError(`${what}: kvCapacity must be an integer >= seqK (${seqK}), got ${String(o.kvCapacity)}`);
  const precision = o.precision ?? 'f32';
  if (typeof precision !== 'string' || !Object.prototype.hasOwnProperty.call(MODE, precision)) throw new ArgumentError(`${what}: precision must be 'f32', 'f16', 'pasa' or 'pasa-faithful', got ${String(precision)}`);
  const scale = o.scale ?? 1 / Math.sqrt(headDim);
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) throw new ArgumentError(`${what}: scale must be a finite positive number, got ${String(scale)}`);
  const beta = o.beta ?? (precision === 'pasa-faithful' ? 0.9689941 : 31 / 32);
  if (typeof beta !== 'number' || !(beta > 0 && beta < 1)) throw new ArgumentError(`${what}: beta must be in (0, 1), got ${String(beta)}`);
  const br = o.blockQ ?? 48;
  const bc = o.blockK ?? (precision === 'f32' ? 72 : 128); // f32: a multiple of the 6-key tile; PASA: the shift block n of pasa.md
  if (!isInt(br, 8) || br % 8 !== 0 || br > 4096) throw new ArgumentError(`${what}: blockQ must be a multiple of 8 in [8, 4096], got ${String(o.blockQ)}`);
  if (!isInt(bc, 4) || bc % 4 !== 0 || bc > 4096) throw new ArgumentError(`${what}: blockK must be a multiple of 4 in [4, 4096], got ${String(o.blockK)}`);
  if (o.pasaFrame !== undefined && o.pasaFrame !== 'running' && o.pasaFrame !== 'first') throw new ArgumentError(`${what}: pasaFrame must be 'running' or 'first'`);
  if (o.pasaStorage !== undefined && o.pasaStorage !== 'f16' && o.pasaStorage !== 'f32') throw new ArgumentError(`${what}: pasaStorage must be 'f16' or 'f32'`);
  if (o.causal !== undefined && typeof o.causal !== 'boolean') throw new ArgumentError(`${what}: causal must be a boolean`);
  let flags = o.causal ? FLAG_CAUSAL : 0;
  if (precision === 'pasa' && o.pasaStorage === 'f32') flags |= FLAG_STORE_F32;
  if (o.pasaFrame === 'first') flags |= FLAG_FRAME_FIRST;
  return { heads, kvHeads, group: heads / kvHeads, s1: seqQ, s2: seqK, d: headDim, cap, mode: MODE[precision], flags, scale, beta, br, bc, precision };
}

/**
 * Validation shared by the tensor forms (tk.attention and tk.parallel.attention): q/k/v live f32 or f16
 * tensors of this instance, k and v of one dtype, lengths matching the plan, out (if given) a live f32
 * tensor of the output length that is not one of the inputs (rows are read after earlier rows are written).
 */
export function checkAttentionTensors(what: string, arena: Arena, q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions, out?: Tensor): Plan {
  for (const [n, t] of [['q', q], ['k', k], ['v', v]] as const) tensorArg(what, n, t, arena, ['f32', 'f16']);
  if (k.dtype !== v.dtype) throw new DTypeError(`${what}: k and v must have the same dtype, got ${k.dtype} and ${v.dtype}`);
  const p = attentionPlan(o, what);
  const qLen = p.heads * p.s1 * p.d, kvLen = p.kvHeads * p.cap * p.d;
  if (q.length !== qLen) throw new ShapeError(`${what}: q tensor has ${q.length} elements, expected heads*seqQ*headDim = ${qLen}`);
  if (k.length !== kvLen || v.length !== kvLen) throw new ShapeError(`${what}: k/v tensors have ${k.length}/${v.length} elements, expected kvHeads*kvCapacity*headDim = ${kvLen}`);
  if (out !== undefined) {
    tensorArg(what, 'out', out, arena, 'f32', qLen);
    if (out.ptr === q.ptr || out.ptr === k.ptr || out.ptr === v.ptr) throw new ArgumentError(`${what}: out must not be one of the inputs (rows are read after earlier rows are written)`);
  }
  return p;
}

function dtypeOf(x: unknown, what: string, name: string): 'f32' | 'f16' {
  if (x instanceof Float32Array) return 'f32';
  if (x instanceof Uint16Array || isFloat16Array(x)) return 'f16';
  throw new DTypeError(`${what}: ${name} must be a Float32Array or f16 bits (Uint16Array / Float16Array), got ${describe(x)}`);
}

export class AttentionOps {
  constructor(private tk: Tessera) {}

  /** Copying form: arrays in, Float32Array [heads, seqQ, headDim] out. */
  run(q: AttnInput, k: AttnInput, v: AttnInput, o: AttentionOptions): Float32Array {
    const what = 'attention';
    const p = attentionPlan(o, what);
    const qd = dtypeOf(q, what, 'q'), kd = dtypeOf(k, what, 'k'), vd = dtypeOf(v, what, 'v');
    if (kd !== vd) throw new DTypeError(`${what}: k and v must have the same dtype, got ${kd} and ${vd}`);
    const qa = (qd === 'f16' ? halfBits(q as Uint16Array) : q) as HalfOrF32;
    const ka = (kd === 'f16' ? halfBits(k as Uint16Array) : k) as HalfOrF32;
    const va = (vd === 'f16' ? halfBits(v as Uint16Array) : v) as HalfOrF32;
    const qLen = p.heads * p.s1 * p.d, kvLen = p.kvHeads * p.cap * p.d;
    if (qa.length !== qLen) throw new ShapeError(`${what}: q has ${qa.length} elements, expected heads*seqQ*headDim = ${qLen}`);
    if (ka.length !== kvLen) throw new ShapeError(`${what}: k has ${ka.length} elements, expected kvHeads*kvCapacity*headDim = ${kvLen}`);
    if (va.length !== kvLen) throw new ShapeError(`${what}: v has ${va.length} elements, expected kvHeads*kvCapacity*headDim = ${kvLen}`);
    const out = new Float32Array(qLen);
    const tk = this.tk;
    tk.run(() => {
      const a = tk.arena;
      const qe = qd === 'f16' ? 2 : 4, ke = kd === 'f16' ? 2 : 4;
      const gq = p.group * p.s1 * p.d; // elements of one group's q / o
      const kvh = p.s2 * p.d; // elements of one KV head actually read
      const pq = a.alloc(gq * qe, 64, 'attn q');
      const pk = a.alloc(kvh * ke, 64, 'attn k');
      const pv = a.alloc(kvh * ke, 64, 'attn v');
      const po = a.alloc(gq * 4, 64, 'attn o');
      const ws = this.workspace(p, kd);
      for (let g = 0; g < p.kvHeads; g++) {
        const m = tk.memory;
        put(m, pq, qa.subarray(g * gq, (g + 1) * gq));
        put(m, pk, ka.subarray(g * p.cap * p.d, g * p.cap * p.d + kvh));
        put(m, pv, va.subarray(g * p.cap * p.d, g * p.cap * p.d + kvh));
        this.group(p, pq, qd, pk, pv, kd, p.d, po, ws);
        out.set(tk.memory.f32.subarray(po >> 2, (po >> 2) + gq), g * gq);
      }
    });
    return out;
  }

  /** Zero-copy form: q [heads, seqQ, d], k / v [kvHeads, kvCapacity, d] tensors (f32 or f16); out f32 [heads, seqQ, d] (allocated if not given). */
  runTensors(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions, out?: Tensor<'f32'>): Tensor<'f32'> {
    const p = checkAttentionTensors('attention', this.tk.arena, q, k, v, o, out);
    const res = out ?? this.tk.tensor('f32', [p.heads, p.s1, p.d]);
    try {
      this.tk.run(() => {
        const ws = this.workspace(p, k.dtype as 'f32' | 'f16');
        const qe = q.dtype === 'f16' ? 2 : 4, ke = k.dtype === 'f16' ? 2 : 4;
        const gq = p.group * p.s1 * p.d;
        for (let g = 0; g < p.kvHeads; g++) {
          const kvo = g * p.cap * p.d * ke;
          this.group(p, q.ptr + g * gq * qe, q.dtype as 'f32' | 'f16', k.ptr + kvo, v.ptr + kvo, k.dtype as 'f32' | 'f16', p.d, res.ptr + g * gq * 4, ws);
        }
      });
    } catch (e) {
      if (!out) res.dispose();
      throw e;
    }
    return res;
  }

  /** Scratch tile + (when needed) prepared-KV buffers for one KV head. */
  private workspace(p: Plan, kd: 'f32' | 'f16'): { scratch: number; kp: number; vp: number; rows: number } {
    const k = this.tk.kernels, a = this.tk.arena;
    if (useDecodeKernel(p, kd)) return { scratch: a.alloc(decodeScratchBytes(k, p), 64, 'attn decode scratch'), kp: 0, vp: 0, rows: 0 };
    const raw = tileReadsKV(p, kd);
    const scratch = a.alloc(scratchBytes('attention', k.attention_scratch_bytes(p.d, p.br, p.bc, raw === 'f16' ? FLAG_KV_F16 : 0)), 64, 'attn scratch');
    if (raw) return { scratch, kp: 0, vp: 0, rows: 0 };
    const rows = k.attention_prep_rows(p.s2, p.bc, p.mode);
    const kp = a.alloc(rows * p.d * 4, 64, 'attn K\'');
    const vp = a.alloc(rows * p.d * 4, 64, 'attn V16');
    return { scratch, kp, vp, rows };
  }

  /** One KV head and its group of query heads. kPtr/vPtr: the KV head's first row (row stride kvStride elements). */
  private group(p: Plan, qPtr: number, qd: 'f32' | 'f16', kPtr: number, vPtr: number, kd: 'f32' | 'f16', kvStride: number,
    oPtr: number, ws: { scratch: number; kp: number; vp: number; rows: number }): void {
    const k = this.tk.kernels;
    if (useDecodeKernel(p, kd)) {
      // decode (seqQ = 1, f32 or f16 K/V, <= 8 query heads per KV head): the group's rows ([group][1][d], contiguous)
      // against the KV head, K and V streamed once; causal is a no-op (every key is visible to the one row)
      const [name, ...args] = decodeCall(p, qPtr, oPtr, kPtr, vPtr, kvStride, qd, kd, ws.scratch);
      (k[name] as (...a: number[]) => void)(...args);
      return;
    }
    let kk = kPtr, vv = vPtr, rows = p.s2, stride = kvStride;
    if (ws.kp) {
      k.attention_prep_kv(kPtr, vPtr, kvStride, kvStride, p.s2, p.d, ws.kp, ws.vp, p.mode, p.flags | (kd === 'f16' ? FLAG_F16 : 0), p.scale, p.beta, p.bc);
      kk = ws.kp; vv = ws.vp; rows = ws.rows; stride = p.d;
    }
    // Decode with GQA: the group's single query rows are contiguous ([group][1][d]), so run them as the rows of
    // one block (the kernel keeps query rows in vector lanes: one row alone would fill 1 of 24). Rows are
    // independent, so the result is bit-identical; causal is a no-op for seqQ = 1 and must not see the stacking.
    const stack = p.s1 === 1 && p.group > 1;
    let flags = (p.flags & ~FLAG_F16) | (qd === 'f16' ? FLAG_F16 : 0) | (!ws.kp && kd === 'f16' ? FLAG_KV_F16 : 0);
    if (stack) flags &= ~FLAG_CAUSAL;
    flags |= attnTileFlag(this.tk);
    const [, ...args] = fwdCall(p, { q: qPtr, qStride: p.s1 * p.d, o: oPtr, oStride: p.s1 * p.d, nh: stack ? 1 : p.group, s1: stack ? p.group : p.s1,
      k: kk, v: vv, kvRows: rows, kvStride: stride, flags, scratch: ws.scratch });
    (k.attention_fwd as (...a: number[]) => void)(...args);
  }
}

/**
 * @internal Switches for tests and benchmarks: decodeKernel false routes decode through the tile kernel
 * (attention_fwd) as before the decode kernel existed; decodeKernelF16 false does that only for f16 k/v (the tile
 * kernel then reads the halves, one key block widened at a time). Not part of the API. Module-wide on purpose,
 * unlike tk.kernelProfile: it swaps in a different algorithm (results agree to f32 rounding, not bit for bit), for
 * A/B timing and the equivalence tests only.
 */
export const attentionInternals = { decodeKernel: true, decodeKernelF16: true, decodeKernelPasa: true };

/** Decode fast path: precision 'f32' or 'pasa', f32 or f16 K/V, one query row per head, at most 8 query heads per KV head
 *  (the rows of one decode call; larger groups are compute-bound and the tile kernel's GEMMs are faster there).
 *  @internal also used by tk.parallel.attention (bindings/threads/parallel.ts). */
export function useDecodeKernel(p: Plan, kd: 'f32' | 'f16'): boolean {
  if (!attentionInternals.decodeKernel || p.s1 !== 1 || p.group > 8) return false;
  if (p.mode === ABI.ATTN_MODE_PASA) return attentionInternals.decodeKernelPasa;
  return p.mode === ABI.ATTN_MODE_F32 && (kd === 'f32' || attentionInternals.decodeKernelF16);
}

/**
 * Whether the tile kernel reads this k/v as they are ('f32', or 'f16' with ATTN_FLAG_KV_F16), i.e. without
 * attention_prep_kv: f32 k/v in 'f32' precision, f16 k/v in 'f32' and 'f16' precision (rounding a half to fp16 is the
 * identity, so the values are those prep would form). false: prep first ('pasa', 'pasa-faithful', f32 k/v in 'f16').
 * @internal also used by bindings/threads/parallel.ts.
 */
export function tileReadsKV(p: Plan, kd: 'f32' | 'f16'): 'f32' | 'f16' | false {
  if (kd === 'f16') return p.mode === ABI.ATTN_MODE_F32 || p.mode === ABI.ATTN_MODE_F16 ? 'f16' : false;
  return p.mode === ABI.ATTN_MODE_F32 ? 'f32' : false;
}

/** Scratch bytes of the decode kernel useDecodeKernel picked (per KV head). @internal also used by bindings/threads/parallel.ts. */
export function decodeScratchBytes(k: Tessera['kernels'], p: Plan): number {
  return scratchBytes('attention decode', p.mode === ABI.ATTN_MODE_PASA ? k.pasa_attn_decode_scratch_bytes(p.d, p.group, p.bc) : k.f32_attn_decode_scratch_bytes(p.d, p.group));
}

/**
 * The decode kernel call for one KV head (its group's query rows at qPtr, [group][1][d], contiguous; output at oPtr),
 * as [export name, ...arguments]; the scratch pointer is the last argument. extraFlags: ATTN_FLAG_PREPARED for the PASA
 * cache (bindings/ops/pasa-cache.ts). @internal also used by bindings/threads/parallel.ts, which replaces the scratch
 * argument per worker.
 */
export function decodeCall(p: Plan, qPtr: number, oPtr: number, kPtr: number, vPtr: number, kvStride: number,
  qd: 'f32' | 'f16', kd: 'f32' | 'f16', scratch: number, extraFlags = 0): ['f32_attn_decode_1x4__wasmsimd' | 'pasa_attn_decode_1x4__wasmsimd', ...number[]] {
  const flags = (qd === 'f16' ? FLAG_F16 : 0) | (kd === 'f16' ? FLAG_KV_F16 : 0) | extraFlags;
  if (p.mode === ABI.ATTN_MODE_PASA) {
    return ['pasa_attn_decode_1x4__wasmsimd', qPtr, oPtr, p.group, kPtr, vPtr, kvStride, kvStride, p.s2, p.d, p.scale, p.beta, p.bc,
      flags | (p.flags & (FLAG_STORE_F32 | FLAG_FRAME_FIRST)), scratch];
  }
  return ['f32_attn_decode_1x4__wasmsimd', qPtr, oPtr, p.group, kPtr, vPtr, kvStride, kvStride, p.s2, p.d, p.scale, flags, scratch];
}

/** attention_fwd's argument index of `scratch` (a pool gives each worker its own block there). @internal */
export const FWD_SCRATCH_ARG = 13;

/**
 * One attention_fwd call as [kernel name, ...args]: nh heads of s1 query rows (q / o head strides in elements) against
 * the first kvRows rows of one KV head (K and V row stride kvStride elements); s2, d, mode, scale, beta and the tile
 * sizes come from the plan. scratch at FWD_SCRATCH_ARG (0: filled in by the caller).
 * @internal the one place that spells the argument list: tk.attention, tk.pasaKVCache (MQA groups), tk.parallel.attention.
 */
export function fwdCall(p: Plan, c: { q: number; qStride: number; o: number; oStride: number; nh: number; s1: number;
  k: number; v: number; kvRows: number; kvStride: number; flags: number; scratch?: number }): ['attention_fwd', ...number[]] {
  return ['attention_fwd', c.q, c.qStride, c.o, c.oStride, c.nh, c.s1, c.k, c.v, c.kvRows, c.kvStride, c.kvStride, p.s2, p.d,
    c.scratch ?? 0, p.mode, c.flags, p.scale, p.beta, p.br, p.bc];
}

/** Decode options -> attention options (one query row per head against the first kvLength cache rows). */
export function decodeOptions(o: AttentionDecodeOptions, capacity: number): AttentionOptions {
  if (typeof o !== 'object' || o === null) throw new ArgumentError('attentionDecode: options object is required');
  options('attentionDecode', o, DECODE_KEYS);
  // the cache geometry in decode terms (attentionPlan would name them seqK / kvCapacity)
  if (!isInt(o.kvLength, 1)) throw new ShapeError(`attentionDecode: kvLength must be a positive integer, got ${String(o.kvLength)}`);
  // capacity is NaN when the caches or heads / headDim are not usable: attentionPlan / the input checks name that
  if (Number.isFinite(capacity) && !Number.isSafeInteger(capacity)) {
    throw new ShapeError(`attentionDecode: the caches must hold kvHeads x capacity x headDim elements (a whole number of rows per KV head), got ${capacity} rows per head`);
  }
  if (Number.isSafeInteger(capacity) && capacity < o.kvLength) throw new ShapeError(`attentionDecode: kvLength ${o.kvLength} is more than the ${capacity} rows per KV head the caches hold`);
  return { heads: o.heads, kvHeads: o.kvHeads, seqQ: 1, seqK: o.kvLength, headDim: o.headDim, kvCapacity: capacity, scale: o.scale, precision: o.precision, beta: o.beta,
    blockK: o.blockK, pasaFrame: o.pasaFrame, pasaStorage: o.pasaStorage };
}

function put(m: Tessera['memory'], ptr: number, src: HalfOrF32): void {
  if (src instanceof Float32Array) m.f32.set(src, ptr >> 2); else m.u16.set(src, ptr >> 1);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

export type { Plan as AttentionPlan };
