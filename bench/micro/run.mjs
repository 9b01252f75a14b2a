// Micro benchmark of wscore's byte kernels against the peers a user would pick instead.
//
//   npm run build:ts && npm run build:native   (the bench loads dist/cjs and build/)
//   npm run bench:micro [-- --quick] [-- --only=mask,unmask,utf8,step,crossover] [-- --clock=cpu|wall]
//
// Times are process CPU time by default (see harness.mjs: stable on a shared machine);
// --clock=wall measures elapsed time instead.
//
// What is measured (throughput in GB/s = bytes / ns, median of >= 5 timed runs after
// warm-up, min..max of the runs in brackets), side by side in one process, the contenders
// of one row interleaved run by run (harness.mjs, measureGroup):
//   mask   (copy into a target, the client send path): wscore addon, wscore native backend
//          (with its small-input JS path), wscore js twin, bufferutil (native), ws's JS loop
//          (WS_NO_BUFFER_UTIL=1), and Buffer#copy as the memory-bandwidth ceiling;
//   unmask (in place, the server receive path): the same minus Buffer#copy;
//   utf8   (ascii / mixed Latin+CJK / emoji corpora): wscore addon, native backend, js twin,
//          utf-8-validate (native), buffer.isUtf8 (simdutf), TextDecoder fatal;
//   step   utf8Step (incremental) in one call and in 16 KiB - 3 pieces vs isUtf8 whole;
//   crossover  ns per call (fastest of 3 alternating rounds) of addon vs js twin at small
//          sizes: where native starts to win
//          (the MASK_NATIVE_MIN_BYTES / UTF8_NATIVE_MIN_BYTES thresholds).
// Results and targets: docs/benchmarks.md, "Micro kernels (mask, UTF-8)".
import { isUtf8 as nodeIsUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { spawnSync } from 'node:child_process';

import { CORPORA, corpus } from './corpus.mjs';
import { compileLoop, formatSize, measure, measureGroup, printTable, setClock } from './harness.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const clock = argv.find((a) => a.startsWith('--clock='))?.slice('--clock='.length) ?? 'cpu';
setClock(clock);
if (clock === 'cpu' && !process.execArgv.includes('--single-threaded')) {
  // CPU time must be the main thread's alone: rerun with V8's background threads off.
  const child = spawnSync(process.execPath, ['--expose-gc', '--single-threaded', fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
const quick = argv.includes('--quick');
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const wants = (section) => only === undefined || only.split(',').includes(section);
const timing = quick ? { runs: 5, minRunMs: 4, warmupMs: 10 } : { runs: 7, minRunMs: 15, warmupMs: 40 };
const SIZES = [16, 125, 1024, 16 << 10, 64 << 10, 1 << 20, 16 << 20];

// ---- what is compared -------------------------------------------------------------------

const backendDir = path.join(root, 'dist', 'cjs', 'backend');
if (!fs.existsSync(path.join(backendDir, 'native-backend.js'))) {
  console.error('bench/micro: dist/cjs is missing; run `npm run build:ts` first');
  process.exit(1);
}
const { jsBackend } = require(path.join(backendDir, 'js', 'index.js'));
const nativeBackendModule = require(path.join(backendDir, 'native-backend.js'));
const nativeBackend = nativeBackendModule.createNativeBackend();
const addon = require('node-gyp-build')(root);

process.env.WS_NO_BUFFER_UTIL = '1'; // read by ws when buffer-util.js is first required
// ws's package exports hide lib/, so require the file by path.
const wsBufferUtil = require(path.join(path.dirname(require.resolve('ws')), 'lib', 'buffer-util.js'));
const bufferutil = require('bufferutil');
const utf8Validate = require('utf-8-validate');
const isNative = (fn) => /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn));
const peerPath = (name) => {
  try {
    return path.relative(root, require('node-gyp-build').path(path.dirname(require.resolve(name))));
  } catch (err) {
    return `not found (${err.message.split('\n')[0]})`;
  }
};

function cpuModel() {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

console.log(`# wscore micro bench${quick ? ' (--quick)' : ''}`);
console.log(`node ${process.version}, ${os.availableParallelism()} CPUs (nproc), ${cpuModel()}`);
console.log(`wscore kernels: mask=${addon._maskKernel()}, utf8=${addon._utf8Kernel()}; thresholds: MASK_NATIVE_MIN_BYTES=${nativeBackendModule.MASK_NATIVE_MIN_BYTES}, UTF8_NATIVE_MIN_BYTES=${nativeBackendModule.UTF8_NATIVE_MIN_BYTES}`);
console.log(`bufferutil: ${isNative(bufferutil.mask) ? 'native' : 'JS FALLBACK'} (${peerPath('bufferutil')})`);
console.log(`utf-8-validate: ${isNative(utf8Validate) ? 'native' : 'JS FALLBACK'} (${peerPath('utf-8-validate')})`);
console.log(`ws JS masking: ${isNative(wsBufferUtil.mask) ? 'NATIVE (WS_NO_BUFFER_UTIL ignored?)' : 'JS loop'}`);
console.log(`timing: ${clock} clock, median of ${timing.runs} runs, each >= ${timing.minRunMs} ms, after >= ${timing.warmupMs} ms warm-up; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

const fmt = (r) => `${r.gbps.toFixed(r.gbps < 1 ? 3 : 2)} [${r.min.toFixed(r.min < 1 ? 3 : 2)}..${r.max.toFixed(r.max < 1 ? 3 : 2)}]`;
const ratio = (a, b) => `${(a.gbps / b.gbps).toFixed(2)}x`;

function fill(size, seed) {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

// ---- mask / unmask ----------------------------------------------------------------------

function benchMask() {
  console.log('## mask (copy into a target), GB/s\n');
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const rows = [];
  for (const size of SIZES) {
    const src = fill(size, size);
    const dst = Buffer.alloc(size);
    const names = ['f', 'src', 'key', 'dst', 'len'];
    const c = (fn, body) => ({ loop: compileLoop(body, names), args: [fn, src, key, dst, size] });
    const r = measureGroup({
      addon: c(addon.mask, 'f(src, key, dst, 0, 0);'),
      backend: c(nativeBackend.mask, 'f(src, key, dst, 0, 0);'),
      js: c(jsBackend.mask, 'f(src, key, dst, 0, 0);'),
      bufferutil: c(bufferutil.mask, 'f(src, key, dst, 0, len);'),
      wsJs: c(wsBufferUtil.mask, 'f(src, key, dst, 0, len);'),
      copy: c(null, 'src.copy(dst, 0);'),
    }, size, timing);
    const best = r.addon.gbps >= r.backend.gbps ? r.addon : r.backend;
    rows.push([formatSize(size), fmt(r.addon), fmt(r.backend), fmt(r.js), fmt(r.bufferutil), fmt(r.wsJs), fmt(r.copy),
      ratio(r.addon, r.bufferutil), ratio(r.backend, r.bufferutil), ratio(r.addon, r.copy), ratio(best, r.wsJs)]);
  }
  printTable(['size', 'wscore addon', 'wscore native backend', 'wscore js', 'bufferutil', 'ws JS loop', 'Buffer#copy',
    'addon/bufferutil', 'backend/bufferutil', 'addon/copy', 'best wscore/ws JS'], rows);
}

function benchUnmask() {
  console.log('## unmask (in place), GB/s\n');
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const rows = [];
  for (const size of SIZES) {
    const buf = fill(size, size + 1);
    const c = (fn, body) => ({ loop: compileLoop(body, ['f', 'buf', 'key']), args: [fn, buf, key] });
    const r = measureGroup({
      addon: c(addon.unmask, 'f(buf, key, 0);'),
      backend: c(nativeBackend.unmask, 'f(buf, key, 0);'),
      js: c(jsBackend.unmask, 'f(buf, key, 0);'),
      bufferutil: c(bufferutil.unmask, 'f(buf, key);'),
      wsJs: c(wsBufferUtil.unmask, 'f(buf, key);'),
    }, size, timing);
    rows.push([formatSize(size), fmt(r.addon), fmt(r.backend), fmt(r.js), fmt(r.bufferutil), fmt(r.wsJs), ratio(r.addon, r.bufferutil), ratio(r.backend, r.bufferutil)]);
  }
  printTable(['size', 'wscore addon', 'wscore native backend', 'wscore js', 'bufferutil', 'ws JS loop', 'addon/bufferutil', 'backend/bufferutil'], rows);
}

// ---- UTF-8 ------------------------------------------------------------------------------

function benchUtf8() {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const kind of CORPORA) {
    console.log(`## isUtf8, ${kind} corpus, GB/s\n`);
    const rows = [];
    for (const size of SIZES) {
      const buf = corpus(kind, size);
      if (!nodeIsUtf8(buf) || !addon.isUtf8(buf) || !jsBackend.isUtf8(buf)) throw new Error(`corpus ${kind} ${size} is not valid UTF-8`);
      const c = (fn, body) => ({ loop: compileLoop(body, ['f', 'buf']), args: [fn, buf] });
      const r = measureGroup({
        addon: c(addon.isUtf8, 'if (!f(buf)) throw 0;'),
        backend: c(nativeBackend.isUtf8, 'if (!f(buf)) throw 0;'),
        js: c(jsBackend.isUtf8, 'if (!f(buf)) throw 0;'),
        validate: c(utf8Validate, 'if (!f(buf)) throw 0;'),
        node: c(nodeIsUtf8, 'if (!f(buf)) throw 0;'),
        decoder: c(decoder, 'f.decode(buf);'),
      }, size, timing);
      rows.push([formatSize(size), fmt(r.addon), fmt(r.backend), fmt(r.js), fmt(r.validate), fmt(r.node), fmt(r.decoder),
        ratio(r.addon, r.node), ratio(r.backend, r.node), ratio(r.addon, r.validate), ratio(r.backend, r.validate)]);
    }
    printTable(['size', 'wscore addon', 'wscore native backend', 'wscore js', 'utf-8-validate', 'buffer.isUtf8', 'TextDecoder fatal',
      'addon/isUtf8', 'backend/isUtf8', 'addon/u-8-v', 'backend/u-8-v'], rows);
  }
}

function benchStep() {
  const PIECE = (16 << 10) - 3; // fragment-sized pieces that split characters
  for (const kind of CORPORA) {
    console.log(`## incremental utf8Step vs whole-buffer isUtf8 (addon), ${kind} corpus, GB/s\n`);
    const rows = [];
    for (const size of SIZES.filter((s) => s >= 1024)) {
      const buf = corpus(kind, size);
      const pieces = [];
      for (let o = 0; o < size; o += PIECE) pieces.push(buf.subarray(o, Math.min(size, o + PIECE)));
      const { whole, one, many } = measureGroup({
        whole: { loop: compileLoop('if (!f(buf)) throw 0;', ['f', 'buf']), args: [addon.isUtf8, buf] },
        one: { loop: compileLoop('if (f(buf, 0) !== 0) throw 0;', ['f', 'buf']), args: [addon.utf8Step, buf] },
        many: { loop: compileLoop('let s = 0; for (const p of pieces) s = f(p, s); if (s !== 0) throw 0;', ['f', 'pieces']), args: [addon.utf8Step, pieces] },
      }, size, timing);
      rows.push([formatSize(size), fmt(whole), fmt(one), fmt(many), pieces.length, ratio(one, whole), ratio(many, whole)]);
    }
    printTable(['size', 'isUtf8', 'utf8Step 1 call', `utf8Step ${PIECE} B pieces`, 'pieces', '1 call/isUtf8', 'pieces/isUtf8'], rows);
  }
}

// ---- small-input crossover --------------------------------------------------------------

// Fixed per-call costs of ~100 ns are easily disturbed by other processes on a shared
// machine, so each side is measured in 3 interleaved rounds and the fastest run counts.
function crossover(label, sizes, make) {
  const rows = [];
  let firstWin;
  for (const size of sizes) {
    const { nativeLoop, jsLoop, args } = make(size);
    let n = Infinity;
    let j = Infinity;
    for (let round = 0; round < 3; round++) {
      const r = measureGroup({ native: { loop: nativeLoop, args }, js: { loop: jsLoop, args } }, Math.max(size, 1), timing);
      n = Math.min(n, r.native.nsMin);
      j = Math.min(j, r.js.nsMin);
    }
    if (n <= j) firstWin ??= size;
    else firstWin = undefined; // must keep winning at every larger size
    rows.push([formatSize(size), n.toFixed(1), j.toFixed(1), (j / n).toFixed(2)]);
  }
  console.log(`### ${label}: crossover at ${firstWin === undefined ? 'none in range' : formatSize(firstWin)}\n`);
  printTable(['size', 'addon ns/call (min)', 'js ns/call (min)', 'js/addon'], rows);
}

function benchCrossover() {
  console.log('## small inputs: addon vs js twin, ns per call\n');
  const sizes = [0, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
  const key = Buffer.from([1, 2, 3, 4]);
  crossover('mask (copy)', sizes, (size) => {
    const loop = compileLoop('f(src, key, dst, 0, 1);', ['f', 'src', 'key', 'dst']);
    const loop2 = compileLoop('f(src, key, dst, 0, 1);', ['f', 'src', 'key', 'dst']);
    const src = fill(size, 3);
    const dst = Buffer.alloc(size);
    return { nativeLoop: (n, ...a) => loop(n, addon.mask, ...a), jsLoop: (n, ...a) => loop2(n, jsBackend.mask, ...a), args: [src, key, dst] };
  });
  crossover('unmask (in place)', sizes, (size) => {
    const loop = compileLoop('f(buf, key, 1);', ['f', 'buf', 'key']);
    const loop2 = compileLoop('f(buf, key, 1);', ['f', 'buf', 'key']);
    return { nativeLoop: (n, ...a) => loop(n, addon.unmask, ...a), jsLoop: (n, ...a) => loop2(n, jsBackend.unmask, ...a), args: [fill(size, 4), key] };
  });
  for (const kind of ['ascii', 'mixed']) {
    crossover(`isUtf8 (${kind})`, sizes, (size) => {
      const loop = compileLoop('f(buf);', ['f', 'buf']);
      const loop2 = compileLoop('f(buf);', ['f', 'buf']);
      return { nativeLoop: (n, ...a) => loop(n, addon.isUtf8, ...a), jsLoop: (n, ...a) => loop2(n, jsBackend.isUtf8, ...a), args: [corpus(kind, size)] };
    });
    crossover(`utf8Step (${kind})`, sizes, (size) => {
      const loop = compileLoop('f(buf, 0);', ['f', 'buf']);
      const loop2 = compileLoop('f(buf, 0);', ['f', 'buf']);
      return { nativeLoop: (n, ...a) => loop(n, addon.utf8Step, ...a), jsLoop: (n, ...a) => loop2(n, jsBackend.utf8Step, ...a), args: [corpus(kind, size)] };
    });
  }
}

if (wants('mask')) benchMask();
if (wants('unmask')) benchUnmask();
if (wants('utf8')) benchUtf8();
if (wants('step')) benchStep();
if (wants('crossover')) benchCrossover();
