// Writes the checked-in seed corpora, fuzz/corpus/<target>/, deterministically:
//   node fuzz/make-corpus.mjs
// Seeds are small by design (libFuzzer grows its own corpus in fuzz/corpus-work/). The layouts
// are those of the targets (fuzz/README.md); parse_frames seeds go through format.mjs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

import { concat, encodeParseInput, frame } from './format.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.join(here, 'corpus');
const enc = new TextEncoder();
const bytes = (...xs) => Uint8Array.from(xs.flat());
const u16 = (v) => [(v >> 8) & 0xff, v & 0xff];

function writeAll(target, seeds) {
  const dir = path.join(corpus, target);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(seeds)) fs.writeFileSync(path.join(dir, name), data);
  console.log(`${target}: ${Object.keys(seeds).length} seeds`);
}

// ---- parse_frames ------------------------------------------------------------------------
const KEY = [0x37, 0xfa, 0x21, 0x3d]; // the key of the RFC 6455 §5.7 examples
const client = { expectMask: false }; // we are a client: server frames are unmasked
const server = { expectMask: true }; //  we are a server: client frames are masked
const P = {};
const p = (name, cfg, parts) => (P[name] = encodeParseInput(cfg, concat(parts)));
// RFC 6455 §5.7, verbatim.
p('rfc6455-5.7-unmasked-hello', client, [bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f)]);
p('rfc6455-5.7-masked-hello', server, [bytes(0x81, 0x85, KEY, 0x7f, 0x9f, 0x4d, 0x51, 0x58)]);
p('rfc6455-5.7-fragmented-hello', client, [bytes(0x01, 0x03, 0x48, 0x65, 0x6c), bytes(0x80, 0x02, 0x6c, 0x6f)]);
p('rfc6455-5.7-ping-pong', client, [bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f)]);
p('rfc6455-5.7-masked-pong', server, [bytes(0x8a, 0x85, KEY, 0x7f, 0x9f, 0x4d, 0x51, 0x58)]);
p('rfc6455-5.7-binary-256', client, [bytes(0x82, 0x7e, 0x01, 0x00), new Uint8Array(256).map((_, i) => i)]);
p('rfc6455-5.7-binary-64k-truncated', { ...client, cuts: [10, 60] }, [bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0), new Uint8Array(200).fill(7)]);
// The same, split: every byte alone, and at awkward points.
p('hello-bytewise', { ...server, every: 1 }, [bytes(0x81, 0x85, KEY, 0x7f, 0x9f, 0x4d, 0x51, 0x58)]);
p('fragmented-split', { ...client, cuts: [1, 4, 6], capacity: 1 }, [bytes(0x01, 0x03, 0x48, 0x65, 0x6c), bytes(0x89, 0x00), bytes(0x80, 0x02, 0x6c, 0x6f)]);
// Fragmented masked text with a ping in the middle; a character split across fragments.
const euro = enc.encode('a€b'); // 61 E2 82 AC 62
p('text-char-across-fragments', { ...server, cuts: [9, 20], capacity: 2 }, [
  frame({ opcode: 1, fin: false, payload: euro.subarray(0, 2), key: KEY }),
  frame({ opcode: 9, payload: 'ping', key: KEY }),
  frame({ opcode: 0, fin: false, payload: euro.subarray(2, 4), key: KEY }),
  frame({ opcode: 0, payload: euro.subarray(4), key: KEY }),
]);
p('text-long-utf8', { ...server, every: 7 }, [frame({ opcode: 1, payload: 'κόσμε 😀 '.repeat(20), key: KEY })]);
p('text-16bit-length', { ...server, cuts: [3, 200] }, [frame({ opcode: 1, payload: 'x'.repeat(300), key: KEY })]);
p('binary-64bit-form', client, [frame({ opcode: 2, payload: new Uint8Array(10), form: 64 })]);
// Close frames (§5.5.1, §7.4).
p('close-empty', server, [frame({ opcode: 8, key: KEY })]);
p('close-1000-reason', server, [frame({ opcode: 8, payload: bytes(u16(1000), [...enc.encode('bye ✓')]), key: KEY })]);
p('close-1001', client, [frame({ opcode: 8, payload: bytes(u16(1001)) })]);
p('close-3000-4999', client, [frame({ opcode: 8, payload: bytes(u16(3000)) }), frame({ opcode: 8, payload: bytes(u16(4999)) })]);
p('close-1005-invalid', client, [frame({ opcode: 8, payload: bytes(u16(1005)) })]);
p('close-5000-invalid', client, [frame({ opcode: 8, payload: bytes(u16(5000)) })]);
p('close-one-byte', client, [frame({ opcode: 8, payload: bytes(0x03) })]);
p('close-bad-utf8-reason', server, [frame({ opcode: 8, payload: bytes(u16(1000), 0xc3, 0x28), key: KEY })]);
p('close-cut-utf8-reason', server, [frame({ opcode: 8, payload: bytes(u16(1000), 0xe2, 0x82), key: KEY })]);
// Header violations.
p('reserved-opcode-3', client, [frame({ opcode: 3 })]);
p('reserved-opcode-11', client, [frame({ opcode: 11 })]);
p('rsv2-not-allowed', client, [frame({ opcode: 1, rsv: 2, payload: 'x' })]);
p('rsv1-deflate-text', { ...server, allowedRsv: 4 }, [frame({ opcode: 1, rsv: 4, payload: bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00), key: KEY })]);
p('rsv1-on-continuation', { ...server, allowedRsv: 4 }, [frame({ opcode: 1, rsv: 4, fin: false, payload: 'a', key: KEY }), frame({ opcode: 0, rsv: 4, payload: 'b', key: KEY })]);
p('rsv1-on-ping', { ...server, allowedRsv: 4 }, [frame({ opcode: 9, rsv: 4, key: KEY })]);
p('control-fragmented', client, [frame({ opcode: 9, fin: false })]);
p('control-too-long', client, [frame({ opcode: 10, payload: new Uint8Array(126) })]);
p('control-125', server, [frame({ opcode: 9, payload: new Uint8Array(125).fill(0x41), key: KEY })]);
p('unexpected-continuation', client, [frame({ opcode: 0, payload: 'x' })]);
p('expected-continuation', client, [frame({ opcode: 1, fin: false, payload: 'x' }), frame({ opcode: 2, payload: 'y' })]);
p('mask-required', server, [frame({ opcode: 1, payload: 'x' })]);
p('mask-forbidden', client, [frame({ opcode: 1, payload: 'x', key: KEY })]);
p('length-msb-set', client, [frame({ opcode: 2, length: 2n ** 63n })]);
p('length-2-53', { ...client, maxIndex: 14 }, [frame({ opcode: 2, length: 2n ** 53n })]);
p('length-2-53-minus-1', { ...client, maxIndex: 14 }, [frame({ opcode: 2, length: 2n ** 53n - 1n }), new Uint8Array(20)]);
p('frame-too-big', { ...client, maxIndex: 3 }, [frame({ opcode: 2, payload: new Uint8Array(126) })]);
p('message-too-big', { ...client, maxIndex: 4 }, [frame({ opcode: 2, fin: false, payload: new Uint8Array(100) }), frame({ opcode: 0, payload: new Uint8Array(27) })]);
p('max-payload-0', { ...client, maxIndex: 0 }, [frame({ opcode: 2 }), frame({ opcode: 9 }), frame({ opcode: 2, payload: 'x' })]);
// UTF-8 in text (§8.1).
p('text-invalid-utf8', server, [frame({ opcode: 1, payload: bytes(0x61, 0xc0, 0xaf), key: KEY })]);
p('text-surrogate', server, [frame({ opcode: 1, payload: bytes(0xed, 0xa0, 0x80), key: KEY })]);
p('text-incomplete-at-fin', server, [frame({ opcode: 1, payload: bytes(0x61, 0xf0, 0x9f, 0x98), key: KEY })]);
p('text-invalid-in-continuation', { ...client, cuts: [5] }, [frame({ opcode: 1, fin: false, payload: bytes(0xe2, 0x82) }), frame({ opcode: 0, payload: bytes(0x28) })]);
p('binary-not-validated', client, [frame({ opcode: 2, payload: bytes(0xff, 0xfe) })]);
// Many small fragments (the fragment limit) and many frames in one chunk.
p('many-fragments', { ...client, capacity: 8 }, [
  frame({ opcode: 2, fin: false }),
  ...Array.from({ length: 60 }, () => frame({ opcode: 0, fin: false })),
  frame({ opcode: 0 }),
]);
p('many-messages', { ...server, capacity: 3, cuts: [17, 100, 101] }, Array.from({ length: 30 }, (_, i) => frame({ opcode: 1 + (i & 1), payload: 'm' + i, key: KEY })));
// Injected states (ctl[3..10]): a text frame in progress, a message near its limits.
const st = (...slots) => slots; // 8 x [selector, u32]
p('state-text-frame-in-progress', { ...server, state: st([0, 3], [0, 1], [0, 10], [0, 138], [0, 0x201], [0, 6], [0, 0x37fa213d], [0, 1]) }, [bytes(0xa2, 0xac, 0x41, 0x42, 0x43, 0x44, 0x45)]);
p('state-flood-nearly-spent', { ...client, maxIndex: 8, state: st([0, 1], [0, 0], [0, 0], [0, 1048500], [0, 0], [0, 0], [0, 0], [0, 0]) }, [frame({ opcode: 0, fin: false }), frame({ opcode: 0 })]);
p('state-big-remaining', { ...client, maxIndex: 14, state: st([0, 1], [0, 0], [0x10, 0xffffffff], [0x10, 0xffffffff], [0, 0x102], [0x10, 0xfffff], [0, 0], [0, 2]) }, [new Uint8Array(40).fill(0x33)]);
p('state-invalid-nan', { ...client, state: st([10, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]) }, [frame({ opcode: 1, payload: 'x' })]);
p('state-negative-zero', { ...client, state: st([15, 0], [15, 0], [15, 0], [15, 0], [15, 0], [15, 0], [15, 0], [15, 0]) }, [frame({ opcode: 1, payload: 'x' })]);
p('prefix-suffix', { ...server, before: 3, after: 3, cuts: [2, 9] }, [frame({ opcode: 1, payload: 'hello', key: KEY }), frame({ opcode: 10, key: KEY })]);
writeAll('parse_frames', P);

// ---- utf8 --------------------------------------------------------------------------------
// Layout: byte 0 (start state | lead << 3), byte 1 (k), k x u16 cuts, text.
const U = {};
const u = (name, text, { state = 0, lead = 0, cuts = [] } = {}) => {
  const t = typeof text === 'string' ? enc.encode(text) : Uint8Array.from(text);
  U[name] = bytes(state | (lead << 3), cuts.length, cuts.flatMap(u16), [...t]);
};
u('ascii', 'Hello, WebSocket');
u('greek-kosme', 'κόσμε', { cuts: [1, 3] });
u('boundaries', [0x7f, 0xc2, 0x80, 0xdf, 0xbf, 0xe0, 0xa0, 0x80, 0xef, 0xbf, 0xbf, 0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf], { cuts: [2, 6, 13] });
u('overlong-c0-80', [0xc0, 0x80]);
u('overlong-c1-bf', [0xc1, 0xbf]);
u('overlong-e0-80-80', [0xe0, 0x80, 0x80]);
u('overlong-f0-80-80-80', [0xf0, 0x80, 0x80, 0x80]);
u('surrogate-ed-a0-80', [0xed, 0xa0, 0x80]);
u('surrogate-ed-bf-bf', [0xed, 0xbf, 0xbf]);
u('too-large-f4-90', [0xf4, 0x90, 0x80, 0x80]);
u('f5-ff', [0xf5, 0x80, 0x80, 0x80, 0xfe, 0xff]);
u('lone-continuation', [0x61, 0x80, 0x62]);
u('truncated-4', [0xf0, 0x9f, 0x98]);
u('truncated-3', [0x61, 0xe2, 0x82]);
u('continue-need2-e0', [0xa0, 0x80, 0x41], { state: 3 });
u('continue-need3-f4', [0x8f, 0xbf, 0xbf], { state: 7 });
u('continue-need2-ed-bad', [0xa0, 0x80], { state: 4 });
const long = enc.encode('ascii '.repeat(50) + 'κόσμε😀'.repeat(30) + 'x'.repeat(300));
u('long-mixed', long, { cuts: [64, 127, 250, 600] });
for (const at of [31, 32, 63, 64, 127, 128, 255, 256]) {
  const t = new Uint8Array(300).fill(0x41);
  t[at] = 0xe2; // a 3-byte lead whose sequence straddles a block boundary
  t[at + 1] = 0x82;
  t[at + 2] = 0xac;
  u(`euro-at-${at}`, t, { lead: at & 31 });
  const bad = t.slice();
  bad[at + 1] = 0x41; // cut short
  u(`cut-at-${at}`, bad);
}
u('all-bytes', Array.from({ length: 256 }, (_, i) => i));
writeAll('utf8', U);

// ---- mask --------------------------------------------------------------------------------
// Layout: key (4), key_offset u64 BE (8), byte (src lead | in-place 0x40), dst lead, k, cuts, payload.
const M = {};
for (const len of [0, 1, 3, 4, 15, 16, 31, 32, 63, 64, 65, 127, 128, 129, 255, 256, 300, 1000]) {
  const payload = Array.from({ length: len }, (_, i) => (i * 7 + 3) & 0xff);
  const off = len % 4;
  M[`len-${len}`] = bytes(KEY, [0, 0, 0, 0, 0, 0, 0, off], (len % 64) | (len & 1 ? 0x40 : 0), (len * 3) % 64, 2, u16(len >> 1), u16(len >> 2), payload);
}
M['huge-offset'] = bytes(KEY, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 5, 9, 0, new Array(70).fill(0x11));
writeAll('mask', M);

// ---- inflate -----------------------------------------------------------------------------
// Mode 0 layout: byte 0 (bits 0-2 window bits - 8, bit 3 reset per message), byte 1 (cap
// indexes for even/odd pieces), byte 2 (k), u16 FIN mask, k x u16 cuts, compressed bytes.
// Mode 1 (byte 0 bit 7): byte 0 (+ bit 4 receiver resets, bit 5 exact cap), memLevel byte,
// level byte, strategy byte (| extra receiver window bits << 4), k, u16 FIN mask, cuts,
// split byte, plaintext.
const I = {};
const sync = (text, opts = {}) => {
  const out = zlib.deflateRawSync(typeof text === 'string' ? enc.encode(text) : text, { ...opts, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4); // RFC 7692 §7.2.1: drop 00 00 FF FF
};
const inf = (name, data, { bits = 7, reset = 0, caps = 0xff, cuts = [], fins = 0xffff } = {}) => {
  I[name] = bytes(bits | (reset << 3), caps, cuts.length, u16(fins), cuts.flatMap(u16), [...data]);
};
// RFC 7692 §7.2.3 examples, verbatim.
inf('rfc7692-7.2.3.1-hello', [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
inf('rfc7692-7.2.3.1-hello-fragmented', [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], { cuts: [3], fins: 0xfffe });
inf('rfc7692-7.2.3.2-takeover', [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf2, 0x00, 0x11, 0x00, 0x00], { cuts: [7] });
inf('rfc7692-7.2.3.3-stored', [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]);
inf('rfc7692-7.2.3.4-bfinal', [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]);
inf('rfc7692-7.2.3.5-two-blocks', [0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00]);
inf('empty-message', [], { cuts: [0] });
inf('lorem-window-9', sync('lorem ipsum dolor sit amet '.repeat(40), { windowBits: 9 }), { bits: 1, cuts: [10, 100] });
inf('lorem-no-takeover', concat([sync('hello hello hello'), sync('hello hello hello')]), { reset: 1, cuts: [10] });
inf('bomb-1m-zeros', sync(new Uint8Array(1 << 20)), { caps: 0x9d }); // caps 65536 / 1 MiB
inf('bomb-cap-0', sync(new Uint8Array(5000)), { caps: 0x00 });
inf('bomb-cap-64k', sync(new Uint8Array(200000)), { caps: 0xbb, cuts: [5, 20], fins: 0 });
inf('level-0-stored', sync('stored stored stored', { level: 0 }));
inf('corrupt-distance-too-far', [0x4a, 0x4c, 0x4a, 0x06, 0x00, 0x00, 0x62, 0x00, 0x00, 0x00], { bits: 0 });
const corrupt = sync('corrupt me, corrupt me, corrupt me').slice();
corrupt[3] ^= 0x55;
inf('corrupt-bits', corrupt);
inf('garbage', Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff));
inf('bfinal-then-junk', concat([zlib.deflateRawSync(enc.encode('fin')), bytes(1, 2, 3, 4)]));
const rt = (name, text, { b0 = 0x80 | 7, mem = 7, level = 6, strategy = 0, cuts = [], fins = 0, split = 128 } = {}) => {
  const t = typeof text === 'string' ? enc.encode(text) : text;
  I[name] = bytes(b0, mem, level + 1, strategy, cuts.length, u16(fins), cuts.flatMap(u16), split, [...t]);
};
rt('roundtrip-hello', 'Hello');
rt('roundtrip-messages', 'one message, then another message, then a third message', { cuts: [12, 30], fins: 0b11 });
rt('roundtrip-window-8', 'abcabcabcabc'.repeat(50), { b0: 0x80 | 0, split: 40 });
rt('roundtrip-window-8-no-takeover', 'xyzxyzxyz'.repeat(40), { b0: 0x80 | 0 | 8 | 16, cuts: [100], fins: 1 });
rt('roundtrip-exact-cap', 'exact cap '.repeat(20), { b0: 0x80 | 7 | 32, cuts: [50], fins: 0 });
rt('roundtrip-huffman-only', 'huffman '.repeat(30), { strategy: 2 });
rt('roundtrip-rle', new Uint8Array(3000).fill(9), { strategy: 3, level: 9 });
rt('roundtrip-level-0', 'no compression at all', { level: -1 + 1 });
rt('roundtrip-empty-pieces', 'ab', { cuts: [0, 0, 1, 2, 2], fins: 0b10101 });
writeAll('inflate', I);
