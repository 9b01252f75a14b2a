/**
 * ws's `createWebSocketStream`: a Duplex over a WebSocket, for piping. Each message becomes a
 * readable chunk; each written chunk is sent as one message. Reading backpressure pauses the
 * socket (TCP then slows the peer); ending the writable side closes the connection normally.
 *
 * Lifecycle, as with ws: the stream is destroyed (and emits 'close') once the connection is
 * closed and both sides of the stream are done, when the connection fails, or when the
 * stream is destroyed (which terminates the connection unless it already failed).
 */
import { Duplex, type DuplexOptions } from 'node:stream';

import { CLOSED, CONNECTING } from './ready-state';
import { kConnection } from './transport-connection';
import type { WebSocket } from './websocket';

function emitClose(stream: Duplex): void {
  stream.emit('close');
}

/** The readable side ended: once the writable side is done too, the stream is finished. */
function duplexOnEnd(this: Duplex): void {
  if (!this.destroyed && this.writableFinished) this.destroy();
}

/**
 * A stream error destroys the stream. Re-emitted when nobody else listens, so an unhandled
 * error still throws (as an 'error' on any emitter does) instead of being swallowed here.
 */
function duplexOnError(this: Duplex, err: Error): void {
  this.removeListener('error', duplexOnError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', err);
}

/** Wraps `ws` in a Duplex stream (see the module comment). */
export function createWebSocketStream(ws: WebSocket, options: DuplexOptions = {}): Duplex {
  // After a connection error the socket is already being torn down: destroy() must not
  // terminate it again (that would report a second, misleading close).
  let terminateOnDestroy = true;

  const final = (callback: (error?: Error | null) => void): void => {
    if (ws.readyState === CONNECTING) {
      ws.once('open', () => final(callback));
      return;
    }
    const connection = ws[kConnection];
    // The handshake failed: there is no connection to close, and the 'error' that follows
    // destroys the stream.
    if (connection.transport === null) return;
    // Finished once our close frame is written and the transport's writable side is ended.
    if (connection.whenWritingFinished(() => callback())) {
      callback();
      if (duplex.readableEnded) duplex.destroy();
      return;
    }
    ws.close();
  };

  const write = (chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void => {
    if (ws.readyState === CONNECTING) {
      ws.once('open', () => write(chunk, encoding, callback));
      return;
    }
    ws.send(chunk, (err) => callback(err ?? null));
  };

  const duplex: Duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    // Each chunk is a message's bytes; object mode is for the readable side only (text as strings).
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write,
    final,
    destroy(err, callback) {
      if (ws.readyState === CLOSED) {
        callback(err);
        process.nextTick(emitClose, duplex);
        return;
      }
      let called = false;
      ws.once('error', (wsErr) => {
        called = true;
        callback(wsErr);
      });
      ws.once('close', () => {
        if (!called) callback(err);
        process.nextTick(emitClose, duplex);
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });

  ws.on('message', (data, isBinary) => {
    const chunk = !isBinary && duplex.readableObjectMode ? (data as Buffer).toString() : data;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once('error', (err) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(err);
  });
  ws.once('close', () => {
    if (!duplex.destroyed) duplex.push(null);
  });
  duplex.on('end', duplexOnEnd);
  duplex.on('error', duplexOnError);
  return duplex;
}
