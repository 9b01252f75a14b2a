/**
 * permessage-deflate (RFC 7692): negotiation on both sides and compression of data
 * messages, over the backend's synchronous Inflater / Deflater.
 *
 * Two ways to use it once negotiated:
 * - the frame hooks of {@link Extension} (the sans-IO FrameProtocol calls them per frame);
 * - the whole-message API for the Node I/O layer: {@link PerMessageDeflate.shouldCompress},
 *   {@link PerMessageDeflate.compressMessage} and {@link PerMessageDeflate.decompressMessage}.
 * A connection uses one or the other per direction at any one time (each throws
 * LocalProtocolError if called while a message of the other kind is half done).
 *
 * Memory per connection (docs/benchmarks.md, "permessage-deflate"): a compressor with
 * context takeover is the large part (~100 KiB at the default 4 KiB window; ~210 KiB at
 * 32 KiB), a decompressor ~7 KiB + the peer's window. Streams without context takeover
 * come, with `sharedCompressor` (default), from a pool shared by all connections, so such a
 * connection holds no zlib state between messages.
 */
import { backend as defaultBackend, InflateStatus } from '../backend';
import type { Backend, Deflater, Inflater } from '../backend';
import { LocalProtocolError, ParseFailed } from '../errors';
import { MESSAGE_ERROR_CODES } from '../error-codes';
import { isControl, Opcode } from '../frames/frame';
import { RSV1, type RsvBits } from '../frames/rsv';
import type { Extension } from './extension';
import { agreement, answerOffer, checkResponse, offerParams, type DeflateAgreement } from './permessage-deflate-negotiation';
import { formatDeflateParams } from './permessage-deflate-params';
import { drainSharedPools, sharedPool, type StreamPool } from './permessage-deflate-pool';
import { checkOptions, type NormalizedOptions, type PerMessageDeflateOptions } from './permessage-deflate-options';

export type { DeflateParams } from './permessage-deflate-params';
export type { DeflateAgreement } from './permessage-deflate-negotiation';
export type { PerMessageDeflateOptions, ZlibDeflateOptions } from './permessage-deflate-options';

const EMPTY = new Uint8Array(0);

function statusError(status: InflateStatus): ParseFailed {
  if (status === InflateStatus.TOO_BIG) return new ParseFailed('permessage-deflate: the decompressed message is larger than the size limit', 1009, { errorCode: MESSAGE_ERROR_CODES.MESSAGE_TOO_BIG, summary: 'Max payload size exceeded' });
  if (status === InflateStatus.NO_MEMORY) return new ParseFailed('permessage-deflate: out of memory while decompressing', 1011);
  return new ParseFailed('permessage-deflate: invalid compressed data (RFC 7692 §7.2.2)', 1007, { errorCode: MESSAGE_ERROR_CODES.INVALID_COMPRESSED_DATA });
}

/** RFC 7692 permessage-deflate, for one connection (client or server side). */
export class PerMessageDeflate implements Extension {
  readonly name = 'permessage-deflate';
  /** RFC 7692 §6: the "Per-Message Compressed" bit is RSV1. */
  readonly rsvMask = RSV1;
  /** Messages shorter than this many bytes are sent uncompressed. */
  readonly threshold: number;

  private readonly opts: NormalizedOptions;
  private readonly backend: Backend;
  private agreed: DeflateAgreement | null = null;
  private disposed = false;
  /** This connection's own streams (context takeover, or sharedCompressor off). */
  private deflater: Deflater | null = null;
  private inflater: Inflater | null = null;
  /** The streams of the messages in progress through the frame hooks. */
  private inboundStream: Inflater | null = null;
  private outboundStream: Deflater | null = null;
  /** The last header seen was a control frame's; its payload and end pass untouched. */
  private inControl = false;
  /** The data message being received has RSV1 (is compressed). */
  private inboundCompressed = false;

  /** @throws TypeError / RangeError on invalid options */
  constructor(options: PerMessageDeflateOptions = {}) {
    this.opts = checkOptions(options);
    this.threshold = this.opts.threshold;
    this.backend = options.backend ?? defaultBackend;
  }

  /** What was agreed, or null before (or without) a successful negotiation. */
  get agreement(): DeflateAgreement | null {
    return this.agreed;
  }

  enabled(): boolean {
    return this.agreed !== null && !this.disposed;
  }

  // --- negotiation (RFC 7692 §5, §7.1) -------------------------------------------------

  offer(): string | boolean {
    return formatDeflateParams(offerParams(this.opts)[0]!);
  }

  offers(): Array<string | boolean> {
    return offerParams(this.opts).map(formatDeflateParams);
  }

  /**
   * Server: answers one offer, or declines it (null) when it is invalid (unknown or
   * duplicated parameter, bad value: §7.1 says a server MUST decline) or asks for what the
   * options refuse.
   */
  accept(offer: string): string | boolean | null {
    if (this.agreed !== null || this.disposed) return null;
    const answer = answerOffer(this.opts, offer);
    if (answer === null) return null;
    this.agreed = agreement('server', answer, this.opts.compressorWindowBits);
    return formatDeflateParams(answer.params);
  }

  /**
   * Client: takes the server's answer; throws RemoteProtocolError (the client must fail
   * the connection, §7.1) if it is invalid or answers none of our offers.
   */
  finalize(response: string): void {
    if (this.disposed) throw new LocalProtocolError('permessage-deflate: disposed');
    this.agreed = agreement('client', checkResponse(this.opts, response), this.opts.compressorWindowBits);
  }

  // --- streams ---------------------------------------------------------------------------

  /** The shared pools this connection uses (null: own streams), looked up once. */
  private dPool: StreamPool<Deflater> | null | undefined;
  private iPool: StreamPool<Inflater> | null | undefined;

  private deflaterPool(): StreamPool<Deflater> | null {
    if (this.dPool !== undefined) return this.dPool;
    const a = this.agreed!;
    if (!a.deflateNoContextTakeover || !this.opts.sharedCompressor) return (this.dPool = null);
    const { memLevel, level, strategy } = this.opts;
    const options = { windowBits: a.deflateWindowBits, memLevel, level, strategy, noContextTakeover: true };
    const key = `deflate/${options.windowBits}/${memLevel}/${level}/${strategy}`;
    return (this.dPool = sharedPool(this.backend, key, () => this.backend.createDeflater(options)));
  }

  private inflaterPool(): StreamPool<Inflater> | null {
    if (this.iPool !== undefined) return this.iPool;
    const a = this.agreed!;
    if (!a.inflateNoContextTakeover || !this.opts.sharedCompressor) return (this.iPool = null);
    const options = { windowBits: a.inflateWindowBits, noContextTakeover: true };
    return (this.iPool = sharedPool(this.backend, `inflate/${options.windowBits}`, () => this.backend.createInflater(options)));
  }

  private takeDeflater(): Deflater {
    const shared = this.deflaterPool();
    if (shared !== null) return shared.take();
    const a = this.agreed!;
    const { memLevel, level, strategy } = this.opts;
    return (this.deflater ??= this.backend.createDeflater({
      windowBits: a.deflateWindowBits,
      memLevel,
      level,
      strategy,
      noContextTakeover: a.deflateNoContextTakeover,
    }));
  }

  private takeInflater(): Inflater {
    const shared = this.inflaterPool();
    if (shared !== null) return shared.take();
    const a = this.agreed!;
    return (this.inflater ??= this.backend.createInflater({ windowBits: a.inflateWindowBits, noContextTakeover: a.inflateNoContextTakeover }));
  }

  /** Gives a stream back after its message; `midMessage`: it must be reset first. */
  private release(stream: Inflater | Deflater, midMessage = false): void {
    if (stream === this.deflater || stream === this.inflater) {
      if (midMessage) stream.reset();
      return;
    }
    if (midMessage) stream.reset();
    if ('inflate' in stream) this.inflaterPool()!.give(stream);
    else this.deflaterPool()!.give(stream);
  }

  private requireEnabled(): void {
    if (!this.enabled()) throw new LocalProtocolError('permessage-deflate was not negotiated on this connection');
  }

  // --- whole messages (the Node I/O layer's fast path) ------------------------------------

  /**
   * Whether a message of `byteLength` bytes goes out compressed: negotiated, not refused
   * for this message (`compress: false`, ws's send option), and at least
   * {@link PerMessageDeflate.threshold} bytes.
   */
  shouldCompress(byteLength: number, compress?: boolean): boolean {
    return this.enabled() && compress !== false && byteLength >= this.threshold;
  }

  /**
   * Compresses a whole message into the payload of one frame, whose RSV1 the caller sets
   * (RFC 7692 §6). Synchronous.
   * @throws LocalProtocolError if not negotiated, or a fragmented message is being sent
   *   through {@link PerMessageDeflate.frameOutbound}
   */
  compressMessage(data: Uint8Array): Uint8Array {
    this.requireEnabled();
    if (this.outboundStream !== null) throw new LocalProtocolError('permessage-deflate: a fragmented message is being sent');
    const d = this.takeDeflater();
    try {
      return d.deflate(data, true);
    } finally {
      this.release(d);
    }
  }

  /**
   * Decompresses a whole received message: the payloads of its frames, in order.
   * @param maxOutput the most bytes the message may decompress to (maxPayload)
   * @throws ParseFailed 1007 on invalid data, 1009 past `maxOutput`
   * @throws LocalProtocolError if not negotiated or a message is half received
   */
  decompressMessage(payload: Uint8Array | readonly Uint8Array[], maxOutput: number): Uint8Array {
    this.requireEnabled();
    if (this.inboundStream !== null) throw new LocalProtocolError('permessage-deflate: a message is being received frame by frame');
    const parts = payload instanceof Uint8Array ? [payload] : payload.length === 0 ? [EMPTY] : payload;
    const out: Uint8Array[] = [];
    let total = 0;
    try {
      for (let i = 0; i < parts.length; i++) {
        const r = this.inflateFrame(parts[i]!, i === parts.length - 1, maxOutput - total);
        total += r.length;
        out.push(r);
      }
    } catch (err) {
      this.abortInflate();
      throw err;
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out, total);
  }

  /**
   * Inflates one frame's payload of a compressed message (RFC 7692 §6.2), the message
   * assembler's way in (src/protocol/message-assembler.ts); `fin` on its last frame: the
   * 00 00 ff ff tail is appended (§7.2.2) and the stream given back.
   * @param maxOutput the most bytes this frame may inflate to
   * @throws ParseFailed 1007 on invalid data, 1009 past `maxOutput` (the message is dropped)
   * @throws LocalProtocolError if not negotiated
   */
  inflateFrame(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array {
    let f = this.inboundStream;
    if (f === null) {
      this.requireEnabled();
      f = this.inboundStream = this.takeInflater();
    }
    const r = f.inflate(data, fin, maxOutput);
    if (typeof r === 'number') {
      this.inboundStream = null;
      this.release(f); // the inflater reset itself on the error
      throw statusError(r);
    }
    if (fin) {
      this.inboundStream = null;
      this.release(f);
    }
    return r;
  }

  /** Drops the compressed message being received, if any (its stream is reset and given back). */
  abortInflate(): void {
    if (this.inboundStream === null) return;
    this.release(this.inboundStream, true);
    this.inboundStream = null;
  }

  // --- frame hooks (Extension) ---------------------------------------------------------------

  frameInboundHeader(opcode: Opcode, rsv: RsvBits, _payloadLength: number): RsvBits {
    if (isControl(opcode)) {
      this.inControl = true;
      // §6.1: never on control frames. Not negotiated: leave RSV1 for the caller to reject.
      if (rsv.rsv1 && this.enabled()) throw new ParseFailed('permessage-deflate: RSV1 set on a control frame (RFC 7692 §6.1)', 1002);
      return rsv;
    }
    this.inControl = false;
    if (!this.enabled()) return rsv;
    if (opcode === Opcode.CONT) {
      // §6.1: only the first frame of a message carries the bit.
      if (rsv.rsv1) throw new ParseFailed('permessage-deflate: RSV1 set on a continuation frame (RFC 7692 §6.1)', 1002);
      return rsv;
    }
    // A new message inside a fragmented one: the frame layer fails the connection (§5.4);
    // meanwhile the half-fed stream must not carry over.
    this.abortInflate();
    this.inboundCompressed = rsv.rsv1;
    return rsv.rsv1 ? { rsv1: false, rsv2: rsv.rsv2, rsv3: rsv.rsv3 } : rsv;
  }

  frameInboundPayloadData(data: Uint8Array, maxOutput: number): Uint8Array {
    if (this.inControl || !this.inboundCompressed) return data;
    try {
      return this.inflateFrame(data, false, maxOutput);
    } catch (err) {
      this.inboundCompressed = false;
      throw err;
    }
  }

  frameInboundComplete(fin: boolean, maxOutput: number): Uint8Array | null {
    if (this.inControl) {
      this.inControl = false;
      return null;
    }
    if (!this.inboundCompressed || !fin) return null;
    this.inboundCompressed = false;
    const r = this.inflateFrame(EMPTY, true, maxOutput);
    return r.length === 0 ? null : r;
  }

  /**
   * A data frame is about to be sent. The first frame of a message decides whether the
   * message is compressed ({@link PerMessageDeflate.shouldCompress} with its length and
   * `compress`); then it and every continuation frame are compressed in turn.
   * @param compress ws's per-message `compress` option (false: send uncompressed)
   */
  frameOutbound(opcode: Opcode, rsv: RsvBits, data: Uint8Array, fin: boolean, compress?: boolean): { rsv: RsvBits; data: Uint8Array } {
    if (isControl(opcode) || !this.enabled()) return { rsv, data };
    let d = this.outboundStream;
    if (opcode !== Opcode.CONT) {
      if (d !== null) throw new LocalProtocolError('permessage-deflate: a new message started before the last one ended');
      if (!this.shouldCompress(data.length, compress)) return { rsv, data };
      d = this.takeDeflater();
      rsv = { rsv1: true, rsv2: rsv.rsv2, rsv3: rsv.rsv3 };
    } else if (d === null) {
      return { rsv, data }; // a continuation of an uncompressed message
    }
    let out: Uint8Array;
    try {
      out = d.deflate(data, fin);
    } catch (err) {
      this.outboundStream = null;
      this.release(d, true);
      throw err;
    }
    this.outboundStream = fin ? null : d;
    if (fin) this.release(d);
    return { rsv, data: out };
  }

  /** Frees the streams (shared ones go back to their pool). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abortInflate();
    if (this.outboundStream !== null) this.release(this.outboundStream, true);
    this.inboundStream = this.outboundStream = null;
    this.deflater?.close();
    this.inflater?.close();
    this.deflater = this.inflater = null;
  }

  /** Closes the idle streams of the shared pools (tests, benchmarks, shutdown). */
  static releaseSharedStreams(): void {
    drainSharedPools();
  }
}
