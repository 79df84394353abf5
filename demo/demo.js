// tessera demo page script. Loads the built package (dist/ + build/*.wasm, `npm run build`), runs
// every op it has a demo case for, checks each result against plain JavaScript, and lists the op
// namespaces the instance exposes (so new kernel families show up even before they get a case).
// window.__demo = { done, ok, results, features } is what tests/node/demo.test.ts reads.
import { init } from '../dist/index.js';

const $ = (id) => document.getElementById(id);
const state = (window.__demo = { done: false, ok: false, results: [], features: null, error: null });

// ---- plain-JS references (independent of tessera) ----
const f32buf = new Float32Array(1), u32buf = new Uint32Array(f32buf.buffer);
/** f32 -> f16 bits, round to nearest even (reference). */
function f16bits(x) {
  f32buf[0] = x;
  const b = u32buf[0], sign = (b >>> 16) & 0x8000, e = (b >>> 23) & 0xff, m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  let exp = e - 127 + 15;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const mm = m | 0x800000, shift = 14 - exp;
    let h = mm >>> shift; const rem = mm & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (exp << 10) | (m >>> 13); const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}
function rand(n, seed, lo = -1, hi = 1) {
  let a = seed >>> 0; const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), a | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296); }
  return out;
}
const time = async (fn) => { const t0 = performance.now(); const r = await fn(); return [r, performance.now() - t0]; };
const maxAbsDiff = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

// ---- demo cases: { ns, name, shape, run(tk) -> { ms, pass, check, summary } }; a case runs when tk[ns] exists ----
const CASES = [
  {
    ns: 'f16', name: 'f16.fromF32', shape: 'n=65536',
    async run(tk) {
      const x = rand(65536, 1, -70000, 70000); x[0] = 65520; x[1] = 1 + 2 ** -11; x[2] = 2 ** -25;
      const [h, ms] = await time(() => tk.f16.fromF32(x));
      let bad = 0; for (let i = 0; i < x.length; i++) if (h[i] !== f16bits(x[i])) bad++;
      return { ms, pass: bad === 0, check: `${bad} mismatching bits (RNE reference)`, summary: `65520 → 0x${h[0].toString(16)} (inf), 1+2⁻¹¹ → 0x${h[1].toString(16)}` };
    },
  },
  {
    ns: 'f16', name: 'f16.toF32 round trip', shape: 'n=65536',
    async run(tk) {
      const x = rand(65536, 2, -1000, 1000);
      const h = tk.f16.fromF32(x);
      const [y, ms] = await time(() => tk.f16.toF32(h));
      let worst = 0; for (let i = 0; i < x.length; i++) if (x[i] !== 0) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.abs(x[i]));
      // half precision keeps 11 significant bits: relative rounding error <= 2^-11 for normal values
      return { ms, pass: worst <= 2 ** -11, check: `max rel err ${worst.toExponential(2)} ≤ 2⁻¹¹`, summary: `x[0]=${x[0].toFixed(4)} → ${y[0]}` };
    },
  },
  {
    ns: 'parallel', name: 'parallel.f16FromF32', shape: 'n=1048576',
    async run(tk) {
      const x = rand(1 << 20, 3, -70000, 70000);
      const one = tk.f16.fromF32(x);
      const [par, ms] = await time(() => tk.parallel.f16FromF32(x));
      let bad = 0; for (let i = 0; i < x.length; i++) if (par[i] !== one[i]) bad++;
      return { ms, pass: bad === 0, check: `${bad} bits differ from 1 thread`, summary: `tiles by thread: [${tk.pool.stats.tilesByThread.join(', ')}]` };
    },
  },
];

/** f64 reference GEMM and the classic forward-error bound |fl(a·b) - a·b| <= gamma_k · sum|a_i b_i|, gamma_k = k·u / (1 - k·u), u = 2^-24 (f32). */
function gemmCheck(a, b, c, m, k, n) {
  const u = 2 ** -24, gamma = (k * u) / (1 - k * u);
  let worst = 0, bad = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0, abs = 0;
    for (let p = 0; p < k; p++) { const t = a[i * k + p] * b[p * n + j]; s += t; abs += Math.abs(t); }
    const e = Math.abs(c[i * n + j] - s);
    worst = Math.max(worst, e / Math.max(abs, 1e-30));
    if (e > gamma * abs) bad++;
  }
  return { bad, worst };
}
/** f64 reference attention row for head h, query i. */
function attnRef(q, k, v, h, i, S, d) {
  const sc = 1 / Math.sqrt(d), s = new Float64Array(S);
  let mx = -Infinity;
  for (let t = 0; t < S; t++) { let x = 0; for (let e = 0; e < d; e++) x += q[(h * S + i) * d + e] * k[(h * S + t) * d + e]; s[t] = x * sc; mx = Math.max(mx, s[t]); }
  let z = 0; for (let t = 0; t < S; t++) { s[t] = Math.exp(s[t] - mx); z += s[t]; }
  const o = new Float64Array(d);
  for (let t = 0; t < S; t++) for (let e = 0; e < d; e++) o[e] += (s[t] / z) * v[(h * S + t) * d + e];
  return o;
}
const sameBits = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

CASES.push(
  {
    ns: 'dense', name: 'tk.matmul (GEMM f32)', shape: '96x80 · 80x72',
    async run(tk) {
      const m = 96, k = 80, n = 72, a = rand(m * k, 4), b = rand(k * n, 5);
      const [c, ms] = await time(() => tk.matmul(a, b, m, k, n));
      const { bad, worst } = gemmCheck(a, b, c, m, k, n);
      return { ms, pass: bad === 0, check: `${bad} outside the f32 error bound γₖΣ|aᵢbᵢ| (worst ${worst.toExponential(1)})`, summary: `c[0] = ${c[0].toFixed(5)}` };
    },
  },
  {
    ns: 'parallel', need: 'matmul', name: 'parallel.matmul (GEMM, row panels)', shape: '384x256 · 256x200',
    async run(tk) {
      const m = 384, k = 256, n = 200, a = rand(m * k, 6), b = rand(k * n, 7);
      const one = tk.matmul(a, b, m, k, n);
      const [par, ms] = await time(() => tk.parallel.matmul(a, b, m, k, n));
      return { ms, pass: sameBits(par, one), check: sameBits(par, one) ? 'bit-identical to 1 thread' : 'differs from 1 thread', summary: `${m * n} outputs` };
    },
  },
  {
    ns: 'attention', name: 'tk.attention (flash f32)', shape: 'H=2 S=96 d=32',
    async run(tk) {
      const H = 2, S = 96, d = 32, q = rand(H * S * d, 8), k = rand(H * S * d, 9), v = rand(H * S * d, 10);
      const [o, ms] = await time(() => tk.attention(q, k, v, { heads: H, seqQ: S, seqK: S, headDim: d }));
      let worst = 0;
      for (const [h, i] of [[0, 0], [1, 50], [1, 95]]) { const r = attnRef(q, k, v, h, i, S, d); for (let e = 0; e < d; e++) worst = Math.max(worst, Math.abs(o[(h * S + i) * d + e] - r[e])); }
      // outputs are convex combinations of v (|v| < 1); f32 scores/exp/sums over 96 keys stay within ~1e-6 of f64: 1e-5 leaves margin, not slack for a wrong kernel (those err by > 1e-2)
      return { ms, pass: worst <= 1e-5, check: `max abs err ${worst.toExponential(1)} ≤ 1e-5 (f64 reference, 3 rows)`, summary: `o[0] = ${o[0].toFixed(5)}` };
    },
  },
  {
    ns: 'parallel', need: 'attention', name: 'parallel.attention (heads × query blocks)', shape: 'H=4 S=256 d=64',
    async run(tk) {
      const H = 4, S = 256, d = 64, n = H * S * d, opts = { heads: H, seqQ: S, seqK: S, headDim: d };
      const t = [rand(n, 11), rand(n, 12), rand(n, 13)].map((x) => tk.tensorFrom(x));
      try {
        const one = tk.attention(t[0], t[1], t[2], opts);
        const [par, ms] = await time(() => tk.parallel.attention(t[0], t[1], t[2], opts));
        const ok = sameBits(par.read(), one.read()); one.dispose(); par.dispose();
        return { ms, pass: ok, check: ok ? 'bit-identical to 1 thread' : 'differs from 1 thread', summary: `${n} outputs` };
      } finally { t.forEach((x) => x.dispose()); }
    },
  },
  {
    ns: 'sparse', name: 'tk.sparse.matmul (70 % pruned, 4x1 blocks)', shape: '128x96 · 96x50',
    async run(tk) {
      const rows = 128, cols = 96, n = 50;
      const w = tk.sparse.prune(rand(rows * cols, 14), rows, cols, { sparsity: 0.7 });
      const sp = tk.sparse.pack(w, rows, cols), x = rand(cols * n, 15);
      const [y, ms] = await time(() => tk.sparse.matmul(sp, x, n));
      const { bad, worst } = gemmCheck(w, x, y, rows, cols, n);
      return { ms, pass: bad === 0, check: `${bad} outside the f32 error bound (worst ${worst.toExponential(1)}); density ${sp.density.toFixed(2)}`, summary: `${rows}x${n} outputs` };
    },
  },
  {
    ns: 'parallel', need: 'sparseRun', name: 'parallel.sparseRun (spatial tiles)', shape: '256x256 · n=784',
    async run(tk) {
      const rows = 256, cols = 256, n = 784;
      const w = tk.sparse.prune(rand(rows * cols, 16), rows, cols, { sparsity: 0.7 });
      const L = tk.sparse.layer(tk.sparse.pack(w, rows, cols), { n });
      const x = tk.tensorFrom(rand(cols * n, 17)), y1 = tk.tensor('f32', [rows * n]), y2 = tk.tensor('f32', [rows * n]);
      try {
        L.run(x, y1);
        const [, ms] = await time(() => tk.parallel.sparseRun(L, x, y2));
        const ok = sameBits(y2.read(), y1.read());
        return { ms, pass: ok, check: ok ? 'bit-identical to 1 thread' : 'differs from 1 thread', summary: `${rows * n} outputs` };
      } finally { L.dispose(); x.dispose(); y1.dispose(); y2.dispose(); }
    },
  },
);

// namespaces a demo looks for; missing ones are listed as "not in this build"
const OPTIONAL = [
  { ns: 'dense', name: 'dense GEMM / conv' }, { ns: 'sparse', name: 'sparse matmul / conv' }, { ns: 'parallel', name: 'threaded ops' },
];

function namespaces(tk) {
  const skip = new Set(['features', 'kernels', 'memory', 'arena', 'pool', 'attn']);
  return Object.keys(tk).filter((k) => !skip.has(k) && !k.startsWith('_') && tk[k] && typeof tk[k] === 'object')
    .map((k) => ({ ns: k, methods: Object.getOwnPropertyNames(Object.getPrototypeOf(tk[k])).filter((m) => m !== 'constructor' && typeof tk[k][m] === 'function') }));
}

function row(cells, cls = []) {
  const tr = document.createElement('tr');
  cells.forEach((c, i) => { const td = document.createElement('td'); td.textContent = c; if (cls[i]) td.className = cls[i]; tr.appendChild(td); });
  return tr;
}

async function runAll() {
  $('again').disabled = true;
  $('status').textContent = 'running…';
  const envBody = $('env').querySelector('tbody'), opsBody = $('ops').querySelector('tbody');
  envBody.textContent = ''; opsBody.textContent = '';
  state.results = [];
  let tk;
  try {
    // threads: 'auto' = one per core where SharedArrayBuffer is available (COOP/COEP); else 1 with a reason
    tk = await init({ threads: 'auto' });
  } catch (e) {
    state.error = `${e.name}: ${e.message}`;
    $('status').textContent = `init failed: ${state.error}`;
    $('status').className = 'bad';
    state.done = true;
    return;
  }
  const f = tk.features;
  state.features = f;
  for (const [k, v] of [['tier', f.tier], ['relaxed SIMD', `${f.relaxedSimd} (${f.fusedMadd ? 'fused' : 'unfused'} madd)`], ['threads', `${f.threads}${f.threadsReason ? ` — ${f.threadsReason}` : ''}`],
    ['cross-origin isolated', String(f.crossOriginIsolated)], ['runtime', `${f.runtime} ${f.runtimeVersion}`], ['Float16Array', String(f.float16Array)], ['notes', f.notes.join('; ') || '—']]) {
    envBody.appendChild(row([k, v]));
  }
  for (const c of CASES) {
    const host = c.ns === 'attention' ? tk : tk[c.ns];
    if (!host || (c.ns === 'attention' ? typeof tk.attention !== 'function' : c.need && typeof host[c.need] !== 'function')) continue;
    try {
      const r = await c.run(tk);
      state.results.push({ name: c.name, ...r });
      opsBody.appendChild(row([c.name, c.shape, String(c.ns === 'parallel' ? tk.pool.size : 1), r.ms.toFixed(2), `${r.pass ? 'PASS' : 'FAIL'}: ${r.check}`, r.summary], ['', '', 'num', 'num', r.pass ? 'ok' : 'bad', '']));
    } catch (e) {
      state.results.push({ name: c.name, pass: false, check: String(e) });
      opsBody.appendChild(row([c.name, c.shape, '', '', `FAIL: ${e.name}: ${e.message}`, ''], ['', '', '', '', 'bad', '']));
    }
  }
  const present = namespaces(tk);
  $('namespaces').textContent = present.map((n) => `tk.${n.ns}: ${n.methods.join(', ')}`).join(' · ') +
    (OPTIONAL.filter((o) => !tk[o.ns]).length ? ` · not in this build: ${OPTIONAL.filter((o) => !tk[o.ns]).map((o) => o.name).join(', ')}` : '');
  state.ok = state.results.length > 0 && state.results.every((r) => r.pass);
  $('status').textContent = `${state.results.filter((r) => r.pass).length}/${state.results.length} ops passed — tier ${f.tier}, ${f.threads} thread(s)`;
  $('status').className = state.ok ? 'ok' : 'bad';
  tk.dispose();
  state.done = true;
  $('again').disabled = false;
}

$('again').addEventListener('click', () => { state.done = false; runAll(); });
runAll();
