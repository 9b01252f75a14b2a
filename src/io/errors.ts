/**
 * Typed errors of the Node client and server: why a connection could not be opened, and
 * why an open one was failed locally. Each keeps Node's `code` (ECONNREFUSED, ENOTFOUND,
 * ...) so code written for ws that tests `err.code` keeps working, and the original error
 * as `cause`.
 */
import type { IncomingHttpHeaders } from 'node:http';

import { errorClassOf } from '../error-codes';
import { ParseFailed, type RemoteProtocolError, WebSocketError } from '../errors';

/** Base class: the opening of a client connection failed. */
export class ConnectError extends WebSocketError {
  override name = 'ConnectError';
  /** Node's error code when there is one (e.g. 'ECONNREFUSED'), else a WS_ code. */
  readonly code: string;
  /** The URL being connected to. */
  readonly url: string;
  constructor(message: string, code: string, url: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.url = url;
  }
}

/** The host name could not be resolved (ENOTFOUND, EAI_AGAIN). */
export class DNSError extends ConnectError {
  override name = 'DNSError';
  /** The name that did not resolve. */
  readonly hostname: string;
  constructor(hostname: string, code: string, url: string, cause: unknown) {
    super(`cannot resolve ${hostname} (${code})`, code, url, { cause });
    this.hostname = hostname;
  }
}

/** The peer refused the TCP connection (ECONNREFUSED) or it was reset before the handshake. */
export class ConnectionRefusedError extends ConnectError {
  override name = 'ConnectionRefusedError';
  constructor(message: string, code: string, url: string, cause: unknown) {
    super(message, code, url, { cause });
  }
}

/** The opening handshake did not finish within `handshakeTimeout` ms. */
export class HandshakeTimeoutError extends ConnectError {
  override name = 'HandshakeTimeoutError';
  constructor(
    readonly timeout: number,
    url: string,
  ) {
    // ws's message (code written for ws matches it); the limit is in `timeout`.
    super('Opening handshake has timed out', 'WS_ERR_HANDSHAKE_TIMEOUT', url);
  }
}

/**
 * The server answered the upgrade request with a status other than 101 (RFC 6455 §4.1:
 * the client fails the connection). The status, headers and body are kept for the caller.
 */
export class InvalidStatusError extends ConnectError {
  override name = 'InvalidStatusError';
  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly headers: IncomingHttpHeaders,
    readonly body: Buffer,
    url: string,
  ) {
    super(`Unexpected server response: ${statusCode}`, 'WS_ERR_UNEXPECTED_RESPONSE', url);
  }
}

/**
 * The server's 101 response broke RFC 6455 §4.1 (bad Sec-WebSocket-Accept, missing Upgrade,
 * a subprotocol or extension that was not offered). `cause` is the handshake module's error.
 */
export class InvalidServerHandshakeError extends ConnectError {
  override name = 'InvalidServerHandshakeError';
  constructor(message: string, url: string, cause?: unknown) {
    super(message, 'WS_ERR_INVALID_HANDSHAKE', url, { cause });
  }
}

/**
 * `http2: true` was asked and the server's SETTINGS did not advertise
 * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3): it cannot carry a WebSocket over HTTP/2.
 * (`http2: 'auto'` falls back to HTTP/1.1 instead.)
 */
export class ExtendedConnectUnsupportedError extends ConnectError {
  override name = 'ExtendedConnectUnsupportedError';
  constructor(url: string) {
    super('The server did not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL: no WebSocket over HTTP/2 (RFC 8441 §3)', 'WS_ERR_NO_EXTENDED_CONNECT', url);
  }
}

/** Too many redirects were followed (`maxRedirects`). */
export class TooManyRedirectsError extends ConnectError {
  override name = 'TooManyRedirectsError';
  constructor(max: number, url: string) {
    super(`Maximum redirects exceeded (${max})`, 'WS_ERR_MAX_REDIRECTS', url);
  }
}

/**
 * The URL is not a valid ws:, wss:, ws+unix: (or http:, https:) URL. A SyntaxError named
 * so, as ws throws (`SyntaxError: Invalid URL: foo`); `instanceof InvalidURLError` tells it apart.
 */
export class InvalidURLError extends SyntaxError {
  override name = 'SyntaxError';
  readonly code = 'WS_ERR_INVALID_URL';
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
  }
}

/**
 * A send, ping or pong on a connection that is not open (ws's "WebSocket is not open:
 * readyState N (STATE)" message, given to the callback). `readyState` says which state.
 */
export class NotOpenError extends WebSocketError {
  override name = 'NotOpenError';
  readonly code = 'WS_ERR_NOT_OPEN';
  constructor(
    message: string,
    readonly readyState: number,
  ) {
    super(message);
  }
}

/**
 * The local side failed the connection because the peer was too slow to read: more than
 * `maxBufferedAmount` bytes were waiting (code WS_ERR_BUFFER_LIMIT, close code 1008). (A
 * peer that misses a heartbeat is terminated with 1006 and no 'error'; an error thrown by a
 * user handler is emitted as it was thrown, and the connection closes with 1011.)
 */
export class ConnectionFailedError extends WebSocketError {
  override name = 'ConnectionFailedError';
  constructor(
    message: string,
    readonly code: string,
    readonly closeCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the ws-style API adds to a protocol error: ws's string code and the close code. */
export interface WsProtocolErrorFields {
  /** ws's string code: 'WS_ERR_INVALID_OPCODE', 'WS_ERR_INVALID_UTF8', ... */
  code: string;
  /** The close code the connection was failed with (ws keeps it as `err[kStatusCode]`). */
  closeCode: number;
}

/** A protocol error as ws reports it: a RangeError (or Error) with `code` and `closeCode`. */
export type WsProtocolError = (RangeError | Error) & WsProtocolErrorFields;

/**
 * The peer's violation as ws emits it on 'error': ws's class, short message and string
 * code, our close code, and the detailed ParseFailed as `cause`. (ws users test `err.code`
 * and `instanceof RangeError`; the sans-IO layer keeps throwing ParseFailed.)
 */
export function toWsError(err: RemoteProtocolError): WsProtocolError {
  const failed = err instanceof ParseFailed ? err : null;
  const code = failed?.errorCode ?? 'WS_ERR_PROTOCOL';
  const Class = errorClassOf(code) === 'Error' ? Error : RangeError;
  const out = new Class(failed?.summary ?? err.message, { cause: err }) as WsProtocolError;
  out.code = code;
  out.closeCode = err.closeCode;
  return out;
}

/**
 * The proxy could not give us a tunnel to the server: it was unreachable (`code` is Node's,
 * e.g. 'ECONNREFUSED'), closed the connection before answering ('WS_ERR_PROXY_CLOSED'), or
 * answered something that is not a proxy reply ('WS_ERR_PROXY'). `proxy` is the proxy's URL
 * without its credentials.
 */
export class ProxyError extends ConnectError {
  override name = 'ProxyError';
  constructor(
    message: string,
    code: string,
    url: string,
    readonly proxy: string,
    options?: { cause?: unknown },
  ) {
    super(message, code, url, options);
  }
}

/**
 * An HTTP proxy answered CONNECT with a status other than 2xx (RFC 9110 §9.3.6): 407 when
 * it wants credentials or refused ours, 403 when policy forbids the destination, 502/504
 * when it could not reach the server.
 */
export class ProxyStatusError extends ProxyError {
  override name = 'ProxyStatusError';
  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly headers: Readonly<Record<string, string>>,
    url: string,
    proxy: string,
  ) {
    super(`proxy ${proxy} refused the tunnel: ${statusCode} ${statusMessage}`, statusCode === 407 ? 'WS_ERR_PROXY_AUTH' : 'WS_ERR_PROXY_STATUS', url, proxy);
  }
}

/** The three steps of a SOCKS5 negotiation a refusal can come from. */
export type SocksStage = 'method' | 'auth' | 'connect';

/**
 * A SOCKS5 proxy refused: no offered authentication method was acceptable (stage 'method',
 * `reply` 0xFF, RFC 1928 §3), the username/password were rejected (stage 'auth', `reply` the
 * RFC 1929 §2 status), or the CONNECT failed (stage 'connect', `reply` the RFC 1928 §6 REP:
 * 1 general failure, 2 not allowed by ruleset, 3 network unreachable, 4 host unreachable,
 * 5 connection refused, 6 TTL expired, 7 command not supported, 8 address type not supported).
 */
export class SocksError extends ProxyError {
  override name = 'SocksError';
  constructor(
    message: string,
    readonly stage: SocksStage,
    readonly reply: number,
    url: string,
    proxy: string,
  ) {
    super(message, stage === 'connect' ? 'WS_ERR_SOCKS_REPLY' : 'WS_ERR_PROXY_AUTH', url, proxy);
  }
}
