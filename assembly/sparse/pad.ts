// Input staging for the 3x3 conv kernels: zero-padded CHW planes.
//   stride 1: each channel is Hp x Wp (Hp = h + 2*pad, Wp = w + 2*pad), row-major.
//   stride 2: each padded row is stored as [even columns (Wq) | odd columns (Wq)], Wq = ceil(Wp/2),
//             so every tap of a stride-2 output row is a unit-stride load (see gen/spconv3x3.ts).
// The output buffer must hold c * Hp * rowLen floats (rowLen = Wp or 2*Wq); every float is written.

import { copyF32 } from "../common/memory";

export function f32_pad3x3_chw(c: i32, h: i32, w: i32, pad: i32, stride: i32, input: usize, output: usize): void {
  const Hp = h + 2 * pad, Wp = w + 2 * pad;
  const Wq = (Wp + 1) >> 1;
  const rowLen = stride == 2 ? 2 * Wq : Wp;
  const plane = <usize>(Hp * rowLen) << 2;
  memory.fill(output, 0, plane * <usize>c);
  for (let ch = 0; ch < c; ch++) {
    const src = input + ((<usize>ch * <usize>(h * w)) << 2);
    const dst = output + plane * <usize>ch;
    for (let y = 0; y < h; y++) {
      const s = src + (<usize>(y * w) << 2);
      const d = dst + (<usize>((y + pad) * rowLen) << 2);
      if (stride == 2) {
        // input x = 2j + e lands in half ((e + pad) & 1) at slot j + ((e + pad) >> 1)
        const dEven = d + (<usize>((pad & 1) * Wq + (pad >> 1)) << 2);
        const dOdd = d + (<usize>(((1 + pad) & 1) * Wq + ((1 + pad) >> 1)) << 2);
        let x = 0;
        for (; x + 8 <= w; x += 8) {
          const a = v128.load(s + (<usize>x << 2)), b = v128.load(s + (<usize>x << 2), 16);
          const j4 = <usize>(x >> 1) << 2;
          v128.store(dEven + j4, v128.shuffle<f32>(a, b, 0, 2, 4, 6));
          v128.store(dOdd + j4, v128.shuffle<f32>(a, b, 1, 3, 5, 7));
        }
        for (; x < w; x++) {
          const px = x + pad;
          store<f32>(d + (<usize>((px & 1) * Wq + (px >> 1)) << 2), load<f32>(s + (<usize>x << 2)));
        }
      } else {
        copyF32(d + (<usize>pad << 2), s, w);
      }
    }
  }
}

/**
 * Compaction after a flattened stride-1 conv: the kernel computed `rows` output rows of `srcPitch`
 * floats per plane (only the first w of each are real outputs; planes are srcPlane floats apart);
 * copy the real w outputs of each row to a dense [planes][rows][w] output.
 */
export function f32_unpad_rows(planes: i32, rows: i32, w: i32, srcPitch: i32, srcPlane: i32, src: usize, dst: usize): void {
  const rowBytes = <usize>w << 2;
  for (let p = 0; p < planes; p++) {
    const s = src + (<usize>p * <usize>srcPlane << 2);
    const d = dst + (<usize>p * <usize>(rows * w) << 2);
    for (let r = 0; r < rows; r++) copyF32(d + <usize>r * rowBytes, s + (<usize>(r * srcPitch) << 2), w);
  }
}
