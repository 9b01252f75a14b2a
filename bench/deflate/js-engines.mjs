// Which engine should the js backend use for messages WITHOUT context takeover?
// pako stream reset per message (what src/backend/js/deflate.ts does) vs node:zlib's
// one-shot synchronous calls (deflateRawSync / inflateRawSync), which allocate and free a
// native zlib state on every call. Context takeover has no choice: only pako streams.
//   node bench/deflate/js-engines.mjs
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { jsonMessages } from './payloads.mjs';
import { lib } from './lib.mjs';

const require = createRequire(import.meta.url);
const { jsBackend } = require(lib('backend/index.js'));
const TAIL = Buffer.from([0, 0, 0xff, 0xff]);
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

function rate(fn, msgs, ms = 400) {
  for (let i = 0; i < 200; i++) fn(msgs[i % msgs.length]);
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(ms * 1e6);
  let t = t0;
  while (t < end) {
    for (let i = 0; i < 50; i++) fn(msgs[n++ % msgs.length]);
    t = process.hrtime.bigint();
  }
  return (n / Number(t - t0)) * 1e9;
}

console.log('| size | op | pako stream, reset per message (msg/s) | node:zlib one-shot sync (msg/s) | pako / node:zlib |');
console.log('| --- | --- | --- | --- | --- |');
for (const size of [64, 1024, 16384]) {
  const msgs = jsonMessages(size, 64);
  // A context-takeover deflater reset by hand after each message = the pako path (with
  // noContextTakeover: true the js backend itself picks node:zlib for whole messages).
  const d = jsBackend.createDeflater({ windowBits: 15, noContextTakeover: false });
  const pakoDeflate = rate((m) => (d.deflate(m, true), d.reset()), msgs);
  const nodeDeflate = rate((m) => zlib.deflateRawSync(m, SYNC).subarray(0, -4), msgs);
  const compressed = msgs.map((m) => zlib.deflateRawSync(m, SYNC).subarray(0, -4));
  const inf = jsBackend.createInflater({ windowBits: 15, noContextTakeover: true });
  const pakoInflate = rate((c) => inf.inflate(c, true, 1 << 26), compressed);
  const nodeInflate = rate((c) => zlib.inflateRawSync(Buffer.concat([c, TAIL]), { ...SYNC, maxOutputLength: 1 << 26 }), compressed);
  const row = (op, a, b) => console.log(`| ${size} B | ${op} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)}x |`);
  row('compress', pakoDeflate, nodeDeflate);
  row('decompress', pakoInflate, nodeInflate);
}
