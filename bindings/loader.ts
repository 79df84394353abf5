/**
 * Uniform loader: turns a wasm source (default: the binaries shipped in this package) into a
 * compiled WebAssembly.Module, in Node, Deno, Bun, browsers, workers and webviews.
 *   - file: URLs (Node/Deno/Bun, unbundled) are read with node:fs/promises;
 *   - http(s)/blob/custom-scheme URLs are fetched (compileStreaming when the server sends application/wasm);
 *   - bytes (ArrayBuffer / typed array) and WebAssembly.Module pass straight through
 *     (Cloudflare-style runtimes that forbid compiling from bytes at run time hand over a Module).
 */
import { WasmLoadError } from './errors.js';

export type Tier = 'simd128' | 'relaxed';
export type Flavor = Tier | 'simd128-shared' | 'relaxed-shared';
export type WasmSource = URL | string | ArrayBuffer | ArrayBufferView | WebAssembly.Module | Response;

/** Default URLs of the shipped binaries. Literal `new URL(..., import.meta.url)` so bundlers (Vite, webpack, esbuild) find and copy them. */
export function defaultWasmUrl(flavor: Flavor): URL {
  switch (flavor) {
    case 'simd128': return new URL('../build/tessera.simd128.wasm', import.meta.url);
    case 'relaxed': return new URL('../build/tessera.relaxed.wasm', import.meta.url);
    case 'simd128-shared': return new URL('../build/tessera.simd128-shared.wasm', import.meta.url);
    case 'relaxed-shared': return new URL('../build/tessera.relaxed-shared.wasm', import.meta.url);
  }
}

function describe(src: WasmSource): string {
  if (src instanceof URL) return src.href;
  if (typeof src === 'string') return src;
  if (src instanceof WebAssembly.Module) return '<WebAssembly.Module>';
  if (typeof Response !== 'undefined' && src instanceof Response) return src.url || '<Response>';
  return `<${(src as ArrayBufferView).byteLength} bytes>`;
}

async function readFileUrl(url: URL): Promise<Uint8Array> {
  const spec = 'node:fs/promises';
  const fs: any = await import(/* @vite-ignore */ spec);
  const { fileURLToPath } = await import(/* @vite-ignore */ 'node:url' as string);
  return new Uint8Array(await fs.readFile(fileURLToPath(url)));
}

/** Fetch/read/compile a source. Always resolves to a WebAssembly.Module or throws WasmLoadError. */
export async function compileSource(src: WasmSource): Promise<WebAssembly.Module> {
  const name = describe(src);
  try {
    if (src instanceof WebAssembly.Module) return src;
    if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) {
      const bytes = src instanceof ArrayBuffer ? new Uint8Array(src) : new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
      return await WebAssembly.compile(bytes as BufferSource);
    }
    let res: Response;
    if (typeof Response !== 'undefined' && src instanceof Response) {
      res = src;
    } else {
      const url = src instanceof URL ? src : new URL(src as string, (globalThis as any).location?.href ?? import.meta.url);
      if (url.protocol === 'file:') return await WebAssembly.compile((await readFileUrl(url)) as BufferSource);
      if (typeof fetch !== 'function') throw new Error('fetch() is not available; pass the wasm bytes or a WebAssembly.Module via init({ wasm })');
      res = await fetch(url);
    }
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const type = res.headers.get('content-type') ?? '';
    if (typeof WebAssembly.compileStreaming === 'function' && type.startsWith('application/wasm')) {
      return await WebAssembly.compileStreaming(res);
    }
    return await WebAssembly.compile(await res.arrayBuffer());
  } catch (e) {
    if (e instanceof WasmLoadError) throw e;
    throw new WasmLoadError(name, (e as Error)?.message ?? String(e), e);
  }
}

/** Raw (not yet wrapped) bytes of a source, for WebAssembly.validate before compiling. */
export function isModule(src: WasmSource): src is WebAssembly.Module {
  return src instanceof WebAssembly.Module;
}
