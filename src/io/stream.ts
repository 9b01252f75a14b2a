/**
 * ws's `createWebSocketStream`: a Duplex over a WebSocket, for piping. Each message becomes a
 * readable chunk; each written chunk is sent as one message. Reading backpressure pauses the
 * socket (TCP then slows the peer); ending the writable side closes the connection normally.
 */
import { Duplex, type DuplexOptions } from 'node:stream';

import type { WebSocket } from './websocket';

/** Wraps `ws` in a Duplex stream (see the module comment). */
export function createWebSocketStream(ws: WebSocket, options: DuplexOptions = {}): Duplex {
  const whenOpen = (fn: () => void): void => {
    if (ws.readyState === ws.CONNECTING) ws.once('open', fn);
    else fn();
  };
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer | string, _encoding, callback) {
      whenOpen(() => {
        ws.send(chunk, (err) => callback(err ?? null));
      });
    },
    final(callback) {
      whenOpen(() => {
        if (ws.readyState === ws.CLOSED) {
          callback();
          return;
        }
        ws.once('close', () => callback());
        ws.close();
      });
    },
    destroy(err, callback) {
      if (ws.readyState === ws.CLOSED) {
        callback(err);
        return;
      }
      ws.once('close', () => callback(err));
      ws.terminate();
    },
  });
  ws.on('message', (data, isBinary) => {
    const chunk = !isBinary && duplex.readableObjectMode ? (data as Buffer).toString() : data;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once('error', (err) => {
    if (!duplex.destroyed) duplex.destroy(err);
  });
  ws.once('close', () => {
    if (!duplex.destroyed) duplex.push(null);
  });
  return duplex;
}
