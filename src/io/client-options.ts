/**
 * The options of a client WebSocket (`new WebSocket(url, protocols, options)`, `connect()`),
 * and what the client handshake code (client.ts, http2-client.ts) needs of the WebSocket.
 */
import type * as http from 'node:http';
import type * as https from 'node:https';

import { createDeflate, type DeflateExtension, type PerMessageDeflateOptions } from './deflate-glue';
import type { WebSocketEventMap } from './events';
import type { WebSocketOptions } from './options';
import type { TransportChoice } from './transport-select';
import type { ProxyOption } from './proxy';
import type { Target } from './client-url';
import type { ReconnectOptions } from './reconnect-policy';
import type { kConnection, TransportConnection } from './transport-connection';

/** Options of a client connection (`new WebSocket(url, protocols, options)`, `connect()`). */
export interface ClientOptions
  extends WebSocketOptions,
    Omit<https.RequestOptions, 'headers' | 'timeout' | 'protocol' | 'path' | 'method' | 'host' | 'hostname' | 'port' | 'socketPath'> {
  /** Extra request headers (cookies, auth...). */
  headers?: http.OutgoingHttpHeaders;
  /** The Origin header (RFC 6455 §10.2). */
  origin?: string;
  /** Offer permessage-deflate (RFC 7692): true (default), false, or its options. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Fail the handshake after this many ms (default 10,000). */
  handshakeTimeout?: number;
  /** Follow 3xx redirects (default false). */
  followRedirects?: boolean;
  /** How many redirects to follow at most (default 10). */
  maxRedirects?: number;
  /** Only 13 is spoken (RFC 6455 §4.1); anything else throws. */
  protocolVersion?: number;
  /** Subprotocols to offer (for connect(); the constructor takes them as its 2nd argument). */
  protocols?: string | string[];
  /**
   * WebSocket over HTTP/2 (RFC 8441, docs/http2.md): `true` opens an HTTP/2 connection
   * (h2 over TLS for wss:, h2c with prior knowledge for ws:) and fails with
   * ExtendedConnectUnsupportedError when the server does not advertise the extended CONNECT;
   * `'auto'` falls back to HTTP/1.1 then, and when the server does not speak HTTP/2 at all.
   * Default false. Options of Node's http client (`agent`, `createConnection`,
   * `finishRequest`) do not apply to the HTTP/2 request.
   */
  http2?: boolean | 'auto';
  /** Called with the request before it is sent (ws's `finishRequest`); must call `request.end()`. */
  finishRequest?: (request: http.ClientRequest, websocket: unknown) => void;
  /**
   * Connect through a proxy: 'http://user:pass@host:port' (CONNECT), 'socks5://...' or
   * 'socks5h://...' (the proxy resolves the name); `true`: the one the environment names
   * (https_proxy, ..., no_proxy); `false`: none. Default: the environment's when
   * NODE_USE_ENV_PROXY=1, else none (docs/client.md).
   */
  proxy?: ProxyOption;
  /**
   * `new WebSocket()`: reconnect with backoff when the connection drops (docs/client.md).
   * `connect()`: the backoff of `for await (const ws of connect(url))`.
   */
  reconnect?: boolean | ReconnectOptions;
  /**
   * Which transport carries the connection once upgraded: 'auto' (default), 'native' or
   * 'node', as WebSocketServer's option (docs/transports.md); WSCORE_TRANSPORT overrides it.
   */
  transport?: TransportChoice;
}

/** What a WebSocket must offer for the client code (the façade, seen from below). */
export interface ClientSocket {
  readonly [kConnection]: TransportConnection;
  _url: string;
  emit<K extends keyof WebSocketEventMap>(event: K, ...args: WebSocketEventMap[K]): boolean;
  listenerCount(event: string): number;
}

/**
 * What both client handshakes (HTTP/1.1, ./client.ts; HTTP/2, ./http2-client.ts) offer and
 * send: the permessage-deflate offer (RFC 7692; none with `perMessageDeflate: false`), and the
 * extra headers with the URL's user information as `Authorization: Basic` unless one was given.
 */
export function clientOffer(
  options: ClientOptions,
  target: Target,
  extra: Array<[string, string]>,
  maxPayload: number,
): { deflate: DeflateExtension | null; headers: Array<[string, string]> } {
  const deflate = options.perMessageDeflate === false ? null : createDeflate(options.perMessageDeflate === true ? {} : options.perMessageDeflate ?? {}, false, maxPayload);
  const headers = target.auth !== undefined && !extra.some(([n]) => n.toLowerCase() === 'authorization')
    ? [...extra, ['Authorization', `Basic ${Buffer.from(target.auth).toString('base64')}`] as [string, string]]
    : extra;
  return { deflate, headers };
}
