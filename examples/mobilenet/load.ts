/**
 * Runtime-neutral file access for the example, the unit test and the bench:
 *  - file: URLs (Node, Deno, Bun running from the repo) are read with node:fs/promises, imported
 *    lazily with a non-literal specifier so browser bundles never see it;
 *  - http(s) URLs (browser, e.g. the Vitest/Vite dev server serving the repo root) are fetched.
 * The face-api weights are addressed relative to this file: `../../node_modules/@vladmandic/face-api/model/`,
 * which is a file: URL under Node and `http://<dev-server>/node_modules/...` under Vite.
 */
import { loadWeights, type DecodedWeight } from './weights.js';

// Non-literal specifier on purpose: Vite rewrites literal `new URL('...', import.meta.url)` asset
// references and drops the trailing slash of a directory.
const MODEL_DIR_REL = 'node_modules/@vladmandic/face-api/model/';
/** The repository root, resolved from this file (pass your own when this module is bundled elsewhere). */
const UP2 = '../../'; // non-literal (see above)
export const REPO_ROOT = new URL(UP2, import.meta.url);
export const FACE_API_MODEL_DIR = new URL(MODEL_DIR_REL, REPO_ROOT);
export const faceApiModelDir = (repoRoot: URL = REPO_ROOT): URL => new URL(MODEL_DIR_REL, repoRoot);
export const SSD_MOBILENET_MANIFEST = 'ssd_mobilenetv1_model-weights_manifest.json';

export async function readBytes(url: URL): Promise<Uint8Array> {
  if (url.protocol === 'file:') {
    const spec = 'node:fs/promises';
    const fs: { readFile(p: URL): Promise<Uint8Array> } = await import(/* @vite-ignore */ spec);
    const b = await fs.readFile(url);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fetch ${url.href}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

export async function readJson(url: URL): Promise<unknown> {
  return JSON.parse(new TextDecoder().decode(await readBytes(url)));
}

/** Load a tfjs weights manifest and its shards from a directory URL. */
export async function loadManifestWeights(dir: URL, manifestFile: string): Promise<Map<string, DecodedWeight>> {
  const manifest = await readJson(new URL(manifestFile, dir));
  return loadWeights(manifest, (p) => readBytes(new URL(p, dir)));
}

/** The SSD-MobileNet-v1 weights shipped in @vladmandic/face-api (5.6 MB, uint8-quantized). */
export function loadFaceApiSsdMobilenet(dir: URL = FACE_API_MODEL_DIR): Promise<Map<string, DecodedWeight>> {
  return loadManifestWeights(dir, SSD_MOBILENET_MANIFEST);
}
