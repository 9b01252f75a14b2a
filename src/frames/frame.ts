/**
 * Frame-level vocabulary of RFC 6455 §5 and §7: opcodes, close codes, constants, and the
 * {@link Frame} and {@link Close} classes with their parse/serialize helpers.
 *
 * Close codes and {@link Close} live in ./close.ts (to keep files small) and are re-exported
 * here: import everything frame-related from this module.
 */

import { backend } from '../backend';
import { LocalProtocolError, ParseFailed } from '../errors';
import { applyInboundExtensions, maskToRsv, RSV1, RSV2, RSV3 } from './rsv';
import { Close, CloseCode, closePayloadProblem } from './close';
import {
  encodeFrame,
  FIN_MASK,
  generateMaskKey,
  MAX_FRAME_LENGTH,
  PAYLOAD_LENGTH_EIGHT_BYTE,
  PAYLOAD_LENGTH_TWO_BYTE,
  readPayloadLength,
  toMaskKey,
  writeFrameHeader,
  type MaskingCallable,
  type MaskKeyType,
} from './header';
import type { Bit, FrameCheckOptions, FrameFlags, FrameParseOptions, FrameSerializeOptions } from './frame-options';
import { hexPreview, textPreview } from './preview';
import { isControl, isKnownOpcode, MAX_CONTROL_PAYLOAD, Opcode } from './opcode';

export {
  PAYLOAD_LENGTH_TWO_BYTE,
  PAYLOAD_LENGTH_EIGHT_BYTE,
  MAX_PAYLOAD_NORMAL,
  MAX_FRAME_LENGTH,
  MAX_PAYLOAD_TWO_BYTE,
  MAX_PAYLOAD_EIGHT_BYTE,
  MAX_FRAME_PAYLOAD,
  LENGTH_7,
  LENGTH_16,
  LENGTH_63,
  FIN_MASK,
  RSV1_MASK,
  RSV2_MASK,
  RSV3_MASK,
  OPCODE_MASK,
  MASK_MASK,
  PAYLOAD_LEN_MASK,
  NULL_MASK,
  frameHeaderSize,
  generateMaskKey,
  toMaskKey,
  writeFrameHeader,
  type FrameHeader,
  type MaskingCallable,
  type MaskKeyType,
} from './header';

export {
  CloseCode,
  CloseReason,
  Close,
  CLOSE_CODE_NAMES,
  LOCAL_ONLY_CLOSE_CODES,
  LOCAL_ONLY_CLOSE_REASONS,
  MAX_CLOSE_REASON_BYTES,
  MIN_CLOSE_CODE,
  MAX_CLOSE_CODE,
  MIN_PROTOCOL_CLOSE_CODE,
  MAX_PROTOCOL_CLOSE_CODE,
  MIN_LIBRARY_CLOSE_CODE,
  MAX_LIBRARY_CLOSE_CODE,
  MIN_PRIVATE_CLOSE_CODE,
  MAX_PRIVATE_CLOSE_CODE,
  closePayloadProblem,
  describeCloseCode,
  isValidCloseCode,
} from './close';

export {
  Opcode,
  DATA_OPCODES,
  CTRL_OPCODES,
  isControl,
  isKnownOpcode,
  MAX_CONTROL_PAYLOAD,
  ACCEPT_GUID,
  WEBSOCKET_VERSION,
} from './opcode';
export type {
  Bit,
  FrameFlags,
  ValidationCallable,
  FrameParseOptions,
  FrameSerializeOptions,
  FrameCheckOptions,
} from './frame-options';

const utf8Encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? utf8Encoder.encode(data) : data;
}

/** A flag given as boolean or 0/1 as a boolean (anything else: its truthiness). */
function bit(value: Bit | undefined, fallback: boolean): boolean {
  return value === undefined ? fallback : Boolean(value);
}

/** What {@link Frame.parse} returns for a complete frame. */
export interface FrameParseResult {
  frame: Frame;
  /** Bytes of the input the frame took; the next frame starts there. */
  consumed: number;
}

/**
 * One WebSocket frame (RFC 6455 §5.2): opcode, flags and the unmasked payload. The length
 * and masking key exist only on the wire; {@link Frame.parse} and {@link Frame.serialize}
 * handle them. {@link Frame.masked} records the MASK bit (websocket-client's `mask_value`).
 */
export class Frame {
  /** The opcode (RFC 6455 §5.2); reserved values are representable but fail {@link Frame.check}. */
  opcode: Opcode;
  /** The payload, unmasked. */
  data: Uint8Array;
  /** FIN: this is the last frame of its message. */
  fin: boolean;
  /** RSV1 (permessage-deflate: "compressed", RFC 7692 §6). */
  rsv1: boolean;
  /** RSV2 (no registered use). */
  rsv2: boolean;
  /** RSV3 (no registered use). */
  rsv3: boolean;
  /**
   * The MASK bit (websocket-client's `mask_value`): set on frames parsed from the wire and
   * on frames a server receives; for frames to send, the default of {@link Frame.serialize}.
   */
  masked: boolean;

  /** `data` given as a string is encoded as UTF-8; flags given as 0/1 become booleans. */
  constructor(opcode: Opcode, data: string | Uint8Array = EMPTY, flags: FrameFlags = {}) {
    this.opcode = opcode;
    this.data = toBytes(data);
    this.fin = bit(flags.fin, true);
    this.rsv1 = bit(flags.rsv1, false);
    this.rsv2 = bit(flags.rsv2, false);
    this.rsv3 = bit(flags.rsv3, false);
    this.masked = bit(flags.masked, false);
  }

  /** Whether this frame carries message data: CONT, TEXT or BINARY (RFC 6455 §5.6). */
  get isDataFrame(): boolean {
    return this.opcode === Opcode.CONT || this.opcode === Opcode.TEXT || this.opcode === Opcode.BINARY;
  }

  /** Whether this is a control frame: CLOSE, PING or PONG (RFC 6455 §5.5). */
  get isControlFrame(): boolean {
    return this.opcode === Opcode.CLOSE || this.opcode === Opcode.PING || this.opcode === Opcode.PONG;
  }

  /** The RSV bits as one number (RSV1 = 0x4, RSV2 = 0x2, RSV3 = 0x1). */
  get rsv(): number {
    return (this.rsv1 ? RSV1 : 0) | (this.rsv2 ? RSV2 : 0) | (this.rsv3 ? RSV3 : 0);
  }

  /**
   * websocket-client's `ABNF.create_frame`: a frame ready to send. A string is encoded as
   * UTF-8 whatever the opcode.
   */
  static create(data: string | Uint8Array, opcode: Opcode, fin: Bit = true): Frame {
    return new Frame(opcode, data, { fin });
  }

  /**
   * websocket-client's `ABNF.mask`: XORs `data` with the 4-byte `key` (RFC 6455 §5.3) into a
   * new array; the input is not modified. Masking twice with the same key restores the data.
   * A string key is read as latin-1 (as websocket-client does). A string `data` is encoded
   * as UTF-8 — deviation: websocket-client encodes it as latin-1, which cannot represent
   * most text; in wscore a string is always text.
   * @throws RangeError unless the key is 4 bytes (4 latin-1 characters)
   */
  static mask(key: MaskKeyType, data: string | Uint8Array): Uint8Array {
    const source = toBytes(data);
    const out = new Uint8Array(source.length);
    backend.mask(source, toMaskKey(key), out, 0);
    return out;
  }

  /** The inverse of {@link Frame.mask}, which is the same XOR. */
  static unmask(key: MaskKeyType, data: Uint8Array): Uint8Array {
    return Frame.mask(key, data);
  }

  /**
   * Parses ONE frame from the start of `bytes`. Returns null while the frame is incomplete
   * (call again with more bytes), else the frame (payload copied and unmasked; `bytes` is
   * not modified) and how many bytes it took. Header rules are checked as soon as the
   * header bytes are there, so a bad frame fails before its payload arrives.
   * @throws ParseFailed with close code 1002 (protocol error: reserved opcode or RSV bit,
   *   wrong MASK bit, fragmented or oversized control frame, 64-bit length with its most
   *   significant bit set) or 1009 (longer than `maxSize`, or than 2^53-1).
   */
  static parse(bytes: Uint8Array, options: FrameParseOptions): FrameParseResult | null {
    if (bytes.length < 2) return null;
    const b0 = bytes[0]!;
    const b1 = bytes[1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv = (b0 >>> 4) & 7;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    const extensions = options.extensions ?? [];

    if (!isKnownOpcode(opcode)) throw new ParseFailed(`reserved opcode ${opcode}`, CloseCode.PROTOCOL_ERROR);
    const claimable = extensions.reduce((bits, ext) => bits | ext.rsvMask, 0);
    if ((rsv & ~claimable) !== 0) throw new ParseFailed('reserved bit set', CloseCode.PROTOCOL_ERROR);
    if (masked !== options.mask) {
      throw new ParseFailed(options.mask ? 'frame is not masked' : 'frame is masked', CloseCode.PROTOCOL_ERROR);
    }
    if (isControl(opcode)) {
      if (!fin) throw new ParseFailed('fragmented control frame', CloseCode.PROTOCOL_ERROR);
      if (length > MAX_CONTROL_PAYLOAD) throw new ParseFailed('control frame too long', CloseCode.PROTOCOL_ERROR);
    }

    const announced = readPayloadLength(bytes, true);
    if (announced < 0) return null;
    let offset = length === PAYLOAD_LENGTH_TWO_BYTE ? 4 : length === PAYLOAD_LENGTH_EIGHT_BYTE ? 10 : 2;
    length = announced;
    if (options.maxSize !== undefined && length > options.maxSize) {
      throw new ParseFailed(`frame of ${length} bytes exceeds maxSize ${options.maxSize}`, CloseCode.MESSAGE_TOO_BIG);
    }
    const keyAt = offset;
    if (masked) offset += 4;
    if (bytes.length - offset < length) return null;

    const payload = bytes.subarray(offset, offset + length);
    let data: Uint8Array = Buffer.allocUnsafeSlow(length);
    if (masked) backend.mask(payload, bytes.subarray(keyAt, keyAt + 4), data, 0);
    else data.set(payload);

    // The extensions claim their RSV bits: the frame keeps only those none claimed (none).
    let rsvLeft = rsv;
    if (extensions.length > 0) {
      data = applyInboundExtensions(extensions, opcode, rsv, data, fin, options.maxSize ?? MAX_FRAME_LENGTH);
      rsvLeft = 0;
    }
    const frame = new Frame(opcode, data, { fin, ...maskToRsv(rsvLeft), masked });
    return { frame, consumed: offset + length };
  }

  /**
   * Checks the rules of RFC 6455 §5.2 / §5.5 that a single frame can break: a reserved
   * opcode, an RSV bit no extension allows, a fragmented control frame, a control payload
   * over 125 bytes; and for a CLOSE frame its payload (§5.5.1, §7.4): not 1 byte, a code
   * that may be on the wire (never 1005, 1006, 1015, nor outside 1000-4999), a reason in
   * valid UTF-8 (unless `skipUtf8Validation`). (websocket-client's `ABNF.validate`,
   * websockets' `Frame.check`.)
   * @throws ParseFailed with close code 1002 (1007 for a close reason that is not UTF-8)
   */
  check(options: FrameCheckOptions = {}): void {
    let allowed = options.allowedRsv ?? 0;
    for (const ext of options.extensions ?? []) allowed |= ext.rsvMask;
    const problem = this.#problem(allowed, options);
    if (problem !== null) throw new ParseFailed(problem.message, problem.code);
  }

  /** websocket-client's name for {@link Frame.check}. */
  validate(options: FrameCheckOptions = {}): void {
    this.check(options);
  }

  #problem(allowedRsv: number, options: FrameCheckOptions): { message: string; code: number } | null {
    const protocol = (message: string): { message: string; code: number } => ({ message, code: CloseCode.PROTOCOL_ERROR });
    if (!isKnownOpcode(this.opcode)) return protocol(`reserved opcode ${String(this.opcode)}`);
    if ((this.rsv & ~allowedRsv) !== 0) return protocol('reserved bit set');
    if (isControl(this.opcode)) {
      if (!this.fin) return protocol('fragmented control frame');
      if (this.data.length > MAX_CONTROL_PAYLOAD) return protocol(`control frame payload of ${this.data.length} bytes (max 125)`);
      if (this.opcode === Opcode.CLOSE) {
        const validate = options.skipUtf8Validation === true ? null : (options.validateUtf8 ?? backend.isUtf8);
        return closePayloadProblem(this.data, validate);
      }
    }
    return null;
  }

  /**
   * The frame in wire format (RFC 6455 §5.2): header with the shortest length encoding,
   * then the payload, masked when `mask` is set. The frame itself is not modified.
   * @throws LocalProtocolError if the frame breaks a rule of {@link Frame.check} (RSV bits
   *   excepted) and `check` is not false, or the masking key is not 4 bytes
   */
  serialize(options: FrameSerializeOptions = {}): Uint8Array {
    if (options.check !== false) {
      const problem = this.#problem(RSV1 | RSV2 | RSV3, {});
      if (problem !== null) throw new LocalProtocolError(problem.message);
    }
    const mask = options.mask ?? this.masked;
    let maskKey: Uint8Array | undefined;
    if (mask) {
      try {
        maskKey = options.maskKey === undefined ? generateMaskKey() : toMaskKey(options.maskKey);
      } catch (err) {
        if (err instanceof RangeError) throw new LocalProtocolError(err.message);
        throw err;
      }
    }
    const opcode = this.opcode;
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) throw new RangeError(`invalid opcode ${opcode}`);
    return encodeFrame((this.fin ? FIN_MASK : 0) | (this.rsv << 4) | opcode, this.data, maskKey ?? null);
  }

  /**
   * A readable one-line summary, e.g. `TEXT 'hello' [text, 5 bytes]`,
   * `BINARY 00 01 02 [binary, 3 bytes, continued]`, `CLOSE 1000 (Normal Closure) [2 bytes]`.
   * Long payloads are shown as their beginning and end around "...".
   */
  toString(): string {
    const n = this.data.length;
    const meta: string[] = [];
    let shown: string;
    if (this.opcode === Opcode.CLOSE) {
      try {
        shown = Close.parse(this.data).toString();
      } catch (err) {
        if (!(err instanceof ParseFailed)) throw err;
        shown = hexPreview(this.data);
        meta.push('invalid');
      }
    } else if (n === 0) {
      shown = "''";
    } else {
      const asText = this.opcode === Opcode.BINARY ? null : textPreview(this.data);
      if (asText === null) {
        shown = hexPreview(this.data);
        meta.push('binary');
      } else {
        shown = asText;
        meta.push('text');
      }
    }
    meta.push(`${n} byte${n === 1 ? '' : 's'}`);
    if (!this.fin) meta.push('continued');
    const name = Opcode[this.opcode] ?? `OPCODE_${String(this.opcode)}`;
    return `${name} ${shown} [${meta.join(', ')}]`;
  }
}

