/**
 * The live connection behind a {@link WebSocket}, over any {@link Transport} (a Node stream,
 * the native transport, memory): the opening handshake's outcome (setNegotiated, attach,
 * abortHandshake), the closing handshake (RFC 6455 §7), the timers, and the sinks of the
 * transport and of the receive path. The send side is the base class
 * (./sending-connection.ts), the receive path ./receiver.ts. The public class is a thin
 * façade over this one so that its declared type shows only ws's API.
 *
 * The hot path, per transport read: one `FrameReader.feed` (one parse for every frame in
 * the chunk), frames dispatched from a callback with no per-frame allocation when a message
 * is one frame, and the sender corked so that every frame queued meanwhile (echoes, pongs)
 * leaves in one write.
 */
import { type Frame, Opcode } from '../frames/frame';
import { clipCloseReason } from '../protocol/close-policy';
import type { MessageCompressor } from './deflate-glue';
import type { BinaryType, RawData } from './events';
import { closed, opened } from './diagnostics';
import { markListenerError } from './listener-error';
import { MessageQueue, type ReceivedMessage } from './message-queue';
import { CLOSED, CLOSING, CONNECTING, OPEN } from './ready-state';
import { ReceivePath, type ReceiveSink } from './receiver';
import { Sender } from './sender';
import { EMPTY, SendingConnection } from './sending-connection';
import { TimerEntry } from './timers';
import type { Transport, TransportSink } from './transport';

/** The property of a WebSocket that holds its TransportConnection. */
export const kConnection: unique symbol = Symbol('wscore.connection');

/** Which side of the connection this is: a server masks nothing, a client every frame (§5.1). */
export type Role = 'server' | 'client';

function onCloseTimeout(connection: TransportConnection): void {
  connection.transport?.destroy();
}
function onHeartbeat(connection: TransportConnection): void {
  connection.heartbeat();
}

/** A message as the async API yields it: text as a string, binary as one Buffer. */
function toMessage(data: RawData, isBinary: boolean): ReceivedMessage {
  if (Buffer.isBuffer(data)) return isBinary ? data : data.toString();
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data as ArrayBuffer);
}

/** @internal */
export class TransportConnection extends SendingConnection implements TransportSink, ReceiveSink {
  protocol = '';
  extensions = '';
  binaryType: BinaryType = 'nodebuffer';
  /** The receive path (created by attach()). */
  receivePath: ReceivePath | null = null;
  closeFrameReceived = false;
  paused = false;
  queue: MessageQueue | null = null;
  private closeTimer: TimerEntry<TransportConnection> | null = null;
  private heartbeatTimer: TimerEntry<TransportConnection> | null = null;
  private awaitingPong = false;
  private closedResolvers: Array<(v: { code: number; reason: string }) => void> | null = null;

  /**
   * The opening handshake's outcome (RFC 6455 §4.1 step 5-6, §4.2.2 step 5): the subprotocol
   * ('' for none), the Sec-WebSocket-Extensions value ('' for none) and the compressor it
   * stands for. Called once, before attach().
   */
  setNegotiated(protocol: string, extensions: string, deflate: MessageCompressor | null): void {
    this.protocol = protocol;
    this.extensions = extensions;
    this.deflate = deflate;
  }

  /**
   * Takes over the transport once the opening handshake is done (RFC 6455 §4: frames
   * follow). `head`: bytes read past the handshake, delivered first, on a later tick.
   */
  attach(transport: Transport, head: Buffer, role: Role): void {
    this.isServer = role === 'server';
    this.transport = transport;
    const sender = (this.sender = new Sender(transport));
    sender.flushListener = this;
    const deflate = this.deflate;
    this.receivePath = new ReceivePath(
      this,
      {
        role,
        maxPayload: this.options.maxPayload,
        maxFragments: this.options.maxFragments,
        allowedRsv: deflate === null ? 0 : deflate.rsvMask,
      },
      transport.chunksAreBorrowed === true,
    );
    this.readyState = OPEN;
    if (this.options.heartbeatInterval > 0) {
      this.heartbeatTimer = new TimerEntry<TransportConnection>(this, onHeartbeat);
      this.heartbeatTimer.arm(this.options.heartbeatInterval);
    }
    transport.attach(this, head);
    // The async API may have paused reading before the handshake completed.
    if (this.paused) transport.pause();
    opened(this);
  }

  /**
   * The opening handshake failed (RFC 6455 §4.1: the client fails the connection): CLOSING
   * now, then on a later tick 'error' with `err` and 'close' with 1006.
   */
  abortHandshake(err: Error): void {
    this.readyState = CLOSING;
    process.nextTick(finishAbort, this, err);
  }

  /**
   * Queues bytes that go ahead of every frame (the server's 101 response, RFC 6455 §4.2.2),
   * so that it and what the 'connection' handler sends leave in one write.
   */
  sendPreamble(bytes: Buffer): void {
    this.sender!.push(bytes);
  }

  // ---- TransportSink ----------------------------------------------------------------------

  onData(chunk: Buffer): void {
    this.receivePath!.onData(chunk);
  }

  onDrain(): void {
    this.flushPong();
    this.checkDrain();
  }

  onEnd(): void {
    // The peer closed its side. Without its close frame this is an abnormal closure (1006).
    if (this.readyState === OPEN) this.readyState = CLOSING;
    this.receiving = false;
    if (this.transport!.writable) this.sender!.end();
  }

  onClose(): void {
    // Data read after a pause was delivered by the transport: reading is not paused any more.
    if (this.receiving) this.paused = false;
    this.readyState = CLOSED;
    this.receiving = false;
    this.closeTimer?.cancel();
    this.heartbeatTimer?.cancel();
    this.sender?.kill();
    this.deflate?.dispose?.();
    this.finishClosed();
  }

  // ---- ReceiveSink ------------------------------------------------------------------------

  cork(): void {
    this.sender!.cork();
  }
  uncork(): void {
    this.sender!.uncork();
  }

  receivedMessage(data: RawData, isBinary: boolean): void {
    const queue = this.queue;
    if (queue !== null) queue.push(toMessage(data, isBinary));
    // binaryType 'blob' (ws >= 8.18): the Blob is made for the event only; the async API
    // keeps its Buffer.
    try {
      this.owner.emit('message', isBinary && this.binaryType === 'blob' ? new Blob([data as Buffer]) : data, isBinary);
    } catch (err) {
      throw markListenerError(err);
    }
  }

  receivedPing(payload: Buffer): void {
    // RFC 6455 §5.5.2: a pong with the same payload, queued now so it leaves ahead of what
    // handlers send for later frames (never after our close frame: §5.5.1).
    if (this.options.autoPong && !this.closeFrameSent && !this.autoPong(payload)) return;
    try {
      this.owner.emit('ping', payload);
    } catch (err) {
      throw markListenerError(err);
    }
  }

  receivedPong(payload: Buffer): void {
    // The heartbeat's peer is alive: re-arm for the next ping.
    if (this.awaitingPong) {
      this.awaitingPong = false;
      this.heartbeatTimer!.arm(this.options.heartbeatInterval);
    }
    try {
      this.owner.emit('pong', payload);
    } catch (err) {
      throw markListenerError(err);
    }
  }

  receivedFrame(frame: Frame): void {
    try {
      this.owner.emit('frame', frame);
    } catch (err) {
      throw markListenerError(err);
    }
  }

  /** RFC 6455 §5.5.1 / §7.1.5: the peer's close frame; nothing after it is processed. */
  receivedClose(payload: Buffer): void {
    this.receiving = false;
    this.closeFrameReceived = true;
    // The parser validated the code and the UTF-8 of the reason (§7.4, §5.5.1).
    this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    this.closeReason = payload.length > 2 ? Buffer.from(payload.subarray(2)) : EMPTY;
    if (this.readyState === OPEN) this.readyState = CLOSING;
    if (!this.closeFrameSent) {
      // Echo the code (§5.5.1); 1005 means "none", so the echo has no payload.
      this.sendClose(this.closeCode === 1005 ? undefined : this.closeCode, this.closeReason);
    }
    this.closeTimer?.cancel();
    // Both close frames are exchanged: close TCP once the echo is written (§7.1.1).
    this.sender!.end();
    this.armCloseTimer();
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): sends a close frame with `code` (when none was
   * sent yet), stops processing input, closes the transport once the frame is written. The
   * 'close' event reports `code` (as ws does for the errors it detects).
   */
  fail(code: number, reason: string, err: Error | null, isHandlerError: boolean): void {
    if (this.readyState === CLOSED) return;
    this.receiving = false;
    if (!this.closeFrameReceived) this.closeCode = code;
    if (this.readyState === OPEN) this.readyState = CLOSING;
    if (!this.closeFrameSent && this.sender !== null) this.sendClose(code, Buffer.from(clipCloseReason(reason, '...')));
    this.sender?.end();
    this.armCloseTimer();
    if (err !== null) this.emitError(err, isHandlerError);
  }

  // ---- closing ----------------------------------------------------------------------------

  /** A hand-made frame (sendFrame); a CLOSE frame begins the closing handshake. */
  sendFrame(b0: number, opcode: number, payload: Uint8Array, cb: ((err?: Error) => void) | undefined): void {
    this.sendRawFrame(b0, payload, cb);
    if (opcode !== Opcode.CLOSE) return;
    this.closeFrameSent = true;
    if (this.readyState === OPEN) this.readyState = CLOSING;
    if (this.closeFrameReceived) this.sender!.end();
    this.armCloseTimer();
  }

  /** close() was called while sends wait for a Blob: CLOSING until they and close() ran. */
  markClosing(): void {
    if (this.readyState === OPEN) this.readyState = CLOSING;
  }

  /** ws's close(): start the closing handshake (§7.1.2) or finish it. */
  close(code: number | undefined, reason: Uint8Array): void {
    if (this.readyState === CLOSED) return;
    if (this.closeFrameSent) {
      if (this.closeFrameReceived) this.sender?.end();
      return;
    }
    // Until the peer's close frame arrives its data frames are still delivered (§7.1.2),
    // and queued messages leave before the close frame (the sender keeps order).
    this.readyState = CLOSING;
    this.sendClose(code, reason);
    this.armCloseTimer();
    if (this.closeFrameReceived) this.sender!.end();
  }

  /** Destroys the transport now (no closing handshake). */
  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.receiving = false;
    this.readyState = CLOSING;
    this.transport?.destroy();
  }

  private armCloseTimer(): void {
    if (this.readyState === CLOSED) return;
    const timer = (this.closeTimer ??= new TimerEntry<TransportConnection>(this, onCloseTimeout));
    if (!timer.armed) timer.arm(this.options.closeTimeout);
  }

  /** The heartbeat timer fired: ping, or give up on a peer that did not answer the last one. */
  heartbeat(): void {
    if (this.readyState !== OPEN) return;
    if (this.awaitingPong) {
      // No pong within heartbeatTimeout: the peer or the path is gone (ws's pattern: terminate).
      this.closeReason = Buffer.from('heartbeat timeout');
      this.terminate();
      return;
    }
    this.awaitingPong = true;
    this.sendControl(Opcode.PING, EMPTY);
    this.heartbeatTimer!.arm(this.options.heartbeatTimeout);
  }

  /**
   * Calls `cb` once our sending side is ended and everything written before it left
   * (createWebSocketStream's final()); without the transport's `onceFinished`, at close.
   * Returns true instead, without calling `cb`, when that already happened.
   */
  whenWritingFinished(cb: () => void): boolean {
    const transport = this.transport!;
    if (transport.onceFinished !== undefined) return transport.onceFinished(cb);
    if (this.readyState === CLOSED) return true;
    void this.whenClosed().then(cb);
    return false;
  }

  /**
   * Ends a connection that never opened and has no handshake in progress (a reconnecting
   * client stopped between two attempts): CLOSED with 1006, as a CONNECTING one that fails.
   */
  closeUnopened(): void {
    this.closeCode = 1006;
    this.finishClosed();
  }

  /** The connection is CLOSED: report it everywhere (iterators, 'close', `closed`). */
  private finishClosed(): void {
    this.readyState = CLOSED;
    const reason = this.closeReason.toString();
    this.queue?.close(this.closeCode, reason);
    const resolvers = this.closedResolvers;
    this.closedResolvers = null;
    if (resolvers !== null) for (const r of resolvers) r({ code: this.closeCode, reason });
    closed(this);
    // Last: what a 'close' listener throws propagates (as with ws), after our bookkeeping.
    this.owner.emit('close', this.closeCode, this.closeReason);
  }

  /** The `closed` promise: resolves with the close code and reason once CLOSED. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    if (this.readyState === CLOSED) return Promise.resolve({ code: this.closeCode, reason: this.closeReason.toString() });
    return new Promise((resolve) => (this.closedResolvers ??= []).push(resolve));
  }

  /** Creates the async-API message queue (idempotent). */
  ensureQueue(highWaterMark?: number): MessageQueue {
    if (this.queue === null) {
      this.queue = new MessageQueue(
        () => this.pause(),
        () => this.resume(),
        highWaterMark,
      );
      if (this.readyState === CLOSED) this.queue.close(this.closeCode, this.closeReason.toString());
    }
    return this.queue;
  }

  /** The async API's queue was never read and a 'message' listener came: events it is. */
  dropUnusedQueue(): void {
    const queue = this.queue;
    if (queue === null || queue.used) return;
    this.queue = null;
    if (queue.isPausing) this.resume();
  }

  pause(): void {
    this.paused = true;
    this.transport?.pause();
  }

  resume(): void {
    this.paused = false;
    this.transport?.resume();
  }
}

function finishAbort(connection: TransportConnection, err: Error): void {
  connection.emitError(err, false);
  connection.closeCode = 1006;
  connection.onClose();
}

export { CLOSED, CLOSING, CONNECTING, OPEN };
