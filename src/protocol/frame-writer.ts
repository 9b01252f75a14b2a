/**
 * Frame writer (RFC 6455 §5.2): header + payload, masked in one pass into one buffer for
 * client frames (§5.3), header and payload kept apart for unmasked server frames so the
 * payload is written with writev and never copied; control frames validated (§5.5);
 * messages split into fragments (§5.4); many small frames coalesced into one buffer.
 * Sans-IO: returns bytes, writes nothing.
 */
import { backend, INLINE_MASK_MAX_BYTES } from '../backend';
import { LocalProtocolError } from '../errors';
import { Opcode } from '../frames/frame';
import { fillMaskKey } from '../frames/mask-key';

/** A payload: bytes, or text that is sent as UTF-8. */
export type FramePayload = Uint8Array | string;

/** Options of one frame. */
export interface FrameOptions {
  /** FIN: this frame ends its message (default true). */
  fin?: boolean;
  /** RSV bits as one number: RSV1=4, RSV2=2, RSV3=1 (default 0). */
  rsv?: number;
  /** The 4-byte masking key to use instead of a random one (tests). */
  maskKey?: Uint8Array;
}

/** UTF-8 bytes of a text payload, or the bytes themselves. */
export function payloadBytes(payload: FramePayload): Uint8Array {
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof Uint8Array) return payload;
  throw new TypeError('payload must be a string or a Uint8Array');
}

/** Header size for a payload of `length` bytes (§5.2: 7-bit, 16-bit or 64-bit length). */
export function headerLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

function checkRsv(rsv: number): void {
  if (!Number.isInteger(rsv) || rsv < 0 || rsv > 7) throw new RangeError('rsv must be an integer from 0 to 7');
}

function checkOpcode(opcode: number, payloadLength: number, fin: boolean): void {
  if (opcode === Opcode.CLOSE || opcode === Opcode.PING || opcode === Opcode.PONG) {
    // §5.5: control frames are never fragmented and carry at most 125 bytes.
    if (payloadLength > 125) throw new LocalProtocolError(`control frame payload of ${payloadLength} bytes; at most 125 are allowed`);
    if (!fin) throw new LocalProtocolError('control frames cannot be fragmented');
  } else if (opcode !== Opcode.CONT && opcode !== Opcode.TEXT && opcode !== Opcode.BINARY) {
    throw new LocalProtocolError(`opcode ${opcode} is reserved`);
  }
}

/**
 * Writes a frame header at `target[at]` and returns its size. `key` (4 bytes) sets the
 * mask bit and is written after the length.
 */
export function writeHeader(target: Uint8Array, at: number, b0: number, length: number, key: Uint8Array | null): number {
  const maskBit = key !== null ? 0x80 : 0;
  target[at] = b0;
  let p = at + 2;
  if (length < 126) {
    target[at + 1] = maskBit | length;
  } else if (length < 0x10000) {
    target[at + 1] = maskBit | 126;
    target[at + 2] = length >>> 8;
    target[at + 3] = length & 0xff;
    p += 2;
  } else {
    // §5.2: 64-bit length, most significant bit 0. Payloads are < 2^53, so split exactly.
    target[at + 1] = maskBit | 127;
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

/** XOR-masks target[at..at+len) in place; short runs inline, long ones via the backend. */
function maskInPlace(target: Uint8Array, at: number, len: number, key: Uint8Array): void {
  if (len <= INLINE_MASK_MAX_BYTES) {
    for (let i = 0; i < len; i++) target[at + i] ^= key[i & 3]!;
  } else {
    const view = at === 0 && len === target.length ? target : target.subarray(at, at + len);
    backend.mask(view, key, view, 0, 0);
  }
}

/**
 * Writes one whole frame (header + payload, masked when `key` is set) at `target[at]`:
 * bytes are copied and masked in one pass; text is encoded straight into place (never
 * through an intermediate buffer). `len` is the payload's byte length.
 */
function writeFrame(target: Buffer, at: number, b0: number, payload: FramePayload, len: number, key: Uint8Array | null): number {
  const h = writeHeader(target, at, b0, len, key);
  const p = at + h;
  if (typeof payload === 'string') {
    if (len > 0) target.write(payload, p, len, 'utf8');
    if (key !== null) maskInPlace(target, p, len, key);
  } else if (key !== null) {
    if (len <= INLINE_MASK_MAX_BYTES) for (let i = 0; i < len; i++) target[p + i] = payload[i]! ^ key[i & 3]!;
    else backend.mask(payload, key, target, p, 0);
  } else if (len < 64) {
    for (let i = 0; i < len; i++) target[p + i] = payload[i]!;
  } else {
    target.set(payload, p);
  }
  return h + len;
}

/** Byte length of a payload; throws TypeError for anything but a string or Uint8Array. */
function byteLength(payload: FramePayload): number {
  if (typeof payload === 'string') return payload.length === 0 ? 0 : Buffer.byteLength(payload, 'utf8');
  if (payload instanceof Uint8Array) return payload.length;
  throw new TypeError('payload must be a string or a Uint8Array');
}

function firstByte(opcode: number, fin: boolean, rsv: number): number {
  return (fin ? 0x80 : 0) | (rsv << 4) | opcode;
}

/** Writes frames for one end of a connection: a client masks (§5.3), a server does not. */
export class FrameWriter {
  /** Whether frames are masked (client side). */
  readonly mask: boolean;
  private readonly pending: Array<{ b0: number; payload: FramePayload; len: number }> = [];
  private pendingBytes = 0;
  /** The current frame's masking key (refilled per frame, never shared across frames). */
  private readonly key = new Uint8Array(4);

  constructor(options: { mask: boolean }) {
    this.mask = options.mask;
  }

  /**
   * One frame as ONE buffer: header + payload, masked in the same pass when this writer
   * masks (the payload is copied either way; see {@link FrameWriter.frameParts}).
   * @throws LocalProtocolError for a control frame over 125 bytes or fragmented
   */
  frame(opcode: Opcode, payload: FramePayload, options?: FrameOptions): Uint8Array {
    const fin = options?.fin ?? true;
    const rsv = options?.rsv ?? 0;
    // Text: Buffer.from's one-pass encoder beats byteLength() + write() (two passes).
    if (typeof payload === 'string') payload = Buffer.from(payload, 'utf8');
    const len = byteLength(payload);
    if (rsv !== 0) checkRsv(rsv);
    checkOpcode(opcode, len, fin);
    const key = this.mask ? (options?.maskKey ?? fillMaskKey(this.key)) : null;
    const out = Buffer.allocUnsafe(headerLength(len, key !== null) + len);
    writeFrame(out, 0, firstByte(opcode, fin, rsv), payload, len, key);
    return out;
  }

  /**
   * One frame as the buffers to write with writev (under `socket.cork()` they leave in one
   * syscall): `[header, payload]` with the payload itself, never copied, for unmasked
   * (server) frames; text is encoded once into a fresh buffer, which a client masks in
   * place; client frames of bytes are one buffer (masking must not touch the caller's).
   */
  frameParts(opcode: Opcode, payload: FramePayload, options?: FrameOptions): Uint8Array[] {
    const text = typeof payload === 'string';
    // Bytes we must not modify, masked: one buffer, copied and masked in one pass.
    if (this.mask && !text) return [this.frame(opcode, payload, options)];
    const fin = options?.fin ?? true;
    const rsv = options?.rsv ?? 0;
    const data = text ? Buffer.from(payload, 'utf8') : payload;
    if (!(data instanceof Uint8Array)) throw new TypeError('payload must be a string or a Uint8Array');
    if (rsv !== 0) checkRsv(rsv);
    checkOpcode(opcode, data.length, fin);
    const key = this.mask ? (options?.maskKey ?? fillMaskKey(this.key)) : null;
    const header = Buffer.allocUnsafe(headerLength(data.length, key !== null));
    writeHeader(header, 0, firstByte(opcode, fin, rsv), data.length, key);
    // Encoded text is a fresh buffer of ours: mask it in place instead of copying it.
    if (key !== null) maskInPlace(data, 0, data.length, key);
    return data.length === 0 ? [header] : [header, data];
  }

  /** A control frame (PING, PONG or CLOSE) of at most 125 bytes (§5.5). */
  control(opcode: Opcode.PING | Opcode.PONG | Opcode.CLOSE, payload: FramePayload = ''): Uint8Array {
    if (opcode !== Opcode.PING && opcode !== Opcode.PONG && opcode !== Opcode.CLOSE) {
      throw new LocalProtocolError(`opcode ${String(opcode)} is not a control opcode`);
    }
    return this.frame(opcode, payload);
  }

  /**
   * A whole message split into frames of at most `fragmentSize` payload bytes (§5.4): the
   * first with `opcode` (and `rsv`), the rest CONT, FIN on the last. An empty message is
   * one empty frame.
   */
  fragments(opcode: Opcode.TEXT | Opcode.BINARY, payload: FramePayload, fragmentSize: number, rsv = 0): Uint8Array[] {
    if (!Number.isInteger(fragmentSize) || fragmentSize < 1) throw new RangeError('fragmentSize must be a positive integer');
    const data = payloadBytes(payload);
    const out: Uint8Array[] = [];
    let at = 0;
    do {
      const end = Math.min(at + fragmentSize, data.length);
      out.push(this.frame(at === 0 ? opcode : Opcode.CONT, data.subarray(at, end), { fin: end === data.length, rsv: at === 0 ? rsv : 0 }));
      at = end;
    } while (at < data.length);
    return out;
  }

  /**
   * Queues a frame for {@link FrameWriter.flush}, which writes all queued frames into one
   * buffer: many small sends in one tick become one socket write. The payload is read at
   * flush time: do not modify it before.
   */
  enqueue(opcode: Opcode, payload: FramePayload, options?: FrameOptions): void {
    const fin = options?.fin ?? true;
    const rsv = options?.rsv ?? 0;
    const len = byteLength(payload);
    checkRsv(rsv);
    checkOpcode(opcode, len, fin);
    this.pending.push({ b0: firstByte(opcode, fin, rsv), payload, len });
    this.pendingBytes += headerLength(len, this.mask) + len;
  }

  /** Bytes {@link FrameWriter.flush} would return now. */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** All queued frames as one buffer (empty if none), in order; clears the queue. */
  flush(): Uint8Array {
    const out = Buffer.allocUnsafe(this.pendingBytes);
    let at = 0;
    for (const { b0, payload, len } of this.pending) at += writeFrame(out, at, b0, payload, len, this.mask ? fillMaskKey(this.key) : null);
    this.pending.length = 0;
    this.pendingBytes = 0;
    return out;
  }
}
