/** Runtime detection and WebAssembly feature probes (no tessera binary needed). */

export type RuntimeName = 'node' | 'deno' | 'bun' | 'browser';

const g = globalThis as any;

export function detectRuntime(): RuntimeName {
  if (typeof g.Deno !== 'undefined' && g.Deno?.version?.deno) return 'deno';
  if (typeof g.Bun !== 'undefined') return 'bun';
  if (typeof g.process !== 'undefined' && g.process?.versions?.node && typeof g.window === 'undefined') return 'node';
  return 'browser';
}

export type JsEngine = 'v8' | 'jsc' | 'spidermonkey' | 'unknown';

/**
 * The JavaScript/wasm engine. Outside browsers it follows from the runtime (Node and Deno: V8; Bun:
 * JavaScriptCore). In a browser it is read from `navigator.vendor`, which every WebKit port reports as
 * "Apple Computer, Inc." (Safari, every iOS browser and webview, WebKitGTK) and Chromium as "Google
 * Inc."; Firefox reports "" and is recognised by its SpiderMonkey-only `InternalError` global. Web
 * Workers have no `navigator.vendor` (it is Window-only), so there the user agent decides: AppleWebKit
 * without a Chrome/Chromium token is WebKit (iOS Chrome says CriOS and is WebKit too). It only picks
 * bit-identical kernel variants (`defaultKernelProfile`), so a wrong answer costs speed, never correctness.
 */
export function detectEngine(rt: RuntimeName): JsEngine {
  if (rt === 'node' || rt === 'deno') return 'v8';
  if (rt === 'bun') return 'jsc';
  const vendor = g.navigator?.vendor;
  if (typeof vendor === 'string' && vendor.startsWith('Apple')) return 'jsc';
  if (typeof vendor === 'string' && vendor.startsWith('Google')) return 'v8';
  if (typeof g.InternalError === 'function') return 'spidermonkey';
  if (typeof vendor !== 'string') { // a worker: only the user agent is there
    const ua = String(g.navigator?.userAgent ?? '');
    if (/AppleWebKit\//.test(ua) && !/\b(Chrome|Chromium)\//.test(ua)) return 'jsc';
    if (/\b(Chrome|Chromium)\//.test(ua)) return 'v8';
  }
  return 'unknown';
}

/**
 * How this runtime's wasm engine enforces memory bounds. 'guard': guard pages and a trap handler, so
 * loads and stores carry no inline check (Node, Chromium and Firefox on 64-bit, Bun). 'explicit': a
 * compare-and-branch before every load and store. Deno does not enable V8's wasm trap handler
 * (denoland/deno#35658), so every memory access costs an extra check there; 32-bit engines (e.g.
 * 32-bit Android webviews) check explicitly too but cannot be detected reliably (pass
 * init({ boundsChecks: 'explicit' }) there). Kernel defaults favour fewer loads per FMA when 'explicit'.
 */
export function detectBoundsChecks(rt: RuntimeName): 'guard' | 'explicit' {
  return rt === 'deno' ? 'explicit' : 'guard';
}

/**
 * Which kernel variants an instance runs (`tk.kernelProfile`). Every choice gives bit-identical
 * results; only speed differs. Read when an op runs, so it can be changed on a live instance (A/B
 * probes do), and set at start with `init({ kernelProfile })`.
 */
export interface KernelProfile {
  /** dense GEMM / conv 4x8 and 5x8 tiles: the MR values of a k step as one v128 load + lane shuffles (`_splat`) instead of MR load32_splat */
  denseSplatA: boolean;
  /** sparse 4x1 spmm (tiles 8, 16), dense-CHW and 3x3 kernel-group kernels: one v128 load of a block's 4 weights + shuffles (`_splat`) */
  sparseSplat: boolean;
  /** attention on the relaxed tier: 4-row `_splat` key tiles instead of 6-row load32_splat ones (simd128 always uses 4 rows) */
  attentionTile4: boolean;
  /**
   * dense matmul (f32_gemm_nc, not conv): A packed pre-broadcast ([K][6][4], 4x the A block's scratch) and the 6x8
   * `_pre` micro-kernel (no broadcast op in the k loop) instead of tk.dense.mr's tile and denseSplatA
   */
  denseMatmulPreA: boolean;
  /**
   * f16-weight GEMV (packed panels, m = 1): widen the high halves with i32x4.dot_i16x8_s (pmaddwd) like the low
   * ones instead of i32x4.shr_s (ABI.DENSE_GEMV_F16_DOT; JavaScriptCore lowers a constant vector shift to a
   * GPR->xmm move + a shift by register)
   */
  denseGemvF16Dot: boolean;
}

/** The profile's keys (for validation, and for the fuzzer, which draws every variant). */
export const KERNEL_PROFILE_KEYS: readonly (keyof KernelProfile)[] = ['denseSplatA', 'sparseSplat', 'attentionTile4', 'denseMatmulPreA', 'denseGemvF16Dot'];

/**
 * The default profile of an engine, from same-process A/B runs on the EPYC VM
 * (bench/probes/dense-splat-ab.ts, sparse-splat-ab.ts; relaxed tier):
 *   dense GEMM/conv 4x8: Deno +30-40 % (explicit bounds checks), Bun +20-25 %, Node 20 +4-8 % (simd128
 *     equal), Chromium 156 about -5 % (cross-bench runs) -> everywhere but browsers;
 *   sparse 4x1: Deno +35-50 %, Bun +20 %, Node 20 +2-7 % on 1x1 and dense-CHW, equal on 3x3 (interleaved
 *     A/B), Chromium -5..+5 % -> everywhere but browsers, as dense;
 *   attention, 4-row tiles on the relaxed tier (S = 2048, d = 64): Deno 31 -> 36 GFLOP/s, Bun 25 -> 32
 *     (Bun runs simd128 anyway), Node 44 -> 41 -> Deno and Bun.
 * WebKit (WebKitGTK 2.50.6, JavaScriptCore like Safari; simd128; bench/probes/browser.ts): dense
 *   GEMM/conv mr 4 +13-18 %, sparse 4x1 and dense-CHW +14-21 % on every shape -> on for browsers whose
 *   engine is JSC (detectEngine); attention tiles: equal (simd128 always uses 4 rows).
 * Firefox ESR 153 (SpiderMonkey, relaxed; same probes): `_splat` dense 0-5 % slower, sparse 1-6 % slower,
 *   4-row attention tiles 9-11 % slower -> the browser defaults.
 * Explicit bounds checks (any engine) favour fewer loads per FMA: denseSplatA, sparseSplat and attentionTile4 on
 *   (denseMatmulPreA and denseGemvF16Dot keep their engine rules).
 * denseMatmulPreA (bench/probes/dense-pre-ab.ts, matmul 1024^3, default vs 6x8 `_pre`, GFLOP/s): Bun 1.4.5
 *   simd128 37-38 -> 44-45 and WebKitGTK 2.50.6 36.2 -> 43.3 (JSC issues every broadcast, shuffle or
 *   load32_splat, on the FP pipes: see scripts/gen-dense.mjs); Chromium 156 and Firefox 153 (relaxed) within
 *   +-2 %; Deno 48.3 -> 43.5; Node 20 simd128: the 6x8 tile spills in V8 (-34 %) -> engines that are JSC.
 * denseGemvF16Dot (bench/probes/gemv-f16-dot-ab.ts, f16 GEMV simd128, shr_s -> pmaddwd for the high halves):
 *   Bun 1.4.5 +4-9 %, WebKitGTK 2.50.6 -5-8 % (same engine, other version and options), Node 20 -4-8 % -> Bun only
 *   (figures in docs/dense.md).
 */
export function defaultKernelProfile(rt: RuntimeName, boundsChecks: 'guard' | 'explicit', engine: JsEngine = detectEngine(rt)): KernelProfile {
  const explicit = boundsChecks === 'explicit';
  return {
    denseSplatA: explicit || rt !== 'browser' || engine === 'jsc',
    sparseSplat: explicit || rt !== 'browser' || engine === 'jsc',
    attentionTile4: explicit || rt === 'bun',
    denseMatmulPreA: engine === 'jsc',
    denseGemvF16Dot: rt === 'bun',
  };
}

export function runtimeVersion(rt: RuntimeName): string {
  switch (rt) {
    case 'deno': return String(g.Deno.version.deno);
    case 'bun': return String(g.Bun.version);
    case 'node': return String(g.process.versions.node);
    default: return typeof g.navigator !== 'undefined' ? String(g.navigator.userAgent) : 'unknown';
  }
}

// (module (func (result v128) v128.const i32x4 0 0 0 0))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

// (module (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))))
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 133, 2, 11,
]);

// (module (func (export "f") (param f32 f32 f32) (result f32)
//   (f32x4.extract_lane 0 (f32x4.relaxed_madd (f32x4.splat a) (f32x4.splat b) (f32x4.splat c)))))
const FMA_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0,
  1, 8, 1, 0x60, 3, 0x7d, 0x7d, 0x7d, 1, 0x7d, // type: (f32 f32 f32) -> f32
  3, 2, 1, 0, // one function of type 0
  7, 5, 1, 1, 0x66, 0, 0, // export "f"
  10, 22, 1, 20, 0, 0x20, 0, 0xfd, 0x13, 0x20, 1, 0xfd, 0x13, 0x20, 2, 0xfd, 0x13, 0xfd, 0x85, 2, 0xfd, 0x1f, 0, 0x0b,
]);

/**
 * Whether this engine's f32x4.relaxed_madd is fused (one rounding): runs the tiny probe above on values
 * where the fused and unfused results differ (those of the self-test's lane 0). undefined when relaxed
 * SIMD does not validate here. An unfused relaxed_madd (JavaScriptCore, or a CPU without FMA) makes the
 * relaxed build no faster than simd128, so init() need not compile it.
 */
export function probeFusedMadd(): boolean | undefined {
  try {
    if (!WebAssembly.validate(FMA_PROBE)) return undefined;
    const f = (new WebAssembly.Instance(new WebAssembly.Module(FMA_PROBE)).exports as { f: (a: number, b: number, c: number) => number }).f;
    const a = Math.fround(1 + 2 ** -11), b = Math.fround(1 - 2 ** -23), c = -1;
    const fused = Math.fround(a * b + c), unfused = Math.fround(Math.fround(a * b) + c);
    return fused !== unfused && f(a, b, c) === fused;
  } catch {
    return undefined;
  }
}

export function hasWebAssembly(): boolean {
  return typeof g.WebAssembly === 'object' && typeof g.WebAssembly.validate === 'function';
}

export function probeSimd(): boolean {
  try { return WebAssembly.validate(SIMD_PROBE); } catch { return false; }
}

export function probeRelaxedSimd(): boolean {
  try { return WebAssembly.validate(RELAXED_PROBE); } catch { return false; }
}

/** SharedArrayBuffer usable for a shared WebAssembly.Memory (needs cross-origin isolation in browsers). */
export function probeSharedMemory(): { ok: boolean; reason?: string } {
  if (typeof g.SharedArrayBuffer === 'undefined') {
    // isolated and still no SharedArrayBuffer: the engine keeps it off (WebKitGTK without JSC_useSharedArrayBuffer=1)
    if (g.crossOriginIsolated === true) return { ok: false, reason: 'SharedArrayBuffer is not defined although the page is cross-origin isolated (this engine does not expose it)' };
    return { ok: false, reason: 'SharedArrayBuffer is not defined (browsers need COOP/COEP cross-origin isolation)' };
  }
  if (typeof g.crossOriginIsolated === 'boolean' && !g.crossOriginIsolated) return { ok: false, reason: 'page is not cross-origin isolated (serve COOP: same-origin and COEP: require-corp)' };
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as any);
    if (!(m.buffer instanceof g.SharedArrayBuffer)) return { ok: false, reason: 'shared WebAssembly.Memory is not backed by a SharedArrayBuffer' };
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `shared WebAssembly.Memory failed: ${(e as Error).message}` };
  }
}

export function hasFloat16Array(): boolean {
  return typeof g.Float16Array === 'function';
}

export function hardwareConcurrency(): number {
  if (typeof g.navigator !== 'undefined' && g.navigator.hardwareConcurrency) return g.navigator.hardwareConcurrency;
  return 1;
}

/**
 * Node 20 (V8 11.3) ships relaxed SIMD behind --experimental-wasm-relaxed-simd. The flag may be set
 * at run time through node:v8 before any relaxed module is compiled. We do that only in Node (never
 * in a browser, where there is no such thing) and only when allowed by init({ nodeFlags }).
 * Returns true when relaxed SIMD validates afterwards.
 */
export async function enableNodeRelaxedSimd(): Promise<boolean> {
  if (detectRuntime() !== 'node') return false;
  try {
    const spec = 'node:v8';
    const v8: any = await import(/* @vite-ignore */ spec);
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return probeRelaxedSimd();
}
