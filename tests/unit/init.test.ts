// Loader and tier selection: auto/override, sources (URL, bytes, Module), typed errors.
import { describe, expect, it } from 'vitest';
import { init, InitInProgressError, SimdUnsupportedError, ArgumentError, WasmLoadError, TesseraError } from '../../bindings/index.js';
import { defaultWasmUrl } from '../../bindings/loader.js';
import { ENGINE, HAS_RELAXED } from '../helpers/engine.js';

async function bytesOf(url: URL): Promise<Uint8Array> {
  if (url.protocol === 'file:') {
    const fs = await import(/* @vite-ignore */ 'node:fs/promises' as string);
    return new Uint8Array(await fs.readFile(url));
  }
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

describe('init and tier selection', () => {
  it('auto picks relaxed where it validates and records the environment', async () => {
    const tk = await init();
    // Node (with the V8 flag) and Chromium 156 have relaxed SIMD; WebKit (JavaScriptCore, like Safari) does not
    expect(tk.features.tier).toBe(HAS_RELAXED ? 'relaxed' : 'simd128');
    expect(tk.features.relaxedSimd).toBe(HAS_RELAXED);
    if (!HAS_RELAXED) expect(tk.features.notes.join('\n')).toMatch(/relaxed SIMD unavailable: using simd128/);
    expect(tk.features.threads).toBe(1);
    expect(['node', 'browser', 'deno', 'bun']).toContain(tk.features.runtime);
    expect(typeof tk.features.fusedMadd).toBe('boolean');
  });

  it('user override wins: simd128 even where relaxed is available', async () => {
    const tk = await init({ simd: 'simd128' });
    expect(tk.features.tier).toBe('simd128');
    expect(tk.kernels.tierRelaxed()).toBe(0);
    expect(tk.features.fusedMadd).toBe(false);
  });

  it('accepts bytes and a precompiled WebAssembly.Module; the tier is read from the binary', async () => {
    const bytes = await bytesOf(defaultWasmUrl('simd128'));
    const a = await init({ wasm: bytes });
    expect(a.features.tier).toBe('simd128');
    const b = await init({ wasm: await WebAssembly.compile(bytes as BufferSource) });
    expect(b.features.tier).toBe('simd128');
    const c = await init({ wasm: { relaxed: await bytesOf(defaultWasmUrl('relaxed')) } });
    expect(c.features.tier).toBe(HAS_RELAXED ? 'relaxed' : 'simd128'); // without relaxed SIMD: the default simd128 binary
  });

  it('a failed fetch or garbage bytes is a typed WasmLoadError naming the source', async () => {
    const missing = new URL('../build/does-not-exist.wasm', defaultWasmUrl('simd128'));
    const e1 = await init({ simd: 'simd128', wasm: missing }).catch((e) => e);
    expect(e1).toBeInstanceOf(WasmLoadError);
    expect(e1.code).toBe('ERR_WASM_LOAD');
    expect(e1.message).toContain('does-not-exist.wasm');
    const e2 = await init({ simd: 'simd128', wasm: new Uint8Array([0, 97, 115, 109, 9, 9]) }).catch((e) => e);
    expect(e2).toBeInstanceOf(WasmLoadError);
  });

  it('auto falls back to simd128 when the relaxed binary cannot load, and says why', async () => {
    const tk = await init({ wasm: { relaxed: new Uint8Array([1, 2, 3]) } });
    expect(tk.features.tier).toBe('simd128');
    // where relaxed SIMD is missing the probe decides before the bytes are looked at
    expect(tk.features.notes.join('\n')).toMatch(HAS_RELAXED ? /relaxed tier rejected/ : /relaxed SIMD unavailable/);
  });

  it('bounds-check profile: detected (guard here: Node, Chromium and WebKit run wasm with guard pages), overridable; it picks kernel variants', async () => {
    const tk = await init();
    expect(tk.features.boundsChecks).toBe('guard');
    expect(tk.features.engine).toBe(ENGINE.js); // V8 in Node and Chromium, JavaScriptCore in WebKit
    expect(tk.dense.mr).toBe(4);
    const jsc = tk.features.engine === 'jsc', splat = tk.features.runtime === 'node' || jsc;
    // _splat dense / sparse kernels outside browsers and on JSC, 4-row attention tiles only in Bun (and under explicit
    // checks), pre-broadcast matmul A on JSC
    expect(tk.kernelProfile).toEqual({ denseSplatA: splat, sparseSplat: splat, attentionTile4: false, denseMatmulPreA: jsc, denseGemvF16Dot: false });
    expect(tk.dense.splatA).toBe(splat); // the alias
    const ex = await init({ boundsChecks: 'explicit' });
    expect(ex.features.boundsChecks).toBe('explicit');
    expect(ex.kernelProfile).toEqual({ denseSplatA: true, sparseSplat: true, attentionTile4: true, denseMatmulPreA: jsc, denseGemvF16Dot: false });
    expect(ex.dense.splatA).toBe(true);
    // the variant changes how A reaches the registers, not any element's k-order: bit-identical products
    const a = new Float32Array(7 * 300).map((_, i) => Math.sin(i)), b = new Float32Array(300 * 5).map((_, i) => Math.cos(i));
    expect(ex.matmul(a, b, 7, 300, 5)).toEqual(tk.matmul(a, b, 7, 300, 5));
    const pre = await init({ kernelProfile: { denseMatmulPreA: !jsc } }); // pre-broadcast A, 6x8 tile (JSC's default), or not
    try { expect(pre.matmul(a, b, 7, 300, 5)).toEqual(tk.matmul(a, b, 7, 300, 5)); } finally { pre.dispose(); }
  });

  it('kernelProfile: init overrides parts of the default, per instance; bad overrides are typed errors', async () => {
    const a = await init({ kernelProfile: { sparseSplat: false } });
    const b = await init();
    expect(a.kernelProfile).toEqual({ ...b.kernelProfile, sparseSplat: false });
    a.kernelProfile.denseSplatA = !b.kernelProfile.denseSplatA; // mutable, and not shared between instances
    expect(a.dense.splatA).toBe(!b.dense.splatA);
    expect(b.kernelProfile.denseSplatA).toBe(b.dense.splatA);
    const u = await init({ kernelProfile: { sparseSplat: undefined } }); // an undefined entry keeps the default
    expect(u.kernelProfile).toEqual(b.kernelProfile);
    expect(() => { (u.kernelProfile as unknown as Record<string, boolean>).sparseSplats = false; }).toThrow(TypeError); // sealed: a typo fails loudly
    u.dispose();
    await expect(init({ kernelProfile: { sparseSplat: 1 as unknown as boolean } })).rejects.toThrow(ArgumentError);
    await expect(init({ kernelProfile: { splat: true } as never })).rejects.toThrow(/unknown kernelProfile key 'splat'/);
    await expect(init({ kernelProfile: 'fast' as never })).rejects.toThrow(ArgumentError);
    a.dispose(); b.dispose();
  });

  it('the tiny FMA probe agrees with the relaxed binary\'s self-test (so init can skip compiling relaxed where madd is unfused)', async () => {
    const tk = await init();
    const { probeFusedMadd } = await import('../../bindings/env.js');
    const p = probeFusedMadd();
    if (tk.features.relaxedSimd) expect(p).toBe(tk.features.fusedMadd);
    else expect(p).toBeUndefined();
  });

  it('auto drops to simd128 when the relaxed build computes relaxed_madd unfused (JSC; simulated: simd128 bytes as the relaxed source)', async () => {
    const t = await init({ wasm: { relaxed: await bytesOf(defaultWasmUrl('simd128')) } });
    expect(t.features.tier).toBe('simd128');
    expect(t.features.fusedMadd).toBe(false);
    expect(t.features.notes.join(' ')).toMatch(HAS_RELAXED ? /not fused/ : /relaxed SIMD unavailable/);
    expect(t.matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1)[0]).toBe(11);
  });

  it('init called twice concurrently is a typed error; sequential calls are fine', async () => {
    const p1 = init();
    const e = await init().catch((x) => x);
    expect(e).toBeInstanceOf(InitInProgressError);
    expect(e).toBeInstanceOf(TesseraError);
    await p1;
    await expect(init()).resolves.toBeTruthy();
  });

  it('bad options are typed errors', async () => {
    await expect(init({ simd: 'avx512' as any })).rejects.toBeInstanceOf(ArgumentError);
    await expect(init({ maxMemoryBytes: 100 })).rejects.toBeInstanceOf(ArgumentError);
    await expect(init({ threads: 0 })).rejects.toBeInstanceOf(ArgumentError);
    await expect(init({ boundsChecks: 'none' as any })).rejects.toBeInstanceOf(ArgumentError);
  });

  it.runIf(!HAS_RELAXED)(`an engine without relaxed SIMD (${ENGINE.name}): forcing relaxed is SimdUnsupportedError, auto runs simd128 and says why (real, not simulated)`, async () => {
    const e = await init({ simd: 'relaxed' }).catch((x) => x);
    expect(e).toBeInstanceOf(SimdUnsupportedError);
    expect(e.code).toBe('ERR_SIMD_UNSUPPORTED');
    const tk = await init();
    expect(tk.features.tier).toBe('simd128');
    expect(tk.features.fusedMadd).toBe(false);
    expect(tk.matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1)[0]).toBe(11);
  });

  it('a forced relaxed tier without relaxed SIMD support is SimdUnsupportedError (simulated)', async () => {
    const orig = WebAssembly.validate;
    // simulate Safari/Bun/Node-20-without-flag: nothing relaxed validates
    (WebAssembly as any).validate = (b: BufferSource) => {
      const u = new Uint8Array(b instanceof ArrayBuffer ? b : (b as Uint8Array).buffer);
      for (let i = 0; i + 2 < u.length; i++) if (u[i] === 253 && u[i + 1] === 133 && u[i + 2] === 2) return false;
      return orig(b);
    };
    try {
      await expect(init({ simd: 'relaxed', nodeFlags: false })).rejects.toBeInstanceOf(SimdUnsupportedError);
      const tk = await init({ nodeFlags: false });
      expect(tk.features.tier).toBe('simd128');
    } finally {
      (WebAssembly as any).validate = orig;
    }
  });
});
