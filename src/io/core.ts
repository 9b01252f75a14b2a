/**
 * The live connection behind a {@link WebSocket}: socket plumbing, sending with backpressure,
 * the closing handshake (RFC 6455 §7) and the timers. The receive path is in ./receiver.ts.
 * The public class is a thin façade over this one so that its declared type shows only
 * ws's API.
 *
 * The hot path, per socket read: one `FrameReader.feed` (one native parse for every frame in
 * the chunk), frames dispatched from a callback with no per-frame allocation when a message
 * is one frame, and the sender corked so that every frame queued meanwhile (echoes, pongs)
 * leaves in one write.
 */
import type { Duplex } from 'node:stream';

import { Opcode } from '../frames/frame';
import { clipCloseReason, encodeClosePayload } from '../protocol/close-policy';
import { FrameReader } from '../protocol/reader';
import type { BinaryType, WebSocketEventMap } from './events';
import { ConnectionFailedError } from './errors';
import { MessageQueue, type Message } from './message-queue';
import { markListenerError } from './listener-error';
import { Receiver } from './receiver';
import { Sender, type FlushListener, type SendCallback } from './sender';
import { TimerEntry } from './timers';
import type { MessageCompressor } from './deflate-glue';
import { closed, dropped, errored, frameSent, opened, type ServerCounters } from './diagnostics';

import { CLOSED, CLOSING, CONNECTING, OPEN } from './ready-state';

export { CLOSED, CLOSING, CONNECTING, OPEN };

const EMPTY = Buffer.alloc(0);

/** What the core needs from its façade: an EventEmitter of the WebSocket events. */
export interface CoreOwner {
  emit<K extends keyof WebSocketEventMap>(event: K, ...args: WebSocketEventMap[K]): boolean;
  listenerCount(event: string): number;
}

/** Connection options the core reads (already defaulted). */
export interface CoreOptions {
  maxPayload: number;
  /** 0: no limit (the parser's convention). */
  maxFragments: number;
  closeTimeout: number;
  highWaterMark: number;
  maxBufferedAmount: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  rawFrames: boolean;
  autoPong: boolean;
  /** Infinity: no limit. */
  maxPendingAutoPongs: number;
}

/** Where the core reports errors nobody listens to on the WebSocket (the server, if any). */
export type ErrorSink = (err: Error, isHandlerError: boolean) => void;

/** The property of a WebSocket that holds its Core. */
export const kCore: unique symbol = Symbol('wscore.core');
/** The property of a socket that points back to its Core (shared listeners, no closures). */
const kSocketCore: unique symbol = Symbol('wscore.socketCore');
type CoreSocket = Duplex & { [kSocketCore]?: Core };

function socketOnData(this: CoreSocket, chunk: Buffer): void {
  this[kSocketCore]?.receiver!.onData(chunk);
}
function socketOnEnd(this: CoreSocket): void {
  this[kSocketCore]?.onEnd();
}
function socketOnClose(this: CoreSocket): void {
  this[kSocketCore]?.onSocketClose();
}
function socketOnError(this: CoreSocket): void {
  // A socket error is always followed by 'close'; the WebSocket reports it as 1006 there.
  this.destroy();
}
function socketOnDrain(this: CoreSocket): void {
  const core = this[kSocketCore];
  if (core === undefined) return;
  core.flushPong();
  core.checkDrain();
}
/** Whether the socket's write buffer is full: the peer is not reading what we send. */
function backedUp(s: Duplex | null): boolean {
  return (s as { writableNeedDrain?: boolean } | null)?.writableNeedDrain === true;
}
function onCloseTimeout(core: Core): void {
  core.socket?.destroy();
}
function onHeartbeat(core: Core): void {
  core.heartbeat();
}

/** @internal */
export class Core implements FlushListener {
  readyState = CONNECTING;
  socket: CoreSocket | null = null;
  sender: Sender | null = null;
  reader: FrameReader | null = null;
  isServer = false;
  deflate: MessageCompressor | null = null;
  protocol = '';
  extensions = '';
  binaryType: BinaryType = 'nodebuffer';
  errorSink: ErrorSink | null = null;
  /** The server's counters (stats()); null on a client connection. */
  stats: ServerCounters | null = null;

  /** Frames are processed; false once a close frame arrived or the connection failed. */
  receiving = true;
  /** The receive path (created by attach()). */
  receiver: Receiver | null = null;
  /** Opcode of a message being sent in fragments (send with fin: false), else 0. */
  sendingFragmented = 0;

  closeFrameSent = false;
  closeFrameReceived = false;
  closeCode = 1006;
  closeReason: Buffer = EMPTY;
  private closeTimer: TimerEntry<Core> | null = null;
  private heartbeatTimer: TimerEntry<Core> | null = null;
  private awaitingPong = false;
  private needDrain = false;
  /**
   * While the socket's write buffer is full, pings are not answered at once: only the
   * latest one's payload is kept here (RFC 6455 §5.5.3), its pong sent at 'drain', and
   * `pendingAutoPongs` counts the pings waiting (ping flood policy, docs/security.md).
   * Length -1: none. One small buffer, reused: a copy of each ping would pin pool slabs.
   */
  private pendingPong: Buffer | null = null;
  private pendingPongLength = -1;
  private pendingAutoPongs = 0;
  queue: MessageQueue | null = null;
  private closedResolvers: Array<(v: { code: number; reason: string }) => void> | null = null;
  paused = false;

  constructor(
    readonly owner: CoreOwner,
    readonly options: CoreOptions,
  ) {}

  /** Takes over an upgraded socket (RFC 6455 §4: the handshake is done, frames follow). */
  attach(socket: Duplex, head: Buffer, isServer: boolean, allowedRsv: number): void {
    const s = socket as CoreSocket;
    this.isServer = isServer;
    this.socket = s;
    this.sender = new Sender(s);
    this.sender.flushListener = this;
    this.reader = new FrameReader({
      role: isServer ? 'server' : 'client',
      maxPayload: this.options.maxPayload,
      maxFragments: this.options.maxFragments,
      allowedRsv,
    });
    this.receiver = new Receiver(this);
    s[kSocketCore] = this;
    if ('setNoDelay' in s && typeof s.setNoDelay === 'function') (s as unknown as import('node:net').Socket).setNoDelay(true);
    if ('setTimeout' in s && typeof s.setTimeout === 'function') (s as unknown as import('node:net').Socket).setTimeout(0);
    s.on('close', socketOnClose);
    s.on('end', socketOnEnd);
    s.on('error', socketOnError);
    s.on('drain', socketOnDrain);
    this.readyState = OPEN;
    if (this.options.heartbeatInterval > 0) {
      this.heartbeatTimer = new TimerEntry<Core>(this, onHeartbeat);
      this.heartbeatTimer.arm(this.options.heartbeatInterval);
    }
    // Bytes that came with the handshake are read after the 'open'/'connection' listeners
    // ran (they attach the 'message' listeners), as the next 'data' event.
    if (head.length > 0) s.unshift(head);
    s.on('data', socketOnData);
    if (s.isPaused() && !this.paused) s.resume();
    opened(this);
  }

  /** A pong arrived: the heartbeat's peer is alive (re-arm for the next ping). */
  pongReceived(): void {
    if (this.awaitingPong) {
      this.awaitingPong = false;
      this.heartbeatTimer!.arm(this.options.heartbeatInterval);
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
   * sent yet), stops processing input, closes TCP once the frame is written. The 'close'
   * event reports `code` (as ws does for the errors it detects).
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

  /**
   * Reports an error: to 'error' listeners if any (what they throw propagates, as with ws),
   * else to the server's sink, else, for a bug of ours, as a process warning.
   */
  emitError(err: Error, isHandlerError: boolean): void {
    errored(this, err);
    if (this.owner.listenerCount('error') > 0) {
      try {
        this.owner.emit('error', err);
      } catch (inner) {
        throw markListenerError(inner);
      }
      return;
    }
    if (this.errorSink !== null) this.errorSink(err, isHandlerError);
    else if (isHandlerError) process.emitWarning(err);
  }

  // ---- sending ------------------------------------------------------------------------

  /**
   * What ws reports as `bufferedAmount`: the user payload (before compression) of what waits
   * in our sender, plus what the socket still holds (wire bytes, as ws's socket buffer).
   * Frames of our own (close, automatic pongs, the 101 response) do not count while queued.
   */
  get bufferedAmount(): number {
    if (this.sender === null) return 0;
    return this.sender.queuedUserBytes + (this.socket?.writableLength ?? 0);
  }

  /**
   * The wire bytes not yet handed to the OS, everything included: what the backpressure
   * limits (highWaterMark, maxBufferedAmount) compare, because it is the memory held for the
   * peer. The user payload count would let frames of our own (a pong per ping of a flood)
   * and the compressed size go unseen, and with compression it would overstate the memory.
   */
  get wireBacklog(): number {
    if (this.sender === null) return 0;
    return this.sender.queuedBytes + (this.socket?.writableLength ?? 0);
  }

  /**
   * Queues a data frame and applies the buffer limits. Returns whether the caller may keep
   * sending (false: wait for 'drain'). `userBytes`: the payload's size before compression.
   */
  sendData(b0: number, data: Uint8Array | string, cb: SendCallback | undefined, userBytes: number): boolean {
    const sender = this.sender!;
    const queued = sender.queuedBytes;
    frameSent(this, b0, data);
    if (typeof data === 'string') sender.pushTextFrame(b0, data, !this.isServer, cb);
    else sender.pushFrame(b0, data, !this.isServer, cb, userBytes);
    return this.afterSend(queued);
  }

  /**
   * Backpressure bookkeeping after a send; `queuedBefore` is the sender's queue before it.
   * `writtenBefore` is the socket's buffer before it, when the send may have written to the
   * socket directly (a broadcast); otherwise the socket's buffer did not change in between
   * and one read of it is enough.
   */
  afterSend(queuedBefore: number, writtenBefore?: number): boolean {
    const written = this.socket!.writableLength;
    const after = this.sender!.queuedBytes + written;
    const before = queuedBefore + (writtenBefore ?? written);
    // A peer that does not read would make memory grow without bound: past the limit the
    // connection is closed (1008) instead. One large message into an empty buffer is fine.
    if (before > 0 && after > this.options.maxBufferedAmount) {
      this.dropSlowPeer(
        'send buffer limit exceeded',
        `${after} bytes waiting to be written exceed maxBufferedAmount ${this.options.maxBufferedAmount}: the peer does not read fast enough`,
        'WS_ERR_BUFFER_LIMIT',
      );
      return false;
    }
    if (after < this.options.highWaterMark) return true;
    this.needDrain = true;
    return false;
  }

  /** FlushListener: the sender handed a batch to the socket. */
  afterFlush(): void {
    this.checkDrain();
  }

  /** Emits 'drain' when send() said false and the buffer fell under the high-water mark. */
  checkDrain(): void {
    if (this.needDrain && this.readyState === OPEN && this.wireBacklog < this.options.highWaterMark) {
      this.needDrain = false;
      // What a listener throws propagates (from the socket's 'drain' or the flush that made
      // room); the flag is already reset.
      try {
        this.owner.emit('drain');
      } catch (err) {
        throw markListenerError(err);
      }
    }
  }

  /**
   * Closes a peer that does not read what we send (1008): the socket is destroyed at once,
   * since a close frame could not get past the bytes it left unread.
   */
  private dropSlowPeer(reason: string, message: string, code: string): void {
    dropped(this);
    this.closeCode = 1008;
    this.closeReason = Buffer.from(reason);
    this.receiving = false;
    this.readyState = CLOSING;
    this.socket!.destroy();
    this.emitError(new ConnectionFailedError(message, code, 1008), false);
  }

  /**
   * The automatic answer to a ping (RFC 6455 §5.5.2), queued now: it leaves in this read's
   * write, ahead of whatever handlers send for later frames (so a ping between fragments is
   * answered before the echo of their message). While the peer does not read (the socket's
   * buffer is full) only the latest ping is kept, for 'drain' (§5.5.3 allows answering only
   * the most recent), and past `maxPendingAutoPongs` such pings the peer is dropped (1008):
   * a ping flood cannot grow our memory. Returns false when the connection was dropped.
   */
  autoPong(payload: Uint8Array): boolean {
    if (!backedUp(this.socket)) {
      this.sendControl(Opcode.PONG, payload);
      return true;
    }
    if (++this.pendingAutoPongs > this.options.maxPendingAutoPongs) {
      this.dropSlowPeer(
        'too many pending pongs',
        `more than maxPendingAutoPongs (${this.options.maxPendingAutoPongs}) pings wait for a pong: the peer does not read`,
        'WS_ERR_TOO_MANY_PENDING_PONGS',
      );
      return false;
    }
    // Copied: `payload` is a view of the socket's chunk (control payloads are <= 125 bytes).
    const keep = (this.pendingPong ??= Buffer.allocUnsafeSlow(125));
    keep.set(payload, 0);
    this.pendingPongLength = payload.length;
    return true;
  }

  /** 'drain': the peer reads again; the kept pong (if any) leaves now. */
  flushPong(): void {
    this.pendingAutoPongs = 0;
    const len = this.pendingPongLength;
    if (len < 0) return;
    this.pendingPongLength = -1;
    if (this.closeFrameSent || this.readyState !== OPEN) return;
    this.sendControl(Opcode.PONG, this.pendingPong!.subarray(0, len));
  }

  /**
   * Queues a control frame (§5.5: at most 125 bytes, checked by the caller). `byUser`: a
   * ping()/pong() call, whose payload counts in bufferedAmount as in ws.
   */
  sendControl(opcode: number, payload: Uint8Array, cb?: SendCallback, byUser = false): void {
    frameSent(this, 0x80 | opcode, payload);
    this.sender!.pushFrame(0x80 | opcode, payload, !this.isServer, cb, byUser ? payload.length : 0);
  }

  /** Queues a close frame after everything already queued (§7.1.2). */
  sendClose(code: number | undefined, reason: Uint8Array | string = EMPTY): void {
    // A pong kept for 'drain' goes ahead of the close frame if the socket can take it now;
    // after the close frame no pong may follow.
    const len = this.pendingPongLength;
    if (len >= 0) {
      this.pendingPongLength = -1;
      if (!backedUp(this.socket)) this.sendControl(Opcode.PONG, this.pendingPong!.subarray(0, len));
    }
    let payload: Buffer = EMPTY;
    if (code !== undefined) {
      payload = encodeClosePayload(code, typeof reason === 'string' ? Buffer.from(reason) : reason);
    }
    this.closeFrameSent = true;
    this.sendControl(Opcode.CLOSE, payload);
  }

  /** A hand-made CLOSE frame was queued (sendFrame): the closing handshake has begun. */
  sentCloseFrame(): void {
    this.closeFrameSent = true;
    if (this.readyState === OPEN) this.readyState = CLOSING;
    if (this.closeFrameReceived) this.sender!.end();
    this.armCloseTimer();
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

  /** Destroys the socket now (no closing handshake). */
  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.receiving = false;
    this.readyState = CLOSING;
    this.socket?.destroy();
  }

  private armCloseTimer(): void {
    if (this.readyState === CLOSED) return;
    const timer = (this.closeTimer ??= new TimerEntry<Core>(this, onCloseTimeout));
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

  // ---- end of the connection ----------------------------------------------------------

  onEnd(): void {
    // The peer closed its side. Without its close frame this is an abnormal closure (1006).
    if (this.readyState === OPEN) this.readyState = CLOSING;
    this.receiving = false;
    const s = this.socket;
    if (s !== null && !s.writableEnded) this.sender!.end();
  }

  onSocketClose(): void {
    const s = this.socket!;
    // Data still buffered in a paused socket was sent before the close: deliver it (§7.1.2).
    if (this.receiving) {
      this.paused = false;
      let chunk: Buffer | null;
      while (this.receiving && (chunk = s.read() as Buffer | null) !== null) this.receiver!.onData(chunk);
    }
    s.removeListener('data', socketOnData);
    s.removeListener('drain', socketOnDrain);
    delete s[kSocketCore];
    this.readyState = CLOSED;
    this.receiving = false;
    this.closeTimer?.cancel();
    this.heartbeatTimer?.cancel();
    this.sender?.kill();
    this.deflate?.dispose?.();
    this.finishClosed();
  }

  /** The connection is CLOSED: report it everywhere (iterators, 'close', `closed`). */
  finishClosed(): void {
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
    this.socket?.pause();
  }

  resume(): void {
    this.paused = false;
    this.socket?.resume();
  }
}

export type { Message };
