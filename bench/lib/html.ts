/**
 * Cross-runtime report: a Markdown summary and a self-contained HTML page with inline SVG charts
 * (no scripts, no CDN). Renders whatever data is present:
 *   - "at a glance": headline ratios (GLANCE) per runtime, on the tier init() picks there;
 *   - throughput per kernel per runtime (GFLOP/s, else G elem/s, else GB/s), one chart per suite;
 *   - ours vs peers (rows whose engine is not 'tessera'), per suite and shape;
 *   - threaded speed-up (ratio vs '1 thread');
 *   - sparse speed-up vs sparsity (ratio vs something 'dense', sparsity from the row);
 *   - attention peak memory vs sequence length (peakBytes with S=... in the shape).
 */
import { fmt, type Environment, type Result } from './report.js';

export interface RuntimeRun {
  runtime: string;
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  env?: Environment;
  results: Result[];
  seconds: number;
  /** wall seconds per suite (from the runner's end marker) */
  suiteSeconds?: Record<string, number>;
}

type Metric = { key: 'gflops' | 'gelems' | 'gbps'; unit: string };
const METRICS: Metric[] = [{ key: 'gflops', unit: 'GFLOP/s' }, { key: 'gelems', unit: 'G elem/s' }, { key: 'gbps', unit: 'GB/s' }];
const PALETTE = ['#3b6fb6', '#d9822b', '#3a9b5c', '#b33d3d', '#7b5ea7', '#8c6d3f', '#c1579b', '#5f6b73', '#1f9e9e', '#a3a830'];

function esc(s: unknown): string {
  return String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function metricOf(rs: Result[]): Metric | null {
  for (const m of METRICS) if (rs.some((r) => typeof r[m.key] === 'number')) return m;
  return null;
}

/** Horizontal grouped bar chart. */
function barChart(title: string, unit: string, groups: { label: string; bars: { series: string; value: number | null; title?: string; tag?: string }[] }[], seriesOrder: string[]): string {
  if (!groups.length) return '';
  const color = (s: string) => PALETTE[Math.max(0, seriesOrder.indexOf(s)) % PALETTE.length];
  const barH = 13, gap = 10, labelW = 300, plotW = 520, left = labelW + 10, perRow = 5, legendRows = Math.ceil(seriesOrder.length / perRow);
  const maxV = Math.max(1e-9, ...groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)));
  let y = 12 + legendRows * 16;
  const parts: string[] = [];
  for (const g of groups) {
    const h = g.bars.length * barH;
    parts.push(`<text x="${labelW}" y="${y + h / 2 + 4}" text-anchor="end" class="lbl">${esc(g.label.length > 48 ? g.label.slice(0, 47) + '…' : g.label)}<title>${esc(g.label)}</title></text>`);
    g.bars.forEach((b, i) => {
      const by = y + i * barH;
      if (b.value === null || !Number.isFinite(b.value)) {
        parts.push(`<text x="${left + 2}" y="${by + barH - 3}" class="na">${esc(b.series)}: n/a<title>${esc(b.title ?? '')}</title></text>`);
        return;
      }
      const w = Math.max(1, (b.value / maxV) * plotW);
      parts.push(`<rect x="${left}" y="${by + 1}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${color(b.series)}"><title>${esc(`${b.series}: ${fmt(b.value)} ${unit}${b.title ? ' — ' + b.title : ''}`)}</title></rect>`);
      parts.push(`<text x="${left + w + 4}" y="${by + barH - 3}" class="val">${esc(fmt(b.value))}${b.tag ? ` ${esc(b.tag)}` : ''}</text>`);
    });
    y += h + gap;
  }
  const legend = seriesOrder.map((s, i) => {
    const lx = left + (i % perRow) * 125, ly = 4 + Math.floor(i / perRow) * 16;
    return `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${color(s)}"/><text x="${lx + 14}" y="${ly + 9}" class="lbl" text-anchor="start">${esc(s.length > 20 ? s.slice(0, 19) + '…' : s)}</text>`;
  }).join('');
  const H = y + 10, W = left + plotW + 60;
  return `<figure><figcaption>${esc(title)} <span class="unit">(${esc(unit)}, longer is better)</span></figcaption>` +
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${legend}${parts.join('')}</svg></figure>`;
}

/** Line chart (optionally log2 x axis). */
function lineChart(title: string, xLabel: string, yLabel: string, series: { name: string; points: [number, number][] }[], logX = false): string {
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) return '';
  const W = 760, H = 320, L = 70, R = 230, T = 20, B = 45;
  const fx = (x: number) => (logX ? Math.log2(x) : x);
  const xs = all.map((p) => fx(p[0])), ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  const y0 = Math.min(0, ...ys), y1 = Math.max(...ys) <= y0 ? y0 + 1 : Math.max(...ys) * 1.08;
  const px = (x: number) => L + ((fx(x) - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${py(v)}" y2="${py(v)}" class="grid"/><text x="${L - 6}" y="${py(v) + 4}" text-anchor="end" class="lbl">${esc(fmt(v))}</text>`);
  }
  const xticks = [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b);
  for (const x of xticks) parts.push(`<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle" class="lbl">${esc(fmt(x))}</text>`);
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const c = PALETTE[i % PALETTE.length];
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${c}"><title>${esc(`${s.name}: x=${fmt(p[0])}, y=${fmt(p[1])}`)}</title></circle>`);
    parts.push(`<rect x="${W - R + 10}" y="${T + i * 16}" width="10" height="10" fill="${c}"/><text x="${W - R + 24}" y="${T + i * 16 + 9}" class="lbl">${esc(s.name.length > 34 ? s.name.slice(0, 33) + '…' : s.name)}</text>`);
  });
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle" class="lbl">${esc(xLabel)}</text>`);
  parts.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" class="lbl" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(yLabel)}</text>`);
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">` +
    `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" class="axis"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" class="axis"/>${parts.join('')}</svg></figure>`;
}

const okRuns = (runs: RuntimeRun[]) => runs.filter((r) => r.results.length);

/** The tier init() picks in a runtime: relaxed where it validates and its madd is fused, else simd128. */
const pickedTier = (e?: Environment) => (e?.relaxedSimd && e.fusedMadd ? 'relaxed' : 'simd128');

/**
 * "At a glance": one headline ratio per row, one column per runtime, on the tier init() picks there.
 * `peer` rows compare with another engine (tfjs-wasm, onnxruntime-web): > 1 means tessera is faster.
 * The others are tessera against itself (f16 vs f32 weights, PASA vs f32, sparse vs dense, 2 threads vs 1).
 */
const GLANCE: { label: string; peer: boolean; pick: (x: Result, tier: string) => boolean }[] = [
  { label: 'GEMM 1024³, packed weights, vs tfjs-wasm', peer: true, pick: (x, t) => x.op === 'matmul' && x.shape === '1024x1024x1024' && x.variant === `${t} f32 packed apply (B packed once)` },
  { label: 'conv 3×3 56²×64→64 vs tfjs-wasm', peer: true, pick: (x, t) => x.op === 'conv3x3' && x.variant === `${t} f32 packed apply (W packed once)` },
  { label: 'conv 1×1 28²×128→256 vs tfjs-wasm', peer: true, pick: (x, t) => x.op === 'conv1x1' && x.variant === `${t} f32 packed apply (W packed once)` },
  // depthwise: both sides without the result copy (our zero-copy run, tfjs's op with its result left in wasm memory): a fresh
  // 1.6 MB result array costs as much as the convolution itself (page faults, GC), on either side
  { label: 'depthwise 3×3 112²×32, no result copy on either side, vs tfjs-wasm', peer: true, pick: (x, t) => x.op === 'dwconv3x3' && x.variant === `${t} f32 zero-copy run` },
  { label: 'GEMV 1×4096², f32 weights, vs tfjs-wasm', peer: true, pick: (x, t) => x.op === 'gemv' && x.variant === `${t} f32 packed apply (B packed once)` },
  { label: 'attention S = 2048, d = 64, f32, vs the faster peer', peer: true, pick: (x, t) => x.op === 'attention' && x.shape === 'S2048 H1 D64' && x.variant === `f32 tensors ${t}` },
  { label: 'MobileNet-v1 backbone, dense, vs tfjs-wasm', peer: true, pick: (x, t) => x.op === 'backbone dense (best per layer)' && x.variant === t },
  { label: '2 threads: GEMM 1024³ vs onnxruntime-web with 2 threads', peer: true, pick: (x, t) => x.op === 'dense GEMM f32 (packed B)' && x.variant === `${t} vs ORT` },
  { label: 'GEMV 1×4096², f16 weights vs our f32 weights', peer: false, pick: (x, t) => x.op === 'gemv' && x.variant === `${t} f16 packed apply (B packed once)` },
  { label: 'PASA attention (fp16, no overflow) vs our f32, S = 2048', peer: false, pick: (x, t) => x.op === 'attention' && x.shape === 'S2048 H1 D64' && x.variant === `pasa tensors ${t}` },
  { label: 'PASA decode with tk.pasaKVCache vs the previous PASA path (MHA)', peer: false, pick: (x, t) => x.op === 'attention decode' && /kvHeads 32$/.test(x.shape) && x.variant === `pasa-cache tensors ${t}` },
  { label: 'sparse 1×1 (pw3), 4×1 blocks, 70 % vs our best dense', peer: false, pick: (x, t) => x.op === 'pw3 1x1' && x.variant === `${t} 4x1 s=0.7` },
  { label: 'sparse FC 1024→1000, batch 1, 4×1, 70 % vs our dense GEMV', peer: false, pick: (x, t) => x.op === 'fc FC' && x.variant === `${t} 4x1 s=0.7` },
  { label: '2 threads: GEMM 1024³ vs 1 thread', peer: false, pick: (x, t) => x.op === 'dense GEMM f32 (packed B)' && x.threads === 2 && x.variant === t },
];

/** Rows of the at-a-glance table: label, then per runtime the ratio (or null) and what it is against. */
function glance(runs: RuntimeRun[]): { head: string[]; rows: { label: string; peer: boolean; cells: ({ v: number; vs: string } | null)[] }[] } {
  const live = okRuns(runs);
  const head = live.map((r) => `${r.runtime} (${pickedTier(r.env)})`);
  const rows = GLANCE.map((g) => ({
    label: g.label, peer: g.peer,
    cells: live.map((r) => {
      const x = r.results.find((y) => y.engine === 'tessera' && y.ratio && g.pick(y, pickedTier(r.env)));
      return x?.ratio ? { v: x.ratio.value, vs: x.ratio.vs } : null;
    }),
  })).filter((row) => row.cells.some((c) => c));
  return { head, rows };
}
const rowKey = (r: Result) => `${r.op} · ${r.shape} · ${r.variant}${r.threads > 1 ? ` · ${r.threads}T` : ''}`;

/** Parse a sparsity in [0, 1] from a result (field `sparsity`, or "sparsity=0.9" / "90%" in variant/shape). */
export function sparsityOf(r: Result): number | null {
  const any = r as any;
  if (typeof any.sparsity === 'number') return any.sparsity > 1 ? any.sparsity / 100 : any.sparsity;
  const m = `${r.variant} ${r.shape}`.match(/sparsity[=:\s]*([0-9.]+)\s*(%?)|([0-9.]+)\s*%\s*sparse|(?:^|\s)s=([0-9.]+)/i);
  if (!m) return null;
  const v = Number(m[1] ?? m[3] ?? m[4]);
  if (!Number.isFinite(v)) return null;
  return m[2] === '%' || m[3] !== undefined || v > 1 ? v / 100 : v;
}

function charts(runs: RuntimeRun[]): string {
  const live = okRuns(runs);
  const rtNames = live.map((r) => r.runtime);
  const suites = [...new Set(live.flatMap((r) => r.results.map((x) => x.suite)))];
  const out: string[] = [];

  // 1. throughput per kernel per runtime (tessera rows)
  for (const suite of suites) {
    const rows = live.flatMap((r) => r.results.filter((x) => x.suite === suite && x.engine === 'tessera').map((x) => ({ rt: r.runtime, x })));
    const m = metricOf(rows.map((r) => r.x));
    if (!m) continue;
    const keys = [...new Set(rows.map((r) => rowKey(r.x)))].slice(0, 60);
    // a runtime that did not run a row's SIMD tier at all gets no bar there (not an "n/a": nothing failed)
    const tierOf = (k: string) => k.match(/\b(simd128|relaxed)\b/)?.[1];
    const ranTier = (rt: string, tier: string | undefined) => rows.some((r) => r.rt === rt && (!tier || tierOf(rowKey(r.x)) === tier));
    const groups = keys.map((k) => ({
      label: k,
      bars: rtNames.map((rt) => { const hit = rows.find((r) => r.rt === rt && rowKey(r.x) === k); return { series: rt, value: hit ? (hit.x[m.key] as number | undefined) ?? null : null, title: hit?.x.error }; })
        .filter((b) => b.value !== null || ranTier(b.series, tierOf(k))),
    }));
    out.push(barChart(`${suite}: tessera throughput per kernel and runtime`, m.unit, groups, rtNames));
  }

  // 2. ours vs peers (same suite and shape; the best variant of each engine), colour = engine, one bar per runtime
  for (const suite of suites) {
    const rows = live.flatMap((r) => r.results.filter((x) => x.suite === suite && x.ms !== null).map((x) => ({ rt: r.runtime, x })));
    if (!rows.some((r) => r.x.engine !== 'tessera')) continue;
    const m = metricOf(rows.map((r) => r.x));
    if (!m) continue;
    const engines = ['tessera', ...new Set(rows.map((r) => r.x.engine).filter((e) => e !== 'tessera'))];
    const shapes = [...new Set(rows.filter((r) => r.x.engine !== 'tessera').map((r) => `${r.x.op} · ${r.x.shape}`))];
    const groups = shapes.map((label) => {
      const shape = label.split(' · ').slice(1).join(' · ');
      const bars = rtNames.flatMap((rt) => engines.map((engine) => {
        const cands = rows.filter((r) => r.rt === rt && r.x.engine === engine && r.x.shape === shape && (engine === 'tessera' || `${r.x.op} · ${r.x.shape}` === label));
        const best = cands.reduce<Result | null>((b, r) => ((r.x[m.key] ?? 0) > ((b?.[m.key] as number) ?? -1) ? r.x : b), null);
        return { series: engine, tag: rt, value: best ? (best[m.key] as number | undefined) ?? null : null, title: best ? `${rt}: ${best.op} ${best.variant} ${best.threads}T` : undefined };
      }));
      return { label, bars: bars.filter((b) => b.value !== null) };
    }).filter((g) => g.bars.length);
    out.push(barChart(`${suite}: tessera vs peers (the best variant of each engine, e.g. our zero-copy run against tfjs's op without its readback; same shape, same process; runtime after each value)`, m.unit, groups, engines));
  }

  // 3. threaded speed-up
  const thr = live.flatMap((r) => r.results.filter((x) => x.ratio?.vs === '1 thread').map((x) => ({ rt: r.runtime, x })));
  if (thr.length) {
    const keys = [...new Set(thr.map((r) => `${r.x.op} · ${r.x.shape} · ${r.x.threads}T`))];
    out.push(barChart('Threaded mode: speed-up over one thread (same process, bit-identical output)', '× vs 1 thread', keys.map((k) => ({
      label: k, bars: rtNames.map((rt) => { const h = thr.find((r) => r.rt === rt && `${r.x.op} · ${r.x.shape} · ${r.x.threads}T` === k); return { series: rt, value: h?.x.ratio?.value ?? null }; }).filter((b) => b.value !== null),
    })), rtNames));
  }

  // 4. sparse speed-up vs sparsity: one series per layer and block pattern, for the first runtime that has them
  const isSparse = (x: Result) => !!x.ratio && /dense/i.test(x.ratio.vs) && sparsityOf(x) !== null;
  const spRt = live.find((r) => r.results.some(isSparse));
  if (spRt) {
    const byS = new Map<string, [number, number][]>();
    for (const x of spRt.results.filter(isSparse)) {
      const pattern = x.variant.replace(/\b(simd128|relaxed)\b/g, '').replace(/s(parsity)?\s*[=:]\s*[0-9.]+%?/i, '').trim();
      const name = `${x.op} ${pattern}`.replace(/\s+/g, ' ').trim();
      const pts = byS.get(name) ?? byS.set(name, []).get(name)!;
      const sp = sparsityOf(x)! * 100;
      if (!pts.some((p) => p[0] === sp)) pts.push([sp, x.ratio!.value]);
    }
    // the whole-network rows first (they are the headline), then layers
    const series = [...byS].sort((p, q) => Number(/stack|network/i.test(q[0])) - Number(/stack|network/i.test(p[0]))).slice(0, 10);
    out.push(lineChart(`Sparse speed-up over the best dense kernel, by sparsity (${spRt.runtime}, same process)`, 'sparsity (%)', 'speed-up (×)', series.map(([name, points]) => ({ name, points }))));
  }

  // 5. attention memory vs sequence length
  const seqOf = (shape: string) => { const mm = shape.match(/(?:^|[^A-Za-z])S\s*=?\s*(\d+)/); return mm ? Number(mm[1]) : null; };
  // arena bytes do not depend on the engine running the wasm: plot the first runtime that has them
  const memRt = live.find((r) => r.results.some((x) => typeof x.peakBytes === 'number' && seqOf(x.shape) !== null));
  if (memRt) {
    const bySeries = new Map<string, [number, number][]>();
    for (const x of memRt.results) {
      if (typeof x.peakBytes !== 'number' || seqOf(x.shape) === null) continue;
      // one series per engine + variant with the tier and the head count folded out, so S is the only x
      const name = `${x.engine} ${x.variant.replace(/\s*(simd128|relaxed)\b/g, '')} ${x.op.includes('long') ? '(long run)' : ''}`.trim();
      const pts = bySeries.get(name) ?? bySeries.set(name, []).get(name)!;
      const S = seqOf(x.shape)!;
      const mib = x.peakBytes / 2 ** 20;
      const at = pts.findIndex((p) => p[0] === S);
      if (at < 0) pts.push([S, mib]); else pts[at][1] = Math.max(pts[at][1], mib);
    }
    out.push(lineChart(`Attention: peak extra working memory vs sequence length (${memRt.runtime}; see each row's note for what is counted)`, 'sequence length S (log2 axis)', 'peak memory (MiB)',
      [...bySeries].slice(0, 10).map(([name, points]) => ({ name, points })), true));
  }
  return out.join('\n');
}

function envRows(runs: RuntimeRun[]): string[][] {
  return runs.map((r) => {
    const e = r.env;
    return [r.runtime, r.status + (r.reason ? `: ${r.reason}` : ''), e ? `${e.runtimeVersion}` : '', e?.tier ?? '', e ? (e.relaxedSimd ? `yes (${e.fusedMadd ? 'fused' : 'unfused'})` : 'no') : '',
      e ? `${e.threads}${e.threadsReason ? ` (${e.threadsReason})` : ''}` : '', e ? String(e.crossOriginIsolated) : '', e?.timerResolutionMs !== undefined ? `${fmt(e.timerResolutionMs * 1000)} µs` : '',
      e ? String(e.float16Array ?? '') : '', e ? variantsOf(e) : '', e ? `${e.cpu} ×${e.cores}${e.loadAvg !== undefined ? `, load ${e.loadAvg.toFixed(1)}` : ''}` : '',
      r.seconds ? `${r.seconds.toFixed(0)} s${r.suiteSeconds ? ` (${Object.entries(r.suiteSeconds).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})` : ''}` : ''];
  });
}
const ENV_HEAD = ['runtime', 'status', 'version', 'tiers', 'relaxed SIMD', 'threads', 'COI', 'timer', 'Float16Array', 'bounds checks; kernel variants', 'CPU', 'wall'];

/** 'guard; denseSplatA, sparseSplat' — how wasm memory is checked and which tk.kernelProfile variants are on */
function variantsOf(e: Environment): string {
  if (!e.kernelProfile) return e.boundsChecks ?? '';
  const on = Object.entries(e.kernelProfile).filter(([, v]) => v).map(([k]) => k);
  return `${e.boundsChecks ?? '?'}; ${on.length ? on.join(', ') : 'defaults off'}`;
}

export function renderMarkdown(runs: RuntimeRun[], cmd: string): string {
  const live = okRuns(runs);
  const lines: string[] = [`# tessera cross-runtime benchmark`, '', `Command: \`${cmd}\` — ${new Date().toISOString()}`, ''];
  lines.push(`| ${ENV_HEAD.join(' | ')} |`, `|${ENV_HEAD.map(() => '---').join('|')}|`);
  for (const row of envRows(runs)) lines.push(`| ${row.map((c) => c.replace(/\|/g, '/').replace(/\n/g, ' ')).join(' | ')} |`);
  lines.push('');
  const gl = glance(runs);
  if (gl.rows.length) {
    lines.push('## At a glance', '', 'Speed ratios measured in one process, on the tier `init()` picks in each runtime (> 1: the first named is faster).', '');
    lines.push(`| ratio | ${gl.head.join(' | ')} |`, `|---|${gl.head.map(() => '---:').join('|')}|`);
    for (const r of gl.rows) lines.push(`| ${r.label} | ${r.cells.map((c) => (c ? `${fmt(c.v)}×` : '')).join(' | ')} |`);
    lines.push('', '## All results', '');
  }
  // pivot: one row per measurement key, one column per runtime
  const all = live.flatMap((r) => r.results.map((x) => ({ rt: r.runtime, x })));
  const keyOf = (x: Result) => `${x.suite}|${x.op}|${x.shape}|${x.engine}|${x.variant}|${x.threads}`;
  const keys = [...new Set(all.map((a) => keyOf(a.x)))];
  const rts = live.map((r) => r.runtime);
  lines.push(`| suite | op | shape | engine | variant | threads | ${rts.map((r) => `${r}`).join(' | ')} | unit | max err | notes |`);
  lines.push(`|---|---|---|---|---|---:|${rts.map(() => '---:').join('|')}|---|---:|---|`);
  for (const k of keys) {
    const hits = all.filter((a) => keyOf(a.x) === k);
    const m = metricOf(hits.map((h) => h.x));
    const unit = m ? m.unit : 'ms';
    const cells = rts.map((rt) => {
      const h = hits.find((a) => a.rt === rt)?.x;
      if (!h) return '';
      if (h.ms === null) return 'n/a';
      const v = m ? (h[m.key] as number | undefined) : h.ms;
      return `${fmt(v)}${h.ratio ? ` (${fmt(h.ratio.value)}× vs ${h.ratio.vs})` : ''}`;
    });
    const errs = hits.map((h) => h.x.maxRelErr ?? h.x.rmse).filter((e): e is number => typeof e === 'number');
    const notes = [...new Set(hits.map((h) => h.x.error ?? h.x.note).filter(Boolean))].map((s) => String(s).split('\n')[0].slice(0, 120).replace(/\|/g, '/')).join('; ');
    const [suite, op, shape, engine, variant, threads] = k.split('|');
    lines.push(`| ${suite} | ${op} | ${shape} | ${engine} | ${variant} | ${threads} | ${cells.join(' | ')} | ${unit} | ${errs.length ? fmt(Math.max(...errs)) : ''} | ${notes} |`);
  }
  lines.push('');
  return lines.join('\n');
}

function glanceHtml(runs: RuntimeRun[]): string {
  const gl = glance(runs);
  if (!gl.rows.length) return '';
  // peer rows: green where tessera is faster (ratio >= 1), amber where it is not; self-comparisons uncoloured
  const cell = (c: { v: number; vs: string } | null, peer: boolean) => !c ? '<td></td>'
    : `<td class="num${peer ? (c.v >= 1 ? ' win' : ' lose') : ''}" title="${esc(`vs ${c.vs}`)}">${esc(fmt(c.v))}×</td>`;
  return `<h2>At a glance</h2>
<p>Speed ratios measured in one process, on the tier <code>init()</code> picks in each runtime (&gt; 1: the first named is faster; hover a cell for what it is against).
Green / amber: faster / slower than the peer.</p>
<table class="glance"><thead><tr><th>ratio</th>${gl.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${gl.rows.map((r) => `<tr><td>${esc(r.label)}</td>${r.cells.map((c) => cell(c, r.peer)).join('')}</tr>`).join('')}</tbody></table>`;
}

export function renderHtml(runs: RuntimeRun[], cmd: string): string {
  const table = (head: string[], rows: string[][]) => `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const details = okRuns(runs).map((r) => `<details><summary>${esc(r.runtime)}: all ${r.results.length} results</summary>` + table(
    ['suite', 'op', 'shape', 'engine', 'variant', 'threads', 'ms', 'GFLOP/s', 'G elem/s', 'GB/s', 'ratio', 'max err', 'peak MiB', 'runs', 'IQR/med', 'note'],
    r.results.map((x) => [x.suite, x.op, x.shape, x.engine, x.variant, String(x.threads), x.ms === null ? 'n/a' : fmt(x.ms), fmt(x.gflops), fmt(x.gelems), fmt(x.gbps),
      x.ratio ? `${fmt(x.ratio.value)}× vs ${x.ratio.vs}` : '', fmt(x.maxRelErr ?? x.rmse), x.peakBytes !== undefined ? fmt(x.peakBytes / 2 ** 20) : '', String(x.runs ?? ''), fmt(x.spread), (x.error ?? x.note ?? '').split('\n')[0]]),
  ) + '</details>').join('\n');
  const notes = runs.filter((r) => r.env?.notes?.length).map((r) => `<li><b>${esc(r.runtime)}</b>: ${esc(r.env!.notes!.join('; '))}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tessera cross-runtime benchmark</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, Segoe UI, sans-serif; margin: 1.5rem auto; max-width: 1000px; color: #1d232a; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #dde; }
table { border-collapse: collapse; font-size: 12px; margin: .5rem 0; } th, td { border: 1px solid #dde; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f5f8; } figure { margin: 1rem 0; overflow-x: auto; } figcaption { font-weight: 600; margin-bottom: .3rem; }
.unit { font-weight: 400; color: #667; } svg .lbl { font-size: 11px; fill: #333; } svg .val { font-size: 10px; fill: #333; } svg .na { font-size: 10px; fill: #999; font-style: italic; }
svg .grid { stroke: #eee; } svg .axis { stroke: #999; } code { background: #f3f5f8; padding: 0 3px; }
table.glance { font-size: 13px; } table.glance td.num { text-align: right; font-variant-numeric: tabular-nums; } td.win { background: #e3f4e6; } td.lose { background: #fbefd9; }
</style></head><body>
<h1>tessera cross-runtime benchmark</h1>
<p>Command: <code>${esc(cmd)}</code> · generated ${esc(new Date().toISOString())}. Medians of repeated runs after adaptive warm-up; every output is checked against a reference inside the benchmark (max err). Ratios come from measurements in the same process.</p>
<h2>Runtimes</h2>
${table(ENV_HEAD, envRows(runs))}
${notes ? `<ul>${notes}</ul>` : ''}
${glanceHtml(runs)}
<h2>Charts</h2>
${charts(runs) || '<p>No numeric results.</p>'}
<h2>All results</h2>
${details}
</body></html>
`;
}
