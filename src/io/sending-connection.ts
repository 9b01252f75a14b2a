/**
 * The send side of a {@link TransportConnection} (./transport-connection.ts, which extends
 * this class): turning send() into frames (fragmentation, the compression choice), the
 * buffer limits and 'drain', automatic pongs under backpressure, and the close frame.
 * Everything leaves through the connection's {@link Sender} and its {@link Transport}.
 */
import { Opcode } from '../frames/frame';
import { encodeClosePayload } from '../protocol/close-policy';
import { DEFAULT_DEFLATE_THRESHOLD } from '../limits';
import type { MessageCompressor } from './deflate-glue';
import { ConnectionFailedError } from './errors';
import type { WebSocketEventMap } from './events';
import { markListenerError } from './listener-error';
import type { ConnectionSettings } from './options';
import { CLOSING, CONNECTING, OPEN } from './ready-state';
import type { SendOptions } from './send-data';
import { dropped, errored, frameSent, preparedFrameSent, type ServerCounters } from './diagnostics';
import type { FlushListener, SendCallback, Sender } from './sender';
import type { Transport } from './transport';

export const EMPTY = Buffer.alloc(0);

/** What a connection needs from its façade: an EventEmitter of the WebSocket events. */
export interface ConnectionOwner {
  emit<K extends keyof WebSocketEventMap>(event: K, ...args: WebSocketEventMap[K]): boolean;
  listenerCount(event: string): number;
}

/** A message framed once for many connections (PreparedMessage). */
export interface SharedFrames {
  /** The payload (UTF-8 for text). */
  readonly data: Uint8Array;
  /** Whether it may be compressed. */
  readonly compress: boolean;
  /** The unmasked, uncompressed frame. */
  readonly frame: Buffer;
  /** The frame compressed by `deflate`, shared by every compressor with the same `key`. */
  compressedFrame(key: string, deflate: MessageCompressor): Buffer;
}

/** Where a connection reports errors nobody listens to on the WebSocket (the server, if any). */
export type ErrorSink = (err: Error, isHandlerError: boolean) => void;

/** @internal */
export abstract class SendingConnection implements FlushListener {
  readyState = CONNECTING;
  /** Set by attach(): the byte stream, and the queue in front of it. */
  transport: Transport | null = null;
  sender: Sender | null = null;
  isServer = false;
  /** Set by setNegotiated(): the permessage-deflate in use (RFC 7692), or null. */
  deflate: MessageCompressor | null = null;
  errorSink: ErrorSink | null = null;
  /** The server's counters (stats(), ./diagnostics.ts); null on a client connection. */
  stats: ServerCounters | null = null;
  /** Frames are processed; false once a close frame arrived or the connection failed. */
  receiving = true;
  closeFrameSent = false;
  closeCode = 1006;
  closeReason: Buffer = EMPTY;
  /** Opcode of a message being sent in fragments (send with fin: false), else 0. */
  private sendingFragmented = 0;
  private needDrain = false;
  /**
   * While the transport's write buffer is full, pings are not answered at once: only the
   * latest one's payload is kept here (RFC 6455 §5.5.3), its pong sent at 'drain', and
   * `pendingAutoPongs` counts the pings waiting (ping flood policy, docs/security.md).
   * Length -1: none. One small buffer, reused: a copy of each ping would pin pool slabs.
   */
  private pendingPong: Buffer | null = null;
  private pendingPongLength = -1;
  private pendingAutoPongs = 0;

  constructor(
    readonly owner: ConnectionOwner,
    readonly options: ConnectionSettings,
  ) {}

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

  /**
   * What ws reports as `bufferedAmount`: the user payload (before compression) of what waits
   * in our sender, plus what the transport still holds (wire bytes, as ws's socket buffer).
   * Frames of our own (close, automatic pongs, the 101 response) do not count while queued.
   */
  get bufferedAmount(): number {
    if (this.sender === null) return 0;
    return this.sender.queuedUserBytes + this.transport!.bufferedBytes;
  }

  /**
   * The wire bytes not yet handed to the OS, everything included: what the backpressure
   * limits (highWaterMark, maxBufferedAmount) compare, because it is the memory held for the
   * peer. The user payload count would let frames of our own (a pong per ping of a flood)
   * and the compressed size go unseen, and with compression it would overstate the memory.
   */
  get wireBacklog(): number {
    if (this.sender === null) return 0;
    return this.sender.queuedBytes + this.transport!.bufferedBytes;
  }

  /**
   * Whether queueing `bytes` more would take the backlog past maxBufferedAmount — the rule
   * by which a send closes a slow peer (see afterSend), asked before sending instead.
   */
  wouldOverflow(bytes: number): boolean {
    const backlog = this.wireBacklog;
    return backlog > 0 && backlog + bytes > this.options.maxBufferedAmount;
  }

  /** Whether a message may be sent now: OPEN and no close frame sent (§7.1.2). */
  get canSend(): boolean {
    return this.readyState === OPEN && !this.closeFrameSent;
  }

  /**
   * Sends a message, or a fragment of one (`fin: false`, RFC 6455 §5.4), compressing a
   * whole message when permessage-deflate is in use and it is large enough (RFC 7692 §6:
   * RSV1 on its first frame). Returns whether the caller may keep sending (false: wait for
   * 'drain'). The caller checked that no close frame was sent (§5.5.1: nothing after it).
   */
  send(data: Uint8Array | string, options: SendOptions | undefined, cb: SendCallback | undefined): boolean {
    const fin = options?.fin !== false;
    const opcode = this.sendingFragmented !== 0 ? Opcode.CONT : (options?.binary ?? typeof data !== 'string') ? Opcode.BINARY : Opcode.TEXT;
    let payload = data;
    let rsv1 = 0;
    const deflate = this.deflate;
    // For a string, the sender counts the UTF-8 bytes it writes.
    let size = typeof payload === 'string' ? 0 : payload.length;
    if (deflate !== null && fin && opcode !== Opcode.CONT && options?.compress !== false) {
      if (typeof payload === 'string') size = Buffer.byteLength(payload);
      if (size >= (deflate.threshold ?? DEFAULT_DEFLATE_THRESHOLD)) {
        payload = deflate.compressMessage(typeof payload === 'string' ? Buffer.from(payload) : payload);
        rsv1 = 0x40;
      }
    }
    if (!fin && this.sendingFragmented === 0) this.sendingFragmented = opcode;
    else if (fin) this.sendingFragmented = 0;
    const b0 = (fin ? 0x80 : 0) | rsv1 | opcode;
    const sender = this.sender!;
    const queued = sender.queuedBytes;
    frameSent(this, b0, payload);
    if (typeof payload === 'string') sender.pushTextFrame(b0, payload, !this.isServer, cb);
    else sender.pushFrame(b0, payload, !this.isServer, cb, size);
    return this.afterSend(queued);
  }

  /**
   * Sends a message framed once for many connections (a broadcast, ./broadcast.ts): the
   * shared bytes are written at once when nothing is queued. Returns null when this
   * connection cannot take shared frames — a client must mask with its own keys (RFC 6455
   * §5.3), a fragmented message is in progress (§5.4), or its compressor keeps context
   * between messages (RFC 7692 §7.1.1) — and the caller sends it as an ordinary message.
   */
  sendShared(message: SharedFrames, cb: SendCallback | undefined): boolean | null {
    if (!this.isServer || !this.canSend || this.sendingFragmented !== 0) return null;
    let bytes = message.frame;
    const deflate = this.deflate;
    if (deflate !== null && message.compress && message.data.length >= (deflate.threshold ?? DEFAULT_DEFLATE_THRESHOLD)) {
      const key = deflate.sharedKey ?? null;
      if (key === null) return null;
      bytes = message.compressedFrame(key, deflate);
    }
    const sender = this.sender!;
    const queued = sender.queuedBytes;
    const written = this.transport!.bufferedBytes;
    preparedFrameSent(this, bytes);
    sender.pushShared(bytes, cb, message.data.length);
    return this.afterSend(queued, written);
  }

  /** Sends a hand-made frame as it is (sendFrame); `b0` is its header byte 0. */
  sendRawFrame(b0: number, payload: Uint8Array, cb: SendCallback | undefined): void {
    frameSent(this, b0, payload);
    this.sender!.pushFrame(b0, payload, !this.isServer, cb, payload.length);
  }

  /**
   * Backpressure bookkeeping after a send; `queuedBefore` is the sender's queue before it.
   * `writtenBefore` is the transport's buffer before it, when the send may have written to
   * it directly (a broadcast); otherwise that buffer did not change in between and one
   * read of it is enough.
   */
  private afterSend(queuedBefore: number, writtenBefore?: number): boolean {
    const written = this.transport!.bufferedBytes;
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

  /** FlushListener: the sender handed a batch to the transport. */
  afterFlush(): void {
    this.checkDrain();
  }

  /** Emits 'drain' when send() said false and the buffer fell under the high-water mark. */
  protected checkDrain(): void {
    if (this.needDrain && this.readyState === OPEN && this.wireBacklog < this.options.highWaterMark) {
      this.needDrain = false;
      // What a listener throws propagates (from the transport's drain or the flush that
      // made room); the flag is already reset.
      try {
        this.owner.emit('drain');
      } catch (err) {
        throw markListenerError(err);
      }
    }
  }

  /**
   * Closes a peer that does not read what we send (1008): the transport is destroyed at
   * once, since a close frame could not get past the bytes it left unread.
   */
  private dropSlowPeer(reason: string, message: string, code: string): void {
    dropped(this);
    this.closeCode = 1008;
    this.closeReason = Buffer.from(reason);
    this.receiving = false;
    this.readyState = CLOSING;
    this.transport!.destroy();
    this.emitError(new ConnectionFailedError(message, code, 1008), false);
  }

  /**
   * The automatic answer to a ping (RFC 6455 §5.5.2), queued now: it leaves in this read's
   * write, ahead of whatever handlers send for later frames (so a ping between fragments is
   * answered before the echo of their message). While the peer does not read (the
   * transport's buffer is full) only the latest ping is kept, for 'drain' (§5.5.3 allows
   * answering only the most recent), and past `maxPendingAutoPongs` such pings the peer is
   * dropped (1008): a ping flood cannot grow our memory. Returns false when it was dropped.
   */
  protected autoPong(payload: Uint8Array): boolean {
    if (!this.transport!.needsDrain) {
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
    // Copied: `payload` is a view of the transport's chunk (control payloads are <= 125 bytes).
    const keep = (this.pendingPong ??= Buffer.allocUnsafeSlow(125));
    keep.set(payload, 0);
    this.pendingPongLength = payload.length;
    return true;
  }

  /** The transport drained: the peer reads again; the kept pong (if any) leaves now. */
  protected flushPong(): void {
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
  protected sendClose(code: number | undefined, reason: Uint8Array | string = EMPTY): void {
    // A pong kept for 'drain' goes ahead of the close frame if the transport can take it
    // now; after the close frame no pong may follow.
    const len = this.pendingPongLength;
    if (len >= 0) {
      this.pendingPongLength = -1;
      if (!this.transport!.needsDrain) this.sendControl(Opcode.PONG, this.pendingPong!.subarray(0, len));
    }
    let payload: Buffer = EMPTY;
    if (code !== undefined) {
      payload = encodeClosePayload(code, typeof reason === 'string' ? Buffer.from(reason) : reason);
    }
    this.closeFrameSent = true;
    this.sendControl(Opcode.CLOSE, payload);
  }
}
