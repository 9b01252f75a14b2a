/**
 * `NativeTransport` (issue 14): a connection's TCP socket owned by the addon
 * (native/transport.cc) and polled on Node's own libuv loop, with no `net.Socket` behind
 * it. {@link takeOverSocket} moves a connected `net.Socket` onto it after the opening
 * handshake. Linux only: on other platforms, on the js backend, or without the addon,
 * `takeOverSocket` returns null and the caller keeps Node's socket (NodeStreamTransport).
 *
 * Two differences from NodeStreamTransport a sink must know:
 * - Received chunks are borrowed (`chunksAreBorrowed`): every connection of the thread reads
 *   into one shared 64 KiB buffer, so a chunk passed to `onData` is valid only until that
 *   call returns. The sink copies what it keeps (FrameReader already copies a frame that
 *   spans reads, and the bytes of an incomplete header).
 * - Written chunks are never referenced after `write()` returns: what the kernel does not
 *   take at once is copied into the connection's own queue (`reusesWrittenChunks`).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as util from 'node:util';
import type { Duplex } from 'node:stream';

import { nativeSocketBinding } from '../backend/socket-binding';
import type { NativeSocketBinding, NativeSocketHandle, NativeSocketOwner } from '../backend/socket-binding';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_TRANSPORT_MAX_QUEUED } from '../limits';
import type { Transport, TransportSink, WriteCallback } from './transport';

export interface NativeTransportOptions {
  /** `write()` returns false at this many queued bytes or more. Default 16 KiB (a socket's). */
  highWaterMark?: number;
  /** Queued bytes past which the transport closes with ENOBUFS (a backstop). Default 1 GiB. */
  maxQueuedBytes?: number;
}

/** A write callback and the stream position its batch ends at. */
interface PendingWrite {
  end: number;
  cb: WriteCallback;
}

/** An Error like Node's system errors (`code` ECONNRESET, EPIPE...) for an errno. */
function systemError(errno: number, syscall: string): NodeJS.ErrnoException {
  const code = util.getSystemErrorName(-errno);
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  return err;
}

/** The options with their defaults; a RangeError for a bad one. */
function checkOptions(options: NativeTransportOptions): Required<NativeTransportOptions> {
  const { highWaterMark = DEFAULT_HIGH_WATER_MARK, maxQueuedBytes = DEFAULT_TRANSPORT_MAX_QUEUED } = options;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 0) throw new RangeError('highWaterMark must be a non-negative safe integer');
  if (!Number.isSafeInteger(maxQueuedBytes) || maxQueuedBytes < 1) throw new RangeError('maxQueuedBytes must be a positive safe integer');
  return { highWaterMark, maxQueuedBytes };
}

function callLater(cb: WriteCallback, err?: Error): void {
  process.nextTick(cb, err);
}

function start(t: NativeTransport, head: Buffer): void {
  t.startReading(head);
}

function deliverHead(t: NativeTransport): void {
  t.deliverHead();
}

function finish(t: NativeTransport): void {
  t.finished();
}

export class NativeTransport implements Transport, NativeSocketOwner {
  readonly kind = 'native' as const;
  readonly reusesWrittenChunks = true;
  /** Chunks given to `onData` are views of a shared buffer, valid only during the call. */
  readonly chunksAreBorrowed = true;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  private readonly handle: NativeSocketHandle;
  private readonly readBuffer: Buffer;
  private readonly highWaterMark: number;
  private sink: TransportSink | null = null;
  private queued = 0;
  /** Bytes accepted by write() so far; minus `queued`, the bytes the kernel took. */
  private accepted = 0;
  private pending: PendingWrite[] | null = null;
  /** onceFinished() callbacks: run when the queue is empty after end(). */
  private finishWaiters: Array<() => void> | null = null;
  private drainWanted = false;
  /** The attach() head while reading is paused: delivered by resume(), as a paused socket's. */
  private head: Buffer | null = null;
  private paused = false;
  private reading = false;
  private ended = false;
  private failed = false;
  private destroyCalled = false;
  private closed = false;

  /** Use {@link takeOverSocket}; `fd` is dup()ed, the caller closes its own. */
  constructor(binding: NativeSocketBinding, fd: number, remoteAddress: string | undefined, remotePort: number | undefined, options: NativeTransportOptions = {}) {
    const { highWaterMark, maxQueuedBytes } = checkOptions(options);
    this.highWaterMark = highWaterMark;
    this.readBuffer = binding.readBuffer;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.handle = binding.open(fd, this, maxQueuedBytes);
  }

  get bufferedBytes(): number {
    return this.queued;
  }

  get needsDrain(): boolean {
    return this.drainWanted;
  }

  get writable(): boolean {
    return !this.ended && !this.failed && !this.destroyCalled && !this.closed;
  }

  get destroyed(): boolean {
    return this.destroyCalled || this.closed;
  }

  attach(sink: TransportSink, head: Buffer): void {
    if (this.sink !== null) throw new Error('NativeTransport: attach() was called already');
    this.sink = sink;
    // A later tick (the contract): 'open'/'connection' listeners attach first.
    process.nextTick(start, this, head);
  }

  /** @internal The deferred half of attach(): the head first, then the socket's bytes. */
  startReading(head: Buffer): void {
    if (this.destroyed) return;
    this.reading = true;
    if (head.length > 0) {
      // Paused before the first read (connect() pauses in its 'open' listener): the head
      // waits for resume(), as bytes unshifted into a paused net.Socket do.
      this.head = head;
      if (!this.paused) this.deliverHead();
      return;
    }
    if (!this.paused) this.handle.resume();
  }

  /** @internal Delivers the kept head (unless paused again), then reads the socket. */
  deliverHead(): void {
    const head = this.head;
    if (head === null || this.paused || this.destroyed) return;
    this.head = null;
    this.sink!.onData(head);
    if (!this.paused && !this.destroyed) this.handle.resume();
  }

  write(chunks: readonly Uint8Array[], cb?: WriteCallback): boolean {
    if (!this.writable) {
      if (cb !== undefined) callLater(cb, Object.assign(new Error('write after end or destroy'), { code: 'ERR_STREAM_DESTROYED' }));
      return false;
    }
    let bytes = 0;
    for (let i = 0; i < chunks.length; i++) bytes += chunks[i].length;
    const queued = this.handle.write(chunks);
    if (queued < 0) {
      // The socket is closing (EPIPE, ECONNRESET...); onClose(true) follows and fails cb.
      this.failed = true;
      if (cb !== undefined) (this.pending ??= []).push({ end: Number.MAX_SAFE_INTEGER, cb });
      return false;
    }
    this.accepted += bytes;
    this.queued = queued;
    if (cb !== undefined) {
      if (queued === 0) callLater(cb);
      else (this.pending ??= []).push({ end: this.accepted, cb });
    }
    if (queued < this.highWaterMark || queued === 0) return true;
    this.drainWanted = true;
    return false;
  }

  /**
   * Calls `cb` once `end()` was called and every byte written before it was handed to the
   * kernel (a Writable's 'finish'), or returns true, without calling it, when that already
   * happened. Never called when the transport closes first.
   */
  onceFinished(cb: () => void): boolean {
    if (this.ended && this.queued === 0 && !this.failed) return true;
    (this.finishWaiters ??= []).push(cb);
    return false;
  }

  pause(): void {
    this.paused = true;
    if (this.reading && !this.destroyed) this.handle.pause();
  }

  resume(): void {
    this.paused = false;
    if (!this.reading || this.destroyed) return;
    // On a later tick, as a net.Socket's resume(): the caller finishes what it was doing first.
    if (this.head !== null) process.nextTick(deliverHead, this);
    else this.handle.resume();
  }

  end(): void {
    if (this.ended || this.destroyed) return;
    this.ended = true;
    this.handle.end();
    // Nothing queued: finished now, reported on a later tick like a Writable's 'finish'.
    if (this.queued === 0 && this.finishWaiters !== null) process.nextTick(finish, this);
  }

  /** @internal Runs the onceFinished() callbacks once ended and flushed. */
  finished(): void {
    const waiters = this.finishWaiters;
    if (waiters === null || !this.ended || this.queued !== 0 || this.destroyed || this.failed) return;
    this.finishWaiters = null;
    for (const cb of waiters) cb();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyCalled = true;
    this.queued = 0;
    this.handle.destroy();
  }

  onNativeData(length: number): void {
    if (this.destroyCalled || this.sink === null) return;
    this.sink.onData(this.readBuffer.subarray(0, length));
  }

  onNativeFlush(queued: number): void {
    if (this.destroyCalled) return;
    this.queued = queued;
    const pending = this.pending;
    if (pending !== null) {
      const written = this.accepted - queued;
      let n = 0;
      while (n < pending.length && pending[n].end <= written) n++;
      if (n > 0) {
        const done = pending.splice(0, n);
        if (pending.length === 0) this.pending = null;
        for (const p of done) p.cb();
      }
    }
    if (queued === 0 && this.drainWanted && !this.destroyCalled) {
      this.drainWanted = false;
      this.sink?.onDrain();
    }
    if (queued === 0) this.finished();
  }

  onNativeEnd(): void {
    if (this.destroyCalled) return;
    this.sink?.onEnd();
  }

  onNativeClose(errno: number): void {
    if (this.closed) return;
    this.closed = true;
    this.finishWaiters = null;
    this.queued = 0;
    this.drainWanted = false;
    const pending = this.pending;
    this.pending = null;
    if (pending !== null) {
      const err = errno !== 0 ? systemError(errno, 'write') : Object.assign(new Error('the transport was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
      for (const p of pending) p.cb(err);
    }
    this.sink?.onClose(errno !== 0 && !this.destroyCalled);
  }
}

/** What {@link takeOverSocket} gives back: the transport and every byte Node had read. */
export interface TakeOver {
  transport: NativeTransport;
  /** The upgrade `head` plus what sat in the socket's readable buffer: pass it to attach(). */
  head: Buffer;
}

/** The libuv TCP handle behind a net.Socket: Node internals, read defensively. */
interface TcpHandle {
  fd?: unknown;
  constructor?: { name?: string };
}

/**
 * Moves a plain TCP `net.Socket` (after the opening handshake) onto a NativeTransport.
 * Returns null, leaving the socket untouched, when that cannot be done: not Linux, no addon
 * (or the js backend), a TLS socket or any other Duplex, a socket Node still has unsent
 * bytes for, one whose peer already ended, or a failed dup().
 *
 * Linux-specific steps: the fd comes from the socket's libuv handle (`_handle.fd`, a Node
 * internal); the addon dup()s it; then the Node socket is destroyed, which closes Node's fd
 * only (the dup keeps the connection open: no FIN is sent). The Node socket emits 'close'
 * as usual: remove its listeners first if they would act on it. Its 'data' and 'readable'
 * listeners are removed (the bytes Node had buffered go to the transport, not to them).
 */
export function takeOverSocket(socket: Duplex, head: Buffer, options?: NativeTransportOptions): TakeOver | null {
  // A bad option is the caller's bug, not a reason to fall back: it throws.
  const checked = checkOptions(options ?? {});
  const binding = nativeSocketBinding();
  if (binding === null) return null;
  if (!(socket instanceof net.Socket) || socket instanceof tls.TLSSocket) return null;
  if (socket.destroyed || socket.connecting || socket.writableEnded || socket.writableLength > 0 || socket.readableEncoding !== null) return null;
  // Node already read the peer's FIN: the kernel will not report it again to the dup.
  const state = (socket as unknown as { _readableState?: { ended?: boolean } })._readableState;
  if (state === undefined || state.ended === true) return null;
  const handle = (socket as unknown as { _handle?: TcpHandle | null })._handle;
  if (handle == null || handle.constructor?.name !== 'TCP' || typeof handle.fd !== 'number' || handle.fd < 0) return null;
  let transport: NativeTransport;
  try {
    transport = new NativeTransport(binding, handle.fd, socket.remoteAddress, socket.remotePort, checked);
  } catch {
    return null; // EMFILE and the like: Node's socket carries on
  }
  // Everything below runs in this tick, so Node's handle reads nothing more; what the
  // kernel holds is read through the dup later.
  socket.pause();
  // read() emits 'data' for what it returns, even when paused: the bytes belong to the
  // transport now, and the socket is about to be destroyed, so its readers go.
  socket.removeAllListeners('data');
  socket.removeAllListeners('readable');
  const parts: Buffer[] = head.length > 0 ? [head] : [];
  for (let chunk: unknown = socket.read(); chunk !== null; chunk = socket.read()) parts.push(chunk as Buffer);
  socket.destroy();
  return { transport, head: parts.length === 1 ? parts[0] : Buffer.concat(parts) };
}
