// The published entry points: CommonJS and ESM resolve through package.json "exports" to
// one implementation (dist/cjs), so classes are shared and instanceof works across both.
// Needs dist/ (built by `npm install`'s prepare script or `npm run build:ts`).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env } }).trim();
}

describe('package entry points', () => {
  it('require("wscore") and import "wscore" load the same module instance', () => {
    const cjs = runNode(['-e', 'const w = require("wscore"); console.log(w.backendName)']);
    const esm = runNode([
      '--input-type=module',
      '-e',
      'import { backendName, backend } from "wscore"; import { createRequire } from "node:module"; const r = createRequire(import.meta.url); console.log(backendName, backend === r("wscore").backend);',
    ]);
    expect(cjs).toBe(process.env.WSCORE_BACKEND);
    expect(esm).toBe(`${process.env.WSCORE_BACKEND} true`);
  });

  it('npm pack ships built code, types, native sources and prebuilds, and no tests or benches', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    const files: string[] = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/cjs/index.js');
    expect(files).toContain('dist/cjs/index.d.ts');
    expect(files).toContain('dist/esm/index.mjs');
    expect(files).toContain('binding.gyp');
    expect(files).toContain('native/addon.cc');
    expect(files).toContain('scripts/install.js');
    expect(files.some((f) => f.startsWith('prebuilds/linux-x64/'))).toBe(true);
    const junk = files.filter((f) => /^(test|bench|fuzz|build|node_modules|src|\.ci)\//.test(f) || f.endsWith('.tsbuildinfo'));
    expect(junk).toEqual([]);
  });
});
