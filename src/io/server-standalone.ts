/**
 * The http.Server a standalone WebSocketServer (`port`) creates for itself: plain HTTP
 * requests get 426, broken request heads a status instead of a crash, and every accepted
 * socket is under the handshake timeout from its first byte.
 */
import * as http from 'node:http';
import type { Duplex } from 'node:stream';

import { armHandshakeTimer } from './server-handshake';
import { abortHandshake } from './server-upgrade';

/** The server, not yet listening. `maxHeaderSize`: largest request head (default 16 KiB). */
export function createStandaloneServer(maxHeaderSize: number | undefined, handshakeTimeout: number): http.Server {
  const server = http.createServer({ maxHeaderSize: maxHeaderSize ?? 16384 }, (_req, res) => {
    // A plain HTTP request to a WebSocket-only server (RFC 7231 §6.5.15).
    const body = http.STATUS_CODES[426]!;
    res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
    res.end(body);
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    // Malformed or oversized heads: 431 when the head is too large, else 400; no crash.
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_REQUEST_TIMEOUT' ? 408 : 400;
    abortHandshake(socket, code);
  });
  server.on('connection', (socket: Duplex) => armHandshakeTimer(socket, handshakeTimeout));
  return server;
}
