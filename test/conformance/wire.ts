/**
 * The conformance runner's own wire layer: it builds any frame a fuzzer needs (also invalid
 * ones: reserved bits and opcodes, oversized control frames, bad close payloads) and parses
 * what the implementation under test sends back, reporting every deviation instead of
 * repairing it. Deliberately independent of src/: a shared bug must not hide itself.
 */
import { randomBytes } from 'node:crypto';

/** RFC 6455 §5.2 opcodes the runner names. */
export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** One frame to put on the wire, exactly as described (no validity checks). */
export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** The three RSV bits as one number 0..7 (RSV1 is the 4). */
  rsv?: number;
  /** Repeat `payload` up to this many bytes (Autobahn's `payload_len`). */
  payloadLen?: number;
  /** Masking key; null sends the frame unmasked (a server's frames, §5.1). */
  mask: Buffer | null;
}

/** Text payloads are UTF-8 bytes, as in the Python 2 test suite. */
export function bytes(data: Buffer | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** `pattern` repeated (and cut) to `length` bytes. */
export function repeatTo(pattern: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  if (length === 0) return out;
  if (pattern.length === 0) return out.fill(0);
  let filled = Math.min(pattern.length, length);
  pattern.copy(out, 0, 0, filled);
  // Doubling copies: 16 MiB takes ~24 copies instead of a byte loop.
  while (filled < length) {
    const n = Math.min(filled, length - filled);
    out.copy(out, filled, 0, n);
    filled += n;
  }
  return out;
}

/** XORs `data` in place with the 4-byte key (RFC 6455 §5.3), starting at key offset `phase`. */
export function applyMask(data: Buffer, key: Buffer, phase = 0): void {
  for (let i = 0; i < data.length; i++) data[i] ^= key[(i + phase) & 3];
}

let keyPool = Buffer.alloc(0);
let keyOffset = 0;

/** A fresh random masking key (§5.3); drawn from a pool, since 9.3.1 masks 65,536 frames. */
export function newMaskKey(): Buffer {
  if (keyOffset + 4 > keyPool.length) {
    keyPool = randomBytes(4096);
    keyOffset = 0;
  }
  keyOffset += 4;
  return keyPool.subarray(keyOffset - 4, keyOffset);
}

/** The frame's bytes: header (§5.2), masking key, masked payload. */
export function encodeFrame(spec: FrameSpec): Buffer {
  let payload = bytes(spec.payload);
  if (spec.payloadLen !== undefined) payload = repeatTo(payload, spec.payloadLen);
  else if (spec.mask !== null) payload = Buffer.from(payload); // masked in place below
  const len = payload.length;
  const extLen = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + extLen + (spec.mask === null ? 0 : 4));
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  header[1] = (spec.mask === null ? 0 : 0x80) | (extLen === 0 ? len : extLen === 2 ? 126 : 127);
  if (extLen === 2) header.writeUInt16BE(len, 2);
  else if (extLen === 8) header.writeBigUInt64BE(BigInt(len), 2);
  if (spec.mask !== null) {
    spec.mask.copy(header, 2 + extLen);
    applyMask(payload, spec.mask);
  }
  return Buffer.concat([header, payload]);
}

/** A close frame's payload: optional code (2 bytes, §5.5.1) then raw reason bytes. */
export function closePayload(code?: number, reason?: Buffer): Buffer {
  if (code === undefined) return reason ?? Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code & 0xffff);
  return reason === undefined ? head : Buffer.concat([head, reason]);
}

/**
 * Close codes a peer may send (RFC 6455 §7.4.1, §7.4.2 and the IANA registry as Autobahn
 * reads it): 1000-1003, 1007-1011, 1012/1013 (registered later), 3000-4999.
 */
export function isSendableCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013].includes(code);
}

/** A frame as received: header fields and the unmasked payload. */
export interface WireFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/**
 * Incremental frame parser. It checks nothing but what it needs to find frame boundaries
 * (the 64-bit length's top bit, §5.2); the session judges everything else.
 */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(data: Buffer): void {
    this.chunks.push(data);
    this.buffered += data.length;
  }

  /** The next complete frame, null if more bytes are needed, or an error string. */
  next(): WireFrame | null | string {
    if (this.buffered < 2) return null;
    const head = this.peek(Math.min(this.buffered, 14));
    const b0 = head[0];
    const b1 = head[1];
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (head.length < 4) return null;
      len = head.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      if (head.length < 10) return null;
      const big = head.readBigUInt64BE(2);
      if (big >> 63n !== 0n) return 'frame length with the most significant bit set (RFC 6455 §5.2)';
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return 'frame length beyond 2^53';
      len = Number(big);
      offset = 10;
    }
    const keyLen = masked ? 4 : 0;
    if (this.buffered < offset + keyLen + len) return null;
    const all = this.take(offset + keyLen + len);
    const payload = all.subarray(offset + keyLen);
    if (masked) applyMask(payload, all.subarray(offset, offset + 4));
    return { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload };
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const whole = Buffer.concat(this.chunks);
    this.chunks = [whole];
    return whole.subarray(0, n);
  }

  private take(n: number): Buffer {
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    // A private copy: the payload is unmasked in place and kept in the received log.
    const out = Buffer.from(whole.subarray(0, n));
    const rest = whole.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
