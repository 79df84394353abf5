// Minimal ONNX ModelProto encoder for the attention peer benchmark (adapted from our research harness,
// /work/shared/peers/lib/onnx-builder.mjs). Only what a single-node graph needs. Owned by the attention
// family until the dense family's shared bench/peers/ort.ts lands; then this can go.

export const DT = { FLOAT: 1, INT32: 6 } as const;

class W {
  buf: number[] = [];
  byte(b: number) { this.buf.push(b & 0xff); }
  varint(v: number) { while (v >= 0x80) { this.byte((v % 128) | 0x80); v = Math.floor(v / 128); } this.byte(v); }
  key(field: number, wire: number) { this.varint(field * 8 + wire); }
  int(field: number, v: number) { this.key(field, 0); this.varint(v); }
  bytes(field: number, u8: Uint8Array) { this.key(field, 2); this.varint(u8.length); for (const x of u8) this.buf.push(x); }
  str(field: number, s: string) { this.bytes(field, new TextEncoder().encode(s)); }
  msg(field: number, w: W) { this.bytes(field, w.finish()); }
  finish() { return Uint8Array.from(this.buf); }
}

/** ValueInfoProto { name=1, type=2 { tensor_type=1 { elem_type=1, shape=2 { dim=1 { dim_value=1 } } } } } */
export function vi(name: string, elemType: number, dims: number[]): W {
  const shape = new W();
  for (const d of dims) { const dim = new W(); dim.int(1, d); shape.msg(1, dim); }
  const tt = new W(); tt.int(1, elemType); tt.msg(2, shape);
  const tp = new W(); tp.msg(1, tt);
  const v = new W(); v.str(1, name); v.msg(2, tp);
  return v;
}

/** NodeProto { input=1, output=2, op_type=4, attribute=5 { name=1, i=3, type=20 (INT=2) }, domain=7 } with int attributes. */
export function node(opType: string, inputs: string[], outputs: string[], intAttrs: Record<string, number> = {}, domain = ''): W {
  const n = new W();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  n.str(4, opType);
  for (const [k, val] of Object.entries(intAttrs)) { const a = new W(); a.str(1, k); a.int(3, val); a.int(20, 2); n.msg(5, a); }
  if (domain) n.str(7, domain);
  return n;
}

/** ModelProto { ir_version=1, producer_name=2, graph=7 { node=1, name=2, input=11, output=12 }, opset_import=8 { domain=1, version=2 } } */
export function buildModel(o: { opsets: { domain: string; version: number }[]; inputs: W[]; outputs: W[]; nodes: W[] }): Uint8Array {
  const g = new W();
  for (const n of o.nodes) g.msg(1, n);
  g.str(2, 'g');
  for (const i of o.inputs) g.msg(11, i);
  for (const x of o.outputs) g.msg(12, x);
  const m = new W();
  m.int(1, 10);
  m.str(2, 'tessera-bench');
  for (const os of o.opsets) { const w = new W(); if (os.domain) w.str(1, os.domain); w.int(2, os.version); m.msg(8, w); }
  m.msg(7, g);
  return m.finish();
}
