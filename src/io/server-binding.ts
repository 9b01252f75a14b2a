/**
 * How a WebSocketServer meets its http server: the standalone server it creates for the
 * `port` option, and the listeners it puts on any http/https server ('upgrade', 'listening',
 * 'error'), removed again by close(). Apart from ./server.ts to keep that file about the
 * handshake and the connections.
 */
import * as http from 'node:http';
import type * as https from 'node:https';
import type { Duplex } from 'node:stream';

import { DEFAULT_HTTP_LIMITS } from '../limits';
import { armHandshakeTimer, inHandshake } from './server-handshake';
import { abortHandshake } from './server-upgrade';

/** The options listenStandalone reads (those of ServerOptions). */
interface StandaloneOptions {
  port?: number;
  host?: string;
  backlog?: number;
  maxHeaderSize?: number;
}

/** The http.Server of a standalone WebSocketServer (the `port` option), listening. */
export function listenStandalone(options: StandaloneOptions, handshakeTimeout: number, callback?: () => void): http.Server {
  const server = http.createServer({ maxHeaderSize: options.maxHeaderSize ?? DEFAULT_HTTP_LIMITS.maxHeaderSize }, (_req, res) => {
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
  server.listen(options.port, options.host, options.backlog, callback);
  return server;
}

/** What bindUpgrades needs of its WebSocketServer. */
export interface UpgradeTarget {
  shouldHandle(req: http.IncomingMessage): boolean;
  /** An upgrade request for this server (handleUpgrade, then 'connection'). */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  listening(): void;
  error(err: Error): void;
}

/** Marks a WebSocketServer's 'upgrade' listener on an http server, with its target. */
const kOwner = Symbol('wscore.upgradeOwner');
type UpgradeListener = ((req: http.IncomingMessage, socket: Duplex, head: Buffer) => void) & { [kOwner]?: UpgradeTarget };

/** Listens on `server` for `target`; returns what removes those listeners. */
export function bindUpgrades(target: UpgradeTarget, server: http.Server | https.Server, ownServer: boolean): () => void {
  const onListening = (): void => target.listening();
  const onError = (err: Error): void => target.error(err);
  const onUpgrade: UpgradeListener = (req, socket, head) => {
    // Attached to a shared server, a request for another path is left to the listener it
    // is for (another WebSocketServer whose path it is, or the application's own).
    // When no one else wants it, it is refused with 400 (as ws does), never left hanging.
    if (!ownServer && !target.shouldHandle(req)) {
      if (inHandshake(socket) || socket.destroyed) return;
      const others = server.listeners('upgrade') as UpgradeListener[];
      if (others.some((l) => l !== onUpgrade && (l[kOwner] === undefined || l[kOwner].shouldHandle(req)))) return;
    }
    target.upgrade(req, socket, head);
  };
  onUpgrade[kOwner] = target;
  server.on('listening', onListening);
  server.on('error', onError);
  server.on('upgrade', onUpgrade);
  return () => {
    server.removeListener('listening', onListening);
    server.removeListener('error', onError);
    server.removeListener('upgrade', onUpgrade);
  };
}
