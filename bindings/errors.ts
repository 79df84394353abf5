/**
 * Typed errors. Every error tessera throws is a TesseraError with a stable `code`, so callers can
 * branch on `err.code` (or `instanceof`) instead of parsing messages.
 */
export class TesseraError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** No usable `WebAssembly` global (iOS/macOS Lockdown Mode, hardened webviews, some CSPs). */
export class WasmUnavailableError extends TesseraError {
  constructor(detail = '') {
    super('ERR_WASM_UNAVAILABLE', `WebAssembly is not available in this runtime${detail ? ': ' + detail : ''}. ` +
      'Lockdown Mode on iOS/macOS and some hardened webviews remove it; tessera needs WebAssembly with SIMD128.');
  }
}

/** The runtime cannot run the requested SIMD tier (or any SIMD at all). */
export class SimdUnsupportedError extends TesseraError {
  constructor(message: string) { super('ERR_SIMD_UNSUPPORTED', message); }
}

/** init() was called while another init() was still running. Await the first one. */
export class InitInProgressError extends TesseraError {
  constructor() {
    super('ERR_INIT_IN_PROGRESS', 'tessera init() is already running; await the pending init() instead of calling it twice concurrently.');
  }
}

/** The wasm binary could not be fetched, read or compiled. */
export class WasmLoadError extends TesseraError {
  readonly source: string;
  constructor(source: string, message: string, cause?: unknown) {
    super('ERR_WASM_LOAD', `failed to load tessera wasm from ${source}: ${message}`, { cause });
    this.source = source;
  }
}

/** The start-up numerical self-test failed on the chosen tier (e.g. a JIT SIMD miscompile). */
export class SelfTestError extends TesseraError {
  constructor(tier: string, detail: string) {
    super('ERR_SELFTEST', `tessera ${tier} self-test failed: ${detail}`);
  }
}

/** Linear memory would have to grow beyond maxMemoryBytes, or the engine refused to grow it. */
export class OutOfMemoryError extends TesseraError {
  readonly requestedBytes: number;
  readonly limitBytes: number;
  constructor(requestedBytes: number, limitBytes: number, detail = '') {
    super('ERR_OUT_OF_MEMORY', `tessera needs ${requestedBytes} bytes of linear memory but the limit is ${limitBytes}` +
      (detail ? ` (${detail})` : '') + '. Use smaller tiles or batches, dispose tensors you no longer need, or raise init({ maxMemoryBytes }).');
    this.requestedBytes = requestedBytes;
    this.limitBytes = limitBytes;
  }
}

/** Dimensions or buffer lengths do not match what the op needs. */
export class ShapeError extends TesseraError {
  constructor(message: string) { super('ERR_SHAPE', message); }
}

/** A buffer has the wrong element type. */
export class DTypeError extends TesseraError {
  constructor(message: string) { super('ERR_DTYPE', message); }
}

/** An option or argument is invalid (not a shape problem). */
export class ArgumentError extends TesseraError {
  constructor(message: string) { super('ERR_ARGUMENT', message); }
}

/** A packed sparse matrix (or its serialized bytes) is malformed; it never reaches a kernel. */
export class SparseFormatError extends TesseraError {
  constructor(message: string) { super('ERR_SPARSE_FORMAT', message); }
}

/** A tensor, packed weight or instance was used after dispose(). */
export class DisposedError extends TesseraError {
  constructor(what: string) { super('ERR_DISPOSED', `${what} was used after dispose()`); }
}

/** Debug mode found a guard byte overwritten: some code wrote outside its buffer. */
export class MemoryCorruptionError extends TesseraError {
  constructor(message: string) { super('ERR_MEMORY_CORRUPTION', message); }
}

/**
 * A tile of a threaded op failed: a kernel trapped (e.g. out-of-bounds pointer) or a worker died.
 * The pool stays usable (a dead worker is replaced); `kernel`/`tile` say which call failed.
 */
export class ThreadError extends TesseraError {
  readonly kernel: string;
  readonly tile: number;
  readonly thread: number;
  constructor(message: string, info: { kernel?: string; tile?: number; thread?: number; cause?: unknown } = {}) {
    super('ERR_THREAD', message, { cause: info.cause });
    this.kernel = info.kernel ?? '';
    this.tile = info.tile ?? -1;
    this.thread = info.thread ?? -1;
  }
}
