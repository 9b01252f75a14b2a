/**
 * The receive path of a connection: transport chunks -> FrameReader (one backend parse per
 * chunk) -> frames -> messages and control frames (RFC 6455 §5.4-§5.6, §6.2), reported to a
 * {@link ReceiveSink} (the connection).
 *
 * Per chunk the sink is corked, so every frame queued while the chunk's messages are
 * handled (echoes, pongs, the close echo) leaves in one write.
 */
import { RemoteProtocolError } from '../errors';
import { Frame, Opcode } from '../frames/frame';
import { FrameInfo } from '../protocol/frame-info';
import { MessageAssembler } from '../protocol/message-assembler';
import { FrameReader, type FrameReaderOptions } from '../protocol/reader';
import { bytesRead, frameReceived, type CountedConnection } from './diagnostics';
import { wasThrownByListener } from './listener-error';
import { toWsError } from './errors';
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

/** The FrameReader's per-frame handler, shared by every connection (`this` is the ReceivePath). */
function receiverFrame(this: ReceivePath, info: number, payload: Uint8Array): void {
  this.frame(info, payload as Buffer);
}

/** The MessageAssembler's handler, shared likewise: one whole message (RFC 6455 §5.4). */
function receiverMessage(this: ReceivePath, opcode: number, data: Uint8Array | Uint8Array[]): void {
  this.message(opcode === Opcode.TEXT, data as Buffer | Buffer[]);
}

/** @internal The receive path of one connection: it owns the connection's FrameReader. */
export class ReceivePath {
  readonly reader: FrameReader;
  /**
   * Fragments, inflation and UTF-8 of text (src/protocol/message-assembler.ts); made at the
   * first data frame, after the handshake settled the extensions (idle-connection memory).
   */
  private assembler: MessageAssembler | null = null;
  /**
   * The buffer of the chunk being handled when the transport lends its chunks
   * (`chunksAreBorrowed`: the native transport's shared read buffer), else null. What views
   * it and outlives the read is copied: a message, a ping/pong payload or a raw frame handed
   * to users (one copy per message), a fragment the assembler keeps. FrameReader copies the
   * tail it keeps and assembles a frame that spans reads in its own buffer.
   */
  private lent: ArrayBufferLike | null = null;

  constructor(
    private readonly sink: ReceiveSink,
    readerOptions: FrameReaderOptions,
    private readonly borrowedChunks = false,
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
    if (this.borrowedChunks) this.lent = chunk.buffer;
    sink.cork();
    try {
      this.reader.feed(chunk, receiverFrame, this);
    } catch (err) {
      if (!wasThrownByListener(err)) {
        this.onError(err);
        return;
      }
      this.assembler?.reset();
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
    frameReceived(sink, info, payload, this.lent);
    if (sink.options.rawFrames) this.emitRawFrame(info, payload);
    const opcode = info & FrameInfo.OPCODE;
    if (opcode >= 8) {
      this.control(opcode, payload);
      return;
    }
    const assembler = (this.assembler ??= new MessageAssembler({ collect: true, maxPayload: sink.options.maxPayload, inflater: sink.deflate }));
    assembler.binaryFragments = sink.binaryType === 'fragments';
    assembler.lentBuffer = this.lent;
    assembler.frame(info, payload, receiverMessage, this);
  }

  /** @internal A whole message from the assembler (validated, inflated). */
  message(isText: boolean, data: Buffer | Buffer[]): void {
    const sink = this.sink;
    if (Array.isArray(data)) {
      sink.receivedMessage(data, true); // binaryType 'fragments', several frames
      return;
    }
    // An inflated message may be a plain Uint8Array: the API hands out Buffers.
    if (!Buffer.isBuffer(data)) data = Buffer.from((data as Uint8Array).buffer, (data as Uint8Array).byteOffset, (data as Uint8Array).byteLength);
    if (data.buffer === this.lent && data.length > 0) {
      // A view of the transport's read buffer, overwritten by its next read.
      if (!isText && sink.binaryType === 'arraybuffer') {
        sink.receivedMessage(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer, true);
        return;
      }
      data = Buffer.from(data);
    }
    if (isText) sink.receivedMessage(data, false);
    else sink.receivedMessage(sink.binaryType === 'nodebuffer' || sink.binaryType === 'blob' ? data : sink.binaryType === 'arraybuffer' ? toArrayBuffer(data) : [data], true);
  }

  private control(opcode: number, payload: Buffer): void {
    // Ping/pong payloads go to listeners who may keep them (the close payload is only read).
    if (payload.buffer === this.lent && payload.length > 0 && opcode !== Opcode.CLOSE) payload = Buffer.from(payload);
    if (opcode === Opcode.PING) {
      this.sink.receivedPing(payload);
    } else if (opcode === Opcode.PONG) {
      this.sink.receivedPong(payload);
    } else {
      this.assembler?.reset();
      this.sink.receivedClose(payload);
    }
  }

  /** An error of ours while handling a read (a listener's propagates: see onData). */
  private onError(err: unknown): void {
    const sink = this.sink;
    this.assembler?.reset();
    // A frame after the peer's close frame in the same read broke a rule: it does not count
    // (RFC 6455 §5.5.1: nothing after the close frame is processed), so no error either.
    if (!sink.receiving) return;
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
    if (payload.buffer === this.lent && payload.length > 0) payload = Buffer.from(payload);
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
