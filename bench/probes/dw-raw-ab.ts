// A/B of two builds of the depthwise kernel through the raw ABI (f32_dwconv_nchw, 3x3, pad 1, ReLU6), timed
// interleaved in one process (bench/lib/interleave.ts), outputs compared bit for bit. Put the builds at .bench-web/dw/A.<tier>.wasm and
// .bench-web/dw/B.<tier>.wasm (e.g. copies of build/tessera.<tier>.wasm before and after a change), then:
//   Node:     npx tsx bench/probes/dw-raw-ab.ts [tier] [cfgs]   (tier: relaxed (default) or simd128)
//   Bun:      node_modules/.bin/bun bench/probes/dw-raw-ab.ts simd128 [cfgs]
//   browsers: npx tsx bench/probes/browser.ts --probe=dw-raw-ab --browser=firefox --tier=relaxed [--cfg=...]
// cfgs: `C,H,W,stride` separated by `;` (default 32,112,112,1: MobileNet-v1's first depthwise layer).
import { enableNodeRelaxedSimd } from '../../bindings/env.js';
import { timeInterleaved } from '../lib/interleave.js';
const g = globalThis as { location?: { search: string }; process?: { argv: string[] } };
const q = new URLSearchParams(g.location?.search ?? '');
const argv = g.process?.argv?.slice(2) ?? [];
const tier = q.get('tier') ?? argv[0] ?? 'relaxed';
const cfgs = (q.get('cfg') ?? argv[1] ?? '32,112,112,1').split(';');

async function bytesOf(name: string): Promise<BufferSource> {
  const file = `.bench-web/dw/${name}.${tier}.wasm`;
  if (g.location) return (await fetch(`/${file}`)).arrayBuffer();
  const { readFileSync } = await import('node:fs');
  return readFileSync(file);
}
async function load(name: string) {
  const mem = new WebAssembly.Memory({ initial: 1024 });
  const { instance } = await WebAssembly.instantiate(await bytesOf(name), { env: { memory: mem } });
  return { k: instance.exports as any, mem };
}
if (tier === 'relaxed') await enableNodeRelaxedSimd(); // Node 20: the V8 flag, set at run time (no-op elsewhere)
const MA = await load('A'), MB = await load('B');
console.log(`${g.location ? navigator.userAgent : 'server runtime'}, ${tier}; ms per call, interleaved medians`);
for (const cfg of cfgs) {
  const [C, H, W, S] = cfg.split(',').map(Number);
  const ho = Math.floor((H + 2 - 3) / S) + 1, wo = Math.floor((W + 2 - 3) / S) + 1;
  const setup = ({ k, mem }: { k: any; mem: WebAssembly.Memory }) => {
    const f = new Float32Array(mem.buffer);
    let p = (k.heapBase() + 63) & ~63;
    const al = (n: number) => { const r = p; p = (p + n * 4 + 64 + 63) & ~63; return r; };
    const px = al(C * H * W), pw = al(C * 9), pb = al(C), py = al(C * ho * wo);
    let s = 1;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
    for (let i = 0; i < C * H * W; i++) f[(px >> 2) + i] = rnd();
    for (let i = 0; i < C * 9; i++) f[(pw >> 2) + i] = rnd();
    const pitch = k.dwconv_pitch(W, 1, 1, 3, S, wo);
    const ps = al(Math.ceil(k.f32_dwconv_scratch(3, pitch)) / 4);
    return {
      run: () => k.f32_dwconv_nchw(C, H, W, 3, 3, S, S, 1, 1, 1, ho, wo, px, pw, pb, py, 1, 0, 6, ps),
      out: () => f.slice(py >> 2, (py >> 2) + C * ho * wo),
    };
  };
  const a = setup(MA), b = setup(MB);
  a.run(); b.run();
  const ya = a.out(), yb = b.out();
  let diffs = 0;
  for (let i = 0; i < ya.length; i++) if (!Object.is(ya[i], yb[i])) diffs++;
  const t = timeInterleaved({ A: a.run, B: b.run }, { rounds: 60, minSampleMs: 5 });
  console.log(`${cfg}: A ${t.A.ms.toFixed(4)}  B ${t.B.ms.toFixed(4)}  B/A ${(t.B.ms / t.A.ms).toFixed(3)}  outputs differing ${diffs}`);
}
