// The published entry point works unbundled in Node: `import { init } from 'tessera'` resolves
// through package.json "exports" to dist/, and the loader finds build/*.wasm next to it.
// (Runs after `npm run build`, which `npm test` does first.)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('package entry point (Node, unbundled)', () => {
  it('dist/ and build/ exist', () => {
    expect(existsSync(`${root}/dist/index.js`)).toBe(true);
    expect(existsSync(`${root}/dist/index.d.ts`)).toBe(true);
    for (const f of ['simd128', 'relaxed', 'simd128-shared', 'relaxed-shared']) expect(existsSync(`${root}/build/tessera.${f}.wasm`)).toBe(true);
  });

  it("import 'tessera' resolves via exports and initialises", () => {
    const code = "import { init } from 'tessera'; const tk = await init(); const h = tk.f16.fromF32(new Float32Array([1.5, 65520])); " +
      "console.log(JSON.stringify({ tier: tk.features.tier, runtime: tk.features.runtime, h: Array.from(h) }));";
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.runtime).toBe('node');
    expect(r.tier).toBe('relaxed'); // Node 20: init() enabled the V8 flag itself (nodeFlags default)
    expect(r.h).toEqual([0x3e00, 0x7c00]);
  });

  it('with nodeFlags: false on Node 20 it stays on simd128 and says why', () => {
    const major = Number(process.versions.node.split('.')[0]);
    const code = "import { init } from 'tessera'; const tk = await init({ nodeFlags: false }); console.log(JSON.stringify(tk.features));";
    const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' }).trim());
    if (major < 22) {
      expect(r.tier).toBe('simd128');
      expect(r.notes.join(' ')).toMatch(/relaxed SIMD unavailable/);
    } else {
      expect(r.tier).toBe('relaxed');
    }
  });
});
