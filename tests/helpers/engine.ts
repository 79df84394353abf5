// What the engine running the tests can do, provided per vitest project (vitest.config.ts `provide`).
// Node (with the V8 flag), Chromium and Firefox run both tiers; WebKit (JavaScriptCore, like Safari) has no
// relaxed SIMD, so it runs the simd128 tier and the tests that need relaxed are skipped there BY NAME
// (`describe.skipIf(!HAS_RELAXED)`, reported as skipped), while init.test.ts checks the real fallback.
import { inject } from 'vitest';
import type { JsEngine, Tier } from '../../bindings/index.js';

export interface EngineCaps { name: string; tiers: Tier[]; relaxed: boolean; /** tk.features.engine expected here */ js: JsEngine }

declare module 'vitest' {
  export interface ProvidedContext { engine: EngineCaps }
}

export const ENGINE: EngineCaps = inject('engine') ?? { name: 'default', tiers: ['simd128', 'relaxed'], relaxed: true, js: 'v8' };
/** Tiers exercised by every differential test. */
export const TIERS: Tier[] = ENGINE.tiers;
/** Whether the relaxed tier can run here (tests that compare or force it need it). */
export const HAS_RELAXED = ENGINE.relaxed;
