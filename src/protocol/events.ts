/**
 * The events of the sans-IO core (wsproto's model): what {@link WSConnection.events} and
 * {@link Connection.events} report, and what {@link WSConnection.send} /
 * {@link Connection.send} turn into bytes. Every event is a small immutable class built from
 * one options object, with a `type` tag so a `switch` or an `instanceof` chain narrows
 * correctly even between look-alikes (Ping and Pong have the same fields).
 */
import { Headers, type HeadersLike } from '../handshake/datastructures';
import type { RemoteProtocolError } from '../errors';
import type { Extension } from '../extensions/extension';

const EMPTY = new Uint8Array(0);

function toHeaders(init: HeadersLike | undefined): Headers {
  return init instanceof Headers ? init : new Headers(init);
}

/** Options of {@link Request}. */
export interface RequestInit {
  host: string;
  target: string;
  extensions?: Extension[] | string[];
  extraHeaders?: HeadersLike;
  subprotocols?: string[];
}

/**
 * The opening handshake request (RFC 6455 §4.1 / §4.2.1).
 * - Client, sent: `host` (the Host header), `target` (request-target, e.g. "/chat?x=1"),
 *   the subprotocols to offer, the {@link Extension} objects to offer, extra headers
 *   (Origin, cookies, auth...).
 * - Server, received: the same fields read from the request; `extensions` are then the
 *   raw Sec-WebSocket-Extensions values (strings) and `extraHeaders` every header of the
 *   request (the WebSocket ones included: a server may want Origin or cookies).
 */
export class Request {
  readonly type = 'request' as const;
  readonly host: string;
  readonly target: string;
  readonly extensions: Extension[] | string[];
  readonly extraHeaders: Headers;
  readonly subprotocols: string[];
  constructor(init: RequestInit) {
    this.host = init.host;
    this.target = init.target;
    this.extensions = init.extensions ?? [];
    this.extraHeaders = toHeaders(init.extraHeaders);
    this.subprotocols = init.subprotocols ?? [];
  }
}

/** Options of {@link AcceptConnection}. */
export interface AcceptConnectionInit {
  subprotocol?: string | null;
  extensions?: Extension[];
  extraHeaders?: HeadersLike;
}

/**
 * The handshake succeeded (RFC 6455 §4.2.2 server response 101).
 * - Server, sent: the subprotocol chosen (one the client offered, or null), the
 *   extensions the server supports (negotiated against the client's offers, §9.1), extra
 *   response headers (Set-Cookie...).
 * - Client, received: the subprotocol and the extensions now in use, and the response's
 *   headers.
 */
export class AcceptConnection {
  readonly type = 'accept' as const;
  readonly subprotocol: string | null;
  readonly extensions: Extension[];
  readonly extraHeaders: Headers;
  constructor(init: AcceptConnectionInit = {}) {
    this.subprotocol = init.subprotocol ?? null;
    this.extensions = init.extensions ?? [];
    this.extraHeaders = toHeaders(init.extraHeaders);
  }
}

/** Options of {@link RejectConnection}. */
export interface RejectConnectionInit {
  statusCode?: number;
  headers?: HeadersLike;
  hasBody?: boolean;
}

/**
 * The handshake is refused with an HTTP response other than 101 (RFC 6455 §4.2.2 item 4,
 * §4.1: "if the status code received from the server is not 101, the client handles the
 * response per HTTP procedures"). Server: sent, followed by {@link RejectData} events when
 * `hasBody`. Client: received, followed by RejectData events carrying the body.
 */
export class RejectConnection {
  readonly type = 'reject' as const;
  readonly statusCode: number;
  readonly headers: Headers;
  readonly hasBody: boolean;
  constructor(init: RejectConnectionInit = {}) {
    this.statusCode = init.statusCode ?? 400;
    this.headers = toHeaders(init.headers);
    this.hasBody = init.hasBody ?? false;
  }
}

/** Options of {@link RejectData}. */
export interface RejectDataInit {
  data: Uint8Array | string;
  bodyFinished?: boolean;
}

/** A piece of the body of a rejection response; the last one has `bodyFinished`. */
export class RejectData {
  readonly type = 'reject-data' as const;
  readonly data: Uint8Array;
  readonly bodyFinished: boolean;
  constructor(init: RejectDataInit) {
    this.data = typeof init.data === 'string' ? new TextEncoder().encode(init.data) : init.data;
    this.bodyFinished = init.bodyFinished ?? true;
  }
}

/** Options of {@link TextMessage} / {@link BytesMessage}. */
export interface MessageInit<T> {
  data: T;
  frameFinished?: boolean;
  messageFinished?: boolean;
}

/**
 * A message or a piece of one (RFC 6455 §5.4 fragmentation, §5.6 data frames).
 * Received: `frameFinished` says whether this piece ends a frame, `messageFinished` whether
 * it ends the message (a message may arrive in several pieces when it is fragmented or a
 * frame is delivered before all of it arrived). Sent: `messageFinished: false` sends a
 * fragment and later sends continue the message; `frameFinished` is ignored.
 */
export abstract class Message<T extends string | Uint8Array> {
  readonly data: T;
  readonly frameFinished: boolean;
  readonly messageFinished: boolean;
  constructor(init: MessageInit<T>) {
    this.data = init.data;
    this.frameFinished = init.frameFinished ?? true;
    this.messageFinished = init.messageFinished ?? true;
  }
}

/** A text message (opcode 0x1, RFC 6455 §5.6): UTF-8 on the wire, a string here. */
export class TextMessage extends Message<string> {
  readonly type = 'text' as const;
}

/** A binary message (opcode 0x2, RFC 6455 §5.6). */
export class BytesMessage extends Message<Uint8Array> {
  readonly type = 'bytes' as const;
}

/** Options of {@link Ping} / {@link Pong}. */
export interface PingInit {
  /** At most 125 bytes (RFC 6455 §5.5); sending more throws LocalProtocolError. */
  payload?: Uint8Array;
}

/**
 * A ping (RFC 6455 §5.5.2). A received ping is reported, not answered: answer it with
 * `send(ping.response())` ("an endpoint MUST send a Pong frame in response ... as soon as
 * is practical", §5.5.2), as in wsproto.
 */
export class Ping {
  readonly type = 'ping' as const;
  readonly payload: Uint8Array;
  constructor(init: PingInit = {}) {
    this.payload = init.payload ?? EMPTY;
  }
  /** The Pong that answers this ping: same "Application data" (RFC 6455 §5.5.3). */
  response(): Pong {
    return new Pong({ payload: this.payload });
  }
}

/** A pong (RFC 6455 §5.5.3): an answer to a ping, or unsolicited as a heartbeat. */
export class Pong {
  readonly type = 'pong' as const;
  readonly payload: Uint8Array;
  constructor(init: PingInit = {}) {
    this.payload = init.payload ?? EMPTY;
  }
}

/** Options of {@link CloseConnection}. */
export interface CloseConnectionInit {
  code: number;
  reason?: string;
  error?: RemoteProtocolError;
}

/**
 * The closing handshake (RFC 6455 §5.5.1, §7).
 * - Sent: a close frame with `code` and `reason` (1005 sends a close frame with no
 *   payload; 1006 and 1015 cannot be sent).
 * - Received: the peer's close (code 1005 when its frame had no code), or 1006 when the
 *   transport ended without one (§7.1.5), or the close we must send because the peer broke
 *   the protocol (then `error` says what it did, and `code` is 1002/1007/1009/...).
 */
export class CloseConnection {
  readonly type = 'close' as const;
  readonly code: number;
  readonly reason: string;
  /** Set when this close was caused by the peer's protocol violation (RFC 6455 §7.1.7). */
  readonly error: RemoteProtocolError | undefined;
  constructor(init: CloseConnectionInit) {
    this.code = init.code;
    this.reason = init.reason ?? '';
    this.error = init.error;
  }
  /**
   * The close to send back: the same code and reason ("typically echos the status code it
   * received", RFC 6455 §5.5.1). For a received 1005 this sends an empty close frame.
   */
  response(): CloseConnection {
    return new CloseConnection({ code: this.code, reason: this.reason });
  }
}

/** Every event of the sans-IO core. */
export type Event =
  | Request
  | AcceptConnection
  | RejectConnection
  | RejectData
  | TextMessage
  | BytesMessage
  | Ping
  | Pong
  | CloseConnection;
