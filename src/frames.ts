/**
 * Frame-level vocabulary of RFC 6455 §5 and §7: opcodes, close codes, constants, and the
 * {@link Frame} and {@link Close} classes with their parse/serialize helpers.
 *
 * Close codes and {@link Close} live in ./close.ts (to keep files small) and are re-exported
 * here: import everything frame-related from this module.
 */

import { backend } from './backend';
import { LocalProtocolError, ParseFailed } from './errors';
import { maskToRsv, rsvToMask, RSV1, RSV2, RSV3, type Extension } from './extensions/extension';
import { Close, CloseCode } from './close';
import {
  frameHeaderSize,
  generateMaskKey,
  MAX_FRAME_LENGTH,
  PAYLOAD_LENGTH_EIGHT_BYTE,
  PAYLOAD_LENGTH_TWO_BYTE,
  readUint32,
  writeFrameHeader,
} from './frame-header';

export {
  PAYLOAD_LENGTH_TWO_BYTE,
  PAYLOAD_LENGTH_EIGHT_BYTE,
  MAX_PAYLOAD_NORMAL,
  MAX_FRAME_LENGTH,
  frameHeaderSize,
  generateMaskKey,
  writeFrameHeader,
  type FrameHeader,
} from './frame-header';

export {
  CloseCode,
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
  describeCloseCode,
  isValidCloseCode,
} from './close';

/** RFC 6455 §5.2 / §11.8: frame opcodes. 3-7 and 11-15 are reserved. */
export enum Opcode {
  CONT = 0x0,
  TEXT = 0x1,
  BINARY = 0x2,
  CLOSE = 0x8,
  PING = 0x9,
  PONG = 0xa,
}

/** Opcodes that carry message data (RFC 6455 §5.6). */
export const DATA_OPCODES: readonly Opcode[] = Object.freeze([Opcode.CONT, Opcode.TEXT, Opcode.BINARY]);
/** Control opcodes (RFC 6455 §5.5). */
export const CTRL_OPCODES: readonly Opcode[] = Object.freeze([Opcode.CLOSE, Opcode.PING, Opcode.PONG]);

/** Whether `opcode` is a control opcode: the high bit of the 4-bit opcode (RFC 6455 §5.5). */
export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Control frames carry at most 125 bytes (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/**
 * RFC 6455 §1.3: appended to Sec-WebSocket-Key before hashing. (Checked against the RFC's
 * example: key "dGhlIHNhbXBsZSBub25jZQ==" gives accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".)
 */
export const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** RFC 6455 §4.1: the only version this implementation speaks. */
export const WEBSOCKET_VERSION = '13';
/** Whether `opcode` is one RFC 6455 defines (not reserved 3-7 / 11-15, §5.2). */
export function isKnownOpcode(opcode: number): opcode is Opcode {
  return opcode === 0 || opcode === 1 || opcode === 2 || opcode === 8 || opcode === 9 || opcode === 10;
}

/** The FIN and RSV flags of a {@link Frame}; all default to the values of a plain frame. */
export interface FrameFlags {
  /** FIN: last frame of its message (default true). */
  fin?: boolean;
  /** RSV1, e.g. "compressed" with permessage-deflate (default false). */
  rsv1?: boolean;
  /** RSV2 (default false). */
  rsv2?: boolean;
  /** RSV3 (default false). */
  rsv3?: boolean;
}

/** Options of {@link Frame.parse}. */
export interface FrameParseOptions {
  /**
   * Whether the frame must be masked: `true` on a server (clients mask every frame), `false`
   * on a client (servers never mask). A mismatch is a protocol error (RFC 6455 §5.1).
   */
  mask: boolean;
  /** Largest payload accepted, in bytes; a larger announced length fails with 1009. */
  maxSize?: number;
  /**
   * Negotiated extensions, applied to the frame as wsproto does: each may claim RSV bits
   * (`frameInboundHeader`) and transform a data frame's payload. Bits nobody claims fail
   * with 1002. Extensions are stateful, so pass them only for frames of one connection, in
   * order; the streaming reader (src/protocol/) drives them itself.
   */
  extensions?: readonly Extension[];
}

/** What {@link Frame.parse} returns for a complete frame. */
export interface FrameParseResult {
  frame: Frame;
  /** Bytes of the input the frame took; the next frame starts there. */
  consumed: number;
}

/** Options of {@link Frame.serialize}. */
export interface FrameSerializeOptions {
  /** Mask the payload (clients must, servers must not: RFC 6455 §5.1). */
  mask: boolean;
  /** The 4-byte masking key; default: a fresh random one (RFC 6455 §5.3 demands unpredictable keys). */
  maskKey?: Uint8Array;
  /**
   * Run {@link Frame.check}'s opcode and control-frame rules first (default true). RSV bits
   * are never checked here: extensions set them just before sending. `false` lets test
   * tools put deliberately invalid frames on the wire (websocket-client's ABNF does).
   */
  check?: boolean;
}

/** Options of {@link Frame.check}. */
export interface FrameCheckOptions {
  /** RSV bits that may be set, as RSV1 | RSV2 | RSV3 values (0x4, 0x2, 0x1). */
  allowedRsv?: number;
  /** Extensions whose `rsvMask` bits may be set (added to `allowedRsv`). */
  extensions?: readonly Pick<Extension, 'rsvMask'>[];
}

const utf8Encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? utf8Encoder.encode(data) : data;
}

/**
 * One WebSocket frame (RFC 6455 §5.2): opcode, flags and the unmasked payload. The MASK bit,
 * length and masking key exist only on the wire; {@link Frame.parse} and
 * {@link Frame.serialize} handle them.
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

  /** `data` given as a string is encoded as UTF-8. */
  constructor(opcode: Opcode, data: string | Uint8Array = EMPTY, flags: FrameFlags = {}) {
    this.opcode = opcode;
    this.data = toBytes(data);
    this.fin = flags.fin ?? true;
    this.rsv1 = flags.rsv1 ?? false;
    this.rsv2 = flags.rsv2 ?? false;
    this.rsv3 = flags.rsv3 ?? false;
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
  static create(data: string | Uint8Array, opcode: Opcode, fin = true): Frame {
    return new Frame(opcode, data, { fin });
  }

  /**
   * websocket-client's `ABNF.mask`: XORs `data` with the 4-byte `key` (RFC 6455 §5.3) into a
   * new array; the input is not modified. Masking twice with the same key restores the data.
   */
  static mask(key: Uint8Array, data: string | Uint8Array): Uint8Array {
    const source = toBytes(data);
    const out = new Uint8Array(source.length);
    backend.mask(source, key, out, 0);
    return out;
  }

  /** The inverse of {@link Frame.mask}, which is the same XOR. */
  static unmask(key: Uint8Array, data: Uint8Array): Uint8Array {
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

    let offset = 2;
    if (length === PAYLOAD_LENGTH_TWO_BYTE) {
      if (bytes.length < 4) return null;
      length = (bytes[2]! << 8) | bytes[3]!;
      offset = 4;
    } else if (length === PAYLOAD_LENGTH_EIGHT_BYTE) {
      if (bytes.length < 10) return null;
      const high = readUint32(bytes, 2);
      // RFC 6455 §5.2: "the most significant bit MUST be 0".
      if (high >= 0x80000000) throw new ParseFailed('64-bit length has its top bit set', CloseCode.PROTOCOL_ERROR);
      // 2^53 and above cannot be held exactly in a number; nothing that large fits in memory.
      if (high >= 0x200000) throw new ParseFailed('frame length exceeds 2^53-1', CloseCode.MESSAGE_TOO_BIG);
      length = high * 0x100000000 + readUint32(bytes, 6);
      offset = 10;
    }
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

    let rsvBits = maskToRsv(rsv);
    if (extensions.length > 0) {
      for (const ext of extensions) rsvBits = ext.frameInboundHeader(opcode, rsvBits, length);
      if (rsvToMask(rsvBits) !== 0) throw new ParseFailed('reserved bit set', CloseCode.PROTOCOL_ERROR);
      if (!isControl(opcode)) data = applyInboundExtensions(extensions, data, fin, options.maxSize);
    }
    const frame = new Frame(opcode, data, { fin, ...rsvBits });
    return { frame, consumed: offset + length };
  }

  /**
   * Checks the rules of RFC 6455 §5.2 / §5.5 that a single frame can break: a reserved
   * opcode, an RSV bit no extension allows, a fragmented control frame, a control payload
   * over 125 bytes. (websocket-client's `ABNF.validate`, websockets' `Frame.check`.)
   * @throws ParseFailed with close code 1002
   */
  check(options: FrameCheckOptions = {}): void {
    let allowed = options.allowedRsv ?? 0;
    for (const ext of options.extensions ?? []) allowed |= ext.rsvMask;
    const problem = this.#problem(allowed);
    if (problem !== null) throw new ParseFailed(problem, CloseCode.PROTOCOL_ERROR);
  }

  #problem(allowedRsv: number): string | null {
    if (!isKnownOpcode(this.opcode)) return `reserved opcode ${String(this.opcode)}`;
    if ((this.rsv & ~allowedRsv) !== 0) return 'reserved bit set';
    if (isControl(this.opcode)) {
      if (!this.fin) return 'fragmented control frame';
      if (this.data.length > MAX_CONTROL_PAYLOAD) return `control frame payload of ${this.data.length} bytes (max 125)`;
    }
    return null;
  }

  /**
   * The frame in wire format (RFC 6455 §5.2): header with the shortest length encoding,
   * then the payload, masked when `mask` is set. The frame itself is not modified.
   * @throws LocalProtocolError if the frame breaks a rule of {@link Frame.check} (RSV bits
   *   excepted) and `check` is not false, or the masking key is not 4 bytes
   */
  serialize(options: FrameSerializeOptions): Uint8Array {
    if (options.check !== false) {
      const problem = this.#problem(RSV1 | RSV2 | RSV3);
      if (problem !== null) throw new LocalProtocolError(problem);
    }
    let maskKey: Uint8Array | undefined;
    if (options.mask) {
      maskKey = options.maskKey ?? generateMaskKey();
      if (maskKey.length !== 4) throw new LocalProtocolError('maskKey must be exactly 4 bytes');
    }
    const length = this.data.length;
    const out = Buffer.allocUnsafe(frameHeaderSize(length, options.mask) + length);
    const at = writeFrameHeader(out, 0, { opcode: this.opcode, length, fin: this.fin, rsv: this.rsv, maskKey });
    if (maskKey !== undefined) backend.mask(this.data, maskKey, out, at);
    else out.set(this.data, at);
    return out;
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

function applyInboundExtensions(
  extensions: readonly Extension[],
  input: Uint8Array,
  fin: boolean,
  maxSize: number | undefined,
): Uint8Array {
  const budget = maxSize ?? MAX_FRAME_LENGTH;
  let data = input;
  for (const ext of extensions) data = ext.frameInboundPayloadData(data, Math.max(0, budget - data.length));
  for (const ext of extensions) {
    const tail = ext.frameInboundComplete(fin, Math.max(0, budget - data.length));
    if (tail !== null && tail.length > 0) data = Buffer.concat([data, tail]);
  }
  return data;
}

// Previews render at most ~64 bytes, so printing a 64 MiB frame stays cheap.
const PREVIEW_HEAD = 48;
const PREVIEW_TAIL = 16;

function hexPreview(data: Uint8Array): string {
  const hex = (part: Uint8Array): string => Buffer.from(part.buffer, part.byteOffset, part.length).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  if (data.length <= PREVIEW_HEAD + PREVIEW_TAIL) return hex(data);
  return `${hex(data.subarray(0, PREVIEW_HEAD))} ... ${hex(data.subarray(data.length - PREVIEW_TAIL))}`;
}

/** Quoted text if `data` is valid UTF-8 (checked in full only when short), else null. */
function textPreview(data: Uint8Array): string | null {
  const quote = (text: string): string =>
    `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
  if (data.length <= PREVIEW_HEAD + PREVIEW_TAIL) {
    return backend.isUtf8(data) ? quote(Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8')) : null;
  }
  // A long payload may be a text fragment cut mid-character: decode the ends leniently.
  const head = Buffer.from(data.buffer, data.byteOffset, PREVIEW_HEAD).toString('utf8');
  const tail = Buffer.from(data.buffer, data.byteOffset + data.length - PREVIEW_TAIL, PREVIEW_TAIL).toString('utf8');
  return `${quote(head)}...${quote(tail)}`;
}
