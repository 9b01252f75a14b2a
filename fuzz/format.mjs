// The input format of parse_frames_fuzzer (fuzz/parse_frames_fuzzer.cc), in JavaScript:
// fuzz/differential.mjs decodes the same bytes the C++ target does, so a crash input of one
// replays in the other, and fuzz/make-corpus.mjs writes seeds with encodeParseInput.
// Keep the two in step (fuzz/README.md describes the layout).

/** maxPayload by table index (byte 1, bits 0-3). */
export const MAX_PAYLOADS = [
  0, 1, 2, 125, 126, 127, 65535, 65536, 1 << 20, 64 << 20, 2 ** 31 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 2, 2 ** 53 - 1, 3,
];

// ctl slots 3..10, as in src/backend/types.ts ParseCtl.
const MESSAGE = 3;
const UTF8 = 4;
const FRAME = 7;
const FRAME_KEY = 9;
const FRAME_KEY_PHASE = 10;

/** One state slot from (selector, u32): the C++ DecodeSlot, value for value. */
function decodeSlot(slot, sel, v) {
  switch (sel & 0x0f) {
    case 10: return NaN;
    case 11: return -1;
    case 12: return v + 0.5;
    case 13: return 2 ** 53;
    case 14: return Infinity;
    case 15: return -0;
    default: break;
  }
  const big = sel & 0x10 ? v * 2097152 + (sel >> 5) : v;
  switch (slot) {
    case MESSAGE: return v % 4;
    case UTF8: return v % 8;
    case FRAME: return v & 0x3ff;
    case FRAME_KEY: return v;
    case FRAME_KEY_PHASE: return v % 4;
    default: return big;
  }
}

/**
 * Decodes a parse_frames input: { expectMask, allowedRsv, capacity, maxPayload, before,
 * after, state (8 numbers for ctl[3..10]) | null, pieces (chunk lengths), stream }.
 * Reads past the end yield 0, as in the C++ Reader.
 */
export function decodeParseInput(bytes) {
  let pos = 0;
  const u8 = () => (pos < bytes.length ? bytes[pos++] : (pos++, 0));
  const u16 = () => (u8() << 8) | u8();
  const u32 = () => ((u16() << 16) >>> 0) + u16();
  const b0 = u8();
  const b1 = u8();
  const b2 = u8();
  const k = b2 & 0x0f;
  const every = k === 0 ? b2 >> 4 : 0;
  const rawCuts = [];
  for (let i = 0; i < k; i++) rawCuts.push(u16());
  let state = null;
  if (b0 & 0x10) {
    state = [];
    for (let slot = MESSAGE; slot <= FRAME_KEY_PHASE; slot++) {
      const sel = u8();
      state.push(decodeSlot(slot, sel, u32()));
    }
  }
  const stream = bytes.subarray(Math.min(pos, bytes.length));
  const len = stream.length;
  const pieces = [];
  if (every !== 0) {
    for (let at = 0; at < len; at += every) pieces.push(Math.min(every, len - at));
  } else {
    const cuts = rawCuts.map((c) => c % (len + 1)).sort((a, b) => a - b);
    let from = 0;
    for (const c of cuts) {
      pieces.push(c - from);
      from = c;
    }
    pieces.push(len - from);
  }
  if (pieces.length === 0) pieces.push(0);
  return {
    expectMask: (b0 & 1) !== 0,
    allowedRsv: (b0 >> 1) & 7,
    capacity: (b0 >> 5) + 1,
    maxPayload: MAX_PAYLOADS[b1 & 0x0f],
    before: (b1 >> 4) & 3,
    after: b1 >> 6,
    state,
    pieces,
    stream,
  };
}

/**
 * Encodes a parse_frames input. cfg: { expectMask, allowedRsv, capacity 1..8, maxIndex 0..15,
 * before 0..3, after 0..3, cuts: u16[] (<= 15), every 0..15 (only without cuts),
 * state: 8 x [selector, u32] | null }.
 */
export function encodeParseInput(cfg, stream) {
  const cuts = cfg.cuts ?? [];
  if (cuts.length > 15) throw new Error('at most 15 cuts');
  const head = [
    (cfg.expectMask ? 1 : 0) | ((cfg.allowedRsv ?? 0) << 1) | (cfg.state ? 0x10 : 0) | (((cfg.capacity ?? 8) - 1) << 5),
    (cfg.maxIndex ?? 14) | ((cfg.before ?? 0) << 4) | ((cfg.after ?? 0) << 6),
    cuts.length | (cuts.length === 0 ? (cfg.every ?? 0) << 4 : 0),
  ];
  for (const c of cuts) head.push((c >> 8) & 0xff, c & 0xff);
  if (cfg.state) {
    for (const [sel, v] of cfg.state) head.push(sel, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  const out = new Uint8Array(head.length + stream.length);
  out.set(head, 0);
  out.set(stream, head.length);
  return out;
}

/**
 * One WebSocket frame on the wire (RFC 6455 §5.2), built byte by byte. f: { opcode, fin =
 * true, rsv = 0, payload (Uint8Array | string), key (4 bytes) | null, form: 7 | 16 | 64 to
 * force a length form, length (BigInt) to announce a different length }.
 */
export function frame(f) {
  const data = typeof f.payload === 'string' ? new TextEncoder().encode(f.payload) : (f.payload ?? new Uint8Array(0));
  const key = f.key ?? null;
  const announced = f.length ?? BigInt(data.length);
  const form = f.length !== undefined ? 64 : (f.form ?? (data.length < 126 ? 7 : data.length < 65536 ? 16 : 64));
  const head = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | (f.opcode & 0x0f)];
  const m = key ? 0x80 : 0;
  if (form === 7) head.push(m | Number(announced));
  else if (form === 16) head.push(m | 126, Number(announced >> 8n) & 0xff, Number(announced) & 0xff);
  else {
    head.push(m | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((announced >> BigInt(8 * i)) & 0xffn));
  }
  if (key) head.push(...key);
  const out = new Uint8Array(head.length + data.length);
  out.set(head, 0);
  for (let i = 0; i < data.length; i++) out[head.length + i] = key ? data[i] ^ key[i & 3] : data[i];
  return out;
}

export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
