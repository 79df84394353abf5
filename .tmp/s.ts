export function sum4(p: usize, n: i32): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a;
  for (let i = 0; i < n; i += 16) {
    const o = p + (<usize>i << 2);
    a = f32x4.add(a, v128.load(o)); b = f32x4.add(b, v128.load(o, 16)); c = f32x4.add(c, v128.load(o, 32)); d = f32x4.add(d, v128.load(o, 48));
  }
  return f32x4.extract_lane(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)), 0);
}
// 8 interleaved row streams of 512 B (like scores8 over K)
export function sum8rows(p: usize, rows: i32, rb: usize): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a, e = a, f = a, g = a, h = a;
  for (let r = 0; r < rows; r += 8) {
    const p0 = p + <usize>r * rb;
    for (let x: usize = 0; x < rb; x += 16) {
      a = f32x4.add(a, v128.load(p0 + x)); b = f32x4.add(b, v128.load(p0 + rb + x)); c = f32x4.add(c, v128.load(p0 + 2 * rb + x)); d = f32x4.add(d, v128.load(p0 + 3 * rb + x));
      e = f32x4.add(e, v128.load(p0 + 4 * rb + x)); f = f32x4.add(f, v128.load(p0 + 5 * rb + x)); g = f32x4.add(g, v128.load(p0 + 6 * rb + x)); h = f32x4.add(h, v128.load(p0 + 7 * rb + x));
    }
  }
  return f32x4.extract_lane(f32x4.add(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)), f32x4.add(f32x4.add(e, f), f32x4.add(g, h))), 0);
}
export function sum4rows(p: usize, rows: i32, rb: usize): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a;
  for (let r = 0; r < rows; r += 4) {
    const p0 = p + <usize>r * rb;
    for (let x: usize = 0; x < rb; x += 16) {
      a = f32x4.add(a, v128.load(p0 + x)); b = f32x4.add(b, v128.load(p0 + rb + x)); c = f32x4.add(c, v128.load(p0 + 2 * rb + x)); d = f32x4.add(d, v128.load(p0 + 3 * rb + x));
    }
  }
  return f32x4.extract_lane(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)), 0);
}
export function sum2rows(p: usize, rows: i32, rb: usize): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a;
  for (let r = 0; r < rows; r += 2) {
    const p0 = p + <usize>r * rb;
    for (let x: usize = 0; x < rb; x += 32) {
      a = f32x4.add(a, v128.load(p0 + x)); b = f32x4.add(b, v128.load(p0 + rb + x)); c = f32x4.add(c, v128.load(p0 + x + 16)); d = f32x4.add(d, v128.load(p0 + rb + x + 16));
    }
  }
  return f32x4.extract_lane(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)), 0);
}
// column-block strided: 4 passes of 128 B over 32 rows (old PV pattern)
export function sumColBlocks(p: usize, rows: i32, rb: usize): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a;
  for (let r = 0; r < rows; r += 32) {
    const p0 = p + <usize>r * rb;
    for (let x: usize = 0; x < rb; x += 128) {
      for (let t = 0; t < 32; t++) {
        const q = p0 + <usize>t * rb + x;
        a = f32x4.add(a, v128.load(q)); b = f32x4.add(b, v128.load(q, 16)); c = f32x4.add(c, v128.load(q, 32)); d = f32x4.add(d, v128.load(q, 48));
        a = f32x4.add(a, v128.load(q, 64)); b = f32x4.add(b, v128.load(q, 80)); c = f32x4.add(c, v128.load(q, 96)); d = f32x4.add(d, v128.load(q, 112));
      }
    }
  }
  return f32x4.extract_lane(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)), 0);
}
