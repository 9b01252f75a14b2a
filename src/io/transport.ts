/**
 * The seam between a WebSocket connection and the byte stream under it (issue 13): the few
 * operations a connection needs once the opening handshake is done (RFC 6455 §4: from then
 * on only frames flow). Everything in src/io that runs a connection reaches its socket
 * through this interface and nothing else:
 *
 * - `NodeStreamTransport` (./node-stream-transport.ts): a `net.Socket`, a `tls.TLSSocket`,
 *   an HTTP/2 stream or any other Duplex.
 * - `NativeTransport` (issue 14): a file descriptor the addon owns, polled on Node's own
 *   libuv loop, with no `net.Socket` per connection.
 * - `MemoryTransport` (test/helpers): bytes in memory, for socket-free tests of the connection.
 *
 * The contract is the one a `net.Socket` keeps, narrowed to what a connection uses, so that
 * every transport behaves alike on the edges (a partial write, a peer that stops reading, a
 * reset in the middle of a write): see the comment on each member.
 */

/** Where a transport reports what happens to its byte stream. One object, no closures. */
export interface TransportSink {
  /**
   * Bytes arrived. The chunk is only valid until this call returns when the transport reads
   * into a shared buffer (`chunksAreBorrowed`): a sink that keeps bytes past the call copies
   * them.
   */
  onData(chunk: Buffer): void;
  /** Everything written was handed to the OS after a write had returned false. */
  onDrain(): void;
  /** The peer closed its sending side (TCP FIN). Writing may still work. */
  onEnd(): void;
  /**
   * The stream is closed for good (after `destroy()`, an error such as ECONNRESET or EPIPE,
   * or both sides ended). Called exactly once, last; no other callback follows it.
   */
  onClose(hadError: boolean): void;
}

/** A write's completion: `err` set when the bytes can no longer reach the peer. */
export type WriteCallback = (err?: Error | null) => void;

/** Which implementation a transport is (`ws.transport`). */
export type TransportKind = 'node' | 'native' | 'memory';

export interface Transport {
  /** Which implementation this is, for `ws.transport` and diagnostics. */
  readonly kind: TransportKind;

  /**
   * Starts delivering to `sink`. `head` holds bytes already read past the handshake; they
   * are delivered first, as the first `onData`, on a later tick (so that the 'open' and
   * 'connection' listeners attach their 'message' listeners first).
   */
  attach(sink: TransportSink, head: Buffer): void;

  /**
   * Queues chunks to be written in order, as one batch (one writev where the OS has it).
   * Returns false when the transport's buffer is past its high-water mark: the caller stops
   * and waits for `onDrain`. `cb`, if given, runs once every chunk of the batch was handed
   * to the OS, or failed. A transport never calls `cb` synchronously.
   *
   * `chunks` is the caller's array (the sender reuses one for its whole life, so that a
   * write allocates nothing): a transport reads it during the call and keeps no reference
   * to the array itself, only to the chunks.
   */
  write(chunks: readonly Uint8Array[], cb?: WriteCallback): boolean;

  /**
   * Whether a chunk's bytes may be reused by the caller as soon as `bufferedBytes` reads 0
   * after `write()` returned (the kernel copied them). False for a Duplex that may keep a
   * reference to a written chunk (a PassThrough pushes it on).
   */
  readonly reusesWrittenChunks: boolean;

  /**
   * True when a chunk given to `onData` is a view of a buffer the transport reads into
   * again (NativeTransport: one 64 KiB buffer per thread): its bytes are valid only until
   * `onData` returns. The receive path then copies what outlives the call (a message or
   * control payload handed to users, a kept fragment); FrameReader always copies the
   * unparsed tail it keeps. Absent or false: a chunk is the sink's to keep (Node's streams).
   */
  readonly chunksAreBorrowed?: boolean;

  /** Bytes accepted by `write()` and not yet handed to the OS. */
  readonly bufferedBytes: number;

  /** True while a `write()` returned false and `onDrain` has not been called yet. */
  readonly needsDrain: boolean;

  /** False once `end()` or `destroy()` was called, or the stream failed or closed. */
  readonly writable: boolean;

  /** True once `destroy()` was called or the stream closed. */
  readonly destroyed: boolean;

  /** Stops reading from the peer (TCP backpressure builds up on its side). */
  pause(): void;
  /** Reads again after `pause()`. */
  resume(): void;

  /** Writes what is queued, then closes the sending side (TCP FIN). `onClose` follows later. */
  end(): void;

  /** Closes now, dropping anything queued; `onClose(false)` follows on a later tick. */
  destroy(): void;

  /**
   * Optional: calls `cb` (on a later tick) once `end()` was called and everything written
   * before it was handed to the OS (a Writable's 'finish'); returns true instead, without
   * calling `cb`, when that already happened. A connection over a transport without it
   * waits for its close instead. createWebSocketStream() waits for this before it ends.
   */
  onceFinished?(cb: () => void): boolean;

  /** The peer's address, when the stream has one (TCP). */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}
