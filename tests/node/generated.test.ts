// The generated kernel files (assembly/<family>/gen/*.ts) are committed; this checks they are what the
// generators produce today, so nobody edits a generated file by hand or forgets to re-run a generator.
// Each generator rewrites its files in place: a stale file is restored after the comparison.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FAMILIES: [generator: string, dir: string][] = [
  ['scripts/gen-dense.mjs', 'assembly/dense/gen'],
  ['scripts/gen-sparse.mjs', 'assembly/sparse/gen'],
  ['scripts/gen-attention.mjs', 'assembly/attention/gen'],
];

describe('generated kernels are up to date', () => {
  for (const [gen, dir] of FAMILIES) {
    it(`${gen} reproduces ${dir}/`, () => {
      const files = readdirSync(`${root}/${dir}`).filter((f) => f.endsWith('.ts'));
      const before = new Map(files.map((f) => [f, readFileSync(`${root}/${dir}/${f}`, 'utf8')]));
      execFileSync(process.execPath, [gen], { cwd: root, stdio: 'pipe' });
      const stale = files.filter((f) => readFileSync(`${root}/${dir}/${f}`, 'utf8') !== before.get(f));
      for (const f of stale) writeFileSync(`${root}/${dir}/${f}`, before.get(f)!);
      expect(stale, `re-run node ${gen}`).toEqual([]);
    });
  }
});
