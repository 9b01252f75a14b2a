// permessage-deflate benchmark: wscore's PerMessageDeflate vs ws's, same negotiated settings.
//   npm run bench:deflate                 (builds dist/, then runs everything)
//   node --expose-gc bench/deflate/run.mjs [throughput|memory|ratio|large|engines] [--quick]
// Prints markdown tables for docs/benchmarks.md. Nothing here is asserted by tests.
//
// Throughput: one message at a time through the compressed path, as a connection does it:
// the sender compresses (payload of one RSV1 frame), the receiver decompresses.
//   wscore: compressMessage() -> decompressMessage(), synchronous.
//   ws:     PerMessageDeflate#compress(data, true, cb) -> #decompress(frame, true, cb), async
//           (zlib streams on the libuv thread pool), awaited one after the other.
// Memory: RSS per connection of 1,000 server-side extension objects that each compressed one
// message and decompressed one (each mode in a fresh process).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { jsonMessages } from './payloads.mjs';
import { lib } from './lib.mjs';

const require = createRequire(import.meta.url);
const here = fileURLToPath(import.meta.url);
const wsDir = path.dirname(require.resolve('ws/package.json'));
const WsPMD = require(path.join(wsDir, 'lib/permessage-deflate.js'));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const what = args.find((a) => !a.startsWith('--')) ?? 'all';

function loadWscore(backendName) {
  const { PerMessageDeflate } = require(lib('extensions/permessage-deflate.js'));
  const backends = require(lib('backend/index.js'));
  const backend = backendName === 'js' ? backends.jsBackend : backends.createNativeBackend();
  return { PerMessageDeflate, backend };
}

/** A negotiated wscore pair: [sender (client), receiver (server)]. */
function wscorePair(backendName, extra = {}) {
  const { PerMessageDeflate, backend } = loadWscore(backendName);
  const client = new PerMessageDeflate({ backend, threshold: 0, ...extra });
  const server = new PerMessageDeflate({ backend, threshold: 0, ...extra });
  const answer = server.accept(client.offer() === true ? '' : client.offer());
  client.finalize(answer === true ? '' : answer);
  return [client, server];
}

function wsPair() {
  const client = new WsPMD({ isServer: false });
  const server = new WsPMD({ isServer: true });
  client.accept([server.accept([{ client_max_window_bits: [true] }].map(normalize))].map(normalize));
  return [client, server];
}
/** ws's accept() takes params as {name: [value]}; its result is {name: value}. */
function normalize(params) {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
}
const wsCall = (fn, pmd, data) => new Promise((resolve, reject) => fn.call(pmd, data, true, (err, out) => (err ? reject(err) : resolve(out))));

async function rate(step, msgs, ms) {
  for (let i = 0; i < 100; i++) await step(msgs[i % msgs.length]);
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(ms) * 1_000_000n;
  let t = t0;
  while (t < end) {
    for (let i = 0; i < 20; i++) await step(msgs[n++ % msgs.length]);
    t = process.hrtime.bigint();
  }
  return (n / Number(t - t0)) * 1e9;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => (x >= 1e4 ? `${(x / 1000).toFixed(0)}k` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));

async function throughput() {
  const runs = quick ? 3 : 5;
  const ms = quick ? 300 : 700;
  console.log(`\n### Throughput (messages/s, median of ${runs} runs of ${ms} ms; [min-max])\n`);
  console.log('| payload | ws | wscore native | wscore native, 32 KiB window | wscore js | native / ws | target |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const size of [64, 1024, 16384]) {
    const msgs = jsonMessages(size, 64);
    const contenders = {
      ws: () => {
        const [c, s] = wsPair();
        return async (m) => wsCall(s.decompress, s, await wsCall(c.compress, c, m));
      },
      native: () => {
        const [c, s] = wscorePair('native');
        return (m) => s.decompressMessage(c.compressMessage(m), 1 << 26);
      },
      native15: () => {
        const [c, s] = wscorePair('native', { zlibDeflateOptions: { windowBits: 15 } });
        return (m) => s.decompressMessage(c.compressMessage(m), 1 << 26);
      },
      js: () => {
        const [c, s] = wscorePair('js');
        return (m) => s.decompressMessage(c.compressMessage(m), 1 << 26);
      },
    };
    const results = {};
    for (const [name, make] of Object.entries(contenders)) results[name] = [];
    for (let r = 0; r < runs; r++) {
      // Interleaved, so that a noisy neighbour hurts every contender alike.
      for (const [name, make] of Object.entries(contenders)) results[name].push(await rate(make(), msgs, name === 'js' ? ms / 2 : ms));
    }
    const cell = (xs) => `${fmt(median(xs))} [${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}]`;
    const ratio = median(results.native) / median(results.ws);
    const target = size <= 1024 ? 4 : 1.5;
    console.log(
      `| ${size} B | ${cell(results.ws)} | ${cell(results.native)} | ${cell(results.native15)} | ${cell(results.js)} | **${ratio.toFixed(1)}x** | >= ${target}x: ${ratio >= target ? 'met' : 'MISSED'} |`,
    );
  }
}

const MODES = {
  ws: 'ws PerMessageDeflate, defaults (context takeover, 32 KiB windows, memLevel 8)',
  native: 'wscore native, defaults (context takeover; our compressor window 4 KiB)',
  'native-w15': 'wscore native, compressor window 32 KiB (zlibDeflateOptions.windowBits: 15, as ws)',
  'native-w9': 'wscore native, server_max_window_bits=9 + client_max_window_bits=9',
  'native-mem1': 'wscore native, memLevel 1',
  'native-nct-own': 'wscore native, no context takeover both ways, sharedCompressor: false',
  'native-nct-shared': 'wscore native, no context takeover both ways, shared streams (default)',
  js: 'wscore js backend, defaults',
  'js-nct-shared': 'wscore js backend, no context takeover, shared streams',
};

/** Child process: builds 1,000 connections' worth of one mode, prints bytes per connection. */
async function memoryChild(mode) {
  const N = 1000;
  const msg = jsonMessages(1024, 1)[0];
  const gcRss = () => {
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage().rss;
  };
  globalThis.kept = []; // pinned: nothing may be collected before the measurement
  let make;
  if (mode === 'ws') {
    const [peer] = wsPair();
    const compressed = await wsCall(peer.compress, peer, msg);
    make = async () => {
      const [, s] = wsPair();
      await wsCall(s.decompress, s, compressed);
      await wsCall(s.compress, s, msg);
      return s;
    };
  } else {
    const backendName = mode.startsWith('js') ? 'js' : 'native';
    const extra = {
      'native-w15': { zlibDeflateOptions: { windowBits: 15 } },
      'native-w9': { serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
      'native-mem1': { memLevel: 1 },
      'native-nct-own': { serverNoContextTakeover: true, clientNoContextTakeover: true, sharedCompressor: false },
      'native-nct-shared': { serverNoContextTakeover: true, clientNoContextTakeover: true },
      'js-nct-shared': { serverNoContextTakeover: true, clientNoContextTakeover: true },
    }[mode] ?? {};
    const [peer] = wscorePair(backendName, extra);
    const compressed = peer.compressMessage(msg);
    const { PerMessageDeflate, backend } = loadWscore(backendName);
    const offer = peer.offer() === true ? '' : peer.offer();
    make = async () => {
      // One connection's server-side extension object, negotiated with the client's offer.
      const s = new PerMessageDeflate({ backend, threshold: 0, ...extra });
      s.accept(offer);
      s.decompressMessage(compressed, 1 << 26);
      s.compressMessage(msg);
      return s;
    };
  }
  for (let i = 0; i < 20; i++) await make(); // warm up code and pools, then forget
  const before = gcRss();
  for (let i = 0; i < N; i++) globalThis.kept.push(await make());
  await new Promise((r) => setTimeout(r, 200));
  const after = gcRss();
  process.stdout.write(String((after - before) / N));
}

function memory() {
  console.log('\n### Memory per connection (RSS growth / 1,000 connections, each compressed and decompressed one 1 KiB message; median of 3 processes)\n');
  console.log('| mode | KiB per connection | vs ws |');
  console.log('| --- | --- | --- |');
  let wsBytes = 0;
  for (const [mode, label] of Object.entries(MODES)) {
    const samples = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const r = spawnSync(process.execPath, ['--expose-gc', here, 'memory-child', mode], { encoding: 'utf8', env: process.env });
      if (r.status !== 0) throw new Error(`memory-child ${mode} failed: ${r.stderr}`);
      samples.push(Number(r.stdout));
    }
    const bytes = median(samples);
    if (mode === 'ws') wsBytes = bytes;
    console.log(`| ${label} | ${(bytes / 1024).toFixed(1)} | ${(bytes / wsBytes).toFixed(2)}x |`);
  }
}

async function engines() {
  const r = spawnSync(process.execPath, [path.join(path.dirname(here), 'js-engines.mjs')], { encoding: 'utf8', env: process.env });
  console.log('\n### js backend engines, no context takeover (messages/s)\n');
  process.stdout.write(r.stdout);
}

/** Compressed size (% of the input) against our compressor's window, on the same messages. */
function ratio() {
  const { backend } = loadWscore('native');
  console.log('\n### Compressed size vs compressor window (% of input, 200 distinct messages, level 6, memLevel 8)\n');
  const windows = [15, 13, 12, 11, 9];
  console.log(`| payload | ${windows.map((w) => `window ${w}`).join(' | ')} | no context takeover |`);
  console.log(`| --- | ${windows.map(() => '---').join(' | ')} | --- |`);
  for (const size of [64, 1024, 16384]) {
    const msgs = jsonMessages(size, 200);
    const pct = (d) => `${((msgs.reduce((n, m) => n + d.deflate(m, true).length, 0) / msgs.length / size) * 100).toFixed(1)}%`;
    const cells = windows.map((windowBits) => pct(backend.createDeflater({ windowBits, noContextTakeover: false })));
    console.log(`| ${size} B | ${cells.join(' | ')} | ${pct(backend.createDeflater({ windowBits: 15, noContextTakeover: true }))} |`);
  }
}

/** How long one large message blocks the event loop (everything here is synchronous). */
function large() {
  console.log('\n### Large messages: time one message takes, synchronously (ms; median of 5)\n');
  console.log('| message | native compress | native decompress | js compress | js decompress |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const mib of [1, 16]) {
    const parts = jsonMessages(16384, 64);
    const msg = Buffer.concat(Array.from({ length: mib * 64 }, (_, i) => parts[i % 64]));
    const cells = [];
    for (const name of ['native', 'js']) {
      const [c, s] = wscorePair(name);
      const tc = [];
      const td = [];
      for (let i = 0; i < (name === 'js' && mib > 1 ? 1 : 5); i++) {
        let t = performance.now();
        const z = c.compressMessage(msg);
        tc.push(performance.now() - t);
        t = performance.now();
        s.decompressMessage(z, 1 << 30);
        td.push(performance.now() - t);
      }
      cells.push(median(tc).toFixed(1), median(td).toFixed(1));
    }
    console.log(`| ${mib} MiB JSON | ${cells.join(' | ')} |`);
  }
}

if (what === 'memory-child') await memoryChild(args[1]);
else {
  console.log(`node ${process.version}, ${process.arch}; ${new Date().toISOString()}`);
  if (what === 'all' || what === 'throughput') await throughput();
  if (what === 'all' || what === 'memory') memory();
  if (what === 'all' || what === 'ratio') ratio();
  if (what === 'all' || what === 'large') large();
  if (what === 'all' || what === 'engines') await engines();
}
