/**
 * The receive path of a connection: transport chunks -> FrameReader (one backend parse per
 * chunk) -> frames -> messages and control frames (RFC 6455 §5.4-§5.6, §6.2), reported to a
 * {@link ReceiveSink} (the connection).
 *
 * Per chunk the sink is corked, so every frame queued while the chunk's messages are
 * handled (echoes, pongs, the close echo) leaves in one write.
 */
import { backend } from '../backend';
import { ParseFailed, RemoteProtocolError } from '../errors';
import { Frame, Opcode } from '../frames/frame';
import { FrameInfo, FrameReader, type FrameReaderOptions } from '../protocol/reader';
import { bytesRead, frameReceived, type CountedConnection } from './diagnostics';
import { wasThrownByListener } from './listener-error';
import { toWsError } from './errors';
import { INVALID_UTF8_MESSAGE } from '../error-codes';
import type { MessageCompressor } from './deflate-glue';
import type { BinaryType, RawData } from './events';

/**
 * Where a {@link ReceivePath} reports (the connection), as the sender reports to its
 * FlushListener: one object, no closures. What a `received*` method's listeners throw
 * propagates (marked with markListenerError).
 */
export interface ReceiveSink extends CountedConnection {
  /** False once a close frame arrived or the connection failed: nothing more is processed. */
  readonly receiving: boolean;
  readonly binaryType: BinaryType;
  /** The negotiated permessage-deflate (RFC 7692), or null. */
  readonly deflate: MessageCompressor | null;
  readonly options: { readonly maxPayload: number; readonly rawFrames: boolean };
  /** Held around one read, so that what is sent meanwhile leaves in one write. */
  cork(): void;
  uncork(): void;
  receivedMessage(data: RawData, isBinary: boolean): void;
  receivedPing(payload: Buffer): void;
  receivedPong(payload: Buffer): void;
  /** The peer's close frame (§5.5.1); its payload was validated by the reader (§7.4). */
  receivedClose(payload: Buffer): void;
  /** Every frame as it arrived (the `rawFrames` option). */
  receivedFrame(frame: Frame): void;
  /** Fails the connection (§7.1.7); see TransportConnection#fail. */
  fail(code: number, reason: string, err: Error | null, isHandlerError: boolean): void;
}

/**
 * Fragments shorter than this are copied into a run buffer of the message instead of kept
 * as views: a view costs ~100 bytes of heap whatever its length, so 131,072 one-byte
 * fragments (what the default maxFragments lets through) would hold ~14 MiB of views for
 * 128 KiB of data. Copied, a message's memory is its bytes
 * (docs/security.md). (Not Buffer.from: below 4 KiB it copies into Node's shared 8 KiB
 * pool, and a kept 1 KiB copy would pin a whole slab of other, dead allocations.)
 */
const SMALL_FRAGMENT = 4096;
/** Size of a run buffer collecting small fragments. */
const FRAGMENT_RUN = 16 * 1024;

/** The FrameReader's per-frame handler, shared by every connection (`this` is the ReceivePath). */
function receiverFrame(this: ReceivePath, info: number, payload: Uint8Array): void {
  this.frame(info, payload as Buffer);
}

/** @internal The receive path of one connection: it owns the connection's FrameReader. */
export class ReceivePath {
  readonly reader: FrameReader;
  private fragments: Buffer[] | null = null;
  /**
   * Run buffer of small fragments of the message in progress: run[runStart..runFill) holds
   * fragments not yet sealed into `fragments`; what is before runStart already was.
   */
  private run: Buffer | null = null;
  private runStart = 0;
  private runFill = 0;
  private fragmentOpcode = 0;
  private fragmentCompressed = false;
  private fragmentBytes = 0;

  constructor(
    private readonly sink: ReceiveSink,
    readerOptions: FrameReaderOptions,
  ) {
    this.reader = new FrameReader(readerOptions);
  }

  /**
   * One transport read: one parse, and everything sent meanwhile (echoes, pongs in the order
   * of their pings, a close echo) leaves in one write.
   *
   * An exception thrown by a listener ('message', 'ping', 'pong', 'frame', 'error')
   * propagates from here, i.e. from the transport's onData (a socket's 'data' callback),
   * uncaught, as with ws.
   * First our state is made consistent: the frames after it in this read are lost, so the
   * connection cannot go on and is failed (1011) unless it was already closing, and what
   * was queued is written.
   */
  onData(chunk: Buffer): void {
    const sink = this.sink;
    if (!sink.receiving) return;
    bytesRead(sink, chunk.length);
    sink.cork();
    try {
      this.reader.feed(chunk, receiverFrame, this);
    } catch (err) {
      if (!wasThrownByListener(err)) {
        this.onError(err);
        return;
      }
      this.fragments = this.run = null;
      if (sink.receiving) sink.fail(1011, 'internal error', null, false);
      throw err;
    } finally {
      sink.uncork();
    }
  }

  /** @internal One complete frame from the reader. */
  frame(info: number, payload: Buffer): void {
    const sink = this.sink;
    // Nothing is processed after the close frame or a failure (RFC 6455 §5.5.1, §7.1.7).
    if (!sink.receiving) return;
    frameReceived(sink, info, payload);
    if (sink.options.rawFrames) this.emitRawFrame(info, payload);
    const opcode = info & FrameInfo.OPCODE;
    if (opcode >= 8) {
      this.control(opcode, payload);
      return;
    }
    if (opcode !== 0) {
      const compressed = (info & FrameInfo.RSV1) !== 0;
      if ((info & FrameInfo.FIN) !== 0) {
        this.message(opcode === Opcode.TEXT, payload, compressed, (info & FrameInfo.UTF8_CHECKED) !== 0);
        return;
      }
      this.fragments = [];
      this.run = null;
      this.runStart = this.runFill = 0;
      this.fragmentOpcode = opcode;
      this.fragmentCompressed = compressed;
      this.fragmentBytes = 0;
      this.addFragment(payload);
      return;
    }
    // A continuation frame: the parser guarantees a fragmented message is in progress (§5.4).
    this.addFragment(payload);
    if ((info & FrameInfo.FIN) === 0) return;
    this.sealRun();
    const fragments = this.fragments!;
    this.fragments = null;
    this.run = null;
    const isText = this.fragmentOpcode === Opcode.TEXT;
    if (!isText && !this.fragmentCompressed && sink.binaryType === 'fragments') {
      this.sink.receivedMessage(fragments.length > 0 ? fragments : [Buffer.alloc(0)], true);
      return;
    }
    // A compressed message is inflated from its fragments as they are (no concatenation);
    // uncompressed text was validated fragment by fragment by the parser.
    if (this.fragmentCompressed) this.message(isText, fragments, true, false);
    else this.message(isText, Buffer.concat(fragments, this.fragmentBytes), false, true);
  }

  /**
   * Keeps one fragment's payload until the message is complete (the concatenation of
   * `fragments` is the message), so that what a message holds is about its own bytes:
   * - small ones are copied into the run (empty ones add nothing);
   * - a large one is kept as the view it is only if it is most of the buffer it views: a
   *   view keeps its whole transport chunk alive, and control frames (not counted by
   *   maxFragments) could fill the rest of each chunk — 4 KiB fragments each followed by
   *   60 KiB of pings would otherwise pin 16x the message's size. Otherwise it is copied
   *   (Buffer.from does not pool at this size).
   */
  private addFragment(payload: Buffer): void {
    const len = payload.length;
    this.fragmentBytes += len;
    if (len >= SMALL_FRAGMENT) {
      this.sealRun();
      this.fragments!.push(2 * len >= payload.buffer.byteLength ? payload : Buffer.from(payload));
      return;
    }
    if (len === 0) return;
    let run = this.run;
    if (run === null || run.length - this.runFill < len) {
      this.sealRun();
      run = this.run = Buffer.allocUnsafe(FRAGMENT_RUN);
      this.runStart = this.runFill = 0;
    }
    run.set(payload, this.runFill);
    this.runFill += len;
  }

  /**
   * Moves the unsealed part of the run into `fragments` as one view; the run's free space
   * stays in use (so small and large fragments alternating do not waste a run each).
   */
  private sealRun(): void {
    if (this.run !== null && this.runFill > this.runStart) {
      this.fragments!.push(this.run.subarray(this.runStart, this.runFill));
      this.runStart = this.runFill;
    }
  }

  private message(isText: boolean, payload: Buffer | Buffer[], compressed: boolean, utf8Checked: boolean): void {
    const sink = this.sink;
    let data: Buffer;
    if (compressed) {
      // RFC 7692 §6.2: inflate the whole message; the output cap stops a deflate bomb at maxPayload.
      const out = sink.deflate!.decompressMessage(payload, sink.options.maxPayload);
      data = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      // RFC 6455 §8.1 applies to the inflated text: it must be valid UTF-8.
      if (isText && !backend.isUtf8(data)) throw new ParseFailed('invalid UTF-8 in a compressed text message', 1007, INVALID_UTF8_MESSAGE);
    } else {
      data = payload as Buffer;
      if (isText && !utf8Checked && !backend.isUtf8(data)) throw new ParseFailed('invalid UTF-8 in a text message', 1007, INVALID_UTF8_MESSAGE);
    }
    if (isText) sink.receivedMessage(data, false);
    else sink.receivedMessage(sink.binaryType === 'nodebuffer' || sink.binaryType === 'blob' ? data : sink.binaryType === 'arraybuffer' ? toArrayBuffer(data) : [data], true);
  }

  private control(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.PING) {
      this.sink.receivedPing(payload);
    } else if (opcode === Opcode.PONG) {
      this.sink.receivedPong(payload);
    } else {
      this.fragments = this.run = null;
      this.sink.receivedClose(payload);
    }
  }

  /** An error of ours while handling a read (a listener's propagates: see onData). */
  private onError(err: unknown): void {
    const sink = this.sink;
    this.fragments = this.run = null;
    if (err instanceof RemoteProtocolError && (err === this.reader.error || err.closeCode !== 1011)) {
      // RFC 6455 §7.1.7: fail the connection with the code the violation calls for (from the
      // parser: 1002, 1007, 1008, 1009; from inflating or checking a message: 1007, 1009).
      sink.fail(err.closeCode, err.message, toWsError(err), false);
    } else {
      // A bug of ours: this connection ends (1011), the error is reported (a process warning
      // if nobody listens), the process lives on.
      sink.fail(1011, 'internal error', err instanceof Error ? err : new Error(String(err)), true);
    }
  }

  private emitRawFrame(info: number, payload: Buffer): void {
    const frame = new Frame(info & 0x0f, payload, {
      fin: (info & FrameInfo.FIN) !== 0,
      rsv1: (info & FrameInfo.RSV1) !== 0,
      rsv2: (info & FrameInfo.RSV2) !== 0,
      rsv3: (info & FrameInfo.RSV3) !== 0,
    });
    this.sink.receivedFrame(frame);
  }
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf.buffer as ArrayBuffer;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
