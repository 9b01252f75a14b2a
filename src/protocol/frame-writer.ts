/**
 * Frame writer (RFC 6455 §5.2) of the sans-IO FrameProtocol: checks a frame's opcode, RSV
 * bits and control rules (§5.5), picks its masking key (§5.3) and encodes it with the one
 * header writer of ../frames/header.ts: header + payload, masked in one pass into one
 * buffer for client frames, header and payload kept apart for unmasked server frames so the
 * payload is written with writev and never copied. Sans-IO: returns bytes, writes nothing.
 */
import { LocalProtocolError } from '../errors';
import { Opcode } from '../frames/frame';
import { encodeFrame, frameHeaderSize, maskInto, writeHeader } from '../frames/header';
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

/** Writes frames for one end of a connection: a client masks (§5.3), a server does not. */
export class FrameWriter {
  /** Whether frames are masked (client side). */
  readonly mask: boolean;
  /** The current frame's masking key (refilled per frame, never shared across frames). */
  private readonly key = new Uint8Array(4);
  /** The key of the frame being written (`key` or the caller's), null when not masking. */
  private frameKey: Uint8Array | null = null;

  constructor(options: { mask: boolean }) {
    this.mask = options.mask;
  }

  /**
   * One frame as ONE buffer: header + payload, masked in the same pass when this writer
   * masks (the payload is copied either way; see {@link FrameWriter.frameParts}).
   * @throws LocalProtocolError for a control frame over 125 bytes or fragmented
   */
  frame(opcode: Opcode, payload: FramePayload, options?: FrameOptions): Uint8Array {
    // Text: Buffer.from's one-pass encoder beats byteLength() + write() (two passes).
    const data = payloadBytes(payload);
    const b0 = this.check(opcode, data.length, options);
    return encodeFrame(b0, data, this.frameKey);
  }

  /**
   * One frame as the buffers to write with writev (under `socket.cork()` they leave in one
   * syscall): `[header, payload]` with the payload itself, never copied, for unmasked
   * (server) frames; text is encoded once into a fresh buffer, which a client masks in
   * place; client frames of bytes are one buffer (masking must not touch the caller's).
   */
  frameParts(opcode: Opcode, payload: FramePayload, options?: FrameOptions): Uint8Array[] {
    // Bytes we must not modify, masked: one buffer, copied and masked in one pass.
    if (this.mask && typeof payload !== 'string') return [this.frame(opcode, payload, options)];
    const data = payloadBytes(payload);
    const b0 = this.check(opcode, data.length, options);
    const key = this.frameKey;
    const header = Buffer.allocUnsafe(frameHeaderSize(data.length, key !== null));
    writeHeader(header, 0, b0, data.length, key);
    // Encoded text is a fresh buffer of ours: mask it in place instead of copying it.
    if (key !== null) maskInto(data, key, data, 0);
    return data.length === 0 ? [header] : [header, data];
  }

  /**
   * Checks a frame's options against §5.2 / §5.5, picks its masking key into
   * {@link FrameWriter.frameKey} (§5.3: a fresh one per frame) and returns header byte 0.
   */
  private check(opcode: Opcode, length: number, options: FrameOptions | undefined): number {
    const fin = options?.fin ?? true;
    const rsv = options?.rsv ?? 0;
    if (rsv !== 0) checkRsv(rsv);
    checkOpcode(opcode, length, fin);
    this.frameKey = this.mask ? (options?.maskKey ?? fillMaskKey(this.key)) : null;
    return (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  }
}
