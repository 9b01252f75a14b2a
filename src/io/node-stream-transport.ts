/**
 * The {@link Transport} over a Node stream: a `net.Socket`, a `tls.TLSSocket`, an HTTP/2
 * stream or any other Duplex (what an http 'upgrade' event or `handleUpgrade()` hands over).
 *
 * The stream's listeners are shared by every connection (module-level functions that reach
 * their transport through a symbol on the stream): a closure per connection would cost
 * memory on every idle connection and keep its scope alive.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import type { Transport, TransportSink, WriteCallback } from './transport';

/** The property of a stream that points back to its transport. */
const kTransport: unique symbol = Symbol('wscore.transport');
type OwnedStream = Duplex & { [kTransport]?: NodeStreamTransport };

// The names are checked by test/io/footprint.test.ts (one shared function per event).
function socketOnData(this: OwnedStream, chunk: Buffer): void {
  this[kTransport]?.sink!.onData(chunk);
}
function socketOnEnd(this: OwnedStream): void {
  this[kTransport]?.sink!.onEnd();
}
function socketOnDrain(this: OwnedStream): void {
  this[kTransport]?.sink!.onDrain();
}
function socketOnError(this: OwnedStream): void {
  // A stream error is always followed by 'close', where the connection reports it (1006).
  this.destroy();
}
function socketOnClose(this: OwnedStream, hadError: boolean): void {
  this[kTransport]?.closed(hadError === true);
}

/** @internal */
export class NodeStreamTransport implements Transport {
  readonly kind = 'node' as const;
  readonly reusesWrittenChunks: boolean;
  /** @internal Who hears about the stream (set by attach()). */
  sink: TransportSink | null = null;

  /** `stream`: the upgraded stream, which this transport owns from now on. */
  constructor(readonly stream: Duplex) {
    // A plain TCP or IPC socket's completed writes were copied by the kernel; any other
    // Duplex (TLS encrypts later, a PassThrough pushes the chunk on) may keep the chunk.
    this.reusesWrittenChunks = stream instanceof Socket && (stream as Socket & { encrypted?: boolean }).encrypted !== true;
    const s = stream as Partial<Pick<Socket, 'setNoDelay' | 'setTimeout'>>;
    // Frames are batched by the sender already: Nagle would only delay them.
    if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
    // The connection has its own timers (close timeout, heartbeat).
    if (typeof s.setTimeout === 'function') s.setTimeout(0);
  }

  attach(sink: TransportSink, head: Buffer): void {
    const s = this.stream as OwnedStream;
    this.sink = sink;
    s[kTransport] = this;
    s.on('close', socketOnClose);
    s.on('end', socketOnEnd);
    s.on('error', socketOnError);
    s.on('drain', socketOnDrain);
    // Unshifted, the head is the next 'data' event: flowing starts on a later tick, after
    // the 'open'/'connection' listeners attached their 'message' listeners.
    if (head.length > 0) s.unshift(head);
    s.on('data', socketOnData);
    if (s.isPaused()) s.resume();
  }

  write(chunks: readonly Uint8Array[], cb?: WriteCallback): boolean {
    const s = this.stream;
    const n = chunks.length;
    if (n === 1) return s.write(chunks[0]!, cb);
    // cork() makes the stream hand every chunk to the OS in one writev.
    s.cork();
    for (let i = 0; i < n - 1; i++) s.write(chunks[i]!);
    const ok = s.write(chunks[n - 1]!, cb);
    s.uncork();
    return ok;
  }

  get bufferedBytes(): number {
    return this.stream.writableLength;
  }
  get needsDrain(): boolean {
    return this.stream.writableNeedDrain;
  }
  get writable(): boolean {
    return this.stream.writable && !this.stream.destroyed;
  }
  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  onceFinished(cb: () => void): boolean {
    const s = this.stream;
    if (s.writableFinished) return true;
    s.once('finish', cb);
    return false;
  }

  pause(): void {
    this.stream.pause();
  }
  resume(): void {
    this.stream.resume();
  }
  end(): void {
    const s = this.stream;
    if (!s.destroyed && s.writable) s.end();
  }
  destroy(): void {
    this.stream.destroy();
  }

  get remoteAddress(): string | undefined {
    return (this.stream as Partial<Socket>).remoteAddress;
  }
  get remotePort(): number | undefined {
    return (this.stream as Partial<Socket>).remotePort;
  }

  /** @internal The stream closed: what it still buffers was sent before the close (RFC 6455 §7.1.2). */
  closed(hadError: boolean): void {
    const s = this.stream as OwnedStream;
    const sink = this.sink!;
    let chunk: Buffer | null;
    while ((chunk = s.read() as Buffer | null) !== null) sink.onData(chunk);
    s.removeListener('data', socketOnData);
    s.removeListener('drain', socketOnDrain);
    delete s[kTransport];
    this.sink = null;
    sink.onClose(hadError);
  }
}
