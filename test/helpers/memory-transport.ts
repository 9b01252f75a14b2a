/**
 * Test helper: a {@link Transport} whose bytes live in memory (issue 13), so that the
 * connection class can be tested without a socket. The test plays the peer: it pushes the
 * peer's bytes (`push`), reads what the connection wrote (`takeWritten`, `readFrames`), and
 * makes the edges happen on purpose: a peer that stops reading (`block`: writes stay
 * buffered, `write()` returns false past the high-water mark, 'drain' comes at `unblock`),
 * a FIN (`pushEnd`), a reset (`reset`).
 *
 * It keeps the contract of src/io/transport.ts as a net.Socket does: write callbacks and
 * onDrain/onClose never run synchronously, onClose comes exactly once and last, the head is
 * delivered on a later tick. Pushed bytes are delivered synchronously (unless paused), so
 * that what a listener throws surfaces in the test's `push()` call.
 *
 * {@link openMemoryConnection} opens a WebSocket over one, as a server or a client would
 * after the opening handshake.
 */
import type { Transport, TransportSink, WriteCallback } from '../../src/io/transport';
import { createDeflate, type PerMessageDeflateOptions } from '../../src/io/deflate-glue';
import type { WebSocketOptions } from '../../src/io/options';
import { kConnection, type Role, type TransportConnection } from '../../src/io/transport-connection';
import { WebSocket } from '../../src/io/websocket';

export interface MemoryTransportOptions {
  /** `write()` returns false once this many bytes are buffered (default 16 KiB, as a net.Socket). */
  highWaterMark?: number;
  /**
   * Whether the peer ends its side when ours ends (default true: a conforming peer closes
   * TCP after the server's FIN, RFC 6455 §7.1.1), which closes the transport.
   */
  peerEndsOnEnd?: boolean;
  remoteAddress?: string;
  remotePort?: number;
  /**
   * Lend chunks as the native transport does (`chunksAreBorrowed`): every chunk is copied
   * into one shared buffer, handed over as a view, and the buffer is scribbled over (0xee)
   * as soon as onData returns, so that a sink keeping a view sees garbage.
   */
  borrow?: boolean;
}

/** The one read buffer of every borrowing MemoryTransport (as the native transport's per thread). */
const lendingBuffer = Buffer.alloc(64 * 1024);

interface PendingWrite {
  bytes: Buffer;
  cb: WriteCallback | undefined;
}

function fire(cb: WriteCallback, err: Error | null): void {
  cb(err);
}

/** See the module comment. */
export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  /** Written bytes are copied at once: the sender may reuse its buffers. */
  readonly reusesWrittenChunks = true;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** write() calls so far (one per batch the sender flushed). */
  writes = 0;
  /** Whether end() was called. */
  ended = false;
  /** Whether the transport closed (onClose was called or is due). */
  closed = false;
  readonly chunksAreBorrowed: boolean;

  private sink: TransportSink | null = null;
  private readonly highWaterMark: number;
  private readonly peerEndsOnEnd: boolean;
  private written: Buffer[] = [];
  private pending: PendingWrite[] = [];
  private pendingBytes = 0;
  private blocked = false;
  private drainDue = false;
  private paused = false;
  private inbox: Buffer[] = [];
  /** Whether the peer ended its side (pushEnd). */
  peerEnded = false;
  private endDelivered = false;
  private isDestroyed = false;
  private finishWaiters: Array<() => void> = [];

  constructor(options: MemoryTransportOptions = {}) {
    this.highWaterMark = options.highWaterMark ?? 16 * 1024;
    this.peerEndsOnEnd = options.peerEndsOnEnd ?? true;
    this.remoteAddress = options.remoteAddress;
    this.remotePort = options.remotePort;
    this.chunksAreBorrowed = options.borrow === true;
  }

  // ---- Transport ----------------------------------------------------------------------

  attach(sink: TransportSink, head: Buffer): void {
    this.sink = sink;
    if (head.length > 0) {
      this.inbox.unshift(Buffer.from(head));
      process.nextTick(() => this.deliverInbox());
    }
  }

  write(chunks: readonly Uint8Array[], cb?: WriteCallback): boolean {
    if (!this.writable) {
      if (cb) process.nextTick(fire, cb, new Error('write after end'));
      return false;
    }
    this.writes++;
    // Copied: the caller empties and reuses its array, and may reuse the chunks' memory.
    const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
    if (this.blocked) {
      this.pending.push({ bytes, cb });
      this.pendingBytes += bytes.length;
      if (this.pendingBytes >= this.highWaterMark) this.drainDue = true;
      return !this.drainDue;
    }
    this.written.push(bytes);
    if (cb) process.nextTick(fire, cb, null);
    return true;
  }

  get bufferedBytes(): number {
    return this.pendingBytes;
  }
  get needsDrain(): boolean {
    return this.drainDue;
  }
  get writable(): boolean {
    return !this.ended && !this.isDestroyed;
  }
  get destroyed(): boolean {
    return this.isDestroyed;
  }

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    if (this.inbox.length > 0 || (this.peerEnded && !this.endDelivered)) process.nextTick(() => this.deliverInbox());
  }

  end(): void {
    if (this.ended || this.isDestroyed) return;
    this.ended = true;
    if (this.pending.length === 0) this.finished();
  }

  destroy(): void {
    this.teardown(null, false);
  }

  onceFinished(cb: () => void): boolean {
    if (this.ended && this.pending.length === 0) return true;
    this.finishWaiters.push(cb);
    return false;
  }

  // ---- the peer's side (the test) -----------------------------------------------------------

  /** The peer sends `bytes`: delivered now, unless reading is paused. */
  push(bytes: Uint8Array): void {
    if (this.closed || this.peerEnded) throw new Error('MemoryTransport: push after the peer ended or the transport closed');
    this.inbox.push(Buffer.from(bytes));
    if (!this.paused && this.sink !== null) this.deliverInbox();
  }

  /** The peer ends its side (TCP FIN). */
  pushEnd(): void {
    if (this.closed || this.peerEnded) return;
    this.peerEnded = true;
    if (!this.paused && this.sink !== null) this.deliverInbox();
  }

  /** The connection is reset (ECONNRESET): queued writes fail, onClose(true). */
  reset(): void {
    this.teardown(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true);
  }

  /** The peer stops reading: writes stay buffered from now on. */
  block(): void {
    this.blocked = true;
  }

  /** The peer reads again: what is buffered is taken, then 'drain' if a write returned false. */
  unblock(): void {
    this.blocked = false;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const { bytes, cb } of pending) {
      this.written.push(bytes);
      if (cb) process.nextTick(fire, cb, null);
    }
    if (this.drainDue) {
      this.drainDue = false;
      process.nextTick(() => {
        if (!this.closed) this.sink?.onDrain();
      });
    }
    if (this.ended) this.finished();
  }

  /** Everything written so far that reached the peer, as one buffer; then forgets it. */
  takeWritten(): Buffer {
    const out = Buffer.concat(this.written);
    this.written = [];
    return out;
  }

  /** The frames written so far that reached the peer (masked ones unmasked); then forgets them. */
  takeFrames(): WrittenFrame[] {
    return readFrames(this.takeWritten());
  }

  /** Resolves once the transport closed. */
  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  // ---- internals ----------------------------------------------------------------------------

  private closeWaiters: Array<() => void> = [];

  private deliverInbox(): void {
    while (!this.paused && !this.closed && this.sink !== null && this.inbox.length > 0) {
      this.deliver(this.inbox.shift()!);
    }
    if (!this.paused && !this.closed && this.sink !== null && this.peerEnded && !this.endDelivered && this.inbox.length === 0) {
      this.endDelivered = true;
      this.sink.onEnd();
      this.maybeClose();
    }
  }

  private deliver(chunk: Buffer): void {
    if (!this.chunksAreBorrowed) {
      this.sink!.onData(chunk);
      return;
    }
    for (let at = 0; at < chunk.length; at += lendingBuffer.length) {
      const n = Math.min(lendingBuffer.length, chunk.length - at);
      chunk.copy(lendingBuffer, 0, at, at + n);
      try {
        this.sink!.onData(lendingBuffer.subarray(0, n));
      } finally {
        lendingBuffer.fill(0xee);
      }
      if (this.paused || this.closed) {
        // The rest waits, as a socket's unread bytes do.
        if (at + n < chunk.length) this.inbox.unshift(chunk.subarray(at + n));
        return;
      }
    }
  }

  private finished(): void {
    const waiters = this.finishWaiters;
    this.finishWaiters = [];
    for (const w of waiters) process.nextTick(w);
    if (this.peerEndsOnEnd && !this.peerEnded) {
      this.peerEnded = true;
      process.nextTick(() => this.deliverInbox());
    }
    this.maybeClose();
  }

  /** Both sides ended and everything was written: the stream closes (TCP). */
  private maybeClose(): void {
    if (this.ended && this.pending.length === 0 && this.peerEnded && this.endDelivered) this.scheduleClose(false);
  }

  private teardown(err: Error | null, hadError: boolean): void {
    if (this.isDestroyed || this.closed) return;
    this.isDestroyed = true;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.drainDue = false;
    const failure = err ?? new Error('MemoryTransport destroyed');
    for (const { cb } of pending) if (cb) process.nextTick(fire, cb, failure);
    this.scheduleClose(hadError);
  }

  private scheduleClose(hadError: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.isDestroyed = true;
    process.nextTick(() => {
      const sink = this.sink;
      this.sink = null;
      sink?.onClose(hadError);
      for (const w of this.closeWaiters) w();
      this.closeWaiters = [];
    });
  }
}

/** A frame as the peer reads it. */
export interface WrittenFrame {
  fin: boolean;
  /** RSV bits as one number: RSV1=4, RSV2=2, RSV3=1. */
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Unmasked. */
  payload: Buffer;
}

/** Parses whole frames (RFC 6455 §5.2), independently of src/; throws on a partial one. */
export function readFrames(bytes: Buffer): WrittenFrame[] {
  const out: WrittenFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 2) throw new Error('partial frame header');
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    let len = b1 & 0x7f;
    let p = at + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(p));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const key = masked ? bytes.subarray(p, p + 4) : null;
    if (masked) p += 4;
    if (p + len > bytes.length) throw new Error('partial frame payload');
    const payload = Buffer.from(bytes.subarray(p, p + len));
    if (key !== null) for (let i = 0; i < len; i++) payload[i]! ^= key[i & 3]!;
    out.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    at = p + len;
  }
  return out;
}

export interface MemoryConnectionOptions {
  role: Role;
  /** Connection options, as a WebSocket takes them. */
  options?: WebSocketOptions;
  /** Negotiate permessage-deflate with these options (true: the defaults). */
  deflate?: true | PerMessageDeflateOptions;
  /**
   * The permessage-deflate parameters agreed (RFC 7692 §7.1): for a server the client's
   * offer it accepts, for a client the server's response. Default: none ('').
   */
  deflateParams?: string;
  /** The subprotocol agreed ('' for none). */
  protocol?: string;
  /** Bytes that came with the handshake (delivered first, on a later tick). */
  head?: Uint8Array;
  transport?: MemoryTransportOptions;
}

export interface MemoryConnection {
  /** The public WebSocket, OPEN. */
  ws: WebSocket;
  /** Its transport: the test is the peer. */
  transport: MemoryTransport;
  /** The connection behind `ws` (internal). */
  connection: TransportConnection;
}

/**
 * A WebSocket over a {@link MemoryTransport}, as a server (`role: 'server'`: it reads masked
 * frames and writes unmasked ones, RFC 6455 §5.1) or a client would have it once the
 * opening handshake is done. No bytes of the handshake itself are written.
 */
export function openMemoryConnection(o: MemoryConnectionOptions): MemoryConnection {
  const ws = new WebSocket(null, undefined, o.options ?? {});
  const connection = ws[kConnection];
  let extensions = '';
  let deflate = null;
  if (o.deflate !== undefined) {
    deflate = createDeflate(o.deflate === true ? {} : o.deflate, o.role === 'server', connection.options.maxPayload);
    const params = o.deflateParams ?? '';
    if (o.role === 'server') {
      const answer = deflate.accept(params);
      if (answer === null) throw new Error(`permessage-deflate: the offer "${params}" was declined`);
      extensions = answer === true || answer === '' ? 'permessage-deflate' : `permessage-deflate; ${String(answer)}`;
    } else {
      deflate.finalize(params);
      extensions = params === '' ? 'permessage-deflate' : `permessage-deflate; ${params}`;
    }
  }
  const transport = new MemoryTransport(o.transport);
  connection.setNegotiated(o.protocol ?? '', extensions, deflate);
  connection.attach(transport, Buffer.from(o.head ?? new Uint8Array(0)), o.role);
  return { ws, transport, connection };
}
