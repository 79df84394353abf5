// How fast can a result be copied out of linear memory into a fresh JS array? Times six ways to do it, for a shared and
// a non-shared WebAssembly.Memory, 1.6 MB (the depthwise 112x112x32 output), in an otherwise empty page / process.
//   npx tsx bench/probes/browser.ts --probe=readback --browser=webkit|chromium|firefox;  npx tsx bench/probes/readback.ts;  npx bun bench/probes/readback.ts
// 2026-11-24, EPYC VM: every copying way costs the same within a runtime (shared or not): Chromium 156 0.69-0.89 ms,
// Firefox 153 0.66-0.77 ms (~2.3 GB/s: fresh pages faulted in as they are written; the zeroed allocation alone is
// 0.02 ms), WebKitGTK 2.50 and Bun 0.09-0.11 ms, Node 20 0.10-0.13 ms non-shared. In a page that also holds the
// peers' heaps (bench/suites/dense.ts) the fresh-array rows lose 1-4 ms more per call (not seen here: likely the GC of the larger heap).
const N = 112 * 112 * 32;
const log = (s: string) => console.log(s);
for (const shared of [true, false]) {
  let mem: WebAssembly.Memory;
  try { mem = new WebAssembly.Memory({ initial: 1024, maximum: 16384, shared } as any); } catch { log(`shared=${shared}: unavailable`); continue; }
  const view = new Float32Array(mem.buffer, 1 << 20, N);
  for (let i = 0; i < N; i++) view[i] = i * 0.5;
  const ways: Record<string, () => Float32Array> = {
    'new only (zeroed)': () => new Float32Array(N),
    'slice()': () => view.slice(),
    'new + set(view)': () => { const o = new Float32Array(N); o.set(view); return o; },
    'new Float32Array(view)': () => new Float32Array(view),
    'buffer.slice -> view': () => new Float32Array(mem.buffer.slice(1 << 20, (1 << 20) + 4 * N)),
    'from u8 slice': () => new Float32Array(new Uint8Array(mem.buffer, 1 << 20, 4 * N).slice().buffer),
  };
  const T: Record<string, number[]> = {};
  let sink = 0;
  for (let r = 0; r < 60; r++) for (const [k, f] of Object.entries(ways)) {
    const t0 = performance.now(); let o: Float32Array | undefined;
    for (let j = 0; j < 10; j++) o = f();
    (T[k] ??= []).push((performance.now() - t0) / 10); sink += o![N - 1];
  }
  for (const [k, t] of Object.entries(T)) { t.sort((a, b) => a - b); log(`shared=${shared} ${k}: median ${t[30].toFixed(3)} ms, min ${t[0].toFixed(3)} ms`); }
  log(`sink ${sink}`);
}
