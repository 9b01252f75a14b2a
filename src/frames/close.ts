/**
 * Close codes (RFC 6455 §7.4) and the payload of a close frame (RFC 6455 §5.5.1).
 *
 * This module is re-exported by `src/frames/frame.ts`; import from there. It sits below frames.ts
 * (frames.ts imports it, never the reverse) so that the two never form an import cycle.
 */
import { backend } from '../backend';
import { LocalProtocolError, ParseFailed } from '../errors';

/** RFC 6455 §7.4.1 and the IANA registry (§11.7): close status codes. */
export enum CloseCode {
  NORMAL_CLOSURE = 1000,
  GOING_AWAY = 1001,
  PROTOCOL_ERROR = 1002,
  UNSUPPORTED_DATA = 1003,
  /** Reserved; never sent. */
  RESERVED = 1004,
  /** No status code was present. Local only: never sent on the wire. */
  NO_STATUS_RCVD = 1005,
  /** The connection closed without a close frame. Local only: never sent on the wire. */
  ABNORMAL_CLOSURE = 1006,
  /**
   * The seeds' name for {@link CloseCode.INVALID_DATA} (websockets, wsproto). Declared first
   * so that the reverse mapping `CloseCode[1007]` stays "INVALID_DATA".
   */
  INVALID_FRAME_PAYLOAD_DATA = 1007,
  INVALID_DATA = 1007,
  POLICY_VIOLATION = 1008,
  MESSAGE_TOO_BIG = 1009,
  MANDATORY_EXTENSION = 1010,
  INTERNAL_ERROR = 1011,
  SERVICE_RESTART = 1012,
  TRY_AGAIN_LATER = 1013,
  BAD_GATEWAY = 1014,
  /** TLS handshake failed. Local only: never sent on the wire. */
  TLS_HANDSHAKE = 1015,
}

/**
 * wsproto's CloseReason, member for member (RFC 6455 §7.4.1). The same codes as
 * {@link CloseCode} under wsproto's names (MANDATORY_EXT, TLS_HANDSHAKE_FAILED, ...); like
 * wsproto it has no 1004 and no 1014. Values are plain numbers: `CloseReason.X === CloseCode.Y`
 * compares codes.
 */
export enum CloseReason {
  NORMAL_CLOSURE = 1000,
  GOING_AWAY = 1001,
  PROTOCOL_ERROR = 1002,
  UNSUPPORTED_DATA = 1003,
  /** Local only: never sent on the wire. */
  NO_STATUS_RCVD = 1005,
  /** Local only: never sent on the wire. */
  ABNORMAL_CLOSURE = 1006,
  INVALID_FRAME_PAYLOAD_DATA = 1007,
  POLICY_VIOLATION = 1008,
  MESSAGE_TOO_BIG = 1009,
  MANDATORY_EXT = 1010,
  INTERNAL_ERROR = 1011,
  SERVICE_RESTART = 1012,
  TRY_AGAIN_LATER = 1013,
  /** Local only: never sent on the wire. */
  TLS_HANDSHAKE_FAILED = 1015,
}

/** A close reason fits after the 2-byte code in 125 bytes (RFC 6455 §5.5.1). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Lowest close code that may exist at all (RFC 6455 §7.4.2: 0-999 are not used). */
export const MIN_CLOSE_CODE = 1000;
/** Highest close code that may exist at all (RFC 6455 §7.4.2). */
export const MAX_CLOSE_CODE = 4999;
/** 1000-2999: defined by RFC 6455 and its extensions (§7.4.2). */
export const MIN_PROTOCOL_CLOSE_CODE = 1000;
/** Upper end of the protocol range; 1016-2999 are unassigned, hence invalid on the wire. */
export const MAX_PROTOCOL_CLOSE_CODE = 2999;
/** 3000-3999: registered with IANA by libraries, frameworks and applications (§7.4.2). */
export const MIN_LIBRARY_CLOSE_CODE = 3000;
/** Upper end of the library (IANA-registered) range. */
export const MAX_LIBRARY_CLOSE_CODE = 3999;
/** 4000-4999: private use, by prior agreement between the endpoints (§7.4.2). */
export const MIN_PRIVATE_CLOSE_CODE = 4000;
/** Upper end of the private-use range. */
export const MAX_PRIVATE_CLOSE_CODE = 4999;

/**
 * Codes that report a local condition and MUST NOT be put in a close frame
 * (RFC 6455 §7.4.1: 1005, 1006 and 1015 are "designated for use in applications expecting
 * a status code to indicate" something that happened locally).
 */
export const LOCAL_ONLY_CLOSE_CODES: readonly CloseCode[] = Object.freeze([
  CloseCode.NO_STATUS_RCVD,
  CloseCode.ABNORMAL_CLOSURE,
  CloseCode.TLS_HANDSHAKE,
]);

/** wsproto's name for {@link LOCAL_ONLY_CLOSE_CODES} (the same frozen array). */
export const LOCAL_ONLY_CLOSE_REASONS: readonly CloseCode[] = LOCAL_ONLY_CLOSE_CODES;

/** Human-readable names of the codes of RFC 6455 §7.4.1 and the IANA registry. */
export const CLOSE_CODE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1000: 'Normal Closure',
  1001: 'Going Away',
  1002: 'Protocol Error',
  1003: 'Unsupported Data',
  1004: 'Reserved',
  1005: 'No Status Received',
  1006: 'Abnormal Closure',
  1007: 'Invalid Frame Payload Data',
  1008: 'Policy Violation',
  1009: 'Message Too Big',
  1010: 'Mandatory Extension',
  1011: 'Internal Error',
  1012: 'Service Restart',
  1013: 'Try Again Later',
  1014: 'Bad Gateway',
  1015: 'TLS Handshake',
});

/**
 * Whether `code` may appear in a close frame on the wire (RFC 6455 §7.4): 1000-1003,
 * 1007-1014 (RFC 6455 plus the IANA-registered 1012-1014) and 3000-4999.
 * Never 1004 (reserved), 1005/1006/1015 (local only), 1016-2999 (unassigned), < 1000 or
 * >= 5000. Used both to reject a peer's close frame (1002) and to refuse to send one.
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= MIN_LIBRARY_CLOSE_CODE) return code <= MAX_PRIVATE_CLOSE_CODE;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/** A short description of a close code: its name, or the range it belongs to. */
export function describeCloseCode(code: number): string {
  const name = CLOSE_CODE_NAMES[code];
  if (name !== undefined) return name;
  if (code >= MIN_LIBRARY_CLOSE_CODE && code <= MAX_LIBRARY_CLOSE_CODE) return 'registered';
  if (code >= MIN_PRIVATE_CLOSE_CODE && code <= MAX_PRIVATE_CLOSE_CODE) return 'private use';
  return 'unknown';
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** A close problem: what is wrong and the close code it calls for. */
export interface CloseProblem {
  message: string;
  code: number;
}

/**
 * What is wrong with `payload` as the payload of a close frame on the wire, or null
 * (RFC 6455 §5.5.1, §7.4): 1 byte (a code is 2 bytes) or a code that may not be on the wire
 * (< 1000, 1004-1006, 1015, 1016-2999, >= 5000) -> 1002; a reason that is not UTF-8 -> 1007
 * (checked with `validateUtf8`; `null` skips the check: websocket-client's
 * `skip_utf8_validation`). Over 125 bytes is the control-frame rule (Frame.check).
 */
export function closePayloadProblem(payload: Uint8Array, validateUtf8: ((data: Uint8Array) => boolean) | null): CloseProblem | null {
  if (payload.length === 0) return null;
  if (payload.length === 1) return { message: 'close frame payload of 1 byte', code: CloseCode.PROTOCOL_ERROR };
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) return { message: `close code ${code} may not be on the wire (RFC 6455 §7.4)`, code: CloseCode.PROTOCOL_ERROR };
  if (validateUtf8 !== null && payload.length > 2 && !validateUtf8(payload.subarray(2))) {
    return { message: 'close reason is not valid UTF-8', code: CloseCode.INVALID_DATA };
  }
  return null;
}

/** Whether `text` has no lone surrogate, i.e. encodes to UTF-8 without U+FFFD replacements. */
function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false; // a low surrogate without its high one
    const next = text.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/**
 * A close frame payload (RFC 6455 §5.5.1): `code` as 2 bytes in network byte order, then the
 * reason's UTF-8 bytes. Checks nothing: callers check the code (§7.4) and clip or refuse the
 * reason (protocol/close-policy.ts re-exports this next to the clipper).
 */
export function encodeClosePayload(code: number, reason: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(2 + reason.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(reason, 2);
  return out;
}

/**
 * The code and reason of a close frame (RFC 6455 §5.5.1): a 2-byte code in network byte
 * order followed by at most 123 bytes of UTF-8, or an empty payload (no code at all, which
 * this class represents as {@link CloseCode.NO_STATUS_RCVD} with an empty reason).
 *
 * The constructor checks what any close must satisfy (websockets' seed: "ValueError if
 * code is invalid or reason is too long"): a code in 1000-4999 (RFC 6455 §7.4.2), a reason
 * of at most 123 UTF-8 bytes that is valid Unicode (no lone surrogate: it could not be sent
 * as UTF-8, §5.5.1). Codes that exist but may not be SENT (1004, 1005, 1006, 1015,
 * 1016-2999) are accepted, so a received or local-only close can be represented;
 * {@link Close.serialize} refuses them.
 */
export class Close {
  /** The close code; see {@link CloseCode}. */
  code: number;
  /** The close reason (may be empty). */
  reason: string;

  /** @throws LocalProtocolError for a code outside 1000-4999 or an invalid or too long reason */
  constructor(code: number, reason = '') {
    if (!Number.isInteger(code) || code < MIN_CLOSE_CODE || code > MAX_CLOSE_CODE) {
      throw new LocalProtocolError(`close code ${String(code)} is outside ${MIN_CLOSE_CODE}-${MAX_CLOSE_CODE} (RFC 6455 §7.4.2)`);
    }
    if (typeof reason !== 'string') throw new TypeError('a close reason must be a string');
    if (!isWellFormed(reason)) throw new LocalProtocolError('close reason holds a lone surrogate: it is not valid UTF-8');
    const bytes = Buffer.byteLength(reason, 'utf8');
    if (bytes > MAX_CLOSE_REASON_BYTES) {
      throw new LocalProtocolError(`close reason is ${bytes} bytes of UTF-8; at most ${MAX_CLOSE_REASON_BYTES} are allowed`);
    }
    this.code = code;
    this.reason = reason;
  }

  /**
   * Parses the payload of a received close frame.
   * - empty payload: `Close(1005, "")` (RFC 6455 §7.1.5: "no status code was received");
   * - 1 byte: a code cannot be 1 byte long: ParseFailed with 1002;
   * - a code that is not valid on the wire ({@link isValidCloseCode}): ParseFailed with 1002;
   * - a reason that is not valid UTF-8: ParseFailed with 1007 (RFC 6455 §8.1, §5.5.1).
   * @throws ParseFailed
   */
  static parse(payload: Uint8Array): Close {
    if (payload.length === 0) return new Close(CloseCode.NO_STATUS_RCVD, '');
    if (payload.length === 1) throw new ParseFailed('close frame payload of 1 byte', CloseCode.PROTOCOL_ERROR);
    const code = (payload[0]! << 8) | payload[1]!;
    if (!isValidCloseCode(code)) {
      throw new ParseFailed(`invalid close code ${code}`, CloseCode.PROTOCOL_ERROR);
    }
    const reasonBytes = payload.subarray(2);
    if (!backend.isUtf8(reasonBytes)) {
      throw new ParseFailed('close reason is not valid UTF-8', CloseCode.INVALID_DATA);
    }
    return new Close(code, utf8Decoder.decode(reasonBytes));
  }

  /**
   * The close frame payload to send. `Close(1005, "")` serializes to an empty payload (the
   * inverse of {@link Close.parse}); any other code must be valid on the wire.
   * @throws LocalProtocolError if the code may not be sent, or the reason is longer than
   *   123 UTF-8 bytes (RFC 6455 §5.5: control payloads are at most 125 bytes)
   */
  serialize(): Uint8Array {
    if (this.code === CloseCode.NO_STATUS_RCVD && this.reason === '') return new Uint8Array(0);
    if (!isValidCloseCode(this.code)) {
      throw new LocalProtocolError(`close code ${this.code} may not be sent (RFC 6455 §7.4)`);
    }
    const reason = utf8Encoder.encode(this.reason);
    if (reason.length > MAX_CLOSE_REASON_BYTES) {
      throw new LocalProtocolError(
        `close reason is ${reason.length} bytes of UTF-8; at most ${MAX_CLOSE_REASON_BYTES} are allowed`,
      );
    }
    return encodeClosePayload(this.code, reason);
  }

  /** E.g. `1000 (Normal Closure) bye`, `4001 (private use)`. */
  toString(): string {
    const text = `${this.code} (${describeCloseCode(this.code)})`;
    return this.reason === '' ? text : `${text} ${this.reason}`;
  }
}
