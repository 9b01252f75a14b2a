/**
 * Pure-TS twin of native/frames.cc: the batch frame parser of RFC 6455 §5. Same records,
 * same `ctl` state, same errors and error offsets as the C++ version, byte for byte
 * (test/backend/frames-parity.test.ts feeds both the same random streams).
 *
 * Layout of `ctl` and `records`: see ParseCtl / ParseRecord in ../types.ts.
 */
import { isUtf8 as nodeIsUtf8 } from 'node:buffer';

import { PARSE_CTL_SIZE, ParseError, Utf8State } from '../types';
import { INLINE_MASK_MAX_BYTES } from '../thresholds';
import { mask } from './mask';
import { utf8Step } from './utf8';

// Slot numbers and bits, inlined as module constants (read in the per-frame loop).
const FLAGS = 0;
const ALLOWED_RSV = 1;
const MAX_PAYLOAD = 2;
const MESSAGE = 3;
const UTF8 = 4;
const MESSAGE_BYTES = 5;
const MESSAGE_FRAGMENTS = 6;
const FRAME = 7;
const FRAME_REMAINING = 8;
const FRAME_KEY = 9;
const FRAME_KEY_PHASE = 10;
const CONSUMED = 11;
const ERROR = 12;
const ERROR_OFFSET = 13;
const ERROR_REASON = 14;
const MAX_FRAGMENTS = 15;

const EXPECT_MASK = 1;
const FRAGMENTED = 1;
const MSG_VALIDATE = 2;
const IN_PROGRESS = 0x100;
const FRAME_VALIDATE = 0x200;
const REC_START = 0x100;
const REC_END = 0x200;
const REC_UTF8 = 0x400;

const MAX_SAFE = 2 ** 53 - 1;
const MAX_INT32 = 0x7fffffff;
const TWO_32 = 4294967296;

/** Close codes allowed on the wire (RFC 6455 §7.4.1, §7.4.2): 1000-1003, 1007-1014, 3000-4999. */
function isWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function isIntIn(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

/** Rejects a `ctl` the parser could not have written (same checks, same message as C++). */
function bad(slot: number): never {
  throw new RangeError(`ctl[${slot}] is out of range`);
}

function checkCtl(ctl: Float64Array): void {
  if (!isIntIn(ctl[FLAGS]!, 0, 1)) bad(FLAGS);
  if (!isIntIn(ctl[ALLOWED_RSV]!, 0, 7)) bad(ALLOWED_RSV);
  if (!isIntIn(ctl[MAX_PAYLOAD]!, 0, MAX_SAFE)) bad(MAX_PAYLOAD);
  if (!isIntIn(ctl[MESSAGE]!, 0, 3)) bad(MESSAGE);
  if (!isIntIn(ctl[UTF8]!, 0, 7)) bad(UTF8);
  if (!isIntIn(ctl[MESSAGE_BYTES]!, 0, MAX_SAFE)) bad(MESSAGE_BYTES);
  if (!isIntIn(ctl[MESSAGE_FRAGMENTS]!, 0, MAX_SAFE)) bad(MESSAGE_FRAGMENTS);
  const frame = ctl[FRAME]!;
  // 0, or a data-frame header byte (opcode 0-2) with IN_PROGRESS set.
  if (!isIntIn(frame, 0, 0x3ff) || (frame !== 0 && ((frame & IN_PROGRESS) === 0 || (frame & 0x0f) > 2))) bad(FRAME);
  const remaining = ctl[FRAME_REMAINING]!;
  if (!isIntIn(remaining, 0, MAX_SAFE) || (frame !== 0) !== (remaining > 0)) bad(FRAME_REMAINING);
  if (!isIntIn(ctl[FRAME_KEY]!, 0, 0xffffffff)) bad(FRAME_KEY);
  if (!isIntIn(ctl[FRAME_KEY_PHASE]!, 0, 3)) bad(FRAME_KEY_PHASE);
  if (!isIntIn(ctl[MAX_FRAGMENTS]!, 0, MAX_SAFE)) bad(MAX_FRAGMENTS);
}

// One 4-byte key buffer reused for every unmask call (no allocation per frame).
const keyBytes = new Uint8Array(4);

function setKey(key: number): void {
  keyBytes[0] = key >>> 24;
  keyBytes[1] = (key >>> 16) & 0xff;
  keyBytes[2] = (key >>> 8) & 0xff;
  keyBytes[3] = key & 0xff;
}

/** XOR-unmasks buf[from..from+len) in place with `keyBytes` starting at key phase `phase`. */
function unmaskRange(buf: Uint8Array, from: number, len: number, phase: number): void {
  if (len === 0) return;
  // Short payloads: the loop beats building a view for mask(); long ones use mask().
  if (len <= INLINE_MASK_MAX_BYTES) {
    for (let i = 0; i < len; i++) buf[from + i] ^= keyBytes[(phase + i) & 3]!;
  } else {
    const view = buf.subarray(from, from + len);
    mask(view, keyBytes, view, 0, phase);
  }
}

/**
 * UTF-8 step over buf[from..from+len); returns the state or -(i+1) with i relative to `from`.
 * Same results as one utf8Step over the range, faster: short ranges run an ASCII scan, long
 * ones let Node's built-in validator (buffer.isUtf8, part of Node itself, not an addon)
 * check everything up to the last character boundary, and the state machine does only the
 * edges (a sequence continued from the previous piece, one cut at the end) and the exact
 * offset of an error.
 */
function utf8Range(buf: Uint8Array, from: number, len: number, state: number): number {
  if (len === 0) return state;
  if (state !== Utf8State.ACCEPT) {
    // Finish the sequence begun earlier: 1-3 more bytes (NEED1; NEED2*; NEED3*).
    const need = state === Utf8State.NEED1 ? 1 : state <= Utf8State.NEED2_ED ? 2 : 3;
    if (len <= need) return utf8Step(buf.subarray(from, from + len), state);
    const r = utf8Step(buf.subarray(from, from + need), state);
    if (r < 0) return r;
    const rest = utf8Range(buf, from + need, len - need, Utf8State.ACCEPT);
    return rest < 0 ? rest - need : rest;
  }
  if (len < 64) {
    let i = 0;
    while (i < len && buf[from + i]! < 0x80) i++;
    if (i === len) return Utf8State.ACCEPT;
    const r = utf8Step(buf.subarray(from + i, from + len), Utf8State.ACCEPT);
    return r < 0 ? r - i : r;
  }
  // The last character boundary: back off at most 3 continuation bytes to a lead byte.
  let k = from + len - 1;
  while (k > from && k > from + len - 4 && (buf[k]! & 0xc0) === 0x80) k--;
  const cut = buf[k]! >= 0xc0 ? k - from : len;
  if (nodeIsUtf8(buf.subarray(from, from + cut))) {
    if (cut === len) return Utf8State.ACCEPT;
    const r = utf8Step(buf.subarray(from + cut, from + len), Utf8State.ACCEPT);
    return r < 0 ? r - cut : r;
  }
  return utf8Step(buf.subarray(from, from + len), Utf8State.ACCEPT); // find the exact offset
}

function fail(ctl: Float64Array, pos: number, code: number, reason: ParseError, offset: number, n: number): number {
  ctl[CONSUMED] = pos;
  ctl[ERROR] = code;
  ctl[ERROR_OFFSET] = offset;
  ctl[ERROR_REASON] = reason;
  return n;
}

export function parseFrames(buf: Uint8Array, start: number, end: number, ctl: Float64Array, records: Int32Array): number {
  if (!(buf instanceof Uint8Array)) throw new TypeError('buf must be a Uint8Array');
  if (typeof start !== 'number' || !isIntIn(start, 0, MAX_INT32)) throw new RangeError('start must be an integer from 0 to 2^31-1');
  if (typeof end !== 'number' || !isIntIn(end, start, MAX_INT32) || end > buf.length) {
    throw new RangeError('end must be an integer from start to buf.length (at most 2^31-1)');
  }
  if (!(ctl instanceof Float64Array)) throw new TypeError('ctl must be a Float64Array');
  if (ctl.length < PARSE_CTL_SIZE) throw new RangeError(`ctl must have at least ${PARSE_CTL_SIZE} slots`);
  if (!(records instanceof Int32Array)) throw new TypeError('records must be an Int32Array');
  if (records.length < 3) throw new RangeError('records must hold at least one record (3 slots)');
  checkCtl(ctl);

  const cap = (records.length / 3) | 0;
  const expectMask = (ctl[FLAGS]! & EXPECT_MASK) !== 0;
  const allowedRsv = ctl[ALLOWED_RSV]!;
  const maxPayload = ctl[MAX_PAYLOAD]!;
  const maxFragments = ctl[MAX_FRAGMENTS]!;
  let message = ctl[MESSAGE]!;
  let utf8 = ctl[UTF8]!;
  let pos = start;
  let n = 0;
  ctl[ERROR] = 0;
  ctl[ERROR_OFFSET] = 0;
  ctl[ERROR_REASON] = ParseError.NONE;

  // 1. The payload of a data frame begun in an earlier call.
  const frame = ctl[FRAME]!;
  if (frame !== 0 && pos < end) {
    const remaining = ctl[FRAME_REMAINING]!;
    const avail = end - pos;
    const take = remaining < avail ? remaining : avail;
    const phase = ctl[FRAME_KEY_PHASE]!;
    // The frame's mask bit matched the role when its header was checked (§5.1).
    if (expectMask) {
      setKey(ctl[FRAME_KEY]!);
      unmaskRange(buf, pos, take, phase);
    }
    const validate = (frame & FRAME_VALIDATE) !== 0;
    if (validate) {
      const r = utf8Range(buf, pos, take, utf8);
      if (r < 0) return fail(ctl, pos, 1007, ParseError.INVALID_UTF8, pos - r - 1, n);
      utf8 = r;
    }
    const left = remaining - take;
    const isEnd = left === 0;
    if (isEnd && (frame & 0x80) !== 0 && validate && utf8 !== Utf8State.ACCEPT) {
      return fail(ctl, pos, 1007, ParseError.INCOMPLETE_UTF8, pos + take, n);
    }
    records[0] = (frame & 0xff) | (isEnd ? REC_END : 0) | (validate ? REC_UTF8 : 0);
    records[1] = pos;
    records[2] = take;
    n = 1;
    pos += take;
    ctl[UTF8] = utf8;
    if (!isEnd) {
      ctl[FRAME_REMAINING] = left;
      ctl[FRAME_KEY_PHASE] = (phase + take) & 3;
      ctl[CONSUMED] = pos;
      return n;
    }
    ctl[FRAME] = 0;
    ctl[FRAME_REMAINING] = 0;
    ctl[FRAME_KEY] = 0;
    ctl[FRAME_KEY_PHASE] = 0;
  }

  // 2. Whole frames (and the start of the last one, if it is a data frame).
  while (n < cap && end - pos >= 2) {
    const b0 = buf[pos]!;
    const b1 = buf[pos + 1]!;
    const rsv = (b0 >> 4) & 7;
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    // §5.2: RSV bits only with an extension that defines them.
    if ((rsv & ~allowedRsv) !== 0) return fail(ctl, pos, 1002, ParseError.RSV_NOT_ALLOWED, pos, n);
    const control = opcode >= 8;
    if ((opcode > 2 && opcode < 8) || opcode > 10) return fail(ctl, pos, 1002, ParseError.RESERVED_OPCODE, pos, n);
    if (control) {
      // §5.5: control frames are never fragmented and carry <= 125 bytes.
      if (!fin) return fail(ctl, pos, 1002, ParseError.CONTROL_FRAGMENTED, pos, n);
      if ((b1 & 0x7f) > 125) return fail(ctl, pos, 1002, ParseError.CONTROL_TOO_LONG, pos, n);
      // RFC 7692 §6.1: RSV1 ("compressed") only on the first frame of a data message.
      if ((rsv & 4) !== 0) return fail(ctl, pos, 1002, ParseError.RSV1_ON_CONTROL, pos, n);
    } else if (opcode === 0) {
      if ((message & FRAGMENTED) === 0) return fail(ctl, pos, 1002, ParseError.UNEXPECTED_CONTINUATION, pos, n);
      if ((rsv & 4) !== 0) return fail(ctl, pos, 1002, ParseError.RSV1_ON_CONTINUATION, pos, n);
    } else if ((message & FRAGMENTED) !== 0) {
      // §5.4: fragments of one message are not interleaved with another message.
      return fail(ctl, pos, 1002, ParseError.EXPECTED_CONTINUATION, pos, n);
    }
    const masked = (b1 & 0x80) !== 0;
    // §5.1: client-to-server frames are masked, server-to-client frames are not.
    if (masked !== expectMask) {
      return fail(ctl, pos, 1002, expectMask ? ParseError.MASK_REQUIRED : ParseError.MASK_FORBIDDEN, pos, n);
    }
    const len7 = b1 & 0x7f;
    const headerLen = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (end - pos < headerLen) break;
    let len: number;
    if (len7 < 126) {
      len = len7;
    } else if (len7 === 126) {
      len = (buf[pos + 2]! << 8) | buf[pos + 3]!;
    } else {
      // Read the 64-bit length as two 32-bit halves so no precision is ever lost.
      const hi = ((buf[pos + 2]! << 24) | (buf[pos + 3]! << 16) | (buf[pos + 4]! << 8) | buf[pos + 5]!) >>> 0;
      const lo = ((buf[pos + 6]! << 24) | (buf[pos + 7]! << 16) | (buf[pos + 8]! << 8) | buf[pos + 9]!) >>> 0;
      if (hi >= 0x80000000) return fail(ctl, pos, 1002, ParseError.LENGTH_MSB_SET, pos, n);
      // >= 2^53 exceeds any maxPayload (<= 2^53-1); below that hi * 2^32 + lo is exact.
      if (hi > 0x1fffff) return fail(ctl, pos, 1009, ParseError.FRAME_TOO_BIG, pos, n);
      len = hi * TWO_32 + lo;
    }
    if (len > maxPayload) return fail(ctl, pos, 1009, ParseError.FRAME_TOO_BIG, pos, n);
    let key = 0;
    if (masked) {
      const k = pos + headerLen - 4;
      key = ((buf[k]! << 24) | (buf[k + 1]! << 16) | (buf[k + 2]! << 8) | buf[k + 3]!) >>> 0;
    }
    const payloadAt = pos + headerLen;

    if (control) {
      // Control frames are consumed whole (<= 139 bytes): wait until all of it is here.
      if (end - payloadAt < len) break;
      if (masked) {
        setKey(key);
        unmaskRange(buf, payloadAt, len, 0);
      }
      if (opcode === 8) {
        // §5.5.1: an optional 2-byte code, then a UTF-8 reason.
        if (len === 1) return fail(ctl, pos, 1002, ParseError.CLOSE_PAYLOAD_ONE_BYTE, payloadAt, n);
        if (len >= 2) {
          const code = (buf[payloadAt]! << 8) | buf[payloadAt + 1]!;
          if (!isWireCloseCode(code)) return fail(ctl, pos, 1002, ParseError.CLOSE_CODE_INVALID, payloadAt, n);
          const r = utf8Range(buf, payloadAt + 2, len - 2, Utf8State.ACCEPT);
          if (r < 0) return fail(ctl, pos, 1007, ParseError.CLOSE_REASON_INVALID_UTF8, payloadAt + 2 - r - 1, n);
          if (r !== Utf8State.ACCEPT) return fail(ctl, pos, 1007, ParseError.CLOSE_REASON_INVALID_UTF8, payloadAt + len, n);
        }
      }
      const at = n * 3;
      records[at] = b0 | REC_START | REC_END;
      records[at + 1] = payloadAt;
      records[at + 2] = len;
      n++;
      pos = payloadAt + len;
      continue;
    }

    // A data frame: the message's limits (bytes, and frames: each costs bookkeeping
    // whatever its size, so a message of 10^6 tiny fragments is refused; 1008 as in ws).
    const bytes = (opcode === 0 ? ctl[MESSAGE_BYTES]! : 0) + len;
    if (bytes > maxPayload) return fail(ctl, pos, 1009, ParseError.MESSAGE_TOO_BIG, pos, n);
    const fragments = (opcode === 0 ? ctl[MESSAGE_FRAGMENTS]! : 0) + 1;
    if (fragments > maxFragments && maxFragments !== 0) return fail(ctl, pos, 1008, ParseError.TOO_MANY_FRAGMENTS, pos, n);
    let validate: boolean;
    if (opcode === 0) {
      validate = (message & MSG_VALIDATE) !== 0;
    } else {
      // Text is validated here unless an extension transformed it (an RSV bit on its first
      // frame): then the extension's output is validated by the TypeScript side.
      validate = opcode === 1 && rsv === 0;
      utf8 = Utf8State.ACCEPT;
    }
    if (fin) {
      message = 0;
      ctl[MESSAGE_BYTES] = 0;
      ctl[MESSAGE_FRAGMENTS] = 0;
    } else {
      message = FRAGMENTED | (validate ? MSG_VALIDATE : 0);
      ctl[MESSAGE_BYTES] = bytes;
      ctl[MESSAGE_FRAGMENTS] = fragments;
    }
    ctl[MESSAGE] = message;

    const avail = end - payloadAt;
    const take = len < avail ? len : avail;
    if (masked) {
      setKey(key);
      unmaskRange(buf, payloadAt, take, 0);
    }
    if (validate) {
      const r = utf8Range(buf, payloadAt, take, utf8);
      if (r < 0) return fail(ctl, pos, 1007, ParseError.INVALID_UTF8, payloadAt - r - 1, n);
      utf8 = r;
    }
    const isEnd = take === len;
    if (isEnd && fin && validate && utf8 !== Utf8State.ACCEPT) {
      return fail(ctl, pos, 1007, ParseError.INCOMPLETE_UTF8, payloadAt + len, n);
    }
    const at = n * 3;
    records[at] = b0 | REC_START | (isEnd ? REC_END : 0) | (validate ? REC_UTF8 : 0);
    records[at + 1] = payloadAt;
    records[at + 2] = take;
    n++;
    pos = payloadAt + take;
    if (!isEnd) {
      ctl[FRAME] = (b0 & 0xff) | IN_PROGRESS | (validate ? FRAME_VALIDATE : 0);
      ctl[FRAME_REMAINING] = len - take;
      ctl[FRAME_KEY] = key;
      ctl[FRAME_KEY_PHASE] = take & 3;
      break;
    }
  }
  ctl[UTF8] = utf8;
  ctl[CONSUMED] = pos;
  return n;
}
