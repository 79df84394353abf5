// detectEngine (bindings/env.ts) on the navigator each browser context shows: pages by navigator.vendor,
// Web Workers (no vendor) by the user agent. The engines themselves are covered by the browser
// projects (init.test.ts checks tk.features.engine in Chromium, Firefox and WebKit).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultKernelProfile, detectEngine } from '../../bindings/env.js';

const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';
const CHROME_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';

describe('detectEngine', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('outside browsers: from the runtime', () => {
    expect(detectEngine('node')).toBe('v8');
    expect(detectEngine('deno')).toBe('v8');
    expect(detectEngine('bun')).toBe('jsc');
  });

  it('pages: navigator.vendor', () => {
    vi.stubGlobal('navigator', { vendor: 'Apple Computer, Inc.', userAgent: SAFARI_IOS });
    expect(detectEngine('browser')).toBe('jsc');
    vi.stubGlobal('navigator', { vendor: 'Google Inc.', userAgent: CHROME });
    expect(detectEngine('browser')).toBe('v8');
    vi.stubGlobal('navigator', { vendor: '', userAgent: FIREFOX });
    vi.stubGlobal('InternalError', function InternalError() {});
    expect(detectEngine('browser')).toBe('spidermonkey');
  });

  it('workers (no navigator.vendor): the user agent; WebKit gets the _splat kernels there too', () => {
    for (const [ua, engine] of [[SAFARI_IOS, 'jsc'], [CHROME_IOS, 'jsc'], [CHROME, 'v8'], [FIREFOX, 'unknown']] as const) {
      vi.stubGlobal('navigator', { userAgent: ua });
      expect(detectEngine('browser'), ua).toBe(engine);
    }
    vi.stubGlobal('navigator', { userAgent: SAFARI_IOS });
    expect(defaultKernelProfile('browser', 'guard')).toEqual({ denseSplatA: true, sparseSplat: true, attentionTile4: false, denseMatmulPreA: true, denseGemvF16Dot: false });
    vi.stubGlobal('navigator', { userAgent: CHROME });
    expect(defaultKernelProfile('browser', 'guard')).toEqual({ denseSplatA: false, sparseSplat: false, attentionTile4: false, denseMatmulPreA: false, denseGemvF16Dot: false });
  });

  it('Bun (JSC outside a browser): every JSC variant, plus the pmaddwd f16 GEMV widening and 4-row attention tiles', () => {
    expect(defaultKernelProfile('bun', 'guard')).toEqual({ denseSplatA: true, sparseSplat: true, attentionTile4: true, denseMatmulPreA: true, denseGemvF16Dot: true });
    expect(defaultKernelProfile('node', 'guard')).toEqual({ denseSplatA: true, sparseSplat: true, attentionTile4: false, denseMatmulPreA: false, denseGemvF16Dot: false });
  });
});
