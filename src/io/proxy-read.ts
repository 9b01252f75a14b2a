/**
 * Reading a proxy's reply off the socket the tunnel will run over: bytes are pulled with
 * read() (no 'data' listener, so the stream is left neither flowing nor paused for whoever
 * takes the socket next), and bytes past the reply are put back with unshift().
 */
import type { Duplex } from 'node:stream';

/**
 * Resolves with the reply once `complete(buffered)` returns its length (-1: need more).
 * Rejects with `tooLong()` past `limit` bytes, with the socket's error, or with `closed()`
 * when the proxy closes first.
 */
export function readReply(socket: Duplex, complete: (buffered: Buffer) => number, limit: number, tooLong: () => Error, closed: () => Error): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (err: Error | null, reply?: Buffer): void => {
      socket.removeListener('readable', onReadable);
      socket.removeListener('error', onError);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      if (err !== null) reject(err);
      else resolve(reply!);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const length = complete(buffered);
        if (length >= 0) {
          if (length < buffered.length) socket.unshift(buffered.subarray(length));
          finish(null, buffered.subarray(0, length));
          return;
        }
        if (buffered.length > limit) {
          finish(tooLong());
          return;
        }
      }
    };
    const onError = (err: Error): void => finish(err);
    const onEnd = (): void => finish(closed());
    socket.on('readable', onReadable);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  });
}
