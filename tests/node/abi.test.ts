// Mode values and flag bits are defined in assembly/common/abi.ts, exported by every binary as
// immutable globals, and mirrored for the bindings in bindings/abi.ts (ABI). This checks each built
// flavour exports exactly the mirrored names with the same values.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ABI } from '../../bindings/abi.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('kernel ABI constants', () => {
  for (const flavour of ['simd128', 'relaxed', 'simd128-shared', 'relaxed-shared']) {
    it(`build/tessera.${flavour}.wasm exports the values bindings/abi.ts uses`, async () => {
      const module = await WebAssembly.compile(readFileSync(`${root}/build/tessera.${flavour}.wasm`));
      const shared = flavour.endsWith('-shared');
      const memory = new WebAssembly.Memory({ initial: 2, maximum: shared ? 65536 : 64, shared } as WebAssembly.MemoryDescriptor);
      const inst = await WebAssembly.instantiate(module, { env: { memory, abort: () => { throw new Error('abort'); } } });
      const globals = Object.fromEntries(Object.entries(inst.exports)
        .filter(([, v]) => v instanceof WebAssembly.Global).map(([k, v]) => [k, (v as WebAssembly.Global).value]));
      expect(globals).toEqual({ ...ABI });
    });
  }
});
