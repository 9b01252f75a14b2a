/**
 * Frame header encoding (RFC 6455 §5.2): the one header writer ({@link writeHeader}) and
 * the one whole-frame encoder ({@link encodeFrame}), used by {@link Frame}, the sans-IO
 * FrameWriter, io's sender and broadcast; masking keys (§5.3) come from ./mask-key.
 * The public part is re-exported by `src/frames/frame.ts`; import it from there.
 */
import { backend, INLINE_MASK_MAX_BYTES } from '../backend';
import { ParseFailed } from '../errors';
import { generateMaskKey } from './mask-key';

export { generateMaskKey };

/** Payload lengths 126 and 127 announce a 2- or 8-byte extended length (RFC 6455 §5.2). */
export const PAYLOAD_LENGTH_TWO_BYTE = 126;
/** The 7-bit length value announcing a 64-bit extended length (RFC 6455 §5.2). */
export const PAYLOAD_LENGTH_EIGHT_BYTE = 127;
/** The largest payload a 7-bit length holds, and the limit for control frames (§5.5). */
export const MAX_PAYLOAD_NORMAL = 125;
/** The largest payload a 16-bit extended length holds (2^16 - 1; wsproto's name). */
export const MAX_PAYLOAD_TWO_BYTE = 0xffff;
/**
 * The highest payload length wscore accepts: 2^53 - 1.
 *
 * Deviation (wsproto: MAX_PAYLOAD_EIGHT_BYTE = 2^64 - 1; websocket-client: LENGTH_63 = 2^63;
 * RFC 6455 §5.2 allows 63 bits). Lengths stay `number`, not `bigint`: a number holds every
 * integer up to 2^53 - 1 exactly, no Buffer or ArrayBuffer can be larger than that, the
 * default maxPayload is 64 MiB, and the parser's hot path (native records in a
 * Float64Array) would pay for bigint on every frame. A received header announcing 2^53 or
 * more fails with 1009 (too big to process); one with the 64th bit set fails with 1002.
 */
export const MAX_FRAME_LENGTH = Number.MAX_SAFE_INTEGER;
/** wsproto's MAX_PAYLOAD_EIGHT_BYTE: 2^53 - 1 here, not 2^64 - 1 (see {@link MAX_FRAME_LENGTH}). */
export const MAX_PAYLOAD_EIGHT_BYTE = MAX_FRAME_LENGTH;
/** wsproto's MAX_FRAME_PAYLOAD: 2^53 - 1 here, not 2^64 - 1 (see {@link MAX_FRAME_LENGTH}). */
export const MAX_FRAME_PAYLOAD = MAX_FRAME_LENGTH;

/** websocket-client's LENGTH_7: lengths from here on need the 16-bit extended length (126). */
export const LENGTH_7 = 0x7e;
/** websocket-client's LENGTH_16: lengths from here on need the 64-bit extended length (2^16). */
export const LENGTH_16 = 0x10000;
/**
 * websocket-client's LENGTH_63, the first length that cannot be sent: 2^53 here, not 2^63
 * (see {@link MAX_FRAME_LENGTH}): `length < LENGTH_63` is the test, as in the seed.
 */
export const LENGTH_63 = MAX_FRAME_LENGTH + 1;

// Header byte masks (RFC 6455 §5.2), wsproto's names. These are bits of the header BYTES;
// RSV1/RSV2/RSV3 (./extensions/extension.ts: 0x4, 0x2, 0x1) are the same bits shifted into
// the 3-bit RSV field that extensions and the parser pass around: RSV1 === RSV1_MASK >> 4.
/** Byte 0: FIN. */
export const FIN_MASK = 0x80;
/** Byte 0: RSV1 (0x40; as a field value: RSV1 = 0x4). */
export const RSV1_MASK = 0x40;
/** Byte 0: RSV2 (0x20; as a field value: RSV2 = 0x2). */
export const RSV2_MASK = 0x20;
/** Byte 0: RSV3 (0x10; as a field value: RSV3 = 0x1). */
export const RSV3_MASK = 0x10;
/** Byte 0: the opcode. */
export const OPCODE_MASK = 0x0f;
/** Byte 1: MASK. */
export const MASK_MASK = 0x80;
/** Byte 1: the 7-bit payload length. */
export const PAYLOAD_LEN_MASK = 0x7f;

/**
 * wsproto's NULL_MASK: four zero bytes (XOR with it changes nothing). Shared: never write
 * into it. Not a masking key to send: RFC 6455 §5.3 demands unpredictable keys.
 */
export const NULL_MASK: Readonly<Uint8Array> = new Uint8Array(4);

/** websocket-client's MaskKeyType: a 4-byte masking key, as bytes or a latin-1 string. */
export type MaskKeyType = string | Uint8Array;
/**
 * websocket-client's MaskingCallable (`set_mask_key`): given a length (always 4), returns
 * that many bytes to use as the masking key. A hook for tests and tools; the default is
 * {@link generateMaskKey}.
 */
export type MaskingCallable = (length: number) => Uint8Array;

/**
 * A masking key as 4 bytes: a string is read as latin-1 (websocket-client encodes a str key
 * with "latin-1"), a function is called with 4.
 * @throws RangeError unless the result is exactly 4 bytes (or a character is above U+00FF)
 */
export function toMaskKey(key: MaskKeyType | MaskingCallable): Uint8Array {
  let bytes: Uint8Array;
  if (typeof key === 'function') bytes = key(4);
  else if (typeof key === 'string') {
    bytes = new Uint8Array(key.length);
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c > 0xff) throw new RangeError('a masking key string must be latin-1 (characters up to U+00FF)');
      bytes[i] = c;
    }
  } else bytes = key;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 4) throw new RangeError('a masking key must be exactly 4 bytes');
  return bytes;
}

/** Size of a frame header for a payload of `length` bytes (RFC 6455 §5.2): 2 to 14 bytes. */
export function frameHeaderSize(length: number, masked: boolean): number {
  return (length <= MAX_PAYLOAD_NORMAL ? 2 : length <= MAX_PAYLOAD_TWO_BYTE ? 4 : 10) + (masked ? 4 : 0);
}

/** What {@link writeFrameHeader} puts in a header. */
export interface FrameHeader {
  opcode: number;
  /** Payload length in bytes: an integer in 0..2^53-1. */
  length: number;
  /** FIN (default true); `0`/`1` from plain-JS callers are read as false/true. */
  fin?: boolean | 0 | 1;
  /** RSV bits as RSV1 | RSV2 | RSV3 values (0x4, 0x2, 0x1); default 0. */
  rsv?: number;
  /** When present, sets the MASK bit and writes this 4-byte key after the length. */
  maskKey?: Uint8Array;
}

/**
 * Writes a frame header (RFC 6455 §5.2) at `target[offset]` using the shortest length
 * encoding (7 bits, then 16, then 64 bits, network byte order). The payload is not written;
 * when `maskKey` is given the caller must mask the payload with it.
 * @returns the header size in bytes
 * @throws RangeError if the length, opcode or key is invalid or the header does not fit
 */
export function writeFrameHeader(target: Uint8Array, offset: number, header: FrameHeader): number {
  const { opcode, length, maskKey } = header;
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) throw new RangeError(`invalid opcode ${opcode}`);
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAME_LENGTH) {
    throw new RangeError(`invalid payload length ${length}`);
  }
  if (maskKey !== undefined && maskKey.length !== 4) throw new RangeError('maskKey must be exactly 4 bytes');
  const size = frameHeaderSize(length, maskKey !== undefined);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > target.length) {
    throw new RangeError('frame header does not fit in target');
  }
  // `fin ?? true`, then truthiness: a plain-JS `fin: 0` (websocket-client's idiom) clears FIN.
  const b0 = ((header.fin ?? true) ? FIN_MASK : 0) | (((header.rsv ?? 0) & 7) << 4) | opcode;
  return writeHeader(target, offset, b0, length, maskKey ?? null);
}

/**
 * The header writer behind every other (RFC 6455 §5.2), unchecked for the send paths:
 * header byte 0 `b0` as given, the shortest length form, and `key` (4 bytes) after the
 * length with the MASK bit set. The caller guarantees `length` < 2^53 and room in `target`.
 * @returns the header size in bytes
 */
export function writeHeader(target: Uint8Array, at: number, b0: number, length: number, key: Uint8Array | null): number {
  const maskBit = key !== null ? MASK_MASK : 0;
  target[at] = b0;
  let p = at + 2;
  if (length <= MAX_PAYLOAD_NORMAL) {
    target[at + 1] = maskBit | length;
  } else if (length <= MAX_PAYLOAD_TWO_BYTE) {
    target[at + 1] = maskBit | PAYLOAD_LENGTH_TWO_BYTE;
    target[at + 2] = length >>> 8;
    target[at + 3] = length & 0xff;
    p += 2;
  } else {
    // 64-bit length, most significant bit 0: two 32-bit halves (bit operators work on 32
    // bits, and length < 2^53 splits exactly).
    target[at + 1] = maskBit | PAYLOAD_LENGTH_EIGHT_BYTE;
    const hi = Math.floor(length / 4294967296);
    const lo = length >>> 0;
    target[at + 2] = hi >>> 24;
    target[at + 3] = (hi >>> 16) & 0xff;
    target[at + 4] = (hi >>> 8) & 0xff;
    target[at + 5] = hi & 0xff;
    target[at + 6] = lo >>> 24;
    target[at + 7] = (lo >>> 16) & 0xff;
    target[at + 8] = (lo >>> 8) & 0xff;
    target[at + 9] = lo & 0xff;
    p += 8;
  }
  if (key !== null) {
    target[p] = key[0]!;
    target[p + 1] = key[1]!;
    target[p + 2] = key[2]!;
    target[p + 3] = key[3]!;
    p += 4;
  }
  return p - at;
}

/**
 * XOR-masks `source` into `target[at..]` with `key` (RFC 6455 §5.3); `source` may be that
 * very range (in place). Short payloads inline (INLINE_MASK_MAX_BYTES), long ones through
 * the backend.
 */
export function maskInto(source: Uint8Array, key: Uint8Array, target: Uint8Array, at: number): void {
  const len = source.length;
  if (len <= INLINE_MASK_MAX_BYTES) {
    for (let i = 0; i < len; i++) target[at + i] = source[i]! ^ key[i & 3]!;
  } else {
    backend.mask(source, key, target, at, 0);
  }
}

/**
 * One whole frame as one buffer: the header ({@link writeHeader}) and the payload, copied,
 * or masked with `key` in the same pass. The payload is not modified.
 */
export function encodeFrame(b0: number, payload: Uint8Array, key: Uint8Array | null): Buffer {
  const len = payload.length;
  const out = Buffer.allocUnsafe(frameHeaderSize(len, key !== null) + len);
  const h = writeHeader(out, 0, b0, len, key);
  if (key !== null) maskInto(payload, key, out, h);
  else if (len < 64) for (let i = 0; i < len; i++) out[h + i] = payload[i]!;
  else out.set(payload, h);
  return out;
}

/**
 * The payload length announced by the frame header at the start of `bytes` (RFC 6455
 * §5.2: 7 bits, or 126 + 16 bits, or 127 + 64 bits), or -1 while the extended length has
 * not all arrived. The one TypeScript reader of the length field (Frame.parse, FrameBuffer,
 * parseHeader).
 * @param strict apply §5.2's "the most significant bit MUST be 0" (1002); otherwise such a
 *   length is just one of 2^53 or more
 * @throws ParseFailed 1002 (strict) for a 64-bit length with its top bit set; 1009 for one of
 *   2^53 or more: it comes from the peer, cannot be held exactly in a number and is beyond
 *   any maxPayload (RFC 6455 §7.4.1)
 */
export function readPayloadLength(bytes: Uint8Array, strict = false): number {
  const len7 = bytes[1]! & PAYLOAD_LEN_MASK;
  if (len7 < PAYLOAD_LENGTH_TWO_BYTE) return len7;
  if (len7 === PAYLOAD_LENGTH_TWO_BYTE) return bytes.length < 4 ? -1 : (bytes[2]! << 8) | bytes[3]!;
  if (bytes.length < 10) return -1;
  const high = readUint32(bytes, 2);
  if (strict && high >= 0x80000000) throw new ParseFailed('64-bit length has its top bit set', 1002);
  if (high > MAX_FRAME_LENGTH / 0x100000000) throw new ParseFailed('payload length of 2^53 or more: too big to process', 1009);
  return high * 0x100000000 + readUint32(bytes, 6);
}

/** Reads a big-endian unsigned 32-bit integer (network byte order). */
export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

