#!/usr/bin/env node
// npm run fuzz:diff -- [--seconds N] [--seed S] [--replay FILE] [--private-addon] [--strict-zero]
//
// Differential fuzzing of the two parseFrames implementations: the C++ addon (raw, as
// node-gyp-build loads it) and its TypeScript twin, src/backend/js/frames.ts. Both must
// produce, call for call, the same return value, the same records, the same 16 ctl slots
// (results, state, errors), the same unmasked buffer bytes and the same thrown errors.
//
// Inputs have the layout of parse_frames_fuzzer (fuzz/format.mjs): a config (role,
// allowed RSV bits, maxPayload, record capacity, bytes around [start, end), an optional
// injected ctl state) and a stream delivered in pieces, with the unconsumed tail of each
// call carried into the next buffer as src/protocol/reader.ts does. They come from
//   - a generator of well-formed traffic (messages, fragments, control frames, both roles,
//     every length form, text that is valid UTF-8 cut anywhere) with random corruption,
//   - mutation of a pool seeded from fuzz/corpus/parse_frames/ and grown with inputs that
//     reach a new outcome (error reason x state),
// and a small share of iterations compares utf8Step/isUtf8/mask, rotating the addon's
// SIMD kernels (_maskKernel/_utf8Kernel), which parseFrames then uses too.
//
// On a mismatch the input is written to fuzz/regressions/differential/ (it also replays in
// parse_frames_fuzzer) and the script exits 1. --replay FILE runs one input and shows both.
// The TS twin is compiled privately into fuzz/out/ts/ (dist/ is left alone).
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { concat, decodeParseInput, encodeParseInput, frame } from './format.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);

// ---- arguments -----------------------------------------------------------------------------
const opts = { seconds: 60, seed: crypto.randomInt(2 ** 31), replay: null, privateAddon: false, strictZero: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = () => process.argv[++i];
  if (a === '--seconds') opts.seconds = Number(v());
  else if (a === '--seed') opts.seed = Number(v());
  else if (a === '--replay') opts.replay = v();
  else if (a === '--private-addon') opts.privateAddon = true;
  else if (a === '--strict-zero') opts.strictZero = true;
  else {
    console.error('usage: npm run fuzz:diff -- [--seconds N] [--seed S] [--replay FILE] [--private-addon] [--strict-zero]');
    process.exit(2);
  }
}
if (!(opts.seconds > 0) || !Number.isInteger(opts.seed)) {
  console.error('differential: --seconds must be > 0 and --seed an integer');
  process.exit(2);
}

// ---- the two implementations -------------------------------------------------------------
function compileTwin() {
  const outDir = path.join(here, 'out', 'ts');
  const entry = path.join(outDir, 'backend', 'js', 'frames.js');
  const sources = ['frames', 'utf8', 'mask'].map((f) => path.join(root, 'src', 'backend', 'js', `${f}.ts`));
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const r = spawnSync(
    process.execPath,
    [tsc, '--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node10', '--types', 'node', '--skipLibCheck',
      '--esModuleInterop', '--rootDir', path.join(root, 'src'), '--outDir', outDir, ...sources],
    { cwd: root, encoding: 'utf8' },
  );
  if (!fs.existsSync(entry)) {
    console.error(r.stdout, r.stderr);
    console.error('differential: could not compile src/backend/js');
    process.exit(2);
  }
  if (r.status !== 0) console.warn(`differential: tsc reported type errors (emitted anyway):\n${r.stdout}`);
  return {
    frames: require(entry),
    utf8: require(path.join(outDir, 'backend', 'js', 'utf8.js')),
    mask: require(path.join(outDir, 'backend', 'js', 'mask.js')),
  };
}

/**
 * --private-addon: builds the addon from the current native/ into fuzz/out/addon/ (a copy
 * of the sources, as scripts/test-asan.sh does), so a build/ that someone else is rebuilding
 * or that lags behind the tree does not get in the way. Returns the path of the .node file.
 */
function buildPrivateAddon() {
  const src = path.join(here, 'out', 'addon-src');
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(path.join(src, 'scripts'), { recursive: true });
  fs.cpSync(path.join(root, 'native'), path.join(src, 'native'), { recursive: true });
  for (const f of ['binding.gyp', 'package.json']) fs.copyFileSync(path.join(root, f), path.join(src, f));
  fs.copyFileSync(path.join(root, 'scripts', 'source-hash.js'), path.join(src, 'scripts', 'source-hash.js'));
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  const nodedir = path.resolve(process.execPath, '..', '..');
  const args = [nodeGyp, 'rebuild'];
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
  const r = spawnSync(process.execPath, args, { cwd: src, encoding: 'utf8' });
  const built = path.join(src, 'build', 'Release', 'wscore.node');
  if (r.status !== 0 || !fs.existsSync(built)) {
    console.error(r.stdout?.slice(-4000), r.stderr?.slice(-4000));
    console.error('differential: private addon build failed');
    process.exit(2);
  }
  const dest = path.join(here, 'out', 'addon', 'wscore.node');
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(built, dest);
  return dest;
}

// The addon: --private-addon, else WSCORE_ADDON_PATH (as src/backend/native.ts honours it),
// else what node-gyp-build finds for the package (build/Release, then prebuilds/).
const addonPath = opts.privateAddon ? buildPrivateAddon() : process.env.WSCORE_ADDON_PATH || null;
const addon = addonPath ? require(path.resolve(addonPath)) : require('node-gyp-build')(root);
if (typeof addon.parseFrames !== 'function') {
  console.error(`differential: the addon loaded (${addonPath ?? 'node-gyp-build'}) has no parseFrames; build it (npm run build:native) or use --private-addon`);
  process.exit(2);
}
const { sourceHash } = require(path.join(root, 'scripts', 'source-hash.js'));
if (addon.sourceHash !== sourceHash()) {
  console.warn(`differential: WARNING: the addon (${addon.sourceHash}) was built from other native sources than the tree ` +
    `(${sourceHash()}); rebuild with npm run build:native to test the current code`);
}
const twin = compileTwin();
const NATIVE = addon.parseFrames;
const JS = twin.frames.parseFrames;
const MASK_KERNELS = addon._maskKernels ? addon._maskKernels() : [];
const UTF8_KERNELS = addon._utf8Kernels ? addon._utf8Kernels() : [];

// ---- a small seeded PRNG (mulberry32) ------------------------------------------------------
let rngState = opts.seed >>> 0;
function rand() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n); // 0..n-1
const chance = (p) => rand() < p;
const pick = (xs) => xs[int(xs.length)];
const randBytes = (n) => Uint8Array.from({ length: n }, () => int(256));

// ---- running one input through one implementation ------------------------------------------
const CTL = 16;
const SENTINEL = -0x5a5a5a5a;

function callSafely(fn, args) {
  try {
    return { n: fn(...args) };
  } catch (err) {
    return { threw: `${err?.constructor?.name}: ${err?.message}` };
  }
}

/** Yields a snapshot per parseFrames call, running native and TS in lockstep. */
function* lockstep(input) {
  const c = decodeParseInput(input);
  const ctls = [new Float64Array(CTL), new Float64Array(CTL)];
  for (const ctl of ctls) {
    ctl[0] = c.expectMask ? 1 : 0;
    ctl[1] = c.allowedRsv;
    ctl[2] = c.maxPayload;
    ctl[15] = c.capacity % 2 === 0 ? c.capacity : 0; // maxFragments: small with even capacities, else none
    if (c.state) ctl.set(c.state, 3);
  }
  let pending = new Uint8Array(0);
  let fed = 0;
  for (let p = 0; p < c.pieces.length; p++) {
    const chunk = c.stream.subarray(fed, fed + c.pieces[p]);
    fed += chunk.length;
    const dataLen = pending.length + chunk.length;
    const bufs = [0, 1].map(() => {
      const b = new Uint8Array(c.before + dataLen + c.after);
      b.fill(0xa5, 0, c.before);
      b.set(pending, c.before);
      b.set(chunk, c.before + pending.length);
      b.fill(0x5a, c.before + dataLen);
      return b;
    });
    const end = c.before + dataLen;
    let start = c.before;
    for (;;) {
      const recs = [0, 1].map(() => new Int32Array(c.capacity * 3).fill(SENTINEL));
      const a = callSafely(NATIVE, [bufs[0], start, end, ctls[0], recs[0]]);
      const b = callSafely(JS, [bufs[1], start, end, ctls[1], recs[1]]);
      const snap = { piece: p, start, end, native: { ...a, ctl: ctls[0], records: recs[0], buf: bufs[0] }, js: { ...b, ctl: ctls[1], records: recs[1], buf: bufs[1] } };
      yield snap;
      if (a.threw || b.threw) return;
      if (ctls[0][12] !== 0) return; // error: the stream is dead
      start = ctls[0][11];
      if (a.n < c.capacity) break;
    }
    pending = bufs[0].slice(start, end);
  }
}

/** Array contents for a message; -0 shown as such (Object.is tells it from 0). */
const fmt = (xs) => Array.from(xs, (v) => (Object.is(v, -0) ? '-0' : String(v))).join(',');

function sameArray(x, y) {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

// Known difference F1 (fuzz/README.md): an injected ctl[UTF8] of -0 comes back +0 from C++
// (it goes through an int) and -0 from TS. Both read it as 0, so by default a difference in
// the sign of a zero is counted and reported but does not stop the run; --strict-zero makes
// it a mismatch like any other.
function sameButZeroSign(x, y) {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return false;
  return true;
}
let zeroSignDiffs = 0;

/** The first difference between the two sides of a snapshot, or null. */
function difference(s) {
  const a = s.native;
  const b = s.js;
  if (a.threw !== b.threw) return `thrown: native ${a.threw ?? 'nothing'} / js ${b.threw ?? 'nothing'}`;
  if (a.threw) return null;
  if (a.n !== b.n) return `records written: native ${a.n} / js ${b.n}`;
  if (!sameArray(a.records, b.records)) return `records: native [${fmt(a.records)}] / js [${fmt(b.records)}]`;
  if (!sameArray(a.ctl, b.ctl) && !opts.strictZero && sameButZeroSign(a.ctl, b.ctl)) {
    zeroSignDiffs++;
  } else if (!sameArray(a.ctl, b.ctl)) {
    const slot = Array.from(a.ctl).findIndex((v, k) => !Object.is(v, b.ctl[k]));
    return `ctl[${slot}]: native ${fmt([a.ctl[slot]])} / js ${fmt([b.ctl[slot]])}; native [${fmt(a.ctl)}] / js [${fmt(b.ctl)}]`;
  }
  if (!sameArray(a.buf, b.buf)) {
    const i = a.buf.findIndex((v, k) => v !== b.buf[k]);
    return `buffer byte ${i}: native ${a.buf[i]} / js ${b.buf[i]}`;
  }
  return null;
}

/** Runs one input; returns { mismatch, outcome } where outcome names where it ended. */
function check(input, stats) {
  let last = null;
  for (const s of lockstep(input)) {
    stats.calls++;
    const d = difference(s);
    if (d) return { mismatch: `call ${stats.calls} (piece ${s.piece}, start ${s.start}, end ${s.end}): ${d}` };
    last = s;
  }
  if (!last) return { outcome: 'none' };
  if (last.native.threw) return { outcome: `throw:${last.native.threw.slice(0, 40)}` };
  const ctl = last.native.ctl;
  return { outcome: `r${ctl[14]}|m${ctl[3]}|f${ctl[7] !== 0 ? ctl[7] & 0x20f : 0}|u${ctl[4] !== 0}` };
}

// ---- generating inputs ---------------------------------------------------------------------
const enc = new TextEncoder();
const CODE_POINT_RANGES = [[0x20, 0x7e], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xffff], [0x10000, 0x10ffff]];

function randomText(maxChars) {
  let s = '';
  const n = int(maxChars + 1);
  for (let i = 0; i < n; i++) {
    const [lo, hi] = chance(0.6) ? CODE_POINT_RANGES[0] : pick(CODE_POINT_RANGES);
    s += String.fromCodePoint(lo + int(hi - lo + 1));
  }
  return enc.encode(s);
}

function randomLength() {
  const r = rand();
  if (r < 0.5) return int(20);
  if (r < 0.8) return int(130);
  if (r < 0.95) return 120 + int(300);
  return pick([65535, 65536, 70000]);
}

function randomPayload(text) {
  if (text) {
    const t = randomText(randomLength() >> 1);
    return chance(0.03) ? t.map((v) => (chance(0.05) ? int(256) : v)) : t;
  }
  return randBytes(randomLength());
}

const CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0];

/** Frames of well-formed traffic for one role, with occasional rule breaking. */
function randomStream(expectMask, allowedRsv) {
  const parts = [];
  const keyFor = () => (expectMask !== chance(0.02) ? randBytes(4) : null);
  const form = () => (chance(0.15) ? pick([16, 64]) : undefined);
  const messages = 1 + int(6);
  for (let m = 0; m < messages; m++) {
    if (chance(0.3)) {
      const opcode = pick([8, 9, 10, 9, 10]);
      let payload = randBytes(int(chance(0.9) ? 30 : 127));
      if (opcode === 8) {
        const code = pick(CLOSE_CODES);
        payload = chance(0.1) ? payload.subarray(0, int(2)) : concat([Uint8Array.of(code >> 8, code & 0xff), randomText(20)]);
      }
      parts.push(frame({ opcode, payload, key: keyFor(), fin: !chance(0.02), rsv: chance(0.03) ? int(8) : 0, form: chance(0.02) ? 16 : undefined }));
      continue;
    }
    const text = chance(0.5);
    const rsv = chance(0.2) ? allowedRsv & 4 : chance(0.03) ? int(8) : 0;
    const whole = randomPayload(text);
    const nfrag = chance(0.6) ? 1 : 2 + int(5);
    const cuts = Array.from({ length: nfrag - 1 }, () => int(whole.length + 1)).sort((x, y) => x - y);
    let from = 0;
    for (let i = 0; i < nfrag; i++) {
      const to = i < cuts.length ? cuts[i] : whole.length;
      const fin = i === nfrag - 1 ? !chance(0.05) : chance(0.02);
      parts.push(frame({ opcode: i === 0 ? (text ? 1 : 2) : chance(0.02) ? 1 : 0, fin, rsv: i === 0 ? rsv : chance(0.02) ? 4 : 0, payload: whole.subarray(from, to), key: keyFor(), form: form() }));
      from = to;
      if (chance(0.15)) parts.push(frame({ opcode: 9, payload: randBytes(int(10)), key: keyFor() }));
    }
  }
  if (chance(0.05)) parts.push(frame({ opcode: 2, length: pick([2n ** 63n, 2n ** 53n, 2n ** 53n - 1n, 2n ** 32n, 2n ** 31n]), key: keyFor() }));
  if (chance(0.05)) parts.push(frame({ opcode: 3 + int(5) + (chance(0.5) ? 8 : 0), key: keyFor() }));
  let stream = concat(parts);
  // Corruption: flipped bytes, a truncated end, an inserted run.
  if (chance(0.3)) {
    stream = stream.slice();
    for (let i = 1 + int(3); i > 0 && stream.length > 0; i--) stream[int(stream.length)] ^= 1 + int(255);
  }
  if (chance(0.1)) stream = stream.subarray(0, int(stream.length + 1));
  if (chance(0.05)) {
    const at = int(stream.length + 1);
    stream = concat([stream.subarray(0, at), randBytes(1 + int(8)), stream.subarray(at)]);
  }
  return stream;
}

function randomState() {
  // Mostly plausible values (selector low nibble < 10), sometimes ones the checks refuse.
  return Array.from({ length: 8 }, () => [chance(0.9) ? int(10) | (chance(0.3) ? 0x10 | (int(8) << 5) : 0) : int(256), chance(0.5) ? int(8) : int(2 ** 32)]);
}

function generate() {
  const expectMask = chance(0.5);
  const allowedRsv = chance(0.5) ? 4 : chance(0.5) ? 0 : int(8);
  const stream = randomStream(expectMask, allowedRsv);
  const k = chance(0.3) ? 0 : int(16);
  const cfg = {
    expectMask,
    allowedRsv,
    capacity: 1 + int(8),
    maxIndex: chance(0.6) ? 14 : int(16),
    before: int(4),
    after: int(4),
    cuts: Array.from({ length: k }, () => int(stream.length + 1) & 0xffff),
    every: k === 0 && chance(0.5) ? 1 + int(15) : 0,
    state: chance(0.08) ? randomState() : null,
  };
  return encodeParseInput(cfg, stream);
}

const INTERESTING = [0x00, 0x01, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8a, 0xc0, 0xe0, 0xed, 0xf0, 0xf4, 0xff];

function mutate(input, pool) {
  let b = Uint8Array.from(input);
  for (let i = 1 + int(4); i > 0; i--) {
    const r = int(8);
    if (b.length === 0) b = randBytes(4);
    const at = int(b.length);
    if (r === 0) b[at] ^= 1 << int(8);
    else if (r === 1) b[at] = pick(INTERESTING);
    else if (r === 2) b[int(Math.min(3, b.length))] = int(256); // the config bytes
    else if (r === 3) b = concat([b.subarray(0, at), randBytes(1 + int(16)), b.subarray(at)]);
    else if (r === 4) b = concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(16)))]);
    else if (r === 5) {
      const len = 1 + int(32);
      b = concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    } else if (r === 6) {
      const other = pick(pool);
      const from = int(other.length);
      b = concat([b.subarray(0, at), other.subarray(from, from + 1 + int(64))]);
    } else b[at] = (b[at] + 1 + int(4)) & 0xff;
  }
  return b.length > 200000 ? b.subarray(0, 200000) : b;
}

// ---- utf8Step / isUtf8 / mask ---------------------------------------------------------------
function kernelsCheck(stats) {
  if (UTF8_KERNELS.length) addon._utf8Kernel(pick(UTF8_KERNELS));
  if (MASK_KERNELS.length) addon._maskKernel(pick(MASK_KERNELS));
  let text = randomText(int(400));
  if (chance(0.5)) {
    text = text.slice();
    for (let i = int(3); i > 0 && text.length; i--) text[int(text.length)] = pick(INTERESTING);
  }
  const data = text.subarray(int(4)); // odd offsets inside the buffer too
  const state = chance(0.5) ? 0 : int(8);
  stats.kernelChecks++;
  const n1 = addon.utf8Step(data, state);
  const j1 = twin.utf8.utf8Step(data, state);
  if (!Object.is(n1, j1)) return `utf8Step(${Buffer.from(data).toString('hex')}, ${state}): native ${n1} / js ${j1}`;
  if (addon.isUtf8(data) !== twin.utf8.isUtf8(data)) return `isUtf8(${Buffer.from(data).toString('hex')}) differs`;
  const src = randBytes(int(600));
  const key = randBytes(4);
  const keyOffset = chance(0.8) ? int(8) : int(2 ** 40);
  const at = int(8);
  const t1 = new Uint8Array(src.length + at + int(4));
  const t2 = t1.slice();
  addon.mask(src, key, t1, at, keyOffset);
  twin.mask.mask(src, key, t2, at, keyOffset);
  if (!sameArray(t1, t2)) return `mask(len ${src.length}, keyOffset ${keyOffset}, at ${at}) differs (kernel ${addon._maskKernel?.()})`;
  return null;
}

// ---- main ----------------------------------------------------------------------------------
function saveRegression(input, why) {
  const dir = path.join(here, 'regressions', 'differential');
  fs.mkdirSync(dir, { recursive: true });
  const name = `diff-${crypto.createHash('sha1').update(input).digest('hex').slice(0, 16)}`;
  fs.writeFileSync(path.join(dir, name), input);
  fs.writeFileSync(path.join(dir, `${name}.txt`), `${why}\n`); // a note; replays skip *.txt
  return path.join(dir, name);
}

function replay(file) {
  const input = new Uint8Array(fs.readFileSync(file));
  const c = decodeParseInput(input);
  console.log(`config: ${JSON.stringify({ ...c, stream: undefined, length: c.stream.length })}`);
  let bad = false;
  for (const s of lockstep(input)) {
    const d = difference(s);
    const show = (x) => (x.threw ? `threw ${x.threw}` : `n=${x.n} records=[${fmt(x.records.subarray(0, x.n * 3))}] ctl=[${fmt(x.ctl)}]`);
    console.log(`piece ${s.piece} [${s.start}, ${s.end})\n  native ${show(s.native)}\n  js     ${show(s.js)}${d ? `\n  DIFFERENT: ${d}` : ''}`);
    bad ||= d !== null;
  }
  process.exit(bad ? 1 : 0);
}

function main() {
  if (opts.replay) replay(opts.replay);
  console.log(`differential: native addon ${addon.sourceHash} vs src/backend/js, seed ${opts.seed}, ${opts.seconds} s ` +
    `(mask kernels ${MASK_KERNELS.join('/') || '-'}, utf8 kernels ${UTF8_KERNELS.join('/') || '-'})`);
  const pool = [];
  for (const dir of [path.join(here, 'corpus', 'parse_frames'), path.join(here, 'regressions', 'differential')]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) if (!/\.(md|txt)$/.test(f)) pool.push(new Uint8Array(fs.readFileSync(path.join(dir, f))));
  }
  const seen = new Set();
  const stats = { inputs: 0, calls: 0, kernelChecks: 0, outcomes: 0 };
  const deadline = Date.now() + opts.seconds * 1000;
  let failure = null;
  while (Date.now() < deadline && !failure) {
    for (let burst = 0; burst < 50 && !failure; burst++) {
      const r = rand();
      if (r < 0.1) {
        const d = kernelsCheck(stats);
        if (d) failure = { why: d, input: null };
        continue;
      }
      const input = r < 0.55 || pool.length === 0 ? generate() : mutate(pick(pool), pool);
      stats.inputs++;
      const res = check(input, stats);
      if (res.mismatch) {
        failure = { why: res.mismatch, input };
        break;
      }
      if (!seen.has(res.outcome)) {
        seen.add(res.outcome);
        stats.outcomes++;
        if (pool.length < 4000) pool.push(input);
        else pool[int(pool.length)] = input;
      }
    }
  }
  const summary = `${stats.inputs} inputs, ${stats.calls} parseFrames call pairs, ${stats.kernelChecks} utf8/mask checks, ` +
    `${stats.outcomes} distinct outcomes` + (zeroSignDiffs ? `; ${zeroSignDiffs} calls differed only in the sign of a zero in ctl (known F1)` : '');
  fs.mkdirSync(path.join(here, 'out'), { recursive: true });
  fs.appendFileSync(path.join(here, 'out', 'history.jsonl'), JSON.stringify({ date: new Date().toISOString(), target: 'differential', level: 'native+js', seconds: opts.seconds, execs: stats.inputs + stats.kernelChecks, ok: !failure, seed: opts.seed }) + '\n');
  if (failure) {
    console.error(`differential: MISMATCH (seed ${opts.seed}): ${failure.why}`);
    if (failure.input) {
      const file = saveRegression(failure.input, failure.why);
      console.error(`differential: input saved to ${file}\ndifferential: replay with  node fuzz/differential.mjs --replay ${file}`);
    }
    console.error(`differential: ${summary}`);
    process.exit(1);
  }
  console.log(`differential: clean: ${summary}`);
}

main();
