/**
 * Frame header encoding (RFC 6455 §5.2) and masking keys (§5.3), shared by {@link Frame} and
 * the streaming frame writer. Re-exported by `src/frames.ts`; import from there.
 */
import { randomFillSync } from 'node:crypto';

/** Payload lengths 126 and 127 announce a 2- or 8-byte extended length (RFC 6455 §5.2). */
export const PAYLOAD_LENGTH_TWO_BYTE = 126;
/** The 7-bit length value announcing a 64-bit extended length (RFC 6455 §5.2). */
export const PAYLOAD_LENGTH_EIGHT_BYTE = 127;
/** The largest payload a 7-bit length holds, and the limit for control frames (§5.5). */
export const MAX_PAYLOAD_NORMAL = 125;
/** The highest payload length wscore accepts: larger lengths lose precision in a number. */
export const MAX_FRAME_LENGTH = Number.MAX_SAFE_INTEGER;

// Mask keys come from a pool refilled by one randomFillSync call per 2048 keys: a syscall
// per frame would dominate the cost of sending small client frames.
const keyPool = Buffer.allocUnsafeSlow(8192);
let keyPoolOffset = keyPool.length;

/** A fresh, unpredictable 4-byte masking key (RFC 6455 §5.3), from node:crypto. */
export function generateMaskKey(): Uint8Array {
  if (keyPoolOffset === keyPool.length) {
    randomFillSync(keyPool);
    keyPoolOffset = 0;
  }
  keyPoolOffset += 4;
  return keyPool.slice(keyPoolOffset - 4, keyPoolOffset);
}

/** Size of a frame header for a payload of `length` bytes (RFC 6455 §5.2): 2 to 14 bytes. */
export function frameHeaderSize(length: number, masked: boolean): number {
  const extended = length <= MAX_PAYLOAD_NORMAL ? 0 : length <= 0xffff ? 2 : 8;
  return 2 + extended + (masked ? 4 : 0);
}

/** What {@link writeFrameHeader} puts in a header. */
export interface FrameHeader {
  opcode: number;
  /** Payload length in bytes: an integer in 0..2^53-1. */
  length: number;
  fin?: boolean;
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
  target[offset] = (header.fin === false ? 0 : 0x80) | (((header.rsv ?? 0) & 7) << 4) | opcode;
  const maskBit = maskKey !== undefined ? 0x80 : 0;
  let at = offset + 2;
  if (length <= MAX_PAYLOAD_NORMAL) {
    target[offset + 1] = maskBit | length;
  } else if (length <= 0xffff) {
    target[offset + 1] = maskBit | PAYLOAD_LENGTH_TWO_BYTE;
    target[at++] = length >>> 8;
    target[at++] = length & 0xff;
  } else {
    target[offset + 1] = maskBit | PAYLOAD_LENGTH_EIGHT_BYTE;
    // Two 32-bit halves: bit operators work on 32 bits, and length < 2^53 keeps the top bit 0.
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    for (let shift = 24; shift >= 0; shift -= 8) target[at++] = (high >>> shift) & 0xff;
    for (let shift = 24; shift >= 0; shift -= 8) target[at++] = (low >>> shift) & 0xff;
  }
  if (maskKey !== undefined) target.set(maskKey, at);
  return size;
}

/** Reads a big-endian unsigned 32-bit integer (network byte order). */
export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

