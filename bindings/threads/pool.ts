/**
 * Thread pool over ONE shared WebAssembly.Memory.
 *
 * Threaded mode (`init({ threads: n })`): the main instance and n-1 workers each instantiate the same
 * `*-shared` module on the same shared memory. An op becomes a list of tile calls
 * `[exportName, ...pointerAndCountArgs]` writing disjoint parts of the output; every thread (the
 * main thread included, unless `useMain: false`) claims the next tile with `Atomics.add` on a
 * job counter in linear memory, so a slow core simply takes fewer tiles. Each tile runs the same
 * kernel on the same bytes whichever thread claims it, so results are bit-identical to one thread.
 *
 * The main thread never blocks: it computes its own tiles synchronously, then awaits the workers'
 * 'done' messages (postMessage), so this works on a browser main thread (where Atomics.wait throws).
 * Jobs are serialised (one at a time); a worker error rejects the job with a ThreadError and a dead
 * worker is replaced, so the instance stays usable.
 *
 * With one thread (no SharedArrayBuffer, no cross-origin isolation, threads: 1) the same API runs
 * every tile on the main thread.
 */
import { ArgumentError, DisposedError, ThreadError } from '../errors.js';
import type { Arena } from '../memory.js';
import { options } from '../validate.js';

/** One tile: [kernel export name, ...numeric args]. */
export type TileCall = [string, ...number[]];

export interface RunOptions {
  /** Let the main thread compute tiles too (default true). false: workers only (tests, UI responsiveness). */
  useMain?: boolean;
  /**
   * Per-thread scratch: kernels that need a private work area (packed A block, softmax tile) get one
   * block of `bytes` per thread; argument `arg` (0-based, after the kernel name) of every call is
   * replaced by the pointer of the thread that runs it. Freed when the job ends.
   */
  scratch?: { bytes: number; arg: number };
}

export interface PoolStats { jobs: number; tiles: number; tilesByThread: number[] }

type Port = {
  post(msg: unknown): void;
  terminate(): void;
  ref?(): void;
  unref?(): void;
};

interface WorkerSlot {
  id: number;
  port: Port;
  ready: Promise<void>;
  alive: boolean;
  onMessage: ((m: any) => void) | null;
  onFailure: ((err: Error) => void) | null;
}

const g = globalThis as any;
const isNode = typeof g.process !== 'undefined' && !!g.process?.versions?.node && typeof g.Deno === 'undefined' && typeof g.Bun === 'undefined' && typeof g.window === 'undefined';

/** Where the worker script lives: literal `new URL(..., import.meta.url)` so bundlers find it. */
export function workerUrl(): URL {
  return new URL('./worker.mjs', import.meta.url);
}

async function spawn(onMessage: (m: any) => void, onFailure: (e: Error) => void): Promise<Port> {
  if (isNode) {
    const spec = 'node:worker_threads';
    const wt: any = await import(/* @vite-ignore */ spec);
    const w = new wt.Worker(workerUrl());
    w.on('message', onMessage);
    w.on('error', (e: Error) => onFailure(e));
    w.on('exit', (code: number) => onFailure(new Error(`worker exited with code ${code}`)));
    w.unref();
    return { post: (m) => w.postMessage(m), terminate: () => { w.removeAllListeners('exit'); void w.terminate(); }, ref: () => w.ref(), unref: () => w.unref() };
  }
  if (typeof g.Worker !== 'function') throw new Error('no Worker constructor in this runtime');
  const w: any = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  w.onmessage = (e: MessageEvent) => onMessage(e.data);
  w.onerror = (e: ErrorEvent) => { e.preventDefault?.(); onFailure(new Error(e.message || 'worker error')); };
  w.onmessageerror = () => onFailure(new Error('worker message could not be deserialised'));
  return {
    post: (m) => w.postMessage(m),
    terminate: () => w.terminate(),
    ref: typeof w.ref === 'function' ? () => w.ref() : undefined,
    unref: typeof w.unref === 'function' ? () => w.unref() : undefined,
  };
}

export class ThreadPool {
  /** Total compute threads: the main thread plus workers. */
  get size(): number { return 1 + this.workers.length; }
  readonly stats: PoolStats = { jobs: 0, tiles: 0, tilesByThread: [0] };
  private workers: WorkerSlot[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private jobSeq = 0;
  private disposed = false;

  private constructor(
    private readonly module: WebAssembly.Module | null,
    private readonly memory: WebAssembly.Memory,
    private readonly exports: Record<string, unknown>,
    private readonly arena: Arena,
  ) {}

  /** A pool that runs everything on the calling thread (no workers). */
  static single(memory: WebAssembly.Memory, exports: Record<string, unknown>, arena: Arena): ThreadPool {
    return new ThreadPool(null, memory, exports, arena);
  }

  /**
   * Start `threads - 1` workers on a shared memory. Resolves once every worker instantiated the module;
   * rejects (and terminates what it started) if any worker fails within `timeoutMs`.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, exports: Record<string, unknown>, arena: Arena, threads: number, timeoutMs = 20_000): Promise<ThreadPool> {
    const pool = new ThreadPool(module, memory, exports, arena);
    try {
      for (let i = 1; i < threads; i++) pool.workers.push(await pool.startWorker(i));
      await withTimeout(Promise.all(pool.workers.map((w) => w.ready)), timeoutMs, 'workers did not start');
    } catch (e) {
      pool.dispose();
      throw e;
    }
    pool.stats.tilesByThread = new Array(threads).fill(0);
    return pool;
  }

  private async startWorker(id: number): Promise<WorkerSlot> {
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    const slot: WorkerSlot = {
      id, port: null as unknown as Port, alive: true, onMessage: null, onFailure: null,
      ready: new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; }),
    };
    slot.ready.catch(() => undefined);
    let started = false;
    const onMessage = (m: any) => {
      if (m?.type === 'ready') { started = true; slot.port.unref?.(); readyResolve(); return; }
      if (m?.type === 'fatal') { slot.alive = false; readyReject(new Error(`worker ${id} could not instantiate the module: ${m.message}`)); return; }
      slot.onMessage?.(m);
    };
    const onFailure = (e: Error) => {
      if (!slot.alive) return;
      slot.alive = false;
      if (!started) readyReject(e);
      slot.onFailure?.(e);
    };
    slot.port = await spawn(onMessage, onFailure);
    slot.port.ref?.(); // keep Node alive until the worker reports ready
    slot.port.post({ type: 'init', id, module: this.module, memory: this.memory });
    return slot;
  }

  /** Run one kernel over many argument tuples: `run('f32_f16_vcvt__wasmsimd_u16', [[src, dst, n], ...])`. */
  run(kernel: string, tiles: readonly (readonly number[])[], opts?: RunOptions): Promise<void> {
    return this.runCalls(tiles.map((t) => [kernel, ...t] as TileCall), opts);
  }

  /** Run heterogeneous tile calls (each one a kernel export plus numeric args), in any order, on all threads. */
  runCalls(calls: readonly TileCall[], opts?: RunOptions): Promise<void> {
    opts = options('pool.runCalls', opts, ['useMain', 'scratch']);
    if (this.disposed) return Promise.reject(new DisposedError('thread pool'));
    for (const c of calls) {
      if (typeof this.exports[c[0]] !== 'function') return Promise.reject(new ArgumentError(`pool: no kernel export named '${c[0]}'`));
      for (let i = 1; i < c.length; i++) if (typeof c[i] !== 'number' || Number.isNaN(c[i])) return Promise.reject(new ArgumentError(`pool: ${c[0]} argument ${i - 1} is not a number`));
    }
    const sc = opts.scratch;
    if (sc && (!Number.isSafeInteger(sc.bytes) || sc.bytes < 0 || !Number.isInteger(sc.arg) || sc.arg < 0 || calls.some((c) => c.length <= sc.arg + 1))) {
      return Promise.reject(new ArgumentError('pool: scratch needs integer bytes >= 0 and an argument index every call has'));
    }
    const p = this.queue.then(() => this.execute(calls, opts.useMain ?? true, sc));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async execute(calls: readonly TileCall[], useMain: boolean, sc: RunOptions['scratch']): Promise<void> {
    if (this.disposed) throw new DisposedError('thread pool');
    if (calls.length === 0) return;
    this.stats.jobs++;
    this.stats.tiles += calls.length;
    await this.reviveDead();
    const live = this.workers.filter((w) => w.alive);
    const blocks: number[] = [];
    try {
      // one scratch block per participating thread (index 0 = main)
      if (sc) for (let t = 0; t <= live.length; t++) blocks.push(this.arena.allocPersistent(Math.max(sc.bytes, 16), 64, 'pool-scratch'));
      const scratchArg = sc ? sc.arg + 1 : -1; // index inside the TileCall array
      if (live.length === 0 || (calls.length === 1 && useMain)) {
        // nothing to share: run here, synchronously
        for (let i = 0; i < calls.length; i++) this.callHere(calls[i], i, scratchArg, blocks[0]);
        this.stats.tilesByThread[0] += calls.length;
        return;
      }
      const job = ++this.jobSeq;
      const counterPtr = this.arena.allocPersistent(4, 16, 'pool-counter');
      blocks.push(counterPtr);
      const counter = new Int32Array(this.memory.buffer, counterPtr, 1);
      Atomics.store(counter, 0, 0);
      const waits = live.map((w) => this.awaitWorker(w, job));
      live.forEach((w, t) => {
        w.port.ref?.();
        w.port.post({ type: 'job', job, counter: counterPtr, calls, scratchArg, scratch: sc ? blocks[t + 1] : 0 });
      });
      let mainErr: unknown = null;
      if (useMain) {
        let i = -1;
        try {
          for (;;) {
            i = Atomics.add(counter, 0, 1);
            if (i >= calls.length) break;
            this.callHere(calls[i], i, scratchArg, blocks[0]);
            this.stats.tilesByThread[0]++;
          }
        } catch (e) {
          Atomics.store(counter, 0, calls.length);
          mainErr = e;
        }
      }
      const outcomes = await Promise.allSettled(waits);
      for (const w of live) w.port.unref?.();
      if (mainErr) throw mainErr;
      const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
    } finally {
      for (const b of blocks) this.arena.free(b);
    }
  }

  private callHere(c: TileCall, tile: number, scratchArg = -1, scratch = 0): void {
    try {
      const args = c.slice(1) as number[];
      if (scratchArg > 0) args[scratchArg - 1] = scratch;
      (this.exports[c[0]] as (...a: number[]) => void)(...args);
    } catch (e) {
      throw new ThreadError(`tile ${tile} (${c[0]}) failed on the main thread: ${(e as Error)?.message ?? e}`, { kernel: c[0], tile, thread: 0, cause: e });
    }
  }

  private awaitWorker(w: WorkerSlot, job: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      w.onMessage = (m: any) => {
        if (m?.job !== job) return;
        w.onMessage = null; w.onFailure = null;
        if (m.type === 'done') { this.stats.tilesByThread[w.id] = (this.stats.tilesByThread[w.id] ?? 0) + m.tiles; resolve(); }
        else reject(new ThreadError(`tile ${m.tile} (${m.kernel}) failed in worker ${w.id}: ${m.name}: ${m.message}`, { kernel: m.kernel, tile: m.tile, thread: w.id }));
      };
      w.onFailure = (e: Error) => {
        w.onMessage = null; w.onFailure = null;
        reject(new ThreadError(`worker ${w.id} died during a job: ${e.message}`, { thread: w.id, cause: e }));
      };
    });
  }

  /** Replace workers that died (crash, uncaught error) so the pool keeps its size. */
  private async reviveDead(): Promise<void> {
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[i];
      if (w.alive) continue;
      try { w.port.terminate(); } catch { /* already gone */ }
      try {
        const fresh = await this.startWorker(w.id);
        await withTimeout(fresh.ready, 20_000, `worker ${w.id} did not restart`);
        this.workers[i] = fresh;
      } catch {
        // keep running with fewer threads; the job still completes (main thread + remaining workers)
      }
    }
  }

  /** Test hook: make worker `i` (1-based thread id) throw an uncaught error and die. */
  crashWorkerForTest(thread: number): Promise<void> {
    const w = this.workers.find((x) => x.id === thread);
    if (!w) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const prev = w.onFailure;
      w.onFailure = (e) => { prev?.(e); resolve(); };
      w.port.ref?.();
      w.port.post({ type: 'crash' });
    });
  }

  /** Terminate all workers. */
  dispose(): void {
    this.disposed = true;
    for (const w of this.workers) { w.alive = false; try { w.port.terminate(); } catch { /* ignore */ } }
    this.workers = [];
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const t = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what} within ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
