/**
 * The backend seam: the byte-level kernels that have a native (C++ addon) and a pure
 * TypeScript implementation. Everything above src/backend/ calls these through the
 * `backend` object of ./index.ts and never learns which one it got.
 *
 * Both implementations must give identical results for identical inputs, including the
 * errors they throw: test/backend/backend-parity.test.ts (mask, UTF-8, argument errors) and
 * test/backend/frames-parity.test.ts (parseFrames) check it with random inputs,
 * test/backend/deflate-parity.test.ts the deflate streams.
 */

import type { DeflateBackend } from './deflate-types';

/** Which implementation is active. */
export type BackendName = 'native' | 'js';

/**
 * Incremental UTF-8 validation state, shared by both backends (so a state produced by one
 * can be continued by the other). 0 means "at a character boundary"; the other values name
 * what the next byte must be (RFC 3629 §4 table, "Well-Formed Byte Sequences"):
 */
export enum Utf8State {
  /** At a character boundary: everything so far is complete, valid UTF-8. */
  ACCEPT = 0,
  /** One continuation byte 80..BF still needed. */
  NEED1 = 1,
  /** Two continuation bytes needed, the next in 80..BF. */
  NEED2 = 2,
  /** After E0: two needed, the next in A0..BF (rules out overlongs). */
  NEED2_E0 = 3,
  /** After ED: two needed, the next in 80..9F (rules out surrogates U+D800..U+DFFF). */
  NEED2_ED = 4,
  /** Three continuation bytes needed, the next in 80..BF. */
  NEED3 = 5,
  /** After F0: three needed, the next in 90..BF (rules out overlongs). */
  NEED3_F0 = 6,
  /** After F4: three needed, the next in 80..8F (rules out > U+10FFFF). */
  NEED3_F4 = 7,
}

export interface Backend extends DeflateBackend {
  readonly name: BackendName;

  /**
   * RFC 6455 §5.3 masking: `target[targetOffset + i] = source[i] ^ key[(keyOffset + i) & 3]`
   * for every byte of `source`. `keyOffset` is the position of `source[0]` within the masked
   * payload, so a payload can be masked in pieces. `source` and the written part of `target`
   * may be the same memory (then it is in place) but must not otherwise overlap.
   * @throws TypeError if an argument is not a Uint8Array / key is not 4 bytes
   * @throws RangeError if `source` does not fit in `target` at `targetOffset`, or an offset
   *   is negative or not an integer
   */
  mask(source: Uint8Array, key: Uint8Array, target: Uint8Array, targetOffset?: number, keyOffset?: number): void;

  /** In-place masking (masking and unmasking are the same XOR); see {@link Backend.mask}. */
  unmask(data: Uint8Array, key: Uint8Array, keyOffset?: number): void;

  /** Whether `data` is entirely well-formed UTF-8 (RFC 3629; no surrogates, no overlongs). */
  isUtf8(data: Uint8Array): boolean;

  /**
   * One step of incremental UTF-8 validation over a piece of a longer text (a fragment of
   * a text message). `state` is the value returned by the previous step, or
   * {@link Utf8State.ACCEPT} at the start.
   * @returns a {@link Utf8State} (>= 0) to carry into the next step: `ACCEPT` when `data`
   *   ended on a character boundary, another value when it ended inside a sequence;
   *   or a negative number `-(i + 1)` when the byte at index `i` of `data` makes the text
   *   invalid (an invalid continuation of a sequence started in an earlier piece is
   *   reported at index 0).
   * @throws TypeError / RangeError on a non-Uint8Array or a state outside 0..7
   */
  utf8Step(data: Uint8Array, state: number): number;

  /**
   * The batch frame parser (RFC 6455 §5.2-§5.7): walks every frame header in
   * `buf[start..end)` in ONE call, checks the header rules, unmasks payloads in place,
   * validates UTF-8 of uncompressed text incrementally and closes frames' payloads, and
   * writes one record per frame (or per piece of a frame that continues past `end`) into
   * `records` (see {@link ParseRecord}). Configuration, the state carried between calls and
   * the results live in `ctl` (see {@link ParseCtl}); the caller supplies both arrays (FrameReader
   * shares one of each among all readers and keeps each reader's state between calls).
   *
   * Data frames are streamed: a data frame whose payload runs past `end` is consumed up to
   * `end` and continued by the next call (`ctl[ParseCtl.FRAME_REMAINING]` says how much is
   * still to come). Control frames (<= 125 bytes) are only consumed whole, so what a caller
   * must keep between calls is at most one incomplete header or control frame (< 140 bytes).
   *
   * @returns the number of records written; `ctl[ParseCtl.CONSUMED]` is the index after the
   *   last byte consumed and `ctl[ParseCtl.ERROR]` the close code of a violation (0: none).
   *   After an error, the state in `ctl` is undefined: the stream is dead.
   * @throws TypeError / RangeError on a wrong argument type, range or `ctl` content
   */
  parseFrames(buf: Uint8Array, start: number, end: number, ctl: Float64Array, records: Int32Array): number;
}

/**
 * Slots of the `ctl` Float64Array of {@link Backend.parseFrames} ({@link PARSE_CTL_SIZE}
 * slots, shared by both backends so that a state written by one can be continued by the
 * other). All values are integers stored in doubles (exact up to 2^53).
 */
export const ParseCtl = Object.freeze({
  /** Config. Bit {@link ParseFlags.EXPECT_MASK}: peer frames must be masked (we are a server, §5.1). */
  FLAGS: 0,
  /** Config. RSV bits the peer may set (RSV1=4, RSV2=2, RSV3=1), from negotiated extensions (§5.2). */
  ALLOWED_RSV: 1,
  /** Config. Largest frame / message payload in bytes, 0..2^53-1 (larger: 1009). */
  MAX_PAYLOAD: 2,
  /** State. {@link ParseMessage} bits of the data message in progress (0: between messages). */
  MESSAGE: 3,
  /** State. The {@link Utf8State} of the text message in progress. */
  UTF8: 4,
  /** State. Payload bytes of the message in progress, counted at each frame header. */
  MESSAGE_BYTES: 5,
  /** State. Data frames of the message in progress so far (its first frame included). */
  MESSAGE_FRAGMENTS: 6,
  /** State. 0, or the data frame in progress: header byte 0 | {@link ParseFrame} bits. */
  FRAME: 7,
  /** State. Payload bytes of the frame in progress still to come. */
  FRAME_REMAINING: 8,
  /** State. Masking key of the frame in progress, big-endian as an unsigned 32-bit number. */
  FRAME_KEY: 9,
  /** State. Payload bytes of the frame in progress received so far, modulo 4 (key phase). */
  FRAME_KEY_PHASE: 10,
  /** Result. Index in `buf` just after the last byte consumed. */
  CONSUMED: 11,
  /** Result. 0, or the close code the violation calls for (1002, 1007, 1009). */
  ERROR: 12,
  /** Result. Index in `buf` of the offending byte (frame start for header errors). */
  ERROR_OFFSET: 13,
  /** Result. A {@link ParseError} saying what was wrong. */
  ERROR_REASON: 14,
  /**
   * Config. Most data frames one message may have, 0..2^53-1; 0: no limit. More: 1008
   * ({@link ParseError.TOO_MANY_FRAGMENTS}).
   */
  MAX_FRAGMENTS: 15,
} as const);

/** Number of slots of the `ctl` array of {@link Backend.parseFrames}. */
export const PARSE_CTL_SIZE = 16;

/** Bits of `ctl[ParseCtl.FLAGS]`. */
export const ParseFlags = Object.freeze({
  /** Frames must carry a mask (server side); clear: they must not (client side). RFC 6455 §5.1. */
  EXPECT_MASK: 1,
} as const);

/** Bits of `ctl[ParseCtl.MESSAGE]`. */
export const ParseMessage = Object.freeze({
  /** A data frame without FIN was seen: only CONT frames may continue it (§5.4). */
  FRAGMENTED: 1,
  /** The message is TEXT whose first frame had no RSV bit: the parser validates its UTF-8. */
  VALIDATE_UTF8: 2,
} as const);

/** Bits of `ctl[ParseCtl.FRAME]` above the header byte. */
export const ParseFrame = Object.freeze({
  /** A data frame's payload continues in the next call. */
  IN_PROGRESS: 0x100,
  /** Its payload is validated as UTF-8. */
  VALIDATE_UTF8: 0x200,
} as const);

/** Slots per record in the `records` Int32Array, and their meaning. */
export const ParseRecord = Object.freeze({
  /** Int32 slots per record. */
  SIZE: 3,
  /** Header byte 0 (FIN 0x80, RSV1 0x40, RSV2 0x20, RSV3 0x10, opcode 0x0f) | flag bits below. */
  INFO: 0,
  /** Index in `buf` of the payload bytes of this record (already unmasked). */
  OFFSET: 1,
  /** Number of payload bytes in this record. */
  LENGTH: 2,
  /** Flag: this record starts a frame (its header was parsed in this record). */
  START: 0x100,
  /** Flag: this record ends a frame (the last payload byte is in it). */
  END: 0x200,
  /** Flag: the parser validated these bytes as UTF-8 (uncompressed text). */
  UTF8: 0x400,
} as const);

/**
 * Default most fragments (data frames) of one message: 131,072 (ws 8.21's default; ws 8.23
 * lowered it to 16,384). Each frame costs the receiver a record and some bookkeeping whatever
 * its size, so a message of 10^6 one-byte fragments is refused (1008) rather than accepted,
 * while a 4 MiB message sent as 65,536 fragments of 64 bytes (Autobahn 9.3.1 / 9.4.1, which
 * ws 8.23's default refuses) passes.
 */
export const DEFAULT_MAX_FRAGMENTS = 128 * 1024;

/** What {@link Backend.parseFrames} found wrong (`ctl[ParseCtl.ERROR_REASON]`). */
export enum ParseError {
  NONE = 0,
  /** An RSV bit no negotiated extension claims (§5.2). 1002. */
  RSV_NOT_ALLOWED = 1,
  /** Opcode 3-7 or 11-15 (§5.2). 1002. */
  RESERVED_OPCODE = 2,
  /** A control frame without FIN (§5.5). 1002. */
  CONTROL_FRAGMENTED = 3,
  /** A control frame longer than 125 bytes (§5.5). 1002. */
  CONTROL_TOO_LONG = 4,
  /** RSV1 on a control frame (RFC 7692 §6.1). 1002. */
  RSV1_ON_CONTROL = 5,
  /** RSV1 on a continuation frame (RFC 7692 §6.1). 1002. */
  RSV1_ON_CONTINUATION = 6,
  /** A continuation frame with no message to continue (§5.4). 1002. */
  UNEXPECTED_CONTINUATION = 7,
  /** A new TEXT/BINARY frame inside a fragmented message (§5.4). 1002. */
  EXPECTED_CONTINUATION = 8,
  /** An unmasked frame from a client (§5.1). 1002. */
  MASK_REQUIRED = 9,
  /** A masked frame from a server (§5.1). 1002. */
  MASK_FORBIDDEN = 10,
  /** A 64-bit length with its most significant bit set (§5.2). 1002. */
  LENGTH_MSB_SET = 11,
  /** A frame longer than maxPayload. 1009. */
  FRAME_TOO_BIG = 12,
  /** A message whose fragments add up to more than maxPayload. 1009. */
  MESSAGE_TOO_BIG = 13,
  /** A message with more data frames than maxFragments. 1008 (as ws: a policy limit). */
  TOO_MANY_FRAGMENTS = 14,
  /** Invalid UTF-8 in a text message (§5.6, §8.1). 1007. */
  INVALID_UTF8 = 15,
  /** A text message ended inside a UTF-8 sequence (§8.1). 1007. */
  INCOMPLETE_UTF8 = 16,
  /** A close frame with a 1-byte payload (§5.5.1). 1002. */
  CLOSE_PAYLOAD_ONE_BYTE = 17,
  /** A close code that may not appear on the wire (§7.4). 1002. */
  CLOSE_CODE_INVALID = 18,
  /** A close reason that is not valid UTF-8 (§5.5.1). 1007. */
  CLOSE_REASON_INVALID_UTF8 = 19,
}
