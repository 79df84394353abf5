/**
 * Linear memory owned by the bindings.
 *
 * Layout:  [0, heapBase)        AssemblyScript static data (constants), never touched from JS
 *          [heapBase, end)      the arena: every tensor, packed weight and scratch tile
 *
 * Each arena block is   [ guard 16 B | data (size rounded up to 16) | tail pad >= 16 B ]
 * with data aligned to 16 (or 64 on request). Kernels may over-read up to 16 bytes past an input
 * (vector tails) but never write outside their outputs; the pad keeps over-reads inside memory
 * and, in debug mode, carries canaries that `check()` verifies.
 *
 * Debug mode also fills every FREE word (never allocated, or freed) with FREE_WORD, so that
 *   - check() can verify free space near the used region is untouched (a stray write that jumps
 *     past a neighbour's guard into free memory is still caught), and
 *   - snapshot() / ArenaSnapshot.verify() can prove that an op changed no byte of linear memory
 *     except its declared outputs and the blocks it allocated (the fuzzer's no-stray-write check).
 * Fresh blocks therefore start as FREE_WORD (a NaN) in debug mode: reading scratch that was never
 * written shows up as NaN in results instead of passing by luck on zeroed memory.
 */
import { ArgumentError, DTypeError, DisposedError, MemoryCorruptionError, OutOfMemoryError, ShapeError } from './errors.js';
import { halfBits, isFloat16Array } from './f16js.js';

export const PAGE = 65536;
const GUARD = 16;
const TAIL = 16;
const CANARY = 0xa5;
/**
 * Debug mode: content of every free arena word (bytes a5 a5 a5 7f). As an f32 it is a NaN and its
 * upper half is an f16 NaN, so a kernel whose result depends on memory it never wrote (scratch it
 * forgot to initialise, an over-read past its input) produces NaN, which the fuzzer's reference
 * check catches even where garbage * 0 would hide a finite value; and no kernel ever writes this
 * exact non-canonical NaN, so stray writes of NaN results are still visible.
 */
export const FREE_WORD = 0x7fa5a5a5;
/** Debug mode: free bytes checked by check() extend this far past the highest block end ever used. */
const FREE_CHECK_MARGIN = 64 * 1024;

export interface MemoryStats {
  /** bytes currently allocated (data + guards) */
  usedBytes: number;
  /** highest usedBytes since creation or the last resetPeak() */
  peakBytes: number;
  /** live blocks */
  blocks: number;
  /** current linear memory size */
  memoryBytes: number;
  /** configured maximum */
  maxMemoryBytes: number;
}

/** Whether a view's buffer is detached (transferred). ES2024 `detached`; older engines: a detached buffer reports
 *  byteLength 0 (an empty array is still fine to pass). Also used by bindings/validate.ts. */
export function detached(a: ArrayBufferView): boolean {
  const b = a.buffer as ArrayBuffer & { detached?: boolean };
  return typeof b.detached === 'boolean' ? b.detached : false;
}

export interface Block { start: number; end: number; ptr: number; bytes: number; persistent: boolean; tag: string }

/** Typed-array views over linear memory that are rebuilt whenever the memory grows. */
export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  readonly maxBytes: number;
  readonly shared: boolean;
  private buf: ArrayBufferLike | null = null;
  private _u8!: Uint8Array;
  private _u16!: Uint16Array;
  private _i32!: Int32Array;
  private _u32!: Uint32Array;
  private _f32!: Float32Array;

  constructor(memory: WebAssembly.Memory, maxBytes: number, shared: boolean) {
    this.memory = memory;
    this.maxBytes = maxBytes;
    this.shared = shared;
    this.refresh();
  }

  /** Re-create views if memory.buffer changed (growth detaches non-shared buffers). Cheap when nothing changed. */
  refresh(): void {
    const b = this.memory.buffer;
    if (b === this.buf && this._u8.byteLength === b.byteLength) return;
    this.buf = b;
    this._u8 = new Uint8Array(b);
    this._u16 = new Uint16Array(b);
    this._i32 = new Int32Array(b);
    this._u32 = new Uint32Array(b);
    this._f32 = new Float32Array(b);
  }

  get bytes(): number { return this.memory.buffer.byteLength; }
  get u8(): Uint8Array { this.refresh(); return this._u8; }
  get u16(): Uint16Array { this.refresh(); return this._u16; }
  get i32(): Int32Array { this.refresh(); return this._i32; }
  get u32(): Uint32Array { this.refresh(); return this._u32; }
  get f32(): Float32Array { this.refresh(); return this._f32; }

  /** Grow so that at least `needBytes` bytes exist. Typed OutOfMemoryError beyond maxBytes or on engine refusal. */
  ensure(needBytes: number): void {
    const have = this.bytes;
    if (needBytes <= have) return;
    if (needBytes > this.maxBytes) throw new OutOfMemoryError(needBytes, this.maxBytes);
    // grow geometrically (fewer view rebuilds), but never past the cap
    const want = Math.min(this.maxBytes, Math.max(needBytes, Math.min(have * 2, have + 256 * 1024 * 1024)));
    const pages = Math.ceil(want / PAGE) - have / PAGE;
    try {
      this.memory.grow(pages);
    } catch (e) {
      // the engine may refuse (RangeError) even under our cap: retry with the exact need once
      const exact = Math.ceil(needBytes / PAGE) - have / PAGE;
      try {
        if (exact < pages) this.memory.grow(exact); else throw e;
      } catch (e2) {
        throw new OutOfMemoryError(needBytes, this.maxBytes, `memory.grow refused: ${(e2 as Error).message}`);
      }
    }
    this.refresh();
  }
}

/**
 * First-fit free-list allocator over [base, memory end) with scope marks.
 * - alloc(): temporary allocations are recorded on a scope stack; reset(mark) frees everything
 *   allocated after mark() (including blocks left behind by an exception).
 * - allocPersistent(): packed weights and user tensors; freed only by free()/dispose().
 */
export class Arena {
  readonly mem: LinearMemory;
  readonly base: number;
  readonly debug: boolean;
  /** set by tk.dispose(): tensors of the instance then throw DisposedError instead of reading released memory */
  closed = false;
  private free_: { start: number; end: number }[] = [];
  private top: number; // end of the managed region (== memory size at last sync)
  private live = new Map<number, Block>();
  private stack: number[] = [];
  private used = 0;
  private peak = 0;
  /** highest block end ever allocated (bounds the debug free-space checks) */
  private highWater = 0;
  /** fault injection (tests): allocations left before the next one fails; -1 = off */
  private failIn = -1;

  constructor(mem: LinearMemory, base: number, debug = false) {
    this.mem = mem;
    this.base = align(base, 64);
    this.debug = debug;
    this.top = this.base;
    this.highWater = this.base;
    this.syncTop();
  }

  /** Temporary allocation (freed by reset(mark) or free). Returns a byte pointer to the data, 16- or 64-aligned. */
  alloc(bytes: number, alignment: 16 | 64 = 16, tag = 'scratch'): number {
    return this.allocBlock(bytes, alignment, false, tag);
  }

  /** Allocation that survives scope resets (tensors, packed weights). Free it with free(). */
  allocPersistent(bytes: number, alignment: 16 | 64 = 64, tag = 'tensor'): number {
    return this.allocBlock(bytes, alignment, true, tag);
  }

  free(ptr: number): void {
    const b = this.live.get(ptr);
    if (!b) throw new ArgumentError(`free(${ptr}): not a live arena block`);
    if (this.debug) this.checkBlock(b);
    this.live.delete(ptr);
    this.used -= b.end - b.start;
    if (this.debug) this.mem.u32.fill(FREE_WORD, b.start >> 2, b.end >> 2); // block bounds are 16-aligned
    this.insertFree(b.start, b.end);
  }

  isLive(ptr: number): boolean { return this.live.has(ptr); }
  /** The live block whose data holds [ptr, ptr + bytes), if any (O(live blocks)). */
  blockHolding(ptr: number, bytes: number): Block | undefined {
    for (const b of this.live.values()) if (ptr >= b.ptr && ptr + bytes <= b.ptr + b.bytes) return b;
    return undefined;
  }

  /** Scope mark: pass it to reset() to free every temporary block allocated since. */
  mark(): number { return this.stack.length; }

  reset(mark: number): void {
    if (mark < 0 || mark > this.stack.length) throw new ArgumentError(`reset(${mark}): invalid mark`);
    for (let i = this.stack.length - 1; i >= mark; i--) {
      const p = this.stack[i];
      if (this.live.has(p)) this.free(p);
    }
    this.stack.length = mark;
  }

  /** Run fn with a scope: all temporaries it allocates are freed when it returns or throws. */
  scope<T>(fn: () => T): T {
    const m = this.mark();
    try { return fn(); } finally { this.reset(m); }
  }

  stats(): MemoryStats {
    return { usedBytes: this.used, peakBytes: this.peak, blocks: this.live.size, memoryBytes: this.mem.bytes, maxMemoryBytes: this.mem.maxBytes };
  }

  resetPeak(): void { this.peak = this.used; }

  /**
   * Verify every live block's guard and tail canaries, and that free memory up to a margin past the
   * used region still holds FREE_WORD (debug mode only; no-op otherwise). MemoryCorruptionError names
   * the block and offset.
   */
  check(): void {
    if (!this.debug) return;
    for (const b of this.live.values()) this.checkBlock(b);
    const limit = Math.min(this.top, this.highWater + FREE_CHECK_MARGIN);
    const w = this.mem.u32;
    const fill = FREE_WORD >>> 0;
    for (const f of this.free_) {
      if (f.start >= limit) break;
      const end = Math.min(f.end, limit);
      for (let i = f.start >> 2, e = end >> 2; i < e; i++) {
        if (w[i] !== fill) {
          const at = i << 2;
          throw new MemoryCorruptionError(`free arena memory at byte ${at} was written (${this.describe(at)})`);
        }
      }
    }
  }

  /**
   * Debug mode: record linear memory [0, used region + margin) so that `verify()` can later prove
   * that nothing changed except the data of the blocks in `outputs` (pointers of live blocks) and
   * blocks allocated after the snapshot. Static data below the arena, every other live block
   * (guards included) and free memory are all compared byte for byte.
   */
  snapshot(outputs: Iterable<number> = []): ArenaSnapshot {
    if (!this.debug) throw new ArgumentError('arena.snapshot() needs init({ debug: true }) (free memory is only tracked in debug mode)');
    const out = new Set<number>();
    for (const p of outputs) {
      if (!this.live.has(p)) throw new ArgumentError(`arena.snapshot: output ${p} is not a live arena block`);
      out.add(p);
    }
    const limit = Math.min(this.top, align(this.highWater + FREE_CHECK_MARGIN, 16));
    return new ArenaSnapshot(this, this.mem.u8.slice(0, limit), new Map(this.live), out);
  }

  /** @internal blocks live now */
  liveBlocks(): ReadonlyMap<number, Block> { return this.live; }

  /** @internal human description of a byte address (which block / guard / free range it is in) */
  describe(at: number, blocks: ReadonlyMap<number, Block> = this.live): string {
    if (at < this.base) return `static data below the arena (heap base ${this.base})`;
    for (const b of blocks.values()) {
      if (at >= b.start && at < b.end) {
        const where = at < b.ptr ? `head guard, ${b.ptr - at} B before` : at >= b.ptr + b.bytes ? `tail guard, +${at - b.ptr}` : `data offset ${at - b.ptr}`;
        return `${b.tag} block @${b.ptr} (${b.bytes} B), ${where}`;
      }
    }
    return 'free memory';
  }

  /**
   * Fault injection for tests: the allocation after the next `n` ones throws OutOfMemoryError (as if
   * the cap were reached), once; null switches it off. Proves every allocation point of an op
   * unwinds cleanly (no leaked block, no partial state).
   */
  failAfter(n: number | null): void { this.failIn = n === null ? -1 : n; }

  private allocBlock(bytes: number, alignment: number, persistent: boolean, tag: string): number {
    // a size past 2^53 (e.g. a tensor of [2^30, 2^30] f32, or a conv with a huge pad) is a request no memory can meet
    if (typeof bytes === 'number' && bytes > Number.MAX_SAFE_INTEGER) throw new OutOfMemoryError(bytes, this.mem.maxBytes, tag);
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ArgumentError(`alloc: byte count must be a non-negative integer, got ${bytes}`);
    if (this.failIn >= 0 && this.failIn-- === 0) throw new OutOfMemoryError(bytes, this.mem.maxBytes, `injected failure (${tag})`);
    const dataBytes = align(Math.max(bytes, 1), 16);
    const need = (start: number) => {
      const ptr = align(start + GUARD, alignment);
      return { ptr, end: ptr + dataBytes + TAIL };
    };
    this.syncTop();
    let found = -1;
    let place = { ptr: 0, end: 0 };
    for (let i = 0; i < this.free_.length; i++) {
      const f = this.free_[i];
      const p = need(f.start);
      if (p.end <= f.end) { found = i; place = p; break; }
    }
    if (found < 0) {
      // grow: extend the last free range if it touches the top, else start at the top
      const last = this.free_[this.free_.length - 1];
      const start = last && last.end === this.top ? last.start : this.top;
      place = need(start);
      this.mem.ensure(place.end);
      this.syncTop();
      found = this.free_.findIndex((f) => f.start <= start && place.end <= f.end);
      if (found < 0) throw new OutOfMemoryError(place.end, this.mem.maxBytes, 'arena bookkeeping');
    }
    const f = this.free_[found];
    const start = f.start;
    const end = place.end;
    // split: keep what is left of the free range
    if (end < f.end) f.start = end; else this.free_.splice(found, 1);
    const blk: Block = { start, end, ptr: place.ptr, bytes, persistent, tag };
    this.live.set(place.ptr, blk);
    if (!persistent) this.stack.push(place.ptr);
    this.used += end - start;
    if (this.used > this.peak) this.peak = this.used;
    if (end > this.highWater) this.highWater = end;
    if (this.debug) this.paint(blk);
    return place.ptr;
  }

  /** The managed region always extends to the end of linear memory. */
  private syncTop(): void {
    const end = this.mem.bytes;
    if (end > this.top) {
      if (this.debug) this.mem.u32.fill(FREE_WORD, this.top >> 2, end >> 2); // page-aligned
      this.insertFree(this.top, end);
      this.top = end;
    }
  }

  private insertFree(start: number, end: number): void {
    const fl = this.free_;
    let i = 0;
    while (i < fl.length && fl[i].start < start) i++;
    fl.splice(i, 0, { start, end });
    // coalesce with neighbours
    if (i + 1 < fl.length && fl[i].end === fl[i + 1].start) { fl[i].end = fl[i + 1].end; fl.splice(i + 1, 1); }
    if (i > 0 && fl[i - 1].end === fl[i].start) { fl[i - 1].end = fl[i].end; fl.splice(i, 1); }
  }

  private paint(b: Block): void {
    const u8 = this.mem.u8;
    u8.fill(CANARY, b.start, b.ptr);
    u8.fill(CANARY, b.ptr + b.bytes, b.end);
  }

  private checkBlock(b: Block): void {
    const u8 = this.mem.u8;
    for (let i = b.start; i < b.ptr; i++) {
      if (u8[i] !== CANARY) throw new MemoryCorruptionError(`guard bytes before ${b.tag} block @${b.ptr} (${b.bytes} B) were overwritten at offset ${i - b.ptr}`);
    }
    for (let i = b.ptr + b.bytes; i < b.end; i++) {
      if (u8[i] !== CANARY) throw new MemoryCorruptionError(`tail guard of ${b.tag} block @${b.ptr} (${b.bytes} B) was overwritten at offset +${i - b.ptr}`);
    }
  }
}

/**
 * What linear memory looked like before an op (see Arena.snapshot). verify() throws
 * MemoryCorruptionError at the first byte that changed outside the allowed ranges, and also runs
 * the arena's guard/free-space check.
 */
export class ArenaSnapshot {
  constructor(private arena: Arena, private bytes: Uint8Array, private before: Map<number, Block>, private outputs: Set<number>) {}

  /** Byte ranges the op may change: its outputs' data, and blocks allocated since the snapshot. */
  private allowed(): [number, number][] {
    const r: [number, number][] = [];
    for (const p of this.outputs) { const b = this.before.get(p)!; r.push([b.ptr, b.ptr + b.bytes]); }
    for (const [p, b] of this.arena.liveBlocks()) if (!this.before.has(p)) r.push([b.start, b.end]);
    return r.sort((a, b) => a[0] - b[0]);
  }

  /** Number of bytes compared. */
  get length(): number { return this.bytes.length; }

  verify(): void {
    const now = this.arena.mem.u8;
    const old = this.bytes;
    const n = Math.min(old.length, now.length);
    if (now.length < old.length) throw new MemoryCorruptionError(`linear memory shrank from ${old.length} to ${now.length} bytes`);
    const allowed = this.allowed();
    const w0 = new Uint32Array(old.buffer, old.byteOffset, n >> 2);
    const w1 = new Uint32Array(now.buffer, now.byteOffset, n >> 2);
    let k = 0;
    for (let i = 0; i < w0.length; i++) {
      if (w0[i] === w1[i]) continue;
      for (let at = i << 2, e = at + 4; at < e; at++) {
        if (old[at] === now[at]) continue;
        while (k < allowed.length && allowed[k][1] <= at) k++;
        if (k < allowed.length && allowed[k][0] <= at) continue;
        const was = this.before.get(this.ownerPtr(at) ?? -1);
        const what = was && this.outputs.has(was.ptr) ? 'guard of output' : 'byte';
        throw new MemoryCorruptionError(`stray write: ${what} at ${at} changed 0x${old[at].toString(16)} -> 0x${now[at].toString(16)} ` +
          `(${this.arena.describe(at, this.before)}); only the op's outputs may change`);
      }
      // inside an allowed range: jump to its last whole word
      if (k < allowed.length && allowed[k][0] <= i << 2) i = Math.max(i, (allowed[k][1] >> 2) - 1);
    }
    this.arena.check();
  }

  private ownerPtr(at: number): number | undefined {
    for (const b of this.before.values()) if (at >= b.start && at < b.end) return b.ptr;
    return undefined;
  }
}

export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export type DType = 'f32' | 'f16' | 'i32' | 'u32' | 'u8';
export const DTYPE_BYTES: Record<DType, number> = { f32: 4, f16: 2, i32: 4, u32: 4, u8: 1 };
export type ViewOf<D extends DType> = D extends 'f32' ? Float32Array : D extends 'f16' ? Uint16Array : D extends 'i32' ? Int32Array : D extends 'u32' ? Uint32Array : Uint8Array;

/**
 * @internal Deferred release for anything an async op may still use (tensors, packed weights,
 * resident layers): `pin()` while tiles are queued or running on workers; `dispose()` meanwhile only
 * marks the object disposed (new calls get DisposedError) and the last pin's release frees the memory.
 * Without it, a block disposed during `await tk.parallel.*` was freed and re-allocated while workers
 * still read or wrote it.
 */
export class Lifetime {
  #pins = 0;
  #doomed = false;
  #released = false;
  constructor(private readonly what: string, private readonly release: () => void) {}

  /** false once dispose() was called (even if the memory is still pinned) */
  get alive(): boolean { return !this.#released && !this.#doomed; }

  /** DisposedError unless alive */
  check(): void { if (!this.alive) throw new DisposedError(this.what); }

  /** Keep the memory until the returned function is called (idempotent). DisposedError if disposed. */
  pin(): () => void {
    this.check();
    this.#pins++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#pins === 0 && this.#doomed) this.#free();
    };
  }

  /** Free now, or when the last pin is released (idempotent). */
  dispose(): void {
    if (!this.alive) return;
    if (this.#pins > 0) { this.#doomed = true; return; }
    this.#free();
  }

  #free(): void {
    this.#released = true;
    this.#doomed = false;
    this.release();
  }
}

/**
 * A tensor living in tessera's linear memory (zero-copy). `view()` returns a typed array over the
 * wasm memory: it is valid until the next operation that may grow memory, so take a fresh view
 * after every call instead of keeping one.
 */
export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly length: number;
  private _ptr: number;
  private readonly life: Lifetime;
  private arena: Arena;

  constructor(arena: Arena, dtype: D, shape: readonly number[], tag = 'tensor') {
    if (!Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype as string)) throw new DTypeError(`tensor dtype must be one of ${Object.keys(DTYPE_BYTES).join(', ')}, got ${String(dtype)}`);
    if (!Array.isArray(shape)) throw new ArgumentError(`tensor shape must be an array of non-negative integers, got ${String(shape)}`);
    for (const s of shape) if (!Number.isSafeInteger(s) || s < 0) throw new ArgumentError(`tensor shape must be non-negative integers, got [${shape.join(', ')}]`);
    this.arena = arena;
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.length = shape.reduce((a, b) => a * b, 1);
    this._ptr = arena.allocPersistent(this.length * DTYPE_BYTES[dtype], 64, tag);
    this.life = new Lifetime('Tensor', () => { this.arena.free(this._ptr); this._ptr = -1; });
  }

  get ptr(): number {
    this.life.check();
    if (this.arena.closed) throw new DisposedError('Tensor: its tessera instance');
    return this._ptr;
  }

  get byteLength(): number { return this.length * DTYPE_BYTES[this.dtype]; }
  /** @internal true when this is a live tensor of `arena` (ops reject tensors of other instances). */
  ownedBy(arena: Arena): boolean { return this.arena === arena && this.life.alive && arena.isLive(this._ptr); }
  get disposed(): boolean { return !this.life.alive || this.arena.closed; }

  /** @internal Keep the memory while an async op's tiles may still touch it (see Lifetime). */
  pin(): () => void { return this.life.pin(); }

  /** Zero-copy view (invalid after memory growth: re-take it). */
  view(): ViewOf<D> {
    const m = this.arena.mem;
    const p = this.ptr;
    switch (this.dtype) {
      case 'f32': return new Float32Array(m.memory.buffer, p, this.length) as ViewOf<D>;
      case 'f16': return new Uint16Array(m.memory.buffer, p, this.length) as ViewOf<D>;
      case 'i32': return new Int32Array(m.memory.buffer, p, this.length) as ViewOf<D>;
      case 'u32': return new Uint32Array(m.memory.buffer, p, this.length) as ViewOf<D>;
      default: return new Uint8Array(m.memory.buffer, p, this.length) as ViewOf<D>;
    }
  }

  /**
   * Copy out into a fresh JS-owned array, or into `into` (same element type and length): repeated reads
   * of a large tensor should reuse one array, since a fresh multi-MB array page-faults on first write.
   */
  read(into?: ViewOf<D>): ViewOf<D> {
    const v = this.view();
    if (into === undefined) return v.slice() as ViewOf<D>;
    if (!ArrayBuffer.isView(into) || (into as object).constructor !== v.constructor) {
      throw new DTypeError(`Tensor.read: into must be a ${v.constructor.name} for a ${this.dtype} tensor, got ${(into as object)?.constructor?.name ?? typeof into}`);
    }
    if (into.length !== this.length) throw new ShapeError(`Tensor.read: into has ${into.length} elements, expected ${this.length}`);
    (into as any).set(v);
    return into;
  }

  /**
   * Copy data in (length must match). An f16 tensor takes its bits: a Uint16Array, or a Float16Array (copied as bits);
   * anything else is a DTypeError (f32 values would otherwise be stored as truncated integers: convert them with
   * tk.f16.fromF32 first).
   */
  write(src: ArrayLike<number>): this {
    if (src === null || typeof src !== 'object' || typeof (src as { length?: unknown }).length !== 'number') {
      throw new DTypeError(`Tensor.write: src must be an array or a typed array, got ${src === null ? 'null' : typeof src}`);
    }
    if (ArrayBuffer.isView(src) && detached(src)) throw new ArgumentError('Tensor.write: src is backed by a detached ArrayBuffer (transferred to a worker?)');
    if (this.dtype === 'f16') {
      if (isFloat16Array(src)) src = halfBits(src as unknown as ArrayBufferView & { length: number });
      else if (!(src instanceof Uint16Array)) {
        throw new DTypeError(`Tensor.write: an f16 tensor takes Uint16Array bits or a Float16Array, got ${(src as object).constructor?.name ?? 'object'} (convert f32 values with tk.f16.fromF32)`);
      }
    }
    if (src.length !== this.length) throw new ShapeError(`Tensor.write: expected ${this.length} elements, got ${src.length}`);
    (this.view() as any).set(src);
    return this;
  }

  /** Free the memory (idempotent; deferred while an async op has it pinned). */
  dispose(): void { this.life.dispose(); }
}
