/**
 * WebSocketServer with ws's options and events: standalone (its own http.Server), attached
 * to an existing http/https server, or `noServer` with handleUpgrade(). Beyond ws: a
 * handshake timeout on the shared timer wheel, close() that sends 1001 to every client and
 * resolves when they are all closed, and broadcast() of a message framed once.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { attachCounters, serverStats, serverUpgrade, ServerCounters, type WebSocketServerStats } from './diagnostics';
import { DEFAULT_HANDSHAKE_TIMEOUT } from '../limits';
import { PreparedMessage, type PublishOptions } from './broadcast';
import { openTransport, resolveTransportChoice, type TransportChoice } from './transport-select';
import { connectionSettings, type WebSocketOptions } from './options';
import type { BroadcastOptions, ServerOptions, WebSocketServerEventMap } from './server-options';
import {
  abortHandshake,
  acceptLines,
  HandshakeRefusal,
  planUpgrade,
  type UpgradePlan,
  type VerifyClientAsync,
  type VerifyClientSync,
} from './server-upgrade';
import type { SendData } from './send-data';
import { armHandshakeTimer, beginHandshake, endHandshake, type HandshakeSocket, inHandshake, wasUpgraded } from './server-handshake';
import { kServer } from './topic-membership';
import { TopicRegistry } from './topics';
import { kConnection } from './transport-connection';
import { WebSocket } from './websocket';

export type { VerifyClientAsync, VerifyClientInfo, VerifyClientSync } from './server-upgrade';
export type { BroadcastOptions, ServerOptions, WebSocketServerEventMap } from './server-options';

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

type ServedWebSocket = WebSocket & { [kServer]?: WebSocketServer };
/** Marks a WebSocketServer's 'upgrade' listener on an http server, with its server. */
const kOwner = Symbol('wscore.upgradeOwner');
type UpgradeListener = ((req: http.IncomingMessage, socket: Duplex, head: Buffer) => void) & { [kOwner]?: WebSocketServer };

// Shared by every connection (no closure per connection: see ./server-handshake.ts).
function onClientClose(this: ServedWebSocket): void {
  this[kServer]?.forgetClient(this);
}

/**
 * A WebSocket server, API-compatible with ws's WebSocketServer. `T`: the class of its
 * connections (the `WebSocket` option), generic as in @types/ws.
 */
export class WebSocketServer<T extends typeof WebSocket = typeof WebSocket> extends EventEmitter<WebSocketServerEventMap<InstanceType<T>>> {
  /**
   * The connected clients. Typed as a Set, as @types/ws types it, so code written for ws
   * compiles under `strict`; with `clientTracking: false` it is undefined at run time, as in ws.
   */
  readonly clients: Set<InstanceType<T>>;
  readonly options: Readonly<ServerOptions<T>>;
  /** The topics of this server's connections (ws.subscribe(), publish()): ./topics.ts. */
  readonly topics = new TopicRegistry();
  private readonly all = new Set<WebSocket>();
  private readonly handshakes = new Set<Duplex>();
  private server: http.Server | https.Server | null = null;
  private readonly ownServer: boolean;
  private state = RUNNING;
  private readonly unbind: Array<() => void> = [];
  private closing: Promise<void> | null = null;
  private readonly WebSocketClass: T;
  private readonly handshakeTimeout: number;
  private readonly maxPayload: number;
  private readonly connectionOptions: WebSocketOptions;
  /** The counters behind stats() (./diagnostics.ts). */
  private readonly counters = new ServerCounters();
  /** The `transport` option and WSCORE_TRANSPORT, resolved once (./transport-select.ts). */
  private readonly transportChoice: TransportChoice;

  constructor(options: ServerOptions<T>, callback?: () => void) {
    super();
    // No options at all gets the same TypeError as ws (not a property read of undefined).
    options ??= {};
    const modes = Number(options.port !== undefined) + Number(options.server !== undefined) + Number(options.noServer === true);
    if (modes !== 1) throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    this.options = { ...options };
    this.clients = (options.clientTracking === false ? undefined : new Set()) as Set<InstanceType<T>>;
    this.WebSocketClass = options.WebSocket ?? (WebSocket as T);
    this.handshakeTimeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    this.transportChoice = resolveTransportChoice(options.transport);
    this.maxPayload = connectionSettings(options).maxPayload;
    const { maxPayload, maxFragments, closeTimeout, highWaterMark, maxBufferedAmount, heartbeat, rawFrames, autoPong, maxPendingAutoPongs } = options;
    // Frozen: every connection then shares one checked ConnectionSettings (connectionSettings).
    this.connectionOptions = Object.freeze({ maxPayload, maxFragments, closeTimeout, highWaterMark, maxBufferedAmount, heartbeat, rawFrames, autoPong, maxPendingAutoPongs });
    this.ownServer = options.port !== undefined;
    if (options.port !== undefined) {
      const server = http.createServer({ maxHeaderSize: options.maxHeaderSize ?? 16384 }, (_req, res) => {
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
      server.on('connection', (socket: Duplex) => armHandshakeTimer(socket, this.handshakeTimeout));
      server.listen(options.port, options.host, options.backlog, callback);
      this.server = server;
    } else if (options.server !== undefined) {
      this.server = options.server;
    }
    if (this.server !== null) {
      const server = this.server;
      const onListening = (): void => {
        this.emit('listening');
      };
      const onError = (err: Error): void => {
        this.emit('error', err);
      };
      const onUpgrade: UpgradeListener = (req, socket, head) => {
        // Attached to a shared server, a request for another path is left to the listener it
        // is for (another WebSocketServer whose path it is, or the application's own).
        // When no one else wants it, it is refused with 400 (as ws does), never left hanging.
        if (!this.ownServer && !this.shouldHandle(req)) {
          if (inHandshake(socket) || socket.destroyed) return;
          const others = server.listeners('upgrade') as UpgradeListener[];
          if (others.some((l) => l !== onUpgrade && (l[kOwner] === undefined || l[kOwner].shouldHandle(req)))) return;
        }
        this.handleUpgrade(req, socket, head, (ws, request) => this.emit('connection', ws, request));
      };
      onUpgrade[kOwner] = this;
      server.on('listening', onListening);
      server.on('error', onError);
      server.on('upgrade', onUpgrade);
      this.unbind.push(() => {
        server.removeListener('listening', onListening);
        server.removeListener('error', onError);
        server.removeListener('upgrade', onUpgrade);
      });
    }
  }

  /** The address the server listens on (as http.Server#address()). */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    return this.server === null ? null : this.server.address();
  }

  /** Whether `req` is for this server's `path` (ws's shouldHandle; override to customise). */
  shouldHandle(req: http.IncomingMessage): boolean {
    const path = this.options.path;
    if (path === undefined) return true;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    return (q === -1 ? url : url.slice(0, q)) === path;
  }

  /** @internal A socket closed before or during its handshake. */
  forgetHandshake(socket: Duplex): void {
    this.handshakes.delete(socket);
  }

  /** @internal A connection of this server closed. */
  forgetClient(ws: WebSocket): void {
    this.all.delete(ws);
    this.clients?.delete(ws as InstanceType<T>);
    this.topics.unsubscribeAll(ws);
  }

  /**
   * Completes the opening handshake of an upgrade request and calls `cb` with the new
   * WebSocket. Rejected requests are answered (400, 401, 426, 431, ...) and closed.
   */
  handleUpgrade(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: InstanceType<T>, request: http.IncomingMessage) => void,
  ): void {
    const s = socket as HandshakeSocket;
    serverUpgrade(this, this.counters, req, socket);
    beginHandshake(s, this, this.handshakeTimeout);
    this.handshakes.add(s);
    if (!this.shouldHandle(req)) {
      this.refuse(s, req, new HandshakeRefusal(400, 'Bad Request: wrong path'));
      return;
    }
    let plan: UpgradePlan;
    try {
      plan = planUpgrade(req, {
        perMessageDeflate: this.options.perMessageDeflate ? (this.options.perMessageDeflate === true ? {} : this.options.perMessageDeflate) : false,
        maxPayload: this.maxPayload,
        maxHeaderCount: this.options.maxHeaderCount ?? 100,
      });
    } catch (err) {
      this.refuse(s, req, err instanceof HandshakeRefusal ? err : new HandshakeRefusal(400, String(err)));
      return;
    }
    const verify = this.options.verifyClient;
    if (verify === undefined) {
      this.completeUpgrade(plan, req, s, head, cb);
      return;
    }
    const info = {
      origin: req.headers.origin,
      secure: Boolean((req.socket as { authorized?: boolean; encrypted?: boolean }).authorized || (req.socket as { encrypted?: boolean }).encrypted),
      req,
    };
    try {
      if (verify.length === 2) {
        (verify as VerifyClientAsync)(info, (verified, code, message, headers) => {
          if (!verified) {
            plan.deflate?.dispose?.();
            abortHandshake(s, code ?? 401, message, headers);
            return;
          }
          this.completeUpgrade(plan, req, s, head, cb);
        });
        return;
      }
      if (!(verify as VerifyClientSync)(info)) {
        plan.deflate?.dispose?.();
        abortHandshake(s, 401);
        return;
      }
    } catch (err) {
      plan.deflate?.dispose?.();
      abortHandshake(s, 500);
      this.handlerError(err);
      return;
    }
    this.completeUpgrade(plan, req, s, head, cb);
  }

  /**
   * An application callback (verifyClient, handleProtocols) threw during a handshake: the
   * request got 500; the error goes to 'error' listeners, or becomes a process warning — an
   * unhandled 'error' event would throw and take the whole server down over one request
   * whose content the callback did not expect.
   */
  private handlerError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else process.emitWarning(e);
  }

  private refuse(socket: Duplex, req: http.IncomingMessage, refusal: HandshakeRefusal): void {
    if (this.listenerCount('wsClientError') > 0) {
      const err = Object.assign(new Error(refusal.message), { statusCode: refusal.statusCode });
      this.emit('wsClientError', err, socket, req);
      return;
    }
    abortHandshake(socket, refusal.statusCode, refusal.message, refusal.headers);
  }

  private completeUpgrade(
    plan: UpgradePlan,
    req: http.IncomingMessage,
    socket: HandshakeSocket,
    head: Buffer,
    cb: (ws: InstanceType<T>, request: http.IncomingMessage) => void,
  ): void {
    if (socket.destroyed || !socket.readable || !socket.writable) {
      plan.deflate?.dispose?.();
      socket.destroy();
      return;
    }
    if (wasUpgraded(socket)) throw new Error('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    if (this.state !== RUNNING) {
      plan.deflate?.dispose?.();
      abortHandshake(socket, 503);
      return;
    }
    let protocol: string | null = null;
    let lines: string[];
    try {
      if (plan.protocols.size > 0) {
        const chosen = this.options.handleProtocols ? this.options.handleProtocols(plan.protocols, req) : plan.protocols.values().next().value!;
        protocol = chosen === false ? null : chosen;
      }
      // Throws if handleProtocols answered something that is not a token (a value with CR/LF
      // would otherwise inject header lines): the request fails with 500, the server lives.
      lines = acceptLines(plan, protocol);
    } catch (err) {
      plan.deflate?.dispose?.();
      abortHandshake(socket, 500);
      this.handlerError(err);
      return;
    }
    this.emit('headers', lines, req);
    this.handshakes.delete(socket);
    endHandshake(socket);

    const ws = new this.WebSocketClass(null, undefined, this.connectionOptions) as InstanceType<T>;
    const connection = ws[kConnection];
    connection.setNegotiated(protocol ?? '', plan.extensionsHeader ?? '', plan.deflate);
    // Before the 101 is queued: on the native transport the response goes out through it,
    // in the same write as what the 'connection' handler sends, with nothing left in Node's socket.
    const opened = openTransport(socket, head, this.transportChoice);
    connection.attach(opened.transport, opened.head, 'server');
    attachCounters(connection, this.counters);
    this.all.add(ws);
    this.clients?.add(ws);
    (ws as ServedWebSocket)[kServer] = this;
    ws.on('close', onClientClose);
    // The 101 and whatever the connection handler sends leave in one write.
    connection.cork();
    connection.sendPreamble(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
    try {
      cb(ws, req);
    } catch (err) {
      connection.fail(1011, 'internal error', err instanceof Error ? err : new Error(String(err)), true);
    }
    connection.uncork();
  }

  /**
   * Counters for dashboards (docs/diagnostics.md): open connections, handshakes in
   * progress, messages and bytes in and out, drops, refusals, and the bytes waiting to be
   * written now. Counting is plain increments; this call walks the connections once.
   */
  stats(): WebSocketServerStats {
    let pendingBytes = 0;
    for (const ws of this.all) pendingBytes += ws[kConnection].wireBacklog;
    return serverStats(this.counters, this.all.size, this.handshakes.size, pendingBytes);
  }

  /**
   * Sends one message to every open client (or those `filter` accepts): framed once, and
   * compressed once per distinct set of deflate parameters where the connection allows it.
   * Returns the number of clients it was queued for.
   */
  broadcast(data: SendData | PreparedMessage, options: BroadcastOptions = {}): number {
    const message = data instanceof PreparedMessage ? data : new PreparedMessage(data, options);
    let n = 0;
    for (const ws of this.all) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (options.filter !== undefined && !options.filter(ws)) continue;
      message.sendTo(ws);
      n++;
    }
    return n;
  }

  /**
   * Sends one message to every open subscriber of `topic`, framed (and compressed) once as
   * broadcast() does. Returns how many connections it was queued to (0 for a topic without
   * subscribers). From a connection, `ws.publish()` leaves out the sender.
   */
  publish(topic: string, data: SendData | PreparedMessage, options?: PublishOptions): number {
    return this.topics.publish(topic, data, options);
  }

  /**
   * Stops accepting connections, sends 1001 (going away) to every client, and resolves when
   * all of them are closed and the server (when it created one) is closed. Emits 'close'.
   */
  close(cb?: (err?: Error) => void): Promise<void> {
    if (this.state === CLOSED) {
      // As ws: 'close' again (code waiting for it must not hang), and the callback gets an error.
      const err = new Error('The server is not running');
      process.nextTick(() => {
        this.emit('close');
        if (cb) cb(err);
      });
      return Promise.resolve();
    }
    if (this.closing === null) {
      this.state = CLOSING;
      for (const fn of this.unbind) fn();
      for (const socket of this.handshakes) socket.destroy();
      this.handshakes.clear();
      const waits: Array<Promise<unknown>> = [];
      for (const ws of this.all) {
        waits.push(ws.closed);
        ws.close(1001, 'server shutting down');
      }
      const server = this.server;
      if (this.ownServer && server !== null) {
        waits.push(new Promise<void>((resolve) => server.close(() => resolve())));
        server.closeIdleConnections?.();
      }
      this.closing = Promise.all(waits).then(() => {
        this.state = CLOSED;
        this.emit('close');
      });
    }
    if (cb) this.closing.then(() => cb(), cb);
    return this.closing;
  }
}
