/**
 * init() and the Tessera instance ("tk"): tier selection, linear memory, arena, and the ops.
 * Each kernel family adds its op namespace/methods here and its implementation under bindings/ops/.
 */
import type { KernelExports } from './abi.js';
import {
  detectRuntime, enableNodeRelaxedSimd, hardwareConcurrency, hasFloat16Array, hasWebAssembly, probeRelaxedSimd, probeSharedMemory,
  probeSimd, runtimeVersion, type RuntimeName,
  detectBoundsChecks, detectEngine, defaultKernelProfile, type JsEngine, KERNEL_PROFILE_KEYS, probeFusedMadd, type KernelProfile,
} from './env.js';
import { ArgumentError, DTypeError, DisposedError, InitInProgressError, SelfTestError, ShapeError, SimdUnsupportedError, WasmUnavailableError } from './errors.js';
import { f16roundJs, isFloat16Array } from './f16js.js';
import { options as optionsObject, typeName } from './validate.js';
import { compileSource, defaultWasmUrl, type Flavor, type Tier, type WasmSource } from './loader.js';
import { Arena, LinearMemory, PAGE, Tensor, type DType, type MemoryStats } from './memory.js';
import { F16Ops } from './ops/f16.js';
import { SparseOps } from './ops/sparse.js';
import { ParallelOps } from './threads/parallel.js';
import { ThreadPool } from './threads/pool.js';
import { DenseOps, type Conv2dOptions, type MatmulOptions, type WeightArray } from './ops/dense.js';
import { AttentionOps, decodeOptions, type AttentionDecodeOptions, type AttentionOptions } from './ops/attention.js';
import { PasaKVCache, type PasaKVCacheOptions } from './ops/pasa-cache.js';

export interface InitOptions {
  /**
   * 'auto' (default): relaxed when it validates, passes the self-test and its relaxed_madd is fused
   * (an unfused relaxed_madd — JavaScriptCore/Bun, or any engine on a CPU without FMA — gains nothing
   * over simd128), else simd128.
   * A forced tier that cannot run is an error.
   */
  simd?: 'auto' | Tier;
  /** Where the wasm comes from: one source (any tier; tier read from the binary) or one per flavour. Default: the binaries in this package. */
  wasm?: WasmSource | Partial<Record<Flavor, WasmSource>>;
  /** Upper bound on linear memory. Default 512 MiB (iOS webviews die well before 1 GiB). */
  maxMemoryBytes?: number;
  /** Initial linear memory. Default 16 MiB. */
  initialMemoryBytes?: number;
  /** Node only: allow `v8.setFlagsFromString('--experimental-wasm-relaxed-simd')` on Node 20. Default true. */
  nodeFlags?: boolean;
  /** Guard bytes around every arena block, verified after every op (slower; for tests and debugging). */
  debug?: boolean;
  /**
   * Compute threads sharing one linear memory (threaded mode): the main thread plus threads-1 workers
   * (worker_threads in Node, module Workers elsewhere). Needs SharedArrayBuffer (browsers: COOP/COEP
   * cross-origin isolation); without it tessera runs one thread and says why in features.threadsReason.
   * 'auto' = navigator.hardwareConcurrency (or os.availableParallelism in Node). Default 1.
   * Threaded ops are async: `await tk.parallel.*(...)` or `await tk.pool.run(kernel, tiles)`.
   */
  threads?: number | 'auto';
  /**
   * How the engine bounds-checks wasm memory (see Features.boundsChecks); 'explicit' turns on every
   * load-light kernel variant (see KernelProfile). Default: detected ('explicit' in Deno, else 'guard').
   */
  boundsChecks?: 'guard' | 'explicit';
  /**
   * Override parts of the kernel-variant profile (tk.kernelProfile; all variants give the same bits).
   * Default: defaultKernelProfile(runtime, boundsChecks) in env.ts, from A/B runs per engine.
   */
  kernelProfile?: Partial<KernelProfile>;
}

export interface Features {
  tier: Tier;
  /** relaxed SIMD validates in this runtime (whether or not the relaxed tier was chosen) */
  relaxedSimd: boolean;
  /** relaxed_madd computed with a single rounding (FMA) in the self-test; false on simd128 */
  fusedMadd: boolean;
  threads: number;
  runtime: RuntimeName;
  runtimeVersion: string;
  /** the JavaScript/wasm engine ('v8' | 'jsc' | 'spidermonkey' | 'unknown'; see detectEngine) */
  engine: JsEngine;
  float16Array: boolean;
  /** 'explicit' when every wasm load/store carries an inline bounds check (Deno; see detectBoundsChecks) */
  boundsChecks: 'guard' | 'explicit';
  sharedMemory: boolean;
  crossOriginIsolated: boolean;
  /** why threads is lower than requested (no SharedArrayBuffer, not cross-origin isolated, workers failed); absent when granted */
  threadsReason?: string;
  /** why the tier / thread count is what it is (fallbacks, flags set) */
  notes: string[];
}

export const DEFAULT_MAX_MEMORY = 512 * 1024 * 1024;
const DEFAULT_INITIAL_MEMORY = 16 * 1024 * 1024;

let initializing = false;

/** Load and start tessera. Resolves to an independent instance with its own linear memory. */
export async function init(options: InitOptions = {}): Promise<Tessera> {
  if (initializing) throw new InitInProgressError();
  initializing = true;
  try {
    return await initImpl(options);
  } finally {
    initializing = false;
  }
}

function isSourceMap(w: InitOptions['wasm']): w is Partial<Record<Flavor, WasmSource>> {
  return typeof w === 'object' && w !== null && !(w instanceof URL) && !(w instanceof ArrayBuffer) && !ArrayBuffer.isView(w) &&
    !(w instanceof WebAssembly.Module) && !(typeof Response !== 'undefined' && w instanceof Response);
}

/**
 * relaxed_madd unfused (JavaScriptCore: Bun; or a CPU without FMA): the relaxed build then gains nothing,
 * and its 6-row attention tiles spill without FMA. Measured in Bun 1.4.5: attention 25 -> 32 GFLOP/s on
 * simd128, dense and sparse equal.
 */
const UNFUSED_NOTE = 'relaxed SIMD validates but relaxed_madd is not fused in this engine: using simd128 (as fast, and faster for attention)';

async function initImpl(o: InitOptions): Promise<Tessera> {
  o = optionsObject('init', o, ['simd', 'wasm', 'maxMemoryBytes', 'initialMemoryBytes', 'nodeFlags', 'debug', 'threads', 'boundsChecks', 'kernelProfile']);
  const simd = o.simd ?? 'auto';
  if (simd !== 'auto' && simd !== 'simd128' && simd !== 'relaxed') throw new ArgumentError(`init: simd must be 'auto', 'simd128' or 'relaxed', got ${String(simd)}`);
  const maxBytes = o.maxMemoryBytes ?? DEFAULT_MAX_MEMORY;
  const initBytes = Math.min(o.initialMemoryBytes ?? DEFAULT_INITIAL_MEMORY, maxBytes);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < PAGE || maxBytes > 4 * 1024 * 1024 * 1024) throw new ArgumentError(`init: maxMemoryBytes must be an integer in [64 KiB, 4 GiB], got ${maxBytes}`);
  if (!Number.isSafeInteger(initBytes) || initBytes < PAGE) throw new ArgumentError(`init: initialMemoryBytes must be an integer >= 64 KiB, got ${initBytes}`);
  const threads = o.threads === 'auto' ? await defaultThreadCount() : o.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new ArgumentError(`init: threads must be an integer in [1, 256] or 'auto', got ${String(o.threads)}`);
  if (o.boundsChecks !== undefined && o.boundsChecks !== 'guard' && o.boundsChecks !== 'explicit') throw new ArgumentError(`init: boundsChecks must be 'guard' or 'explicit', got ${String(o.boundsChecks)}`);
  checkProfileOverride(o.kernelProfile);

  if (!hasWebAssembly()) throw new WasmUnavailableError();
  if (!probeSimd()) throw new SimdUnsupportedError('this runtime does not support WebAssembly SIMD128 (needs Chrome 91+, Firefox 89+, Safari 16.4+, Node 16.4+)');

  const runtime = detectRuntime();
  const boundsChecks = o.boundsChecks ?? detectBoundsChecks(runtime);
  const kernelProfile = mergeProfile(defaultKernelProfile(runtime, boundsChecks), o.kernelProfile);
  const notes: string[] = [];
  let relaxed = probeRelaxedSimd();
  if (!relaxed && runtime === 'node' && o.nodeFlags !== false && simd !== 'simd128') {
    relaxed = await enableNodeRelaxedSimd();
    if (relaxed) notes.push('relaxed SIMD enabled in Node via v8.setFlagsFromString("--experimental-wasm-relaxed-simd")');
  }
  if (simd === 'relaxed' && !relaxed) throw new SimdUnsupportedError('relaxed SIMD was requested but does not validate in this runtime (Safari, Bun and Node 20 without the flag lack it); use simd: "auto" or "simd128"');

  let shared = threads > 1 ? probeSharedMemory() : { ok: false, reason: 'threads: 1' };
  if (shared.ok && o.wasm !== undefined && !isSourceMap(o.wasm)) {
    shared = { ok: false, reason: "init({ wasm }) supplied one (non-shared) binary; pass { 'simd128-shared': ..., 'relaxed-shared': ... } sources for threads" };
  }
  // relaxed SIMD whose relaxed_madd is unfused gains nothing over simd128: skip compiling it (Bun)
  const unfused = simd === 'auto' && relaxed && probeFusedMadd() === false;
  if (unfused) notes.push(UNFUSED_NOTE);
  const candidates: Tier[] = simd === 'auto' ? (relaxed && !unfused ? ['relaxed', 'simd128'] : ['simd128']) : [simd];
  if (simd === 'auto' && !relaxed) notes.push('relaxed SIMD unavailable: using simd128');

  let lastErr: unknown;
  for (const tier of candidates) {
    try {
      const flavor: Flavor = shared.ok ? `${tier}-shared` : tier;
      const src = pickSource(o.wasm, flavor);
      const module = await compileSource(src);
      const inst = await Tessera.create(module, {
        tier, maxBytes, initBytes, debug: !!o.debug, relaxed, runtime, boundsChecks, kernelProfile: { ...kernelProfile }, notes: [...notes], threads: shared.ok ? threads : 1,
      });
      if (simd === 'auto' && tier === 'relaxed' && !inst.features.fusedMadd) {
        // the probe said fused but the binary's self-test did not (e.g. a supplied binary): same reasoning
        inst.dispose();
        notes.push(UNFUSED_NOTE);
        continue;
      }
      if (threads > 1 && !shared.ok) inst.noteThreads(threads, shared.reason ?? 'shared memory unavailable');
      return inst;
    } catch (e) {
      lastErr = e;
      if (simd !== 'auto') throw e;
      notes.push(`${tier} tier rejected: ${(e as Error).message}`);
    }
  }
  throw lastErr;
}

function pickSource(w: InitOptions['wasm'], flavor: Flavor): WasmSource {
  if (w === undefined) return defaultWasmUrl(flavor);
  if (isSourceMap(w)) return w[flavor] ?? defaultWasmUrl(flavor);
  return w;
}

/** 'auto' thread count: navigator.hardwareConcurrency, else os.availableParallelism() in Node/Bun/Deno, else 1. */
async function defaultThreadCount(): Promise<number> {
  const hc = hardwareConcurrency();
  if (hc > 1) return Math.min(hc, 16);
  try {
    const spec = 'node:os';
    const os: any = await import(/* @vite-ignore */ spec);
    return Math.max(1, Math.min(16, os.availableParallelism?.() ?? os.cpus().length));
  } catch {
    return 1;
  }
}

interface CreateArgs {
  tier: Tier; maxBytes: number; initBytes: number; debug: boolean; relaxed: boolean; runtime: RuntimeName; boundsChecks: 'guard' | 'explicit';
  kernelProfile: KernelProfile; notes: string[]; threads: number;
}

function checkProfileOverride(p: unknown): void {
  if (p === undefined) return;
  if (typeof p !== 'object' || p === null) throw new ArgumentError(`init: kernelProfile must be an object, got ${String(p)}`);
  for (const [key, v] of Object.entries(p)) {
    if (!(KERNEL_PROFILE_KEYS as readonly string[]).includes(key)) throw new ArgumentError(`init: unknown kernelProfile key '${key}' (known: ${KERNEL_PROFILE_KEYS.join(', ')})`);
    if (v !== undefined && typeof v !== 'boolean') throw new ArgumentError(`init: kernelProfile.${key} must be a boolean, got ${String(v)}`);
  }
}

/** The engine's default profile with the override's defined entries on top (an undefined entry keeps the default). */
function mergeProfile(base: KernelProfile, over: Partial<KernelProfile> | undefined): KernelProfile {
  const p = { ...base };
  for (const key of KERNEL_PROFILE_KEYS) if (over?.[key] !== undefined) p[key] = over[key]!;
  return p;
}

export class Tessera {
  readonly features: Features;
  /** Raw kernel exports (pointer ABI). For advanced use; prefer the typed ops. */
  readonly kernels: KernelExports;
  readonly memory: LinearMemory;
  readonly arena: Arena;
  readonly f16: F16Ops;
  readonly sparse: SparseOps;
  /** Tile scheduler over the shared memory (size 1 = main thread only). `await tk.pool.run(kernel, tiles)`. */
  readonly pool: ThreadPool;
  /** Async, tiled versions of the ops, split across tk.pool (bit-identical to the single-thread ops). */
  readonly parallel: ParallelOps;
  /** dense GEMM/GEMV/conv2d: packed (reusable, zero-copy) forms; tk.matmul / tk.conv2d are the copying forms */
  readonly dense: DenseOps;
  /**
   * Which kernel variants this instance runs (bit-identical choices; see KernelProfile in env.ts).
   * Mutable: read when an op runs, including by tk.parallel.
   */
  readonly kernelProfile: KernelProfile;
  private readonly attn: AttentionOps;
  private _disposed = false;

  private constructor(kernels: KernelExports, memory: LinearMemory, arena: Arena, features: Features, pool: ThreadPool, profile: KernelProfile) {
    this.kernels = kernels;
    this.kernelProfile = Object.seal(profile); // a misspelt key throws in strict mode instead of doing nothing
    this.memory = memory;
    this.arena = arena;
    this.features = features;
    this.pool = pool;
    this.f16 = new F16Ops(this);
    this.sparse = new SparseOps(this);
    this.parallel = new ParallelOps(this);
    this.dense = new DenseOps(this);
    this.attn = new AttentionOps(this);
  }

  /** @internal record that threads were requested but not granted */
  noteThreads(requested: number, reason: string): void {
    this.features.threadsReason = reason;
    this.features.notes.push(`threads: ${requested} requested, running 1: ${reason}`);
  }

  /** Instantiate a compiled module on a fresh memory, run the self-test, return the instance. */
  static async create(module: WebAssembly.Module, a: CreateArgs): Promise<Tessera> {
    const maxPages = Math.floor(a.maxBytes / PAGE);
    const shared = a.threads > 1;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(a.initBytes / PAGE), maximum: maxPages, shared } as WebAssembly.MemoryDescriptor);
    const abort = () => { throw new Error('tessera wasm abort'); };
    const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
    const k = instance.exports as unknown as KernelExports;
    const binTier: Tier = k.tierRelaxed() ? 'relaxed' : 'simd128';
    const lm = new LinearMemory(memory, maxPages * PAGE, shared);
    const arena = new Arena(lm, k.heapBase() >>> 0, a.debug);
    const g = globalThis as any;
    const features: Features = {
      tier: binTier,
      relaxedSimd: a.relaxed,
      fusedMadd: false,
      threads: 1,
      runtime: a.runtime,
      runtimeVersion: runtimeVersion(a.runtime),
      engine: detectEngine(a.runtime),
      float16Array: hasFloat16Array(),
      boundsChecks: a.boundsChecks,
      sharedMemory: shared,
      crossOriginIsolated: !!g.crossOriginIsolated,
      notes: a.notes,
    };
    if (binTier !== a.tier) features.notes.push(`the supplied wasm is the ${binTier} build (asked for ${a.tier})`);
    let pool = ThreadPool.single(memory, k as unknown as Record<string, unknown>, arena);
    if (shared) {
      try {
        pool = await ThreadPool.start(module, memory, k as unknown as Record<string, unknown>, arena, a.threads);
        features.threads = pool.size;
      } catch (e) {
        features.threadsReason = `workers could not start: ${(e as Error).message}`;
        features.notes.push(`threads: ${a.threads} requested, running 1: ${features.threadsReason}`);
      }
    }
    const tk = new Tessera(k, lm, arena, features, pool, a.kernelProfile);
    try {
      features.fusedMadd = tk.selfTest();
    } catch (e) {
      pool.dispose();
      throw e;
    }
    return tk;
  }

  /**
   * Numerical self-test on runtime data: madd and f16 narrowing against JS arithmetic.
   * Throws SelfTestError on mismatch; returns whether madd was fused (single rounding).
   */
  private selfTest(): boolean {
    const n = 16;
    // a: values exercising f16 ties, overflow to inf, subnormals and signed zero
    const a = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519, 65520, 1e-8, -0, -3.0517578125e-5, 2049, 0.1, -7.75, 1e5, 2 ** -24 * 1.5, 3.14159, -65504, 1 / 3, 123.456];
    // b, c chosen so that a*b+c differs between fused and unfused evaluation in lane 0
    const b = [1 - 2 ** -23, 2, 0.5, -1, 3, 5, -2, 0.25, 10, 4, 1e-3, 8, 2, 1, 3, -1];
    const c = [-1, 1, -2, 0.5, 0, 1, 2, -3, 0.125, 1.5, 7, -1, 0, 4, 0, 2];
    return this.arena.scope(() => {
      const pa = this.arena.alloc(n * 4), pb = this.arena.alloc(n * 4), pc = this.arena.alloc(n * 4);
      const po = this.arena.alloc(n * 4), ph = this.arena.alloc(n * 4);
      const f = this.memory.f32;
      f.set(a, pa >> 2); f.set(b, pb >> 2); f.set(c, pc >> 2);
      this.kernels.selftest(pa, pb, pc, po, ph, n);
      const out = this.memory.f32.slice(po >> 2, (po >> 2) + n);
      const h = this.memory.f32.slice(ph >> 2, (ph >> 2) + n);
      let fused = false;
      for (let i = 0; i < n; i++) {
        const A = Math.fround(a[i]), B = Math.fround(b[i]), C = Math.fround(c[i]);
        const unfused = Math.fround(Math.fround(A * B) + C);
        const fusedV = Math.fround(A * B + C); // A*B exact in f64; one rounding to f32 (ties-safe for these inputs)
        if (!Object.is(out[i], unfused) && !Object.is(out[i], fusedV)) {
          throw new SelfTestError(this.features.tier, `madd lane ${i}: got ${out[i]}, expected ${unfused} (or fused ${fusedV})`);
        }
        if (i === 0 && Object.is(out[i], fusedV) && unfused !== fusedV) fused = true;
        const want = f16roundJs(A);
        if (!Object.is(h[i], want)) throw new SelfTestError(this.features.tier, `f16 rounding of ${A}: got ${h[i]}, expected ${want}`);
      }
      if (this.features.tier === 'simd128' && fused) throw new SelfTestError('simd128', 'simd128 madd was fused (wrong binary?)');
      return fused;
    });
  }

  /** Throws if disposed; runs fn in an arena scope; checks guard bytes after it in debug mode. */
  run<T>(fn: () => T): T {
    if (this._disposed) throw new DisposedError('tessera instance');
    const r = this.arena.scope(fn);
    if (this.arena.debug) this.arena.check();
    return r;
  }

  /** Allocate a zero-copy tensor in linear memory (dispose() it when done). Its contents are unspecified (not zeroed, like
   *  malloc): write it, or use tensorFrom, before reading. */
  tensor<D extends DType>(dtype: D, shape: readonly number[]): Tensor<D> {
    if (this._disposed) throw new DisposedError('tessera instance');
    return new Tensor(this.arena, dtype, shape);
  }

  /** Copy a typed array into a new tensor. dtype is inferred: Float32Array -> f32, Uint16Array/Float16Array -> f16, Int32Array -> i32, Uint32Array -> u32, Uint8Array -> u8. */
  tensorFrom(data: Float32Array | Uint16Array | Int32Array | Uint32Array | Uint8Array, shape: readonly number[] = [data?.length]): Tensor {
    const dtype: DType | undefined = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' :
      data instanceof Uint8Array ? 'u8' : data instanceof Uint16Array || isFloat16Array(data) ? 'f16' : undefined;
    if (!dtype) throw new DTypeError(`tensorFrom: data must be a Float32Array, Uint16Array/Float16Array, Int32Array, Uint32Array or Uint8Array, got ${typeName(data)}`);
    const t = this.tensor(dtype, shape);
    if (t.length !== data.length) { t.dispose(); throw new ShapeError(`tensorFrom: shape [${shape.join(', ')}] holds ${t.length} elements, data has ${data.length}`); }
    try { return t.write(data); } catch (e) { t.dispose(); throw e; } // write takes a Float16Array's bits itself
  }

  /** C[m x n] = act(A[m x k] . B[k x n] + bias), row-major; b is f32 or f16 bits (Uint16Array / Float16Array). */
  matmul(a: Float32Array, b: WeightArray, m: number, k: number, n: number, opts?: MatmulOptions): Float32Array {
    return this.dense.matmul(a, b, m, k, n, opts);
  }

  /** NCHW conv2d with OIHW weights (f32 or f16 bits); groups 1 or c (depthwise); bias + relu/relu6 fused. */
  conv2d(x: Float32Array, w: WeightArray, opts: Conv2dOptions): Float32Array {
    return this.dense.conv2d(x, w, opts);
  }

  /**
   * softmax(Q K^T * scale) V, flash-tiled (see bindings/ops/attention.ts). Arrays in -> Float32Array out, or
   * Tensors in -> f32 Tensor out (zero-copy; pass `out` to reuse a tensor).
   */
  attention(q: Float32Array | Uint16Array | ArrayBufferView, k: Float32Array | Uint16Array | ArrayBufferView, v: Float32Array | Uint16Array | ArrayBufferView, options: AttentionOptions): Float32Array;
  attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, out?: Tensor<'f32'>): Tensor<'f32'>;
  attention(q: any, k: any, v: any, options: AttentionOptions, out?: Tensor<'f32'>): Float32Array | Tensor<'f32'> {
    if (this._disposed) throw new DisposedError('tessera instance');
    if (!(q instanceof Tensor) && out !== undefined) throw new ArgumentError('attention: out is for the tensor form (q, k, v Tensors); the array form returns a new Float32Array');
    return q instanceof Tensor ? this.attn.runTensors(q, k, v, options, out) : this.attn.run(q, k, v, options);
  }

  /**
   * One decode step against a KV cache: q [heads, 1, headDim]; kCache / vCache [kvHeads, capacity, headDim]
   * of which the first kvLength rows per head are valid (no copy of the cache in the tensor form).
   */
  attentionDecode(q: Float32Array | Uint16Array | ArrayBufferView, kCache: Float32Array | Uint16Array | ArrayBufferView, vCache: Float32Array | Uint16Array | ArrayBufferView, options: AttentionDecodeOptions): Float32Array;
  attentionDecode(q: Tensor, kCache: Tensor, vCache: Tensor, options: AttentionDecodeOptions, out?: Tensor<'f32'>): Tensor<'f32'>;
  attentionDecode(q: any, kCache: any, vCache: any, options: AttentionDecodeOptions, out?: Tensor<'f32'>): Float32Array | Tensor<'f32'> {
    const kvHeads = options?.kvHeads ?? options?.heads;
    const len = (kCache as { length?: unknown })?.length;
    const capacity = kCache instanceof Tensor && kCache.shape.length === 3 ? kCache.shape[1]
      : typeof len === 'number' && kvHeads > 0 && options?.headDim > 0 ? len / (kvHeads * options.headDim) : NaN;
    return this.attention(q, kCache, vCache, decodeOptions(options, capacity), out);
  }

  /**
   * A PASA KV cache for decoding: keys, values and K' kept as fp16 and prepared block by block as rows are appended,
   * so each decode step reads them once (see bindings/ops/pasa-cache.ts). Same results as
   * attentionDecode(..., { precision: 'pasa' }) on the same rows.
   */
  pasaKVCache(options: PasaKVCacheOptions): PasaKVCache {
    if (this._disposed) throw new DisposedError('tessera instance');
    return new PasaKVCache(this, options);
  }

  /** Arena usage (bytes used, peak, blocks, memory size, cap). */
  memoryStats(): MemoryStats { return this.arena.stats(); }

  get disposed(): boolean { return this._disposed; }

  /** Drop the instance; its memory is released to the GC. Further ops and any use of its tensors' data throw DisposedError
   *  (disposing objects stays allowed; memoryStats() and the pure-JS helpers such as sparse.pack keep working). */
  dispose(): void { this._disposed = true; this.arena.closed = true; this.pool.dispose(); }
}
