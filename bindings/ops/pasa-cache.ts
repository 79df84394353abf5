/**
 * A PASA KV cache for decoding (tk.pasaKVCache): keys and values kept as fp16, plus K' (pasa.md §2.5: the keys shifted
 * by beta times their block mean and scaled, rounded to fp16), maintained block by block as rows are appended. A decode
 * step then reads K' and V16 once, as halves, like an f16 KV cache. tk.attentionDecode(..., { precision: 'pasa' }) on a
 * plain cache has to form K' for every block of the cache on every step instead.
 *
 *   const cache = tk.pasaKVCache({ heads: 32, kvHeads: 8, headDim: 128, capacity: 4096 });
 *   cache.append(kRows, vRows);          // [kvHeads][n][headDim] f32 or f16 bits (arrays or tensors), n >= 1
 *   const o = cache.decode(q);           // q [heads][headDim] -> Float32Array [heads][headDim] (fp16 values)
 *   cache.truncate(len);                 // drop rows >= len (e.g. rejected speculative tokens)
 *   cache.dispose();
 *
 * Semantics: exactly those of tk.attentionDecode(q, k, v, { precision: 'pasa', ... }) on the cache's rows, bit for bit:
 * the same kernels on the same K' bits. Groups of at most 8 query heads per KV head run the PASA decode kernel; larger
 * groups (MQA) the tile kernel (attention_fwd), which is faster there and reads the cache's K' and V16 halves directly
 * (one key block widened at a time), where tk.attentionDecode first forms K' and V16 for the whole cache. Keys and
 * values are rounded to fp16 on append (PASA rounds them first anyway). Appending rows changes K' only in the blocks
 * they land in (the last, partial block's mean moves), so an append costs O(blockK · headDim) per KV head per touched
 * block, not O(length).
 *
 * Memory: three [kvHeads][capacity][headDim] f16 tensors (keys, K', values: 1.5x an f16 KV cache) and the K' rebuild's
 * scratch (2 headDim floats), allocated up front, so append and truncate allocate nothing once they start writing (an
 * out-of-memory error can only come from converting f32 rows, before anything changes); decode's scratch comes from
 * (headDim, group, blockK), independent of the length.
 */
import { ABI } from '../abi.js';
import { ArgumentError, DisposedError, ShapeError } from '../errors.js';
import { Tensor } from '../memory.js';
import type { Tessera } from '../tessera.js';
import { elements, f32or16, options, scratchBytes, tensor } from '../validate.js';
import { attentionPlan, attnTileFlag, decodeCall, fwdCall, FWD_SCRATCH_ARG, useDecodeKernel, type AttentionPlan } from './attention.js';

export interface PasaKVCacheOptions {
  /** Query heads per decode step. */
  heads: number;
  /** KV heads (must divide heads; default heads). */
  kvHeads?: number;
  headDim: number;
  /** Rows per KV head the cache can hold. */
  capacity: number;
  /** Softmax scale (default 1 / sqrt(headDim)); it is folded into K', so it is fixed per cache. */
  scale?: number;
  /** PASA shift fraction in (0, 1) (default 31/32). */
  beta?: number;
  /** Keys per PASA block (multiple of 4 in [4, 4096]; default 128). */
  blockK?: number;
  /** As AttentionOptions.pasaFrame. */
  pasaFrame?: 'running' | 'first';
}

type Rows = Float32Array | Uint16Array | ArrayBufferView | Tensor;

type KernelCall = [string, ...number[]];

export class PasaKVCache {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly capacity: number;
  readonly blockK: number;
  #length = 0;
  /** parallel decodes in flight (tk.parallel.pasaDecode): append / truncate would change rows they read */
  #inFlight = 0;
  readonly #p: AttentionPlan;
  readonly #k16: Tensor<'f16'>;
  readonly #kp: Tensor<'f16'>;
  readonly #v16: Tensor<'f16'>;
  /** pasa_kv_prepare_block's scratch, held with the cache so that append / truncate cannot fail once they write */
  readonly #prepScratch: Tensor<'f32'>;

  /** @internal use tk.pasaKVCache */
  constructor(private readonly tk: Tessera, o: PasaKVCacheOptions) {
    const what = 'pasaKVCache';
    if (typeof o !== 'object' || o === null) throw new ArgumentError(`${what}: options object is required`);
    options(what, o, ['heads', 'kvHeads', 'headDim', 'capacity', 'scale', 'beta', 'blockK', 'pasaFrame']);
    // the attention plan validates heads, kvHeads, headDim, scale, beta, blockK and pasaFrame; seqK is set per call
    const cap = o.capacity;
    if (typeof cap !== 'number' || !Number.isSafeInteger(cap) || cap < 1) throw new ShapeError(`${what}: capacity must be a positive integer, got ${String(cap)}`);
    this.#p = attentionPlan({ heads: o.heads, kvHeads: o.kvHeads, seqQ: 1, seqK: 1, headDim: o.headDim, kvCapacity: cap, scale: o.scale, precision: 'pasa',
      beta: o.beta, blockK: o.blockK, pasaFrame: o.pasaFrame }, what);
    this.heads = this.#p.heads; this.kvHeads = this.#p.kvHeads; this.headDim = this.#p.d; this.capacity = cap; this.blockK = this.#p.bc;
    elements(what, 'each of its keys, K\' and values', this.kvHeads, cap, this.headDim); // ShapeError past 2^31 elements
    const shape = [this.kvHeads, cap, this.headDim];
    const made: Tensor[] = [];
    try {
      made.push(this.#k16 = tk.tensor('f16', shape));
      made.push(this.#kp = tk.tensor('f16', shape));
      made.push(this.#v16 = tk.tensor('f16', shape));
      made.push(this.#prepScratch = tk.tensor('f32', [Math.ceil(tk.kernels.pasa_kv_prepare_scratch_bytes(this.headDim) / 4)]));
    } catch (e) {
      made.forEach((t) => t.dispose());
      throw e;
    }
  }

  /** Valid rows per KV head. */
  get length(): number { return this.#length; }

  get disposed(): boolean { return this.#k16.disposed; }

  /** @internal whether this cache lives in tk's memory */
  _ownedBy(tk: Tessera): boolean { return this.tk === tk; }

  /** @internal the arena blocks the cache writes (keys, K', values, the rebuild scratch), for the fuzzer's no-stray-write check */
  _blocks(): number[] { return [this.#k16.ptr, this.#kp.ptr, this.#v16.ptr, this.#prepScratch.ptr]; }

  /**
   * Append n rows per KV head: k and v are [kvHeads][n][headDim], f32 (rounded to fp16 here) or f16 bits (Uint16Array /
   * Float16Array), or f32 / f16 tensors of this instance. Everything is checked before the cache changes.
   */
  append(k: Rows, v: Rows): void {
    const what = 'pasaKVCache.append';
    this.#check(what);
    this.#idle(what);
    const d = this.headDim, kvh = this.kvHeads;
    const kb = this.#halves(what, 'k', k), vb = this.#halves(what, 'v', v);
    if (kb.length !== vb.length) throw new ShapeError(`${what}: k has ${kb.length} elements, v has ${vb.length}`);
    const n = kb.length / (kvh * d);
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`${what}: k must hold kvHeads*n*headDim elements (kvHeads ${kvh}, headDim ${d}, n >= 1), got ${kb.length}`);
    if (this.#length + n > this.capacity) throw new ShapeError(`${what}: ${n} rows do not fit: length ${this.#length}, capacity ${this.capacity}`);
    const len = this.#length, cap = this.capacity;
    const u16 = this.tk.memory.u16;
    for (let g = 0; g < kvh; g++) {
      u16.set(kb.subarray(g * n * d, (g + 1) * n * d), (this.#k16.ptr >> 1) + (g * cap + len) * d);
      u16.set(vb.subarray(g * n * d, (g + 1) * n * d), (this.#v16.ptr >> 1) + (g * cap + len) * d);
    }
    this.#length = len + n;
    this.#prepare(len);
  }

  /** Keep the first `length` rows per KV head (0 <= length <= this.length); K' of the new last block is rebuilt. */
  truncate(length: number): void {
    const what = 'pasaKVCache.truncate';
    this.#check(what);
    this.#idle(what);
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > this.#length) {
      throw new ShapeError(`${what}: length must be an integer in [0, ${this.#length}], got ${String(length)}`);
    }
    this.#length = length;
    if (length % this.blockK !== 0) this.#prepare(length);
  }

  /**
   * One decode step: q [heads][headDim] (f32 or f16 bits) -> Float32Array [heads][headDim]; or an f32 / f16 tensor in
   * and an f32 tensor out (allocated unless `out` is given). PASA over the cache's `length` rows (at least 1).
   */
  decode(q: Float32Array | Uint16Array | ArrayBufferView): Float32Array;
  decode(q: Tensor, out?: Tensor<'f32'>): Tensor<'f32'>;
  decode(q: Float32Array | Uint16Array | ArrayBufferView | Tensor, out?: Tensor<'f32'>): Float32Array | Tensor<'f32'> {
    const what = 'pasaKVCache.decode';
    const tk = this.tk, n = this.heads * this.headDim;
    if (q instanceof Tensor) {
      const res = this._decodeTarget(what, q, out);
      try {
        tk.run(() => this.#decodeOn(q.ptr, q.dtype as 'f32' | 'f16', res.ptr));
      } catch (e) {
        if (!out) res.dispose();
        throw e;
      }
      return res;
    }
    this.#check(what);
    if (this.#length < 1) throw new ShapeError(`${what}: the cache is empty (append rows first)`);
    if (out !== undefined) throw new ArgumentError(`${what}: out is for the tensor form (q a Tensor)`);
    const qa = f32or16(what, 'q', q, n);
    return tk.run(() => {
      const a = tk.arena;
      const pq = a.alloc(n * (qa.dtype === 'f16' ? 2 : 4), 64, 'pasa cache q');
      const po = a.alloc(n * 4, 64, 'pasa cache out');
      if (qa.dtype === 'f16') tk.memory.u16.set(qa.data, pq >> 1); else tk.memory.f32.set(qa.data, pq >> 2);
      this.#decodeOn(pq, qa.dtype, po);
      return tk.memory.f32.slice(po >> 2, (po >> 2) + n);
    });
  }

  /**
   * @internal Validation of the tensor form (also tk.parallel.pasaDecode): q a live f32 / f16 tensor of this instance
   * holding heads*headDim elements, out (if given) a live f32 one of that length that is not q; a non-empty cache.
   * Returns the output tensor (allocated unless given).
   */
  _decodeTarget(what: string, q: Tensor, out?: Tensor<'f32'>): Tensor<'f32'> {
    this.#check(what);
    if (this.#length < 1) throw new ShapeError(`${what}: the cache is empty (append rows first)`);
    const n = this.heads * this.headDim, tk = this.tk;
    tensor(what, 'q', q, tk.arena, ['f32', 'f16'], n);
    if (out !== undefined) {
      tensor(what, 'out', out, tk.arena, 'f32', n);
      if (out.ptr === q.ptr) throw new ArgumentError(`${what}: out must not be q`);
    }
    return out ?? tk.tensor('f32', [this.heads, 1, this.headDim]);
  }

  /**
   * @internal The kernel calls over the prepared rows, as [export name, ...arguments] with 0 at argument `scratchArg`
   * (each caller passes its own block of scratchBytes there). Groups of at most 8 query heads: one PASA decode kernel
   * call per KV head. Larger groups: the tile kernel on the group's query rows stacked as the rows of one block; with
   * fewer KV heads than `parts` (threads) each KV head's rows are split into chunks (rows are independent: the same bits
   * however they are chunked).
   */
  _decodeCalls(qPtr: number, qd: 'f32' | 'f16', oPtr: number, parts = 1): { calls: KernelCall[]; scratchBytes: number; scratchArg: number } {
    const d = this.headDim, p = { ...this.#p, s2: this.#length }, len = this.#length;
    const group = p.group, qe = qd === 'f16' ? 2 : 4;
    const calls: KernelCall[] = [];
    if (useDecodeKernel(p, 'f16')) {
      for (let g = 0; g < this.kvHeads; g++) {
        const kvOff = g * this.capacity * d * 2, h = g * group;
        calls.push(decodeCall(p, qPtr + h * d * qe, oPtr + h * d * 4, this.#kp.ptr + kvOff, this.#v16.ptr + kvOff, d, qd, 'f16', 0, ABI.ATTN_FLAG_PREPARED));
      }
      return { calls, scratchBytes: scratchBytes('pasaKVCache.decode', this.tk.kernels.pasa_attn_decode_scratch_bytes(d, group, p.bc)), scratchArg: calls[0].length - 2 };
    }
    // MQA-like groups: attention_fwd in PASA mode on K' / V16 halves (ATTN_FLAG_KV_F16), no causal mask (one query row per head)
    const flags = (p.flags & (ABI.ATTN_FLAG_STORE_F32 | ABI.ATTN_FLAG_FRAME_FIRST)) | (qd === 'f16' ? ABI.ATTN_FLAG_Q_F16 : 0) |
      ABI.ATTN_FLAG_KV_F16 | attnTileFlag(this.tk);
    // threads: split a KV head's rows only when there are fewer KV heads than parts (each chunk re-reads K' / V16), into
    // perHead chunks as even as possible, each of >= 8 rows (group >= 8 * perHead)
    const perHead = Math.max(1, Math.min(Math.ceil(parts / this.kvHeads), Math.floor(group / 8)));
    const base = Math.floor(group / perHead), extra = group % perHead;
    for (let g = 0; g < this.kvHeads; g++) {
      const kvOff = g * this.capacity * d * 2;
      for (let c = 0, r0 = 0; c < perHead; c++) {
        const n = base + (c < extra ? 1 : 0), h = g * group + r0;
        r0 += n;
        calls.push(fwdCall(p, { q: qPtr + h * d * qe, qStride: n * d, o: oPtr + h * d * 4, oStride: n * d, nh: 1, s1: n,
          k: this.#kp.ptr + kvOff, v: this.#v16.ptr + kvOff, kvRows: len, kvStride: d, flags }));
      }
    }
    return { calls, scratchBytes: scratchBytes('pasaKVCache.decode', this.tk.kernels.attention_scratch_bytes(d, p.br, p.bc, flags)), scratchArg: FWD_SCRATCH_ARG };
  }

  /** The decode calls on this thread, with one scratch block (inside the caller's tk.run scope). */
  #decodeOn(qPtr: number, qd: 'f32' | 'f16', oPtr: number): void {
    const { calls, scratchBytes, scratchArg } = this._decodeCalls(qPtr, qd, oPtr);
    const scratch = this.tk.arena.alloc(scratchBytes, 64, 'pasa cache decode scratch');
    for (const [name, ...args] of calls) {
      args[scratchArg] = scratch;
      (this.tk.kernels[name as keyof Tessera['kernels']] as unknown as (...a: number[]) => void)(...args);
    }
  }

  /** @internal Keep the cache's memory and rows fixed while queued or running tiles read them (tk.parallel.pasaDecode):
   *  dispose() is deferred, append / truncate throw until the returned function is called. */
  _hold(): () => void {
    const release = [this.#k16.pin(), this.#kp.pin(), this.#v16.pin()];
    this.#inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#inFlight--;
      release.forEach((r) => r());
    };
  }

  /** Free the cache's memory (idempotent; deferred while a parallel decode still reads it). */
  dispose(): void {
    this.#k16.dispose(); this.#kp.dispose(); this.#v16.dispose(); this.#prepScratch.dispose();
  }

  #check(what: string): void {
    if (this.tk.disposed) throw new DisposedError('tessera instance');
    if (this.disposed) throw new DisposedError(`${what}: PasaKVCache`);
  }

  #idle(what: string): void {
    if (this.#inFlight > 0) throw new ArgumentError(`${what}: a parallel decode (tk.parallel.pasaDecode) is reading the cache; await it first`);
  }

  /** Rows as f16 bits (a copy for f32 input and for tensors; validated, nothing written yet). */
  #halves(what: string, name: string, x: Rows): Uint16Array {
    if (x instanceof Tensor) {
      tensor(what, name, x, this.tk.arena, ['f32', 'f16']);
      const view = x.read();
      return x.dtype === 'f16' ? view as Uint16Array : this.tk.f16.fromF32(view as Float32Array);
    }
    const a = f32or16(what, name, x);
    return a.dtype === 'f16' ? a.data : this.tk.f16.fromF32(a.data);
  }

  /** Rebuild K' of every block from the one holding row `from` to the end, for every KV head. Allocates nothing (the
   *  scratch is the cache's own), so it cannot fail after append / truncate have changed the rows. */
  #prepare(from: number): void {
    const k = this.tk.kernels, d = this.headDim, bc = this.blockK, cap = this.capacity, p = this.#p, scratch = this.#prepScratch.ptr;
    for (let g = 0; g < this.kvHeads; g++) {
      for (let c0 = Math.floor(from / bc) * bc; c0 < this.#length; c0 += bc) {
        const off = (g * cap + c0) * d * 2;
        k.pasa_kv_prepare_block(this.#k16.ptr + off, this.#kp.ptr + off, Math.min(bc, this.#length - c0), d, p.scale, p.beta, scratch);
      }
    }
  }
}
