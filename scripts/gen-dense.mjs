// Generates the register-blocked f32 GEMM micro-kernels of the dense family into
// assembly/dense/gen/gemm.ts (do not edit that file by hand; edit this generator and re-run
//   node scripts/gen-dense.mjs
// ). AssemblyScript has no arrays of v128 locals, so each MR x NR tile shape is unrolled here.
//
// Micro-kernel contract (all pointers are byte offsets into linear memory):
//   C[MR x NR] (+)= A_panel[kc x MR] . B[kc x NR]
//   a      packed A panel, k-major: element (k, r) at a + 4*(k*MR + r)  (broadcast operand)
//   b      B row k starts at
//            gemm : b + k*bstride                (uniform stride: packed panel or plain rows)
//            igemm: b + offs[k] (u32 byte offsets, "indirect" rows: shifted views of a padded
//                   input plane for a stride-1 conv)
//          NR consecutive f32 per row are read (vector operand).
//          `_splat` kernels (4x8, 5x8) read the MR values of step k as one v128 load (plus a
//          load32/64_zero for rows 4-5) and broadcast each lane with a shuffle, instead of MR
//          load32_splat: fewer loads per FMA, which pays where every load carries an inline bounds
//          check (Deno) and in JavaScriptCore (Bun); V8 with a trap handler: Node 20 gains 4-8 % and uses
//          them, Chromium 156 loses ~5 % and keeps load32_splat (defaultKernelProfile, bindings/env.ts).
//          6x8 has no _splat build (one more live vector than the 16 xmm registers: it spills).
//          The `_pre` kernel (6x8, gemm only; 4x8 and 5x8 were slower in JSC) reads A pre-broadcast: the GEMM driver packs A as
//          [k][MR][4] (each value splatted to a v128, f32_pack_a_pre), so a step is MR plain v128 loads
//          and no broadcast op at all. For JavaScriptCore (Bun): its shuffles (and its load32_splat,
//          lowered as a scalar load + GPR->xmm splat) issue on the same 4 x64 FP pipes as the mul/add,
//          capping the 4x8 `_splat` kernel at 16 of 20 FP-pipe ops = 80% of peak (matmul 1024^3 Bun 1.4.5:
//          37 -> 44 GFLOP/s with 6x8 `_pre`). Conv weights (persistent [K][MR] panels, igemm) stay as they are.
//   c      C row r at c + r*ldc; the tile is always full (the driver routes edge tiles through a
//          scratch tile), so the kernel never needs lane masks.
//   flags  1: accumulate (C is read and added to)   2: init with a per-row bias bias[r]
//          4: init with a per-column bias bias[0..NR) 8: clamp the result to [vmin, vmax]
// madd() is relaxed_madd on the relaxed tier and mul+add on simd128 (assembly/common/simd.ts).
import { writeFileSync, mkdirSync } from 'node:fs';
import { acc, declareAccumulators, eachAccumulator, emitStep } from './lib/tile.mjs';

// Tile shapes: MR rows (broadcast operand) x NR columns (NR/4 vectors). The tier's choice is made
// in assembly/dense/gemm.ts; extra shapes are generated for the tuning benchmark.
// mode: '' (load32_splat), 'splat' or 'pre' (see the contract above); gemmOnly: no igemm build.
const SHAPES = [[4, 8, ''], [5, 8, ''], [6, 8, ''], [4, 8, 'splat'], [5, 8, 'splat'],
  [6, 8, 'pre', true]];

function kernel(mr, nr, indirect, mode) {
  const nv = nr / 4;
  const splat = mode === 'splat', pre = mode === 'pre';
  const name = `f32_${indirect ? 'igemm' : 'gemm'}_${mr}x${nr}__wasmsimd${mode ? '_' + mode : ''}`;
  const L = [];
  L.push(`/** ${mr}x${nr} tile, ${indirect ? 'B rows through a byte-offset table (implicit-GEMM conv)' : 'B rows at a uniform stride'}${splat ? '; A values of a step as one v128, broadcast by shuffles' : ''}${pre ? '; A pre-broadcast ([k][MR][4] panel), one v128 load per row' : ''}. */`);
  L.push(`export function ${name}(kc: i32, a: usize, b: usize, ${indirect ? 'offs: usize' : 'bstride: usize'}, c: usize, ldc: usize, flags: i32, bias: usize, vmin: f32, vmax: f32): void {`);
  declareAccumulators(L, mr, nv);
  L.push(`  if (flags & 1) {`);
  eachAccumulator(L, mr, nv, (r, j) => `    ${acc(r, j)} = v128.load(c + ${r} * ldc, ${j * 16});`);
  L.push(`  } else if (flags & 2) {`);
  for (let r = 0; r < mr; r++) {
    L.push(`    const br${r} = v128.load32_splat(bias, ${r * 4});`);
    for (let j = 0; j < nv; j++) L.push(`    ${acc(r, j)} = br${r};`);
  }
  L.push(`  } else if (flags & 4) {`);
  for (let j = 0; j < nv; j++) {
    L.push(`    const bc${j} = v128.load(bias, ${j * 16});`);
    for (let r = 0; r < mr; r++) L.push(`    ${acc(r, j)} = bc${j};`);
  }
  L.push(`  }`);
  L.push(`  for (let k = 0; k < kc; k++) {`);
  if (indirect) L.push(`    const bk = b + <usize>load<u32>(offs); offs += 4;`);
  const bk = indirect ? 'bk' : 'b';
  if (splat) {
    L.push(`    const av0 = v128.load(a);`);
    if (mr > 4) L.push(`    const av1 = ${mr === 5 ? 'v128.load32_zero(a, 16)' : 'v128.load64_zero(a, 16)'};`);
  }
  emitStep(L, mr, nv, '    ', {
    bLine: (j) => `const b${j} = v128.load(${bk}, ${j * 16});`,
    aLine: (r) => (splat ? `const a${r} = i32x4.shuffle(av${r >> 2}, av${r >> 2}, ${r & 3}, ${r & 3}, ${r & 3}, ${r & 3});`
      : pre ? `const a${r} = v128.load(a, ${r * 16});` : `const a${r} = v128.load32_splat(a, ${r * 4});`),
    aName: (r) => `a${r}`,
  });
  L.push(`    a += ${mr * (pre ? 16 : 4)};`);
  if (!indirect) L.push(`    b += bstride;`);
  L.push(`  }`);
  L.push(`  if (flags & 8) {`);
  L.push(`    const lo = f32x4.splat(vmin), hi = f32x4.splat(vmax);`);
  eachAccumulator(L, mr, nv, (r, j) => `    ${acc(r, j)} = clamp(${acc(r, j)}, lo, hi);`);
  L.push(`  }`);
  eachAccumulator(L, mr, nv, (r, j) => `  v128.store(c + ${r} * ldc, ${acc(r, j)}, ${j * 16});`);
  L.push(`}`);
  return L.join('\n');
}

const out = [
  '// GENERATED by scripts/gen-dense.mjs — do not edit. See the generator for the micro-kernel contract.',
  'import { madd, clamp } from "../../common/simd";',
  '',
];
let count = 0;
for (const [mr, nr, mode, gemmOnly] of SHAPES) {
  out.push(kernel(mr, nr, false, mode), ''); count++;
  if (!gemmOnly) { out.push(kernel(mr, nr, true, mode), ''); count++; }
}
mkdirSync(new URL('../assembly/dense/gen/', import.meta.url), { recursive: true });
writeFileSync(new URL('../assembly/dense/gen/gemm.ts', import.meta.url), out.join('\n'));
console.log(`wrote assembly/dense/gen/gemm.ts (${count} kernels)`);
