/**
 * wsproto's FrameDecoder and MessageDecoder, typed: bytes -> frames (with the extension
 * hooks applied) and frames -> message parts (opcode continuity, text decoding).
 * Re-exported by ./frame-protocol.ts; import them from there.
 */
import { TextDecoder } from 'node:util';

import { ParseFailed } from '../errors';
import type { Extension } from '../extensions/extension';
import { applyInboundExtensions, maskToRsv, type RsvBits } from '../frames/rsv';
import { Opcode, type MaskingCallable } from '../frames/frame';
import { readPayloadLength } from '../frames/header';
import { DEFAULT_MAX_PAYLOAD } from '../limits';
import { FrameInfo } from './frame-info';
import { MessageAssembler } from './message-assembler';
import { FrameReader } from './reader';

export type { RsvBits } from '../frames/rsv';

/** A frame header as wsproto describes it (RFC 6455 §5.2). */
export interface Header {
  fin: boolean;
  rsv: RsvBits;
  opcode: Opcode;
  /** Payload length; exact below 2^53 (larger lengths are refused before a Header exists). */
  payloadLen: number;
  /** The 4-byte masking key, or null for an unmasked frame. */
  maskingKey: Uint8Array | null;
}

/**
 * Decodes the header at the start of `data` without checking any protocol rule (for tools
 * that inspect raw frames). Returns null until the whole header is there.
 * @throws ParseFailed (close code 1009) for a 64-bit length of 2^53 or more: it comes from the
 *   peer's bytes, cannot be represented exactly, and is beyond any maxPayload (RFC 6455 §7.4.1)
 */
export function parseHeader(data: Uint8Array): { header: Header; headerLength: number } | null {
  if (data.length < 2) return null;
  const b0 = data[0]!;
  const b1 = data[1]!;
  const len7 = b1 & 0x7f;
  const masked = (b1 & 0x80) !== 0;
  const headerLength = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
  if (data.length < headerLength) return null;
  const payloadLen = readPayloadLength(data);
  return {
    header: {
      fin: (b0 & 0x80) !== 0,
      rsv: maskToRsv((b0 >> 4) & 7),
      opcode: (b0 & 0x0f) as Opcode,
      payloadLen,
      maskingKey: masked ? data.slice(headerLength - 4, headerLength) : null,
    },
    headerLength,
  };
}

/**
 * A frame out of {@link FrameDecoder}: the payload after the extensions' hooks. Frames are
 * always whole (`frameFinished` is true): the reader assembles split frames into one buffer.
 */
export interface DecodedFrame {
  opcode: Opcode;
  payload: Uint8Array;
  frameFinished: boolean;
  /** FIN (for control frames always true). */
  messageFinished: boolean;
  /** The RSV bits on the wire. */
  rsv: RsvBits;
  /** The payload is known to be valid UTF-8 (the parser checked uncompressed text). */
  utf8Checked: boolean;
}

/** Options shared by the decoders and {@link FrameProtocol}. */
export interface FrameProtocolOptions {
  /** Largest frame / message payload accepted (default 64 MiB); larger: ParseFailed 1009. */
  maxPayload?: number;
  /**
   * Client side: where masking keys come from (websocket-client's `set_mask_key`, ws's
   * `generateMask`): called with 4 for each frame, must return 4 bytes. Default: random keys
   * from node:crypto (RFC 6455 §5.3: keys must be unpredictable — a hook is for tests).
   */
  maskKey?: MaskingCallable;
}

/** The 8 RsvBits values, shared and frozen (one per frame would be garbage). */
const RSV_BITS: readonly RsvBits[] = Object.freeze(Array.from({ length: 8 }, (_, m) => Object.freeze(maskToRsv(m))));

/**
 * Bytes -> frames. `client` says which end we are (a client expects unmasked frames).
 * The negotiated `extensions` get their wsproto hooks for every frame: the header hook
 * claims RSV bits (unclaimed bits fail with 1002), the payload hooks of data frames
 * transform the payload (e.g. inflate) with the remaining maxPayload as output cap.
 */
export class FrameDecoder {
  readonly client: boolean;
  readonly extensions: readonly Extension[];
  readonly maxPayload: number;
  private readonly reader: FrameReader;
  /** Bytes of the current message after the extensions' transforms. */
  private messageOut = 0;

  constructor(client: boolean, extensions: readonly Extension[] = [], options: FrameProtocolOptions = {}) {
    this.client = client;
    this.extensions = extensions;
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.reader = new FrameReader({ role: client ? 'client' : 'server', maxPayload: this.maxPayload, allowedRsv: this.allowedRsv() });
  }

  /** RSV bits the enabled extensions may set: all others are refused by the parser. */
  private allowedRsv(): number {
    let bits = 0;
    for (const ext of this.extensions) if (ext.enabled()) bits |= ext.rsvMask;
    return bits & 7;
  }

  /** Feeds bytes. The buffer is unmasked in place and frames may be views of it. */
  receiveBytes(data: Uint8Array): void {
    this.reader.setAllowedRsv(this.allowedRsv());
    this.reader.push(data);
  }

  /** The next whole frame, or null when more bytes are needed. @throws ParseFailed */
  processBuffer(): DecodedFrame | null {
    const f = this.reader.read();
    if (f === null) return null;
    const info = f.info;
    const opcode = (info & FrameInfo.OPCODE) as Opcode;
    const fin = (info & FrameInfo.FIN) !== 0;
    const rsv = RSV_BITS[(info >> 4) & 7]!;
    let payload = f.payload;
    if (this.extensions.length > 0) {
      // A data message's budget is what is left of maxPayload after its earlier frames.
      const isData = opcode < 8;
      if (isData && opcode !== Opcode.CONT) this.messageOut = 0;
      payload = applyInboundExtensions(this.extensions, opcode, (info >> 4) & 7, payload, fin, this.maxPayload - this.messageOut);
      if (isData) {
        this.messageOut += payload.length;
        if (this.messageOut > this.maxPayload) throw new ParseFailed(`message exceeds maxPayload (${this.maxPayload} bytes)`, 1009);
      }
    }
    return { opcode, payload, frameFinished: true, messageFinished: fin, rsv, utf8Checked: (info & FrameInfo.UTF8_CHECKED) !== 0 };
  }
}

/** A frame or message part as wsproto yields it (`payload` decoded for text and close). */
export interface MessagePart<P> {
  opcode: Opcode;
  payload: P;
  frameFinished: boolean;
  messageFinished: boolean;
}

const textDecoderOptions = { stream: true };
const EMPTY = new Uint8Array(0);

/** UTF-8 bytes (already validated) to a string. */
function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length === 0) return '';
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return buf.toString('utf8');
}

/** MessageDecoder's handler for the assembler: keeps the part for processFrame to return. */
function takePart(this: MessageDecoder, opcode: number, data: Uint8Array | Uint8Array[]): void {
  this.partOpcode = opcode as Opcode.TEXT | Opcode.BINARY;
  this.partData = data as Uint8Array; // streaming: always one payload
}

/**
 * Frames -> message parts (wsproto's MessageDecoder), over the message assembler
 * (./message-assembler.ts) streaming: checks that continuation frames continue a message
 * and new messages do not interrupt one (§5.4), gives continuation parts their message's
 * opcode, validates text the parser could not check (after an extension transformed it)
 * and decodes text incrementally: a character split across frames comes out whole in the
 * later part.
 */
export class MessageDecoder {
  private readonly assembler = new MessageAssembler({ collect: false });
  private decoder: TextDecoder | null = null;
  private readonly decodeText: boolean;
  /** @internal The part the assembler handed over for the frame being processed. */
  partOpcode: Opcode.TEXT | Opcode.BINARY = Opcode.BINARY;
  /** @internal */
  partData: Uint8Array = EMPTY;

  /** `decodeText: false` keeps text payloads as (validated) UTF-8 bytes. */
  constructor(options: { decodeText?: boolean } = {}) {
    this.decodeText = options.decodeText ?? true;
  }

  /** @throws ParseFailed (1002 out-of-order frame, 1007 invalid UTF-8) */
  processFrame(frame: MessagePart<Uint8Array> & { utf8Checked?: boolean }): MessagePart<Uint8Array | string> {
    const { opcode, payload, frameFinished } = frame;
    if (opcode !== Opcode.CONT && opcode !== Opcode.TEXT && opcode !== Opcode.BINARY) {
      throw new TypeError(`MessageDecoder only takes data frames, not opcode ${opcode}`);
    }
    const finished = frame.messageFinished && frameFinished;
    const first = !this.assembler.inMessage;
    const info = opcode | (finished ? FrameInfo.FIN : 0) | (frame.utf8Checked === true ? FrameInfo.UTF8_CHECKED : 0);
    this.assembler.frame(info, payload, takePart, this);
    const msgOpcode = this.partOpcode;
    const data = this.partData;
    this.partData = EMPTY;
    if (msgOpcode === Opcode.BINARY || !this.decodeText) return { opcode: msgOpcode, payload: data, frameFinished, messageFinished: finished };
    let text: string;
    if (first && finished) {
      text = decodeUtf8(data); // a whole message in one frame: no streaming state needed
    } else {
      this.decoder ??= new TextDecoder('utf-8');
      text = finished ? this.decoder.decode(data) : this.decoder.decode(data, textDecoderOptions);
    }
    return { opcode: msgOpcode, payload: text, frameFinished, messageFinished: finished };
  }
}
