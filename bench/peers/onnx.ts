// Minimal ONNX ModelProto encoder (no dependencies), enough for single-op benchmark graphs:
// typed inputs/outputs, raw-data initializers, nodes with int/ints attributes. Adapted from our own
// research harness (/work/shared/peers/lib/onnx-builder.mjs).
export const DT = { FLOAT: 1, FLOAT16: 10 } as const;

class W {
  buf: number[] = [];
  varint(v: number): void { while (v >= 0x80) { this.buf.push((v % 128) | 0x80); v = Math.floor(v / 128); } this.buf.push(v); }
  key(field: number, wire: number): void { this.varint(field * 8 + wire); }
  int(field: number, v: number): void { this.key(field, 0); this.varint(v); }
  bytes(field: number, u8: Uint8Array): void { this.key(field, 2); this.varint(u8.length); for (let i = 0; i < u8.length; i++) this.buf.push(u8[i]); }
  str(field: number, s: string): void { this.bytes(field, new TextEncoder().encode(s)); }
  msg(field: number, w: W): void { this.bytes(field, w.finish()); }
  finish(): Uint8Array { return Uint8Array.from(this.buf); }
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0; for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
function varint(v: number): Uint8Array { const w = new W(); w.varint(v); return w.finish(); }

export interface Raw { raw: Uint8Array }
/** TensorProto (dims=1, data_type=2, name=8, raw_data=9) */
export function tensor(name: string, dataType: number, dims: number[], data: ArrayBufferView): Raw {
  const head = new W();
  for (const d of dims) head.int(1, d);
  head.int(2, dataType);
  head.str(8, name);
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { raw: concat([head.finish(), varint(9 * 8 + 2), varint(raw.length), raw]) };
}
/** ValueInfoProto with a static tensor type */
export function vi(name: string, elemType: number, dims: number[]): W {
  const shape = new W();
  for (const d of dims) { const dim = new W(); dim.int(1, d); shape.msg(1, dim); }
  const tt = new W(); tt.int(1, elemType); tt.msg(2, shape);
  const tp = new W(); tp.msg(1, tt);
  const v = new W(); v.str(1, name); v.msg(2, tp);
  return v;
}
/** NodeProto; attrs: number -> INT, number[] -> INTS; domain e.g. 'com.microsoft' for contrib ops */
export function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, number | number[]> = {}, domain = ''): W {
  const n = new W();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  n.str(4, op);
  for (const [k, v] of Object.entries(attrs)) {
    const a = new W(); a.str(1, k);
    if (Array.isArray(v)) { for (const x of v) a.int(8, x); a.int(20, 7); } else { a.int(3, v); a.int(20, 2); }
    n.msg(5, a);
  }
  if (domain) n.str(7, domain);
  return n;
}
/** ModelProto; `opsets` (domain '' = ai.onnx) default to [{ domain: '', version: opset ?? 17 }] */
export function buildModel(o: { inputs: W[]; outputs: W[]; initializers?: Raw[]; nodes: W[]; opset?: number; opsets?: { domain: string; version: number }[] }): Uint8Array {
  const g = new W();
  for (const n of o.nodes) g.msg(1, n);
  g.str(2, 'g');
  const parts = [g.finish()];
  for (const t of o.initializers ?? []) parts.push(varint(5 * 8 + 2), varint(t.raw.length), t.raw);
  const tail = new W();
  for (const i of o.inputs) tail.msg(11, i);
  for (const x of o.outputs) tail.msg(12, x);
  parts.push(tail.finish());
  const graph = concat(parts);
  const m = new W();
  m.int(1, 10);
  m.str(2, 'tessera-bench');
  for (const set of o.opsets ?? [{ domain: '', version: o.opset ?? 17 }]) {
    const os = new W(); if (set.domain) os.str(1, set.domain); os.int(2, set.version); m.msg(8, os);
  }
  return concat([m.finish(), varint(7 * 8 + 2), varint(graph.length), graph]);
}
