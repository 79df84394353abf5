// Browser proof: the demo page (demo/index.html, loading the built package from dist/) runs in headless
// Chromium from a localhost server, shows checked results, and takes a non-trivial screenshot.
// Served twice: with COOP/COEP (threads granted) and without (one thread, reason shown).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module without types
import { startServer } from '../../scripts/serve.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium && process.env.TESSERA_REQUIRE_BROWSER) throw new Error(`TESSERA_REQUIRE_BROWSER is set but ${chromiumPath} does not exist`);

/** Decode an 8-bit RGB/RGBA PNG (no interlace) far enough to count distinct colours. */
function pngStats(png: Buffer): { width: number; height: number; colours: number } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let p = 8, width = 0, height = 0, colourType = 0;
  const idat: Buffer[] = [];
  while (p < png.length) {
    const len = png.readUInt32BE(p), type = png.toString('latin1', p + 4, p + 8), data = png.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); colourType = data[9]; expect(data[8]).toBe(8); }
    if (type === 'IDAT') idat.push(data);
    p += 12 + len;
  }
  const bpp = colourType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const prev = new Uint8Array(stride), cur = new Uint8Array(stride);
  const colours = new Set<number>();
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let v = line[i];
      if (f === 1) v += a; else if (f === 2) v += b; else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      cur[i] = v & 255;
    }
    for (let x = 0; x < width; x += 3) colours.add((cur[x * bpp] << 16) | (cur[x * bpp + 1] << 8) | cur[x * bpp + 2]);
    prev.set(cur);
  }
  return { width, height, colours: colours.size };
}

describe.skipIf(!haveChromium)('demo page in headless Chromium', () => {
  let browser: any;
  beforeAll(async () => {
    if (!existsSync(`${root}/dist/index.js`) || !existsSync(`${root}/dist/threads/worker.mjs`)) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => { await browser?.close(); });

  async function load(isolation: boolean) {
    const server = await startServer({ root, isolation });
    const page = await browser.newPage({ viewport: { width: 960, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (e: Error) => errors.push(e.message));
    try {
      await page.goto(`${server.url}/demo/`);
      await page.waitForFunction(() => (window as any).__demo?.done === true, null, { timeout: 60_000 });
      const state = await page.evaluate(() => (window as any).__demo);
      const text: string = await page.locator('main').innerText();
      const png: Buffer = await page.screenshot({ fullPage: true });
      return { state, text, png, errors };
    } finally {
      await page.close();
      await server.close();
    }
  }

  it('cross-origin isolated: runs every op, all checks pass, threads granted', async () => {
    const { state, text, png, errors } = await load(true);
    expect(errors).toEqual([]);
    expect(state.error).toBeNull();
    expect(state.results.length).toBeGreaterThanOrEqual(9); // f16 x3, dense x2, attention x2, sparse x2
    for (const r of state.results) expect(r.pass, `${r.name}: ${r.check}`).toBe(true);
    expect(state.ok).toBe(true);
    expect(state.features.crossOriginIsolated).toBe(true);
    expect(state.features.threads).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/\d+\/\d+ ops passed/);
    expect(text).toContain('f16.fromF32');
    expect(text).toContain('PASS');
    expect(text).not.toContain('FAIL');
    mkdirSync(`${root}/bench/results/tmp`, { recursive: true });
    writeFileSync(`${root}/bench/results/tmp/demo.png`, png);
    const s = pngStats(png);
    expect(s.width).toBe(960);
    expect(s.height).toBeGreaterThanOrEqual(500);
    expect(png.length).toBeGreaterThan(20_000); // text and tables, not a blank page
    expect(s.colours).toBeGreaterThan(20); // anti-aliased text + green PASS cells + table shading
  });

  it('without COOP/COEP: one thread with the reason shown; ops still pass', async () => {
    const { state, text } = await load(false);
    expect(state.features.crossOriginIsolated).toBe(false);
    expect(state.features.threads).toBe(1);
    expect(state.features.threadsReason).toMatch(/cross-origin isolated|SharedArrayBuffer/);
    expect(text).toMatch(/cross-origin isolated|SharedArrayBuffer/);
    expect(state.ok).toBe(true);
  });
});
