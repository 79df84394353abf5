// In-wasm invariants of the half helpers: SIMD == scalar over every half, strict rounding is
// idempotent, and the conversion kernels never write past n elements.
import { f32ToF16, f16ToF32, f32x4ToF16x4, f16x4ToF32x4, roundF16, roundF16x4 } from "../../assembly/f16/half";
import { f32_f16_vcvt__wasmsimd_u16, f16_f32_vcvt__wasmsimd_u16 } from "../../assembly/f16/vcvt";

describe("half helpers", () => {
  it("SIMD widen equals scalar widen for all 65536 halves", () => {
    let bad = 0;
    for (let h = 0; h < 65536; h += 4) {
      const v = i32x4(h, h + 1, h + 2, h + 3);
      const f = f16x4ToF32x4(v);
      for (let l = 0; l < 4; l++) {
        const s = reinterpret<u32>(f16ToF32(<u16>(h + l)));
        const w = l == 0 ? i32x4.extract_lane(f, 0) : l == 1 ? i32x4.extract_lane(f, 1) : l == 2 ? i32x4.extract_lane(f, 2) : i32x4.extract_lane(f, 3);
        if (<u32>w != s) bad++;
      }
    }
    expect(bad).toBe(0);
  });

  it("SIMD narrow equals scalar narrow (round trip of every half, and midpoints)", () => {
    let bad = 0;
    for (let h = 0; h < 65536; h++) {
      const x = f16ToF32(<u16>h);
      const y = reinterpret<f32>(reinterpret<u32>(x) + 0x1000); // half-way-ish above: exercises rounding
      const v = f32x4ToF16x4(f32x4(x, y, -y, x * 0.5));
      if (<u16>i32x4.extract_lane(v, 0) != f32ToF16(x)) bad++;
      if (<u16>i32x4.extract_lane(v, 1) != f32ToF16(y)) bad++;
      if (<u16>i32x4.extract_lane(v, 2) != f32ToF16(-y)) bad++;
      if (<u16>i32x4.extract_lane(v, 3) != f32ToF16(x * 0.5)) bad++;
    }
    expect(bad).toBe(0);
  });

  it("strict rounding is idempotent and saturates to inf at 65520", () => {
    expect(roundF16(65519.0)).toBe(65504.0);
    expect(roundF16(65520.0)).toBe(Infinity);
    expect(roundF16(-65520.0)).toBe(-Infinity);
    expect(roundF16(1.0 + 1.0 / 2048.0)).toBe(1.0); // tie -> even
    const r = roundF16x4(f32x4(0.1, 1e-8, 3.0e-8, 70000.0));
    expect(f32x4.extract_lane(r, 0)).toBe(roundF16(0.1));
    expect(f32x4.extract_lane(r, 1)).toBe(0.0); // below half the smallest subnormal
    expect(f32x4.extract_lane(r, 2)).toBe(roundF16(3.0e-8));
    expect(f32x4.extract_lane(r, 3)).toBe(Infinity);
    expect(roundF16(roundF16(0.1))).toBe(roundF16(0.1));
  });

  it("vcvt kernels handle tails and never write past n", () => {
    const src = new StaticArray<f32>(24);
    for (let i = 0; i < 24; i++) src[i] = <f32>i + 0.25;
    for (let n = 0; n < 20; n++) {
      const dst = new StaticArray<u16>(24);
      for (let i = 0; i < 24; i++) dst[i] = 0xbeef;
      f32_f16_vcvt__wasmsimd_u16(changetype<usize>(src), changetype<usize>(dst), n);
      for (let i = 0; i < 24; i++) {
        if (i < n) expect(f16ToF32(dst[i])).toBe(<f32>i + 0.25);
        else expect(dst[i]).toBe(<u16>0xbeef);
      }
      const back = new StaticArray<f32>(24);
      for (let i = 0; i < 24; i++) back[i] = -1.0;
      f16_f32_vcvt__wasmsimd_u16(changetype<usize>(dst), changetype<usize>(back), n);
      for (let i = 0; i < 24; i++) expect(back[i]).toBe(i < n ? <f32>i + 0.25 : <f32>-1.0);
    }
  });
});
