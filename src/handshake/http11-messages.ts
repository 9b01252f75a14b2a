/**
 * HTTP/1.1 messages of the opening handshake (RFC 6455 §4, RFC 9112): {@link Request} and
 * {@link Response} with `serialize()`, the parse limits and the parse errors.
 * Re-exported by `src/handshake/http11.ts`; import from there.
 */
import { STATUS_CODES } from 'node:http';

import { Headers, isToken, type HeadersLike } from './datastructures';
import { LocalProtocolError, RemoteProtocolError } from '../errors';
import { CloseCode } from '../frames/close';

// Defaults live in src/limits.ts with every other default limit.
export { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../limits';

/**
 * An HTTP message could not be parsed. `statusCode` is the HTTP status a server answers
 * with (400 malformed; subclasses use others); `closeCode` is 1002.
 */
export class HttpParseError extends RemoteProtocolError {
  override name = 'HttpParseError';
  declare readonly statusCode: number;
  constructor(message: string, statusCode = 400) {
    super(message, CloseCode.PROTOCOL_ERROR, statusCode);
  }
}

/**
 * A limit was exceeded (websockets' SecurityError): 414 request line too long, 431 header
 * line, head or header count too large, 413 response body too large.
 */
export class SecurityError extends HttpParseError {
  override name = 'SecurityError';
}

/** Decodes bytes as latin1: HTTP heads are octets, RFC 9112 §2.2. */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1', start, end);
}

/** Whether `text` is an RFC 9112 §2.3 HTTP-version: "HTTP/" DIGIT "." DIGIT. */
export function isVersion(text: string): boolean {
  if (text.length !== 8 || !text.startsWith('HTTP/') || text[6] !== '.') return false;
  return isDigit(text.charCodeAt(5)) && isDigit(text.charCodeAt(7));
}

/** Whether the char code is an ASCII digit. */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Whether `text` is a plausible request-target: visible ASCII only (RFC 3986 characters; no space, no CTL). */
export function isTarget(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** Whether `text` is a reason-phrase: *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4). */
export function isReason(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** An HTTP/1.1 request: the client's opening handshake (RFC 6455 §4.1). */
export class Request {
  /** The method, e.g. "GET" (a token, case-sensitive). */
  method: string;
  /** The request-target: path and optional query, e.g. "/chat?room=1". */
  path: string;
  headers: Headers;
  /** "1.1" for HTTP/1.1. The parser reports what it read; the handshake requires 1.1. */
  httpVersion: string;

  /** A Headers instance is kept as is (not copied); other HeadersLike values are converted. */
  constructor(path: string, headers: HeadersLike = new Headers(), options: { method?: string; httpVersion?: string } = {}) {
    this.method = options.method ?? 'GET';
    this.path = path;
    this.headers = headers instanceof Headers ? headers : new Headers(headers);
    this.httpVersion = options.httpVersion ?? '1.1';
  }

  /**
   * The request head in wire format (latin1). Never has a body.
   * @throws LocalProtocolError if the method is not a token or the path has spaces or
   *   control characters (that would let a caller inject a request line)
   */
  serialize(): Buffer {
    if (!isToken(this.method)) throw new LocalProtocolError(`invalid method ${JSON.stringify(this.method)}`);
    if (!isTarget(this.path)) throw new LocalProtocolError(`invalid request target ${JSON.stringify(this.path)}`);
    if (!isVersion(`HTTP/${this.httpVersion}`)) throw new LocalProtocolError(`invalid HTTP version ${this.httpVersion}`);
    return Buffer.from(`${this.method} ${this.path} HTTP/${this.httpVersion}\r\n${this.headers.toString()}`, 'latin1');
  }
}

/** An HTTP/1.1 response: the server's handshake answer (101) or a rejection with a body. */
export class Response {
  statusCode: number;
  reasonPhrase: string;
  headers: Headers;
  /** The body; undefined when the message has none (e.g. 101 Switching Protocols). */
  body: Uint8Array | undefined;
  /** "1.1" for HTTP/1.1. */
  httpVersion = '1.1';

  /**
   * `reasonPhrase` defaults to the standard one (Node's `http.STATUS_CODES`). A Headers
   * instance is kept as is; other HeadersLike values are converted.
   */
  constructor(statusCode: number, reasonPhrase?: string, headers: HeadersLike = new Headers(), body?: Uint8Array) {
    this.statusCode = statusCode;
    this.reasonPhrase = reasonPhrase ?? STATUS_CODES[statusCode] ?? '';
    this.headers = headers instanceof Headers ? headers : new Headers(headers);
    this.body = body;
  }

  /**
   * Status line, headers and body, as bytes. Headers are written as they are: set
   * Content-Length yourself when there is a body (or send Connection: close).
   * @throws LocalProtocolError for a status outside 100-599 or a reason with control characters
   */
  serialize(): Buffer {
    const code = this.statusCode;
    if (!Number.isInteger(code) || code < 100 || code > 599) throw new LocalProtocolError(`invalid status code ${code}`);
    if (!isReason(this.reasonPhrase)) throw new LocalProtocolError(`invalid reason phrase ${JSON.stringify(this.reasonPhrase)}`);
    if (!isVersion(`HTTP/${this.httpVersion}`)) throw new LocalProtocolError(`invalid HTTP version ${this.httpVersion}`);
    const head = Buffer.from(`HTTP/${this.httpVersion} ${code} ${this.reasonPhrase}\r\n${this.headers.toString()}`, 'latin1');
    if (this.body === undefined || this.body.length === 0) return head;
    return Buffer.concat([head, this.body]);
  }
}

