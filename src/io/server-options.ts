/**
 * The options and events of {@link WebSocketServer} (./server.ts), and of its broadcast().
 */
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Duplex } from 'node:stream';

import type { PublishOptions } from './broadcast';
import type { PerMessageDeflateOptions } from './deflate-glue';
import type { PubSubAdapter } from './pubsub';
import type { TopicRequestOptions } from './topic-requests';
import type { AnyHttp2Server } from './http2-upgrade';
import { connectionSettings, type WebSocketOptions } from './options';
import type { VerifyClientAsync, VerifyClientSync } from './server-upgrade';
import type { TransportChoice } from './transport-select';
import type { WebSocket } from './websocket';

/** Options of `WebSocketServer#broadcast` (those of {@link PreparedMessage}, and a filter). */
export interface BroadcastOptions extends PublishOptions {
  /** broadcast() only: send to the clients for which this returns true. */
  filter?: (client: WebSocket) => boolean;
}

/**
 * Options of {@link WebSocketServer} (ws's, plus wscore's connection options). `T`: the
 * class of the connections (the `WebSocket` option), as in @types/ws.
 */
export interface ServerOptions<T extends typeof WebSocket = typeof WebSocket> extends WebSocketOptions {
  /** Standalone: the port to listen on (0: any free port). */
  port?: number;
  /** Standalone: the address to listen on. */
  host?: string;
  /** Standalone: the listen backlog. */
  backlog?: number;
  /**
   * Attach to this http, https or http2 server (its 'upgrade' events; on an http2 server
   * also its RFC 8441 extended CONNECT streams: docs/http2.md).
   */
  server?: http.Server | https.Server | AnyHttp2Server;
  /** Create no server: call handleUpgrade() yourself. */
  noServer?: boolean;
  /** Accept only this URL path (without the query). */
  path?: string;
  /** Accept or refuse a client during the handshake (sync or with a callback). */
  verifyClient?: VerifyClientSync | VerifyClientAsync;
  /** Choose a subprotocol among the offered ones (default: the first); false for none. */
  handleProtocols?: (protocols: Set<string>, request: http.IncomingMessage) => string | false;
  /** Keep the set of clients in `clients` (default true). */
  clientTracking?: boolean;
  /** Negotiate permessage-deflate (default false, as ws). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Drop a connection whose handshake is not done after this many ms (default 10,000). */
  handshakeTimeout?: number;
  /** Most header lines in an upgrade request (more: 431). Default 100. */
  maxHeaderCount?: number;
  /** Standalone: largest request head in bytes (larger: 431). Default 16 KiB. */
  maxHeaderSize?: number;
  /**
   * Which transport carries the connections once upgraded (docs/transports.md): 'auto'
   * (default) the native one for plain TCP sockets when available (Linux, native backend),
   * else Node's; 'native' requires it (an error at construction when unavailable); 'node'
   * always Node's. TLS sockets and other Duplexes always use Node's. The WSCORE_TRANSPORT
   * environment variable, when set, overrides this option.
   */
  transport?: TransportChoice;
  /** The class to instantiate for connections (a subclass of WebSocket). */
  WebSocket?: T;
  /**
   * Carry topics across processes through this adapter (e.g. `redisPubSub({ url })`); one
   * adapter per server. Default: topics stay in this process. See docs/scale-out.md.
   */
  pubsub?: PubSubAdapter;
  /**
   * Let clients subscribe themselves, with recovery, through JSON text messages starting
   * `{"wscore":` (the contract: docs/scale-out.md; the wscore client side: TopicClient).
   * Such messages still reach the application's 'message' listeners (isTopicRequest() tells
   * them apart). Default false: no message is looked at.
   */
  topicRequests?: boolean | TopicRequestOptions;
  /**
   * A subscriber whose queue a publish would take past `maxBufferedAmount`: 'close' it with
   * 1008 (default, as any send) or 'skip' it for that message (it stays open; counted in
   * `wss.topics.stats.overflowed`). Market data wants 'skip' (the next tick replaces the
   * missed one); a chat wants 'close' (the client reconnects and recovers).
   */
  slowSubscribers?: 'close' | 'skip';
}

/** The events of a {@link WebSocketServer} whose connections are `W`s. */
export interface WebSocketServerEventMap<W extends WebSocket = WebSocket> {
  /** Extra arguments are allowed: ws's docs re-emit 'connection' with an authenticated user. */
  connection: [socket: W, request: http.IncomingMessage, ...rest: unknown[]];
  /** The 101 response's lines, before they are written: push to add headers. */
  headers: [headers: string[], request: http.IncomingMessage];
  error: [error: Error];
  listening: [];
  close: [];
  /** A handshake failed the request checks (only emitted when listened to; then answer yourself). */
  wsClientError: [error: Error, socket: Duplex, request: http.IncomingMessage];
}


/**
 * The connection options of a server's connections, taken from its options once and frozen:
 * every connection then shares one ConnectionSettings, checked here (options.ts, connectionSettings).
 */
export function sharedConnectionOptions(options: WebSocketOptions): WebSocketOptions {
  const { maxPayload, maxFragments, closeTimeout, highWaterMark, maxBufferedAmount, heartbeat, rawFrames, autoPong, maxPendingAutoPongs } = options;
  const shared = Object.freeze({ maxPayload, maxFragments, closeTimeout, highWaterMark, maxBufferedAmount, heartbeat, rawFrames, autoPong, maxPendingAutoPongs });
  connectionSettings(shared); // checked now: a bad option throws from the constructor (RangeError)
  return shared;
}
