/**
 * Reader for the TensorFlow.js weights manifest format (`*-weights_manifest.json` + `.bin` shards).
 *
 * Manifest = array of groups `{ paths: string[], weights: WeightSpec[] }` (or a model.json object
 * whose `weightsManifest` field is that array). A group's shards are concatenated in `paths` order
 * into one byte stream, and the group's weights are laid out back to back in that stream, each
 * taking `numel * bytesPerElement` bytes, where the element type is the quantization dtype if
 * present, else the weight dtype.
 *
 * Dequantization (the same arithmetic as tfjs-core's decodeWeights, so values are bit-identical to
 * what tfjs would load):
 *   uint8 / uint16 -> float32: q * scale + min (computed in f64, stored as f32)
 *   uint8 / uint16 -> int32:   Math.round(q * scale + min)
 *   float16        -> float32: IEEE half to float
 * No dependency on tfjs: this file is plain TypeScript.
 */

export type WeightDType = 'float32' | 'int32' | 'bool';
export type QuantDType = 'uint8' | 'uint16' | 'float16';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDType | string;
  quantization?: { dtype: QuantDType | string; scale?: number; min?: number; original_dtype?: string };
}
export interface WeightGroup { paths: string[]; weights: WeightSpec[] }
export type WeightsManifest = WeightGroup[];

export interface DecodedWeight {
  name: string;
  shape: number[];
  dtype: WeightDType;
  /** float32 -> Float32Array, int32 -> Int32Array, bool -> Uint8Array (0/1) */
  data: Float32Array | Int32Array | Uint8Array;
  /** storage dtype in the .bin (quantization dtype, or the weight dtype if not quantized) */
  stored: string;
  /** the manifest's quantization entry, if any */
  quantization?: WeightSpec['quantization'];
}

/** Reads a shard given its path relative to the manifest (e.g. 'ssd_mobilenetv1_model.bin'). */
export type ShardReader = (path: string) => Promise<Uint8Array>;

export class ManifestError extends Error {
  constructor(message: string) { super(message); this.name = 'ManifestError'; }
}

const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Accepts a bare manifest array or a tfjs model.json object with `weightsManifest`. */
export function parseManifest(json: unknown): WeightsManifest {
  const m = Array.isArray(json) ? json : (json as { weightsManifest?: unknown })?.weightsManifest;
  if (!Array.isArray(m)) throw new ManifestError('weights manifest must be an array of groups (or an object with weightsManifest)');
  for (const g of m) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new ManifestError('each manifest group needs paths[] and weights[]');
    for (const w of g.weights) {
      if (typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string') throw new ManifestError(`bad weight entry ${JSON.stringify(w)}`);
      for (const d of w.shape) if (!Number.isInteger(d) || d < 0) throw new ManifestError(`${w.name}: bad shape [${w.shape}]`);
    }
  }
  return m as WeightsManifest;
}

function numel(shape: number[]): number { return shape.reduce((a, b) => a * b, 1); }

/** IEEE 754 binary16 bits -> number (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decode one weight from its bytes (exactly numel * storedBytes long). */
export function decodeWeight(spec: WeightSpec, bytes: Uint8Array): DecodedWeight {
  const n = numel(spec.shape);
  const q = spec.quantization;
  const stored = q ? q.dtype : spec.dtype;
  const size = STORED_BYTES[stored];
  if (size === undefined) throw new ManifestError(`${spec.name}: unsupported storage dtype '${stored}'`);
  if (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool') throw new ManifestError(`${spec.name}: unsupported dtype '${spec.dtype}'`);
  if (bytes.byteLength !== n * size) throw new ManifestError(`${spec.name}: expected ${n * size} bytes, got ${bytes.byteLength}`);
  // copy to an aligned buffer so typed views are legal whatever the offset inside the shard
  const buf = bytes.slice().buffer;
  const dtype = spec.dtype as WeightDType;
  if (!q) {
    const data = dtype === 'float32' ? new Float32Array(buf) : dtype === 'int32' ? new Int32Array(buf) : new Uint8Array(buf);
    return { name: spec.name, shape: spec.shape, dtype, data, stored, quantization: q };
  }
  if (q.dtype === 'float16') {
    if (dtype !== 'float32') throw new ManifestError(`${spec.name}: float16 quantization needs dtype float32, got ${dtype}`);
    const h = new Uint16Array(buf), data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = halfToFloat(h[i]);
    return { name: spec.name, shape: spec.shape, dtype, data, stored, quantization: q };
  }
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16') throw new ManifestError(`${spec.name}: unsupported quantization '${q.dtype}'`);
  if (typeof q.scale !== 'number' || typeof q.min !== 'number') throw new ManifestError(`${spec.name}: ${q.dtype} quantization needs scale and min`);
  const qa = q.dtype === 'uint8' ? new Uint8Array(buf) : new Uint16Array(buf);
  const { scale, min } = q;
  if (dtype === 'float32') {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = qa[i] * scale + min;
    return { name: spec.name, shape: spec.shape, dtype, data, stored, quantization: q };
  }
  if (dtype === 'int32') {
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.round(qa[i] * scale + min);
    return { name: spec.name, shape: spec.shape, dtype, data, stored, quantization: q };
  }
  throw new ManifestError(`${spec.name}: quantized ${dtype} is not supported`);
}

/** Load every weight of a manifest. `read` fetches shards by their manifest path. */
export async function loadWeights(manifestJson: unknown, read: ShardReader): Promise<Map<string, DecodedWeight>> {
  const manifest = parseManifest(manifestJson);
  const out = new Map<string, DecodedWeight>();
  for (const group of manifest) {
    const shards = await Promise.all(group.paths.map((p) => read(p)));
    const total = shards.reduce((a, s) => a + s.byteLength, 0);
    const stream = new Uint8Array(total);
    let o = 0;
    for (const s of shards) { stream.set(s, o); o += s.byteLength; }
    let off = 0;
    for (const spec of group.weights) {
      const stored = spec.quantization ? spec.quantization.dtype : spec.dtype;
      const len = numel(spec.shape) * (STORED_BYTES[stored] ?? NaN);
      if (!Number.isFinite(len)) throw new ManifestError(`${spec.name}: unsupported storage dtype '${stored}'`);
      if (off + len > total) throw new ManifestError(`${spec.name}: needs bytes [${off}, ${off + len}) but the group has ${total}`);
      if (out.has(spec.name)) throw new ManifestError(`duplicate weight name ${spec.name}`);
      out.set(spec.name, decodeWeight(spec, stream.subarray(off, off + len)));
      off += len;
    }
    if (off !== total) throw new ManifestError(`group [${group.paths.join(', ')}]: weights use ${off} bytes, shards hold ${total}`);
  }
  return out;
}
