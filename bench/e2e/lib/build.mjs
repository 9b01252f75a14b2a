// Builds what the e2e benchmark needs from source, into bench/e2e/build/ (gitignored):
// the C load generator, and the glibc compatibility shim + patched copy of the uWS addon.
// Also tells whether the wscore server exists yet. Nothing here downloads anything.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { markWeak } from '../uws-shim/patch-verneed.mjs';

const require = createRequire(import.meta.url);
export const E2E = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(E2E, '../..');
export const BUILD = path.join(E2E, 'build');
const CC = process.env.CC || 'cc';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}

function newer(src, out) {
  try {
    return fs.statSync(src).mtimeMs > fs.statSync(out).mtimeMs;
  } catch {
    return true;
  }
}

// How to compile against zlib. The library (zlib1g) is on every Debian system; its header and
// the libz.so link name come with zlib1g-dev. Without them, Node's own copy of zlib.h (same
// API, installed with Node's headers for addons) and the versioned library name do.
function nodeIncludeDirs() {
  const dirs = [path.resolve(path.dirname(process.execPath), '../include/node')];
  if (process.env.npm_config_nodedir) dirs.push(path.join(process.env.npm_config_nodedir, 'include/node'));
  return dirs.filter((d) => fs.existsSync(path.join(d, 'zlib.h')));
}

function compiles(flags) {
  const [include, lib] = splitFlags(flags);
  return run(CC, [...include, '-x', 'c', '-', '-x', 'none', '-o', '/dev/null', ...lib], {
    input: '#include <zlib.h>\nint main(void) { return zlibVersion()[0] == 0; }\n',
  }).status === 0;
}

export function zlibFlags() {
  for (const include of [[], ...nodeIncludeDirs().map((d) => [`-I${d}`])]) {
    for (const lib of ['-lz', '-l:libz.so.1']) {
      if (compiles([...include, lib])) return [...include, lib];
    }
  }
  throw new Error('zlib not found: the load generator needs zlib.h and libz. Install them with: apt-get install zlib1g-dev');
}

export function buildLoadgen() {
  fs.mkdirSync(BUILD, { recursive: true });
  const src = path.join(E2E, 'loadgen.c');
  const out = path.join(BUILD, 'loadgen');
  if (newer(src, out)) {
    const [include, lib] = splitFlags(zlibFlags());
    const r = run(CC, ['-O2', '-Wall', '-Wextra', ...include, '-o', out, src, ...lib]);
    if (r.status !== 0 || r.stderr.trim()) {
      // -Wall -Wextra must stay clean: a warning is a failure here too
      fs.rmSync(out, { force: true });
      throw new Error(`building the load generator failed:\n${r.stderr}`);
    }
  }
  return out;
}

/** Include flags go before the source, libraries after it. */
function splitFlags(flags) {
  return [flags.filter((f) => f.startsWith('-I')), flags.filter((f) => f.startsWith('-l'))];
}

// uWebSockets.js: returns { addon, preload, how } or { error }.
// Its Linux binaries need glibc >= 2.38 (C23 __isoc23_* symbols). If the stock addon loads,
// use it as is; otherwise copy it with the GLIBC_2.38 requirement marked weak and LD_PRELOAD
// a shim that defines the three symbols at that version (see README.md and uws-shim/).
export function prepareUws() {
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve('@btc-vision/uwebsockets.js'));
  } catch {
    return { error: '@btc-vision/uwebsockets.js is not installed (npm install)' };
  }
  const name = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const stock = path.join(pkgDir, name);
  if (!fs.existsSync(stock)) return { error: `the package has no ${name} for this Node.js` };
  if (loads(stock, {})) return { addon: stock, preload: null, how: 'stock binary' };

  fs.mkdirSync(BUILD, { recursive: true });
  const shimSrc = path.join(E2E, 'uws-shim/isoc23.c');
  const shimMap = path.join(E2E, 'uws-shim/isoc23.map');
  const shim = path.join(BUILD, 'libisoc23.so');
  if (newer(shimSrc, shim) || newer(shimMap, shim)) {
    const r = run(CC, ['-O2', '-Wall', '-Wextra', '-fPIC', '-shared', `-Wl,--version-script=${shimMap}`, '-o', shim, shimSrc]);
    if (r.status !== 0) return { error: `building the glibc shim failed:\n${r.stderr}` };
  }
  const patched = path.join(BUILD, name);
  if (newer(stock, patched)) {
    const buf = fs.readFileSync(stock);
    const done = markWeak(buf, ['GLIBC_2.38']);
    if (done.length === 0) return { error: `${name} does not load and has no GLIBC_2.38 requirement to patch` };
    fs.writeFileSync(patched, buf);
  }
  // LD_BIND_NOW: resolve every symbol now, so a missing one fails here and not mid-benchmark
  if (!loads(patched, { LD_PRELOAD: shim, LD_BIND_NOW: '1' })) {
    return { error: `the patched uWS addon does not load even with the shim (${lastLoadError})` };
  }
  return { addon: patched, preload: shim, how: 'patched copy (GLIBC_2.38 requirement weak) + LD_PRELOAD shim' };
}

let lastLoadError = '';
function loads(file, env) {
  const r = run(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { env: { ...process.env, ...env } });
  lastLoadError = r.stderr.trim().split('\n').slice(-3).join(' ');
  return r.status === 0;
}

// The wscore server is being written; run.mjs skips it until dist/cjs exports it.
export function checkWscore() {
  const index = path.join(ROOT, 'dist/cjs/index.js');
  if (!fs.existsSync(index)) return { error: 'dist/cjs/index.js is missing (npm run build:ts)' };
  const r = run(process.execPath, [
    '-e',
    `const m = require(${JSON.stringify(index)}); process.exit(typeof m.WebSocketServer === 'function' ? 0 : 3)`,
  ]);
  if (r.status === 3) return { error: 'dist/cjs/index.js has no WebSocketServer yet (src/io/server.ts unfinished, or npm run build:ts not run)' };
  if (r.status !== 0) return { error: `loading dist/cjs/index.js failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` };
  return { ok: true };
}
