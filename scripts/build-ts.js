'use strict';
// Compiles src/ to CommonJS (dist/cjs) with declarations, then writes a thin ESM entry
// (dist/esm) that re-exports it. One implementation for both module systems means one
// copy of every class at run time (no dual-package hazard: instanceof works everywhere),
// the approach ws takes with its wrapper.mjs.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

const esm = path.join(root, 'dist', 'esm');
fs.mkdirSync(esm, { recursive: true });
fs.writeFileSync(path.join(esm, 'index.mjs'), "export * from '../cjs/index.js';\n");
fs.writeFileSync(path.join(esm, 'index.d.mts'), "export * from '../cjs/index.js';\n");
