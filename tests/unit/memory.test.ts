// Linear memory arena: alignment, scopes, growth with view refresh, exhaustion as a typed error,
// guard bytes in debug mode, no leaks.
import { describe, expect, it } from 'vitest';
import { init, OutOfMemoryError, MemoryCorruptionError, DisposedError, ArgumentError, DTypeError, ShapeError } from '../../bindings/index.js';
import { scratchBytes } from '../../bindings/validate.js';
import { ABI } from '../../bindings/abi.js';
import { tk } from '../helpers/tiers.js';

const MiB = 1024 * 1024;

describe('arena', () => {
  it('aligns blocks and never overlaps them', async () => {
    const tk = await init({ simd: 'simd128' });
    const a = tk.arena;
    const blocks: [number, number][] = [];
    for (let i = 0; i < 200; i++) {
      const n = 1 + ((i * 7919) % 5000);
      const al = i % 3 === 0 ? 64 : 16;
      const p = a.alloc(n, al as 16 | 64);
      expect(p % al).toBe(0);
      expect(p).toBeGreaterThanOrEqual(tk.kernels.heapBase());
      blocks.push([p, p + n]);
    }
    blocks.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i][0]).toBeGreaterThanOrEqual(blocks[i - 1][1] + 16); // tail pad for over-reads
  });

  it('mark/reset frees temporaries but keeps persistent tensors', async () => {
    const tk = await init({ simd: 'simd128' });
    const base = tk.memoryStats().usedBytes;
    const m = tk.arena.mark();
    tk.arena.alloc(1000); tk.arena.alloc(3000);
    const t = tk.tensor('f32', [10, 10]);
    tk.arena.alloc(50);
    tk.arena.reset(m);
    expect(tk.arena.isLive(t.ptr)).toBe(true);
    t.dispose();
    expect(tk.memoryStats().usedBytes).toBe(base);
    expect(tk.memoryStats().blocks).toBe(0);
    expect(() => t.ptr).toThrow(DisposedError);
  });

  it('scope() frees temporaries even when the body throws', async () => {
    const tk = await init({ simd: 'simd128' });
    const base = tk.memoryStats().usedBytes;
    expect(() => tk.arena.scope(() => { tk.arena.alloc(4096); throw new Error('boom'); })).toThrow('boom');
    expect(tk.memoryStats().usedBytes).toBe(base);
  });

  it('grows memory on demand and tensors keep their data; views are rebuilt after growth', async () => {
    const tk = await init({ simd: 'simd128', initialMemoryBytes: 1 * MiB, maxMemoryBytes: 64 * MiB });
    const t = tk.tensorFrom(new Float32Array([1, 2, 3, 4]));
    const oldView = t.view();
    const before = tk.memory.bytes;
    const big = tk.tensor('f32', [4 * MiB]); // 16 MiB: forces growth
    expect(tk.memory.bytes).toBeGreaterThan(before);
    expect(oldView.length).toBe(0); // the old view was detached by growth, as documented
    expect(Array.from(t.view())).toEqual([1, 2, 3, 4]); // a fresh view sees the same data
    expect(tk.memory.f32.length * 4).toBe(tk.memory.bytes); // cached views refreshed
    big.view().fill(7);
    expect(tk.f16.toF32(tk.f16.fromF32(new Float32Array([5])))[0]).toBe(5); // ops still work after growth
    expect(Array.from(t.view())).toEqual([1, 2, 3, 4]);
    big.dispose(); t.dispose();
  });

  it('exhaustion is a typed OutOfMemoryError; nothing is corrupted and smaller work still succeeds', async () => {
    const tk = await init({ simd: 'simd128', initialMemoryBytes: 1 * MiB, maxMemoryBytes: 8 * MiB, debug: true });
    const keep = tk.tensorFrom(new Float32Array([9, 8, 7]));
    const used = tk.memoryStats().usedBytes;
    const e = (() => { try { tk.tensor('f32', [4 * MiB]); } catch (x) { return x as OutOfMemoryError; } })();
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e!.code).toBe('ERR_OUT_OF_MEMORY');
    expect(e!.limitBytes).toBe(8 * MiB);
    expect(tk.memoryStats().usedBytes).toBe(used);
    // a size past 2^53 bytes is out of memory too (not an allocator argument error)
    expect(() => tk.tensor('f32', [2 ** 30, 2 ** 30])).toThrow(OutOfMemoryError);
    expect(tk.memoryStats().usedBytes).toBe(used);
    expect(() => tk.f16.fromF32(new Float32Array(3 * MiB))).not.toThrow(); // streams through bounded tiles
    expect(Array.from(keep.view())).toEqual([9, 8, 7]);
    tk.arena.check();
    keep.dispose();
  });

  it('debug mode detects a write past the end of a block', async () => {
    const tk = await init({ simd: 'simd128', debug: true });
    const t = tk.tensor('f32', [5]);
    tk.memory.f32[(t.ptr >> 2) + 5] = 1; // one element past the end
    expect(() => tk.arena.check()).toThrow(MemoryCorruptionError);
  });

  it('Tensor.write: f16 tensors take bits (Uint16Array / Float16Array) only; non-arrays are DTypeErrors', async () => {
    const tk = await init({ simd: 'simd128', debug: true });
    const h = tk.tensor('f16', [2]), f = tk.tensor('f32', [2]);
    h.write(new Uint16Array([0x3c00, 0xc000]));
    expect(Array.from(h.read())).toEqual([0x3c00, 0xc000]);
    // f32 values into an f16 tensor would be stored as truncated integers (1.5 -> bits 1): rejected, tensor unchanged
    expect(() => h.write(new Float32Array([1.5, 70000]))).toThrow(DTypeError);
    expect(() => h.write([1, 2])).toThrow(DTypeError);
    expect(Array.from(h.read())).toEqual([0x3c00, 0xc000]);
    const F16 = (globalThis as { Float16Array?: new (a: number[]) => ArrayLike<number> }).Float16Array;
    if (F16) { h.write(new F16([0.5, -3])); expect(Array.from(h.read())).toEqual([0x3800, 0xc200]); }
    for (const bad of [null, undefined, 3, 'ab']) {
      expect(() => f.write(bad as any)).toThrow(DTypeError);
      expect(() => h.write(bad as any)).toThrow(DTypeError);
    }
    f.write([1.5, 2]); // an f32 tensor takes any numeric array-like (values)
    expect(Array.from(f.read())).toEqual([1.5, 2]);
    expect(() => f.write(new Float32Array(3))).toThrow(ShapeError);
    tk.arena.check();
    h.dispose(); f.dispose();
  });

  it('10^4 op calls leave the arena where it started', async () => {
    const tk = await init({ simd: 'simd128' });
    const x = new Float32Array(100).map((_, i) => i);
    tk.f16.fromF32(x);
    const s0 = tk.memoryStats();
    for (let i = 0; i < 10_000; i++) tk.f16.toF32(tk.f16.fromF32(x));
    const s1 = tk.memoryStats();
    expect(s1.usedBytes).toBe(s0.usedBytes);
    expect(s1.blocks).toBe(s0.blocks);
    expect(s1.memoryBytes).toBe(s0.memoryBytes);
  });

  it('Tensor.read(into) copies into a caller array of the same type and length, typed errors otherwise', async () => {
    const tk = await init({ simd: 'simd128' });
    const t = tk.tensorFrom(new Float32Array([1, -2, 3.5, NaN, -0]));
    const into = new Float32Array(5).fill(7);
    expect(t.read(into)).toBe(into);
    expect(Array.from(into)).toEqual([1, -2, 3.5, NaN, -0]);
    expect(() => t.read(new Float32Array(4) as never)).toThrow(ShapeError);
    expect(() => t.read(new Uint16Array(5) as never)).toThrow(DTypeError);
    expect(() => t.read([0, 0, 0, 0, 0] as never)).toThrow(DTypeError);
    const h = tk.tensor('f16', [3]);
    expect(() => h.read(new Float32Array(3) as never)).toThrow(DTypeError);
    expect(h.read(new Uint16Array(3))).toBeInstanceOf(Uint16Array);
    t.dispose();
    expect(() => t.read(into)).toThrow(DisposedError);
    tk.dispose();
  });
});

describe('kernel scratch sizes', () => {
  it('are exact (f64) for every kernel, so a huge shape is an OutOfMemoryError, never a wrapped short block', async () => {
    const t = await tk('simd128');
    const k = t.kernels;
    // each of these wrapped around as i32 before (e.g. the PASA decode scratch for headDim 261824, blockK 4096 came
    // out as 10,100 bytes and the kernel wrote megabytes past it)
    const sizes: [string, number, number][] = [
      ['attention_scratch_bytes', k.attention_scratch_bytes(261824, 48, 4096, 0), (261824 * 48 + 4104 * 261824 + 4104 * 48 + 2 * 48 * 261824 + 5 * 48) * 4 + 64],
      ['attention_scratch_bytes (f16 k/v)', k.attention_scratch_bytes(261824, 48, 4096, ABI.ATTN_FLAG_KV_F16), (261824 * 48 + 2 * 4104 * 261824 + 4104 * 48 + 2 * 48 * 261824 + 5 * 48) * 4 + 64],
      ['pasa_attn_decode_scratch_bytes', k.pasa_attn_decode_scratch_bytes(261824, 1, 4096), (3 * 261824 + 4096 + 16 + 2 * 261824 + 5 + 4096 * 261824) * 4 + 32],
      ['f32_attn_decode_scratch_bytes', k.f32_attn_decode_scratch_bytes(2 ** 28, 8), (2 * 8 * 2 ** 28 + 5 * 8 * 16 + 32 + 16 * 2 ** 28) * 4 + 32],
      ['f32_conv1x1_scratch', k.f32_conv1x1_scratch(6, 2 ** 28), 6 * 8 * 4 + 64 + 6 * 2 ** 28 * 4 + 64 + 2 ** 28 * 8 * 4 + 64],
      ['f32_conv_im2col_scratch', k.f32_conv_im2col_scratch(4, 2 ** 20, 2 ** 12), 6 * 8 * 4 + 64 + 4 * 2 ** 20 * 4 + 64 + 2 ** 32 * 4 + 64],
      ['f32_dwconv_scratch', k.f32_dwconv_scratch(3, 2 ** 30), (34 * 2 ** 30 + 64) * 4 + 128 + 2 ** 30 * 4 + 128],
      ['f16w_gemm_small_scratch', k.f16w_gemm_small_scratch(2 ** 30), 3 * 2 ** 30 * 4 + 16 + 3 * 96 + 64],
    ];
    for (const [name, got, want] of sizes) {
      expect(got, name).toBe(want);
      expect(() => scratchBytes(name, got), name).toThrow(OutOfMemoryError);
    }
    expect(scratchBytes('small', 1024)).toBe(1024);
    // the attention ops refuse such a headDim before any kernel runs
    expect(() => t.attentionDecode(new Float32Array(261824), new Float32Array(261824), new Float32Array(261824),
      { heads: 1, headDim: 261824, kvLength: 1, precision: 'pasa', blockK: 4096 })).toThrow(ShapeError);
  });
});
