/**
 * The receive path of a connection: socket chunks -> FrameReader (one backend parse per
 * chunk) -> frames -> messages and control frames (RFC 6455 §5.4-§5.6, §6.2).
 *
 * Per chunk the connection's sender is corked, so every frame queued while the chunk's
 * messages are handled (echoes, pongs, the close echo) leaves in one write.
 */
import { RemoteProtocolError } from '../errors';
import { Frame, Opcode } from '../frames/frame';
import { FrameInfo } from '../protocol/frame-info';
import { MessageAssembler } from '../protocol/message-assembler';
import type { Core } from './core';
import { markListenerError, wasThrownByListener } from './listener-error';
import { toWsError } from './errors';
import type { RawData } from './events';
import type { ReceivedMessage } from './message-queue';

/** The FrameReader's per-frame handler, shared by every connection (`this` is the Receiver). */
function receiverFrame(this: Receiver, info: number, payload: Uint8Array): void {
  this.frame(info, payload as Buffer);
}

/** The MessageAssembler's handler, shared likewise: one whole message (RFC 6455 §5.4). */
function receiverMessage(this: Receiver, opcode: number, data: Uint8Array | Uint8Array[]): void {
  this.message(opcode === Opcode.TEXT, data as Buffer | Buffer[]);
}

/** @internal The receive path of one {@link Core}. */
export class Receiver {
  /**
   * Fragments, inflation and UTF-8 of text (src/protocol/message-assembler.ts); made at the
   * first data frame, after the handshake settled the extensions (idle-connection memory).
   */
  private assembler: MessageAssembler | null = null;

  constructor(private readonly core: Core) {}

  /**
   * One socket read: one parse, and everything sent meanwhile (echoes, pongs in the order
   * of their pings, a close echo) leaves in one write.
   *
   * An exception thrown by a listener ('message', 'ping', 'pong', 'frame', 'error')
   * propagates from here, i.e. from the socket's 'data' callback, uncaught, as with ws.
   * First our state is made consistent: the frames after it in this read are lost, so the
   * connection cannot go on and is failed (1011) unless it was already closing, and what
   * was queued is written.
   */
  onData(chunk: Buffer): void {
    const core = this.core;
    if (!core.receiving) return;
    const sender = core.sender!;
    sender.cork();
    try {
      core.reader!.feed(chunk, receiverFrame, this);
    } catch (err) {
      if (!wasThrownByListener(err)) {
        this.onError(err);
        return;
      }
      this.assembler?.reset();
      if (core.receiving) core.fail(1011, 'internal error', null, false);
      throw err;
    } finally {
      sender.uncork();
    }
  }

  /** @internal One complete frame from the reader. */
  frame(info: number, payload: Buffer): void {
    const core = this.core;
    // Nothing is processed after the close frame or a failure (RFC 6455 §5.5.1, §7.1.7).
    if (!core.receiving) return;
    if (core.options.rawFrames) this.emitRawFrame(info, payload);
    const opcode = info & FrameInfo.OPCODE;
    if (opcode >= 8) {
      this.control(opcode, payload);
      return;
    }
    const assembler = (this.assembler ??= new MessageAssembler({ collect: true, maxPayload: core.options.maxPayload, inflater: core.deflate }));
    assembler.binaryFragments = core.binaryType === 'fragments';
    assembler.frame(info, payload, receiverMessage, this);
  }

  /** @internal A whole message from the assembler (validated, inflated). */
  message(isText: boolean, data: Buffer | Buffer[]): void {
    const core = this.core;
    if (Array.isArray(data)) {
      this.deliver(data, true); // binaryType 'fragments', several frames
      return;
    }
    // An inflated message may be a plain Uint8Array: the API hands out Buffers.
    if (!Buffer.isBuffer(data)) data = Buffer.from((data as Uint8Array).buffer, (data as Uint8Array).byteOffset, (data as Uint8Array).byteLength);
    if (isText) this.deliver(data, false);
    else this.deliver(core.binaryType === 'nodebuffer' || core.binaryType === 'blob' ? data : core.binaryType === 'arraybuffer' ? toArrayBuffer(data) : [data], true);
  }

  private deliver(data: RawData, isBinary: boolean): void {
    const queue = this.core.queue;
    if (queue !== null) queue.push(toMessage(data, isBinary));
    // binaryType 'blob' (ws >= 8.18): the Blob is made for the event only; the async API
    // keeps its Buffer.
    try {
      this.core.owner.emit('message', isBinary && this.core.binaryType === 'blob' ? new Blob([data as Buffer]) : data, isBinary);
    } catch (err) {
      throw markListenerError(err);
    }
  }

  private control(opcode: number, payload: Buffer): void {
    const core = this.core;
    if (opcode === Opcode.PING) {
      // RFC 6455 §5.5.2: a pong with the same payload, queued now so it leaves ahead of what
      // handlers send for later frames (never after our close frame: §5.5.1).
      if (core.options.autoPong && !core.closeFrameSent && !core.autoPong(payload)) return;
      try {
        core.owner.emit('ping', payload);
      } catch (err) {
        throw markListenerError(err);
      }
    } else if (opcode === Opcode.PONG) {
      core.pongReceived();
      try {
        core.owner.emit('pong', payload);
      } catch (err) {
        throw markListenerError(err);
      }
    } else {
      this.assembler?.reset();
      core.receivedClose(payload);
    }
  }

  /** An error of ours while handling a read (a listener's propagates: see onData). */
  private onError(err: unknown): void {
    const core = this.core;
    this.assembler?.reset();
    if (err instanceof RemoteProtocolError && (err === core.reader!.error || err.closeCode !== 1011)) {
      // RFC 6455 §7.1.7: fail the connection with the code the violation calls for (from the
      // parser: 1002, 1007, 1008, 1009; from inflating or checking a message: 1007, 1009).
      core.fail(err.closeCode, err.message, toWsError(err), false);
    } else {
      // A bug of ours: this connection ends (1011), the error is reported (a process warning
      // if nobody listens), the process lives on.
      core.fail(1011, 'internal error', err instanceof Error ? err : new Error(String(err)), true);
    }
  }

  private emitRawFrame(info: number, payload: Buffer): void {
    const frame = new Frame(info & 0x0f, payload, {
      fin: (info & FrameInfo.FIN) !== 0,
      rsv1: (info & FrameInfo.RSV1) !== 0,
      rsv2: (info & FrameInfo.RSV2) !== 0,
      rsv3: (info & FrameInfo.RSV3) !== 0,
    });
    try {
      this.core.owner.emit('frame', frame);
    } catch (err) {
      throw markListenerError(err);
    }
  }
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf.buffer as ArrayBuffer;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** A message as the async API yields it: text as a string, binary as one Buffer. */
function toMessage(data: RawData, isBinary: boolean): ReceivedMessage {
  if (Buffer.isBuffer(data)) return isBinary ? data : data.toString();
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data as ArrayBuffer);
}
