/**
 * WebSocketServer with ws's options and events: standalone (its own http.Server), attached
 * to an existing http/https server, or `noServer` with handleUpgrade(). Beyond ws: a
 * handshake timeout on the shared timer wheel, close() that sends 1001 to every client and
 * resolves when they are all closed, and broadcast() of a message framed once.
 */
import { EventEmitter } from 'node:events';
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import type * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { attachCounters, serverStats, serverUpgrade, ServerCounters, type WebSocketServerStats } from './diagnostics';
import { DEFAULT_HANDSHAKE_TIMEOUT } from '../limits';
import { broadcast, type PreparedMessage, type PublishOptions } from './broadcast';
import { bindUpgrades, listenStandalone } from './server-binding';
import { openTransport, resolveTransportChoice, type TransportChoice } from './transport-select';
import { connectionSettings, type WebSocketOptions } from './options';
import { sharedConnectionOptions, type BroadcastOptions, type ServerOptions, type WebSocketServerEventMap } from './server-options';
import { attachHttp2, HTTP2, http2Request, isHttp2Server } from './http2-upgrade';
import {
  HandshakeRefusal,
  HTTP11,
  type HandshakeDialect,
  type UpgradePlan,
  runVerifyClient,
  type Refuse,
} from './server-upgrade';
import type { SendData } from './send-data';
import { beginHandshake, endHandshake, type HandshakeSocket, wasUpgraded } from './server-handshake';
import { kServer } from './topic-membership';
import { TopicRegistry } from './topics';
import type { PubSubAdapter } from './pubsub';
import { handleTopicRequest } from './topic-requests';
import type { RawData } from './events';
import { kConnection } from './transport-connection';
import { WebSocket } from './websocket';

export type { VerifyClientAsync, VerifyClientInfo, VerifyClientSync } from './server-upgrade';
export type { BroadcastOptions, ServerOptions, WebSocketServerEventMap } from './server-options';

const EMPTY_HEAD = Buffer.alloc(0);
const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

type ServedWebSocket = WebSocket & { [kServer]?: WebSocketServer };

// Shared by every connection (no closure per connection: see ./server-handshake.ts).
function onClientClose(this: ServedWebSocket): void {
  this[kServer]?.forgetClient(this);
}
function onTopicRequest(this: ServedWebSocket, data: RawData, isBinary: boolean): void {
  this[kServer]?.handleTopicRequest(this, data, isBinary);
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
  /** The `pubsub` option's adapter (closed by close()), or null. */
  readonly pubsub: PubSubAdapter | null;
  private readonly all = new Set<WebSocket>();
  private readonly handshakes = new Set<Duplex>();
  private server: http.Server | https.Server | null = null;
  private readonly ownServer: boolean;
  private state = RUNNING;
  private readonly unbind: Array<() => void> = [];
  private closing: Promise<void> | null = null;
  private readonly WebSocketClass: T;
  private readonly handshakeTimeout: number;
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
    this.pubsub = options.pubsub ?? null;
    // A pub/sub failure (a publish not sent, the bus lost): 'error' when listened to, else a
    // process warning (loud on stderr, yet not fatal to every connection).
    this.topics.configure(options, (err) => (this.listenerCount('error') > 0 ? this.emit('error', err) : process.emitWarning(err)));
    this.transportChoice = resolveTransportChoice(options.transport);
    this.connectionOptions = sharedConnectionOptions(options);
    this.ownServer = options.port !== undefined;
    if (options.port !== undefined) {
      this.server = listenStandalone(options, this.handshakeTimeout, callback);
    } else if (options.server !== undefined) {
      // An http2 server offers what is used here (listen events, 'upgrade' with allowHTTP1,
      // address()) under the same names.
      this.server = options.server as http.Server;
      if (isHttp2Server(options.server)) this.unbind.push(attachHttp2(options.server, this));
    }
    if (this.server !== null) {
      this.unbind.push(
        bindUpgrades(
          {
            shouldHandle: (req) => this.shouldHandle(req),
            upgrade: (req, socket, head) => this.handleUpgrade(req, socket, head, (ws, request) => this.emit('connection', ws, request)),
            listening: () => this.emit('listening'),
            error: (err) => this.emit('error', err),
          },
          this.server,
          this.ownServer,
        ),
      );
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
    this.runHandshake(HTTP11, req, socket, head, cb);
  }

  /**
   * Completes an RFC 8441 extended CONNECT (`:protocol websocket`) on an HTTP/2 stream, as
   * handleUpgrade() does an HTTP/1.1 upgrade: for `noServer` users, from an http2 server's
   * 'stream' event (created with `settings: { enableConnectProtocol: true }`). Refusals are
   * answered on the stream (400, 401, 426, ...). The request given to `cb` is an
   * `http2.Http2ServerRequest` (`httpVersion` '2.0', `stream`), typed as IncomingMessage.
   */
  handleStream(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    cb: (ws: InstanceType<T>, request: http.IncomingMessage) => void,
  ): void {
    this.runHandshake(HTTP2, http2Request(stream, headers), stream, EMPTY_HEAD, cb);
  }

  /** @internal A server attached to an http2 server got an extended CONNECT for it. */
  handleStreamRequest(stream: http2.ServerHttp2Stream, req: http.IncomingMessage): void {
    this.runHandshake(HTTP2, req, stream, EMPTY_HEAD, (ws, request) => this.emit('connection', ws, request));
  }

  private runHandshake(
    dialect: HandshakeDialect,
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
      this.refuse(dialect, s, req, new HandshakeRefusal(400, 'Bad Request: wrong path'));
      return;
    }
    let plan: UpgradePlan;
    try {
      plan = dialect.plan(req, {
        perMessageDeflate: this.options.perMessageDeflate ? (this.options.perMessageDeflate === true ? {} : this.options.perMessageDeflate) : false,
        // Checked once and cached (the options are frozen): a RangeError came from the constructor.
        maxPayload: connectionSettings(this.connectionOptions).maxPayload,
        maxHeaderCount: this.options.maxHeaderCount ?? 100,
      });
    } catch (err) {
      this.refuse(dialect, s, req, err instanceof HandshakeRefusal ? err : new HandshakeRefusal(400, String(err)));
      return;
    }
    const refuse: Refuse = (code, message, headers) => {
      plan.deflate?.dispose?.();
      dialect.refuse(s, code, message, headers);
    };
    runVerifyClient(this.options.verifyClient, req, () => this.completeUpgrade(dialect, plan, req, s, head, cb), refuse, (err) => {
      refuse(500);
      this.handlerError(err);
    });
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

  private refuse(dialect: HandshakeDialect, socket: Duplex, req: http.IncomingMessage, refusal: HandshakeRefusal): void {
    if (this.listenerCount('wsClientError') > 0) {
      const err = Object.assign(new Error(refusal.message), { statusCode: refusal.statusCode });
      this.emit('wsClientError', err, socket, req);
      return;
    }
    dialect.refuse(socket, refusal.statusCode, refusal.message, refusal.headers);
  }

  private completeUpgrade(
    dialect: HandshakeDialect,
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
      dialect.refuse(socket, 503);
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
      lines = dialect.acceptLines(plan, protocol);
    } catch (err) {
      plan.deflate?.dispose?.();
      dialect.refuse(socket, 500);
      this.handlerError(err);
      return;
    }
    this.emit('headers', lines, req);
    let response: Buffer | null;
    try {
      response = dialect.accept(socket, lines);
    } catch {
      // The stream or session went away between the checks above and the response: a
      // network event, like a socket that closes during the handshake.
      plan.deflate?.dispose?.();
      socket.destroy();
      return;
    }
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
    // Before the application's listeners: a subscribe is in place when its 'message' runs.
    if (this.options.topicRequests) ws.on('message', onTopicRequest);
    // The 101 and whatever the connection handler sends leave in one write.
    connection.cork();
    if (response !== null) connection.sendPreamble(response);
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
    return broadcast(this.all, data, options);
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
   * Handles `data` if it is a topic request (`{"wscore":...}`, docs/scale-out.md) from `ws`
   * and returns true; else returns false. Called for every message with the `topicRequests`
   * option; callable by hand without it (e.g. after an application-level check).
   */
  handleTopicRequest(ws: WebSocket, data: RawData | string, isBinary: boolean): boolean {
    const options = this.options.topicRequests;
    return handleTopicRequest(this.topics, ws, data, isBinary, typeof options === 'object' ? options : {});
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
      const pubsub = this.pubsub;
      // The adapter closes after the clients: their last unsubscribes go out first.
      this.closing = Promise.all(waits).then(async () => {
        if (pubsub !== null) await pubsub.close();
        this.state = CLOSED;
        this.emit('close');
      });
    }
    if (cb) this.closing.then(() => cb(), cb);
    return this.closing;
  }
}
