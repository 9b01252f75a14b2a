/**
 * wsproto's low level, typed: {@link FrameProtocol} turns received bytes into frames and
 * message parts, and local data into frame bytes. Sans-IO. The Connection state machine
 * (./connection.ts) is built on it.
 */
import { Close, CloseCode, isValidCloseCode, LOCAL_ONLY_CLOSE_CODES, Opcode, toMaskKey, type MaskingCallable } from '../frames/frame';
import { LocalProtocolError } from '../errors';
import type { Extension } from '../extensions/extension';
import { maskToRsv, rsvToMask } from '../frames/rsv';
import { FrameDecoder, MessageDecoder, type FrameProtocolOptions, type MessagePart } from './frame-decoder';
import { clipCloseReason, encodeClosePayload } from './close-policy';
import { FrameWriter, payloadBytes } from './frame-writer';

export { ParseFailed } from '../errors';
export { CloseCode, CloseReason, Opcode } from '../frames/frame';
export { FrameDecoder, MessageDecoder, parseHeader } from './frame-decoder';
export type { DecodedFrame, FrameProtocolOptions, Header, MessagePart, RsvBits } from './frame-decoder';

/**
 * What {@link FrameProtocol.receivedFrames} yields (wsproto's Frame): TEXT parts as strings
 * (decoded incrementally, so a character split across frames is whole in the later part),
 * BINARY parts, PING/PONG payloads as bytes, CLOSE as a parsed {@link Close}. Continuation
 * frames carry their message's opcode (TEXT or BINARY).
 */
export type ReceivedFrame = MessagePart<Uint8Array | string | Close>;

const EMPTY = new Uint8Array(0);
const utf8Encoder = new TextEncoder();

export class FrameProtocol {
  readonly client: boolean;
  readonly extensions: readonly Extension[];
  private readonly decoder: FrameDecoder;
  private readonly messages = new MessageDecoder();
  private readonly writer: FrameWriter;
  /** Opcode of the outgoing message in progress (after a `fin = false` send), else null. */
  private outbound: Opcode.TEXT | Opcode.BINARY | null = null;
  private readonly maskKey: MaskingCallable | undefined;

  /**
   * @param client whether we are the client (our frames are masked, the peer's must not be)
   * @param extensions the negotiated extensions, in the order of the handshake
   */
  constructor(client: boolean, extensions: readonly Extension[] = [], options: FrameProtocolOptions = {}) {
    this.client = client;
    this.extensions = extensions;
    this.decoder = new FrameDecoder(client, extensions, options);
    this.writer = new FrameWriter({ mask: client });
    this.maskKey = options.maskKey;
  }

  /** Feeds received bytes (unmasked in place: the buffer is the protocol's now). */
  receiveBytes(data: Uint8Array): void {
    this.decoder.receiveBytes(data);
  }

  /** Yields every frame the bytes so far complete. @throws ParseFailed on a violation */
  *receivedFrames(): Generator<ReceivedFrame, void, undefined> {
    for (let f = this.decoder.processBuffer(); f !== null; f = this.decoder.processBuffer()) {
      switch (f.opcode) {
        case Opcode.CLOSE:
          yield { opcode: Opcode.CLOSE, payload: Close.parse(f.payload), frameFinished: true, messageFinished: true };
          break;
        case Opcode.PING:
        case Opcode.PONG:
          yield { opcode: f.opcode, payload: f.payload, frameFinished: true, messageFinished: true };
          break;
        default:
          yield this.messages.processFrame(f);
      }
    }
  }

  /**
   * Bytes of one data frame: text for a string, binary for bytes. With `fin = false` the
   * message continues with the next call, which must pass the same payload type.
   * @throws TypeError if the payload type changes inside a fragmented message
   */
  sendData(payload: string | Uint8Array = EMPTY, fin = true): Uint8Array {
    let opcode: Opcode;
    if (typeof payload === 'string') opcode = Opcode.TEXT;
    else if (payload instanceof Uint8Array) opcode = Opcode.BINARY;
    else throw new TypeError('payload must be a string or a Uint8Array');
    if (this.outbound !== null) {
      if (this.outbound !== opcode) throw new TypeError('data type changed inside a fragmented message');
      opcode = Opcode.CONT;
    } else {
      this.outbound = opcode as Opcode.TEXT | Opcode.BINARY;
    }
    if (fin) this.outbound = null;
    return this.serialize(opcode, payloadBytes(payload), fin);
  }

  /** Bytes of a PING frame (payload <= 125 bytes, else LocalProtocolError). */
  ping(payload: Uint8Array | string = EMPTY): Uint8Array {
    return this.serialize(Opcode.PING, payloadBytes(payload), true);
  }

  /** Bytes of a PONG frame (payload <= 125 bytes, else LocalProtocolError). */
  pong(payload: Uint8Array | string = EMPTY): Uint8Array {
    return this.serialize(Opcode.PONG, payloadBytes(payload), true);
  }

  /**
   * Bytes of a CLOSE frame, as wsproto builds it: no code -> empty payload; 1005 -> empty
   * payload; the other local-only codes (1006, 1015) -> 1000; the reason is cut at a
   * character boundary to fit the 125-byte control payload.
   * @throws TypeError for a reason without a code; LocalProtocolError for a code that may
   *   not be sent (RFC 6455 §7.4)
   */
  close(code?: number, reason?: string): Uint8Array {
    let c = code;
    if (c === CloseCode.NO_STATUS_RCVD) c = undefined;
    if (c === undefined) {
      if (reason !== undefined && reason !== '') throw new TypeError('cannot give a close reason without a code');
      return this.serialize(Opcode.CLOSE, EMPTY, true);
    }
    if (LOCAL_ONLY_CLOSE_CODES.includes(c)) c = CloseCode.NORMAL_CLOSURE;
    if (!isValidCloseCode(c)) throw new LocalProtocolError(`close code ${c} may not be sent (RFC 6455 §7.4)`);
    const payload = encodeClosePayload(c, utf8Encoder.encode(clipCloseReason(reason ?? '')));
    return this.serialize(Opcode.CLOSE, payload, true);
  }

  private serialize(opcode: Opcode, data: Uint8Array, fin: boolean): Uint8Array {
    let rsv = maskToRsv(0);
    let out = data;
    for (const ext of this.extensions) {
      ({ rsv, data: out } = ext.frameOutbound(opcode, rsv, out, fin));
    }
    if (this.maskKey === undefined || !this.client) return this.writer.frame(opcode, out, { fin, rsv: rsvToMask(rsv) });
    let maskKey: Uint8Array;
    try {
      maskKey = toMaskKey(this.maskKey);
    } catch (err) {
      if (err instanceof RangeError) throw new LocalProtocolError(`maskKey: ${err.message}`);
      throw err;
    }
    return this.writer.frame(opcode, out, { fin, rsv: rsvToMask(rsv), maskKey });
  }
}
