// The fuzzer's registry: every public op, one OpSpec each (see types.ts). To add a kernel family,
// write tests/fuzz/ops-<family>.ts exporting its specs and list them here.
import { ArgumentError, DTypeError, OutOfMemoryError, ShapeError } from '../../bindings/index.js';
import { ATTENTION_OPS } from './ops-attention.js';
import { DENSE_OPS } from './ops-dense.js';
import { F16_OPS } from './ops-f16.js';
import { SPARSE_OPS } from './ops-sparse.js';
import { dimOf } from './rng.js';
import type { OpSpec } from './types.js';

const DTYPES = ['f32', 'f16', 'i32', 'u32', 'u8'] as const;

/** tk.tensor / tensorFrom / Tensor.write / read: shapes of every class, round trip exact. */
const tensor: OpSpec = {
  name: 'tk.tensor', family: 'core', tolerance: 'exact (a copy)',
  gen({ tk }, r, size) {
    const rank = r.int(0, 4);
    const shape = Array.from({ length: rank }, (_, i) => (i === 0 ? dimOf(r, size, 5000, 257) : r.int(1, 5)));
    const dtype = r.pick(DTYPES);
    const n = shape.reduce((a, b) => a * b, 1);
    const C = { f32: Float32Array, f16: Uint16Array, i32: Int32Array, u32: Uint32Array, u8: Uint8Array }[dtype];
    const data = new C(n);
    for (let i = 0; i < n; i++) data[i] = Math.floor(r.next() * 65536);
    let t: ReturnType<typeof tk.tensorFrom> | undefined;
    return {
      desc: `${dtype} [${shape.join(', ')}]`, inputs: [data],
      run: () => { t = tk.tensorFrom(data, shape); return t.read(); },
      check: (got: any) => (t!.dtype !== dtype || got.length !== n || got.some((v: number, i: number) => v !== data[i]) ? 'round trip differs' : null),
      dispose: () => t?.dispose(),
    };
  },
  hostile({ tk }, r) {
    const k = r.int(0, 5);
    switch (k) {
      case 0: { const s = r.pick<any>([[-1], [2.5], [NaN], [Infinity], ['3'], [2 ** 53], null, 7, [[2]]]);
        return { desc: `shape ${JSON.stringify(s)}`, call: () => tk.tensor('f32', s), expect: [ArgumentError, ShapeError], msg: /shape/ }; }
      case 1: { const d = r.pick<any>(['f64', 'float32', '', null, 4]); return { desc: `dtype ${String(d)}`, call: () => tk.tensor(d, [4]), expect: [DTypeError], msg: /dtype/ }; }
      case 2: return { desc: 'shape of 2^40 elements', call: () => tk.tensor('f32', [2 ** 20, 2 ** 20]), expect: [OutOfMemoryError, ShapeError] };
      case 3: return { desc: 'tensorFrom: shape does not hold data', call: () => tk.tensorFrom(new Float32Array(6), [4]), expect: [ShapeError] };
      case 4: return { desc: 'tensorFrom(Float64Array)', call: () => tk.tensorFrom(new Float64Array(4) as any), expect: [DTypeError] };
      default: { const t = tk.tensor('f32', [4]);
        return { desc: 'write of wrong length', call: () => t.write([1, 2, 3]), expect: [ShapeError], dispose: () => t.dispose() }; }
    }
  },
};

export const OPS: OpSpec[] = [tensor, ...F16_OPS, ...SPARSE_OPS, ...DENSE_OPS, ...ATTENTION_OPS];
