// tessera thread-pool worker. Plain JavaScript on purpose: the same file is loaded unchanged by
// Node worker_threads (tsx cannot load .ts workers), browser module Workers, Deno and Bun.
//
// Protocol (see pool.ts):
//   in  { type: 'init', id, module, memory }     -> instantiate `module` on the SHARED `memory`
//   out { type: 'ready', id } | { type: 'fatal', id, message }
//   in  { type: 'job', job, counter, calls, scratchArg, scratch }
//                                                -> claim tiles with Atomics.add on the i32 at byte
//                                                   offset `counter` until it passes calls.length;
//                                                   calls[i] = [exportName, ...numberArgs]; if
//                                                   scratchArg > 0, calls[i][scratchArg] is replaced
//                                                   by `scratch` (this thread's private block)
//   out { type: 'done', job, tiles } | { type: 'error', job, tile, kernel, name, message }
//   in  { type: 'crash' }                        -> test hook: throw outside any handler (worker dies)
//
// Every instance has its own globals; static data (below heapBase) is re-applied with identical
// bytes on instantiation; kernels never allocate, so many instances can share one memory.
let post;
let exportsOf = null;
let memory = null;
let workerId = -1;

function abort() { throw new Error('tessera wasm abort'); }

async function onMessage(msg) {
  if (msg.type === 'init') {
    workerId = msg.id;
    try {
      memory = msg.memory;
      const instance = await WebAssembly.instantiate(msg.module, { env: { memory, abort } });
      exportsOf = instance.exports;
      post({ type: 'ready', id: workerId });
    } catch (e) {
      post({ type: 'fatal', id: workerId, message: String(e && e.message || e) });
    }
    return;
  }
  if (msg.type === 'job') {
    // re-read memory.buffer every job: a grown shared memory hands out a new, longer SharedArrayBuffer
    const counter = new Int32Array(memory.buffer, msg.counter, 1);
    const calls = msg.calls;
    let tiles = 0;
    let i = -1;
    try {
      for (;;) {
        i = Atomics.add(counter, 0, 1);
        if (i >= calls.length) break;
        const c = calls[i];
        const fn = exportsOf[c[0]];
        if (typeof fn !== 'function') throw new TypeError(`no kernel export named ${c[0]}`);
        const args = c.slice(1);
        if (msg.scratchArg > 0) args[msg.scratchArg - 1] = msg.scratch; // this thread's private scratch block
        fn.apply(null, args);
        tiles++;
      }
      post({ type: 'done', job: msg.job, tiles });
    } catch (e) {
      // stop the other threads from claiming more tiles of a failed job
      Atomics.store(counter, 0, calls.length);
      post({ type: 'error', job: msg.job, tile: i, kernel: calls[i] ? String(calls[i][0]) : '', name: String(e && e.name || 'Error'), message: String(e && e.message || e) });
    }
    return;
  }
  if (msg.type === 'crash') {
    setTimeout(() => { throw new Error('tessera worker crash requested (test hook)'); }, 0);
  }
}

// Web Workers (browsers, Deno, Bun) have self.postMessage; Node worker_threads has no `self`.
const isWebWorker = typeof self !== 'undefined' && typeof self.postMessage === 'function';
if (isWebWorker) {
  post = (m) => self.postMessage(m);
  self.onmessage = (e) => { onMessage(e.data); };
} else {
  const spec = 'node:worker_threads';
  const { parentPort } = await import(/* @vite-ignore */ spec);
  post = (m) => parentPort.postMessage(m);
  parentPort.on('message', (m) => { onMessage(m); });
}
