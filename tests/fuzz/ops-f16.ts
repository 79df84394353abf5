// Fuzz specs: the f16 family (tk.f16.*, tk.parallel.f16*). Conversions are exact operations, so
// the tolerance is zero: bit-identical to the f64 reference, NaN compared by NaN-ness (the library
// quiets signalling NaNs and keeps payloads where it can; IEEE leaves payloads unspecified).
import { ArgumentError, DTypeError, DisposedError, ShapeError, type Tessera } from '../../bindings/index.js';
import { isHalfNaN, refHalfBits, refHalfValue, refRoundHalf } from '../helpers/ref-f16.js';
import { dimOf, place, placementOf, type Rng } from './rng.js';
import type { FuzzCase, FuzzContext, HostileCase, OpSpec, SizeClass } from './types.js';

const EXACT = 'exact (0 ulp): conversion to the nearest half is a correctly rounded operation; NaN by NaN-ness';

/** Element counts: 'large' crosses the 64 Ki-element streaming tile (and threads' chunking) boundaries. */
function count(r: Rng, size: SizeClass): number {
  if (size === 'large') return r.pick([65535, 65536, 65537, 131071, r.int(65536 * 2, 65536 * 4 + 33)]);
  if (size === 'small') return r.int(2, 300);
  return dimOf(r, size, 0, 257);
}

/** f32 inputs: raw bit patterns (every class, NaN payloads), ties between halves, the f16 range edges. */
function f32Input(r: Rng, n: number): Float32Array {
  const a = new Float32Array(n), u = new Uint32Array(a.buffer);
  const mode = r.int(0, 3);
  for (let i = 0; i < n; i++) {
    if (mode === 0) u[i] = r.u32();
    else if (mode === 1) { // exact ties and their neighbours: half value + half a quantum (+-1 f32 ulp)
      const h = r.int(0, 0x7bff), v = refHalfValue(h), q = refHalfValue(h + 1) - v;
      a[i] = (r.bool() ? -1 : 1) * (v + q / 2); if (r.bool(0.3)) u[i] += r.bool() ? 1 : -1;
    } else if (mode === 2) a[i] = (r.bool() ? -1 : 1) * 2 ** (r.next() * 50 - 30);
    else a[i] = r.pick([0, -0, 65504, 65519.996, 65520, -65520, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 6.1e-5, Infinity, -Infinity, NaN, 1e-45]);
  }
  return a;
}

function halfInput(r: Rng, n: number): Uint16Array {
  const h = new Uint16Array(n);
  for (let i = 0; i < n; i++) h[i] = r.int(0, 0xffff);
  return h;
}

function checkBits(x: Float32Array, got: unknown): string | null {
  if (!(got instanceof Uint16Array) || got.length !== x.length) return `result is not a Uint16Array of ${x.length}`;
  for (let i = 0; i < x.length; i++) {
    const want = refHalfBits(refRoundHalf(x[i]));
    if (Number.isNaN(x[i]) ? !isHalfNaN(got[i]) : got[i] !== want) return `element ${i}: f16(${x[i]}) = 0x${got[i].toString(16)}, want 0x${want.toString(16)}`;
  }
  return null;
}

function checkValues(h: Uint16Array, got: unknown): string | null {
  if (!(got instanceof Float32Array) || got.length !== h.length) return `result is not a Float32Array of ${h.length}`;
  for (let i = 0; i < h.length; i++) {
    const want = refHalfValue(h[i]);
    if (!(Object.is(got[i], want) || (Number.isNaN(want) && Number.isNaN(got[i])))) return `element ${i}: 0x${h[i].toString(16)} -> ${got[i]}, want ${want}`;
  }
  return null;
}

function checkRounded(x: Float32Array, got: unknown): string | null {
  if (!(got instanceof Float32Array) || got.length !== x.length) return `result is not a Float32Array of ${x.length}`;
  for (let i = 0; i < x.length; i++) {
    const want = refRoundHalf(x[i]);
    if (!(Object.is(got[i], want) || (Number.isNaN(want) && Number.isNaN(got[i])))) return `element ${i}: round(${x[i]}) = ${got[i]}, want ${want}`;
  }
  return null;
}

function detached<T extends Float32Array | Uint16Array>(a: T): T {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  return a;
}

/** Engines with ArrayBuffer.prototype.detached throw ArgumentError; Node 20 sees an empty array: both are safe. */
const emptyOk = (got: unknown) => ((got as ArrayLike<number>)?.length === 0 ? null : 'a detached buffer produced a non-empty result');

/** Hostile arguments shared by the copying f16 ops. */
function hostileCopying(r: Rng, name: string, call: (x: any, out?: any) => unknown, good: () => Float32Array | Uint16Array, outOf: (n: number) => Float32Array | Uint16Array, hasOut: boolean): HostileCase {
  const k = hasOut ? r.int(0, 7) : r.pick([0, 3, 7]);
  const g = good();
  switch (k) {
    case 0: { const bad = r.pick<any>([null, undefined, 42, 'x', [1, 2], {}, new Float64Array(3), new Int8Array(3), new DataView(new ArrayBuffer(4))]);
      return { desc: `${name}(${Object.prototype.toString.call(bad)})`, call: () => call(bad), expect: [DTypeError] }; }
    case 1: { const n = g.length + r.pick([-1, 1, 7]);
      return { desc: `${name}(x[${g.length}], out[${n}])`, call: () => call(g, outOf(n)), expect: [ShapeError, ArgumentError], msg: /expected/ }; }
    case 2: return { desc: `${name}(x, out of the wrong dtype)`, call: () => call(g, g instanceof Float32Array ? new Int32Array(g.length) : new Float64Array(g.length)), expect: [DTypeError] };
    case 3: return { desc: `${name}(detached x)`, call: () => call(detached(g)), expect: [ArgumentError], orValid: emptyOk };
    case 4: return { desc: `${name}(x, detached out)`, call: () => call(g, detached(outOf(g.length))), expect: [ArgumentError, ShapeError], msg: /detached|expected/ };
    case 5: return { desc: `${name}(x, out = x)`, call: () => call(g, g), expect: [DTypeError], orValid: (got) => (got === g && g instanceof Float32Array && name === 'f16.round' ? null : 'accepted out = x') };
    case 6: return { desc: `${name}(x, out = 1)`, call: () => call(g, 1), expect: [DTypeError] };
    default: return { desc: `${name}(typed array subclass-like object)`, call: () => call({ length: 4, buffer: new ArrayBuffer(16), BYTES_PER_ELEMENT: 4 }), expect: [DTypeError] };
  }
}

function copyingSpec(name: string, inKind: 'f32' | 'f16', run: (tk: Tessera, x: any, out?: any) => unknown, check: (x: any, got: unknown) => string | null, outKind: 'f32' | 'f16', hasOut = true): OpSpec {
  const mk = (n: number) => (outKind === 'f32' ? new Float32Array(n) : new Uint16Array(n));
  return {
    name, family: 'f16', tolerance: EXACT,
    gen({ tk }, r, size) {
      const n = count(r, size);
      const x = place(r, inKind === 'f32' ? f32Input(r, n) : halfInput(r, n));
      const out = hasOut && r.bool(0.4) ? place(r, mk(n)) : undefined;
      const ref = inKind === 'f32' ? new Float32Array(x as Float32Array) : new Uint16Array(x as Uint16Array);
      return {
        desc: `n=${n} x:${placementOf(x)}${out ? ` out:${placementOf(out)}` : ''}`,
        inputs: [x], jsOutputs: out ? [out] : [],
        run: () => run(tk, x, out),
        check: (got) => (out && got !== out ? 'did not return the out buffer' : check(ref, got)),
      };
    },
    hostile({ tk }, r) {
      return hostileCopying(r, name, (x, out) => run(tk, x, out), () => (inKind === 'f32' ? f32Input(r, r.int(1, 40)) : halfInput(r, r.int(1, 40))), mk, hasOut);
    },
  };
}

function tensorHostile({ tk, other }: FuzzContext, r: Rng, name: string, call: (a: any, b: any) => unknown): HostileCase {
  const n = r.int(1, 50);
  const k = r.int(0, 5);
  const fix: { dispose(): void }[] = [];
  const t = <T extends { dispose(): void }>(x: T) => { fix.push(x); return x; };
  const dispose = () => fix.forEach((x) => x.dispose());
  switch (k) {
    case 0: return { desc: `${name}(f32[${n}], f16[${n + 1}])`, call: () => call(t(tk.tensor('f32', [n])), t(tk.tensor('f16', [n + 1]))), expect: [ShapeError], dispose };
    case 1: return { desc: `${name}(u8, f16)`, call: () => call(t(tk.tensor('u8', [n])), t(tk.tensor('f16', [n]))), expect: [DTypeError], dispose };
    case 2: { const a = t(tk.tensor('f32', [n])), b = tk.tensor('f16', [n]); b.dispose();
      return { desc: `${name}(f32, disposed f16)`, call: () => call(a, b), expect: [DisposedError], dispose }; }
    case 3: return { desc: `${name}(a tensor of another instance)`, call: () => call(t(other.tensor('f32', [n])), t(tk.tensor('f16', [n]))), expect: [ArgumentError], msg: /another tessera instance/, dispose };
    case 4: { const fake = { dtype: 'f32', length: n, shape: [n], ptr: 0, byteLength: n * 4 };
      return { desc: `${name}(plain object posing as a tensor at ptr 0, f16)`, call: () => call(t(tk.tensor('f16', [n])), fake), expect: [DTypeError, ArgumentError], dispose }; }
    default: return { desc: `${name}(null, null)`, call: () => call(null, null), expect: [DTypeError, ArgumentError], dispose };
  }
}

function convertSpec(name: string, run: (tk: Tessera, a: any, b: any) => unknown, async = false): OpSpec {
  return {
    name, family: 'f16', tolerance: EXACT, async,
    gen({ tk }, r, size) {
      const n = count(r, size);
      const toHalf = r.bool();
      const src = toHalf ? tk.tensorFrom(f32Input(r, n)) : tk.tensorFrom(halfInput(r, n));
      const dst = tk.tensor(toHalf ? 'f16' : 'f32', [n]);
      const x = src.read();
      return {
        desc: `n=${n} ${toHalf ? 'f32->f16' : 'f16->f32'}`,
        arenaOutputs: [dst.ptr],
        run: () => run(tk, src, dst),
        check: () => (toHalf ? checkBits(x as Float32Array, dst.read()) : checkValues(x as Uint16Array, dst.read())),
        dispose: () => { src.dispose(); dst.dispose(); },
      };
    },
    hostile: (ctx, r) => tensorHostile(ctx, r, name, (a, b) => run(ctx.tk, a, b)),
  };
}

export const F16_OPS: OpSpec[] = [
  copyingSpec('f16.fromF32', 'f32', (tk, x, o) => tk.f16.fromF32(x, o), checkBits, 'f16'),
  copyingSpec('f16.toF32', 'f16', (tk, h, o) => tk.f16.toF32(h, o), checkValues, 'f32'),
  copyingSpec('f16.round', 'f32', (tk, x, o) => tk.f16.round(x, o), checkRounded, 'f32'),
  convertSpec('f16.convert', (tk, a, b) => tk.f16.convert(a, b)),
  { ...copyingSpec('parallel.f16FromF32', 'f32', (tk, x) => tk.parallel.f16FromF32(x), checkBits, 'f16', false), async: true },
  { ...copyingSpec('parallel.f16ToF32', 'f16', (tk, h) => tk.parallel.f16ToF32(h), checkValues, 'f32', false), async: true },
  convertSpec('parallel.f16Convert', (tk, a, b) => tk.parallel.f16Convert(a, b), true),
];
