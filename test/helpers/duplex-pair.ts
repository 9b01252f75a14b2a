/**
 * Two connected in-memory Duplex streams: what one end writes, the other reads; ending one
 * end's writable side ends the other's readable side (a TCP FIN). No sockets, no ports.
 * Node 22's `stream.duplexPair()` does the same; the project supports Node 20.
 */
import { Duplex } from 'node:stream';

class PairEnd extends Duplex {
  other: PairEnd | null = null;

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    // A copy: the writer may reuse its buffer once the write completed (a socket's kernel
    // copy does the same).
    this.other?.push(Buffer.from(chunk));
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.other?.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // A reset: the peer sees the end of its input (its 'end', then 'close').
    const other = this.other;
    this.other = null;
    if (other !== null && !other.readableEnded) other.push(null);
    cb(err);
  }
}

/** Returns [a, b]: bytes written to a are read from b and the other way round. */
export function duplexPair(): [Duplex, Duplex] {
  const a = new PairEnd();
  const b = new PairEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}
