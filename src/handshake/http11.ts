/**
 * HTTP/1.1 messages of the opening handshake (RFC 6455 §4, RFC 9112): {@link Request} and
 * {@link Response} with `serialize()`, and incremental parsers with limits.
 *
 * The parsers are built for hostile input: they scan by index (no regular expressions on
 * untrusted bytes, so no ReDoS as in ws CVE-2021-32640), keep only the current unfinished
 * line, remember where they stopped (linear cost even when fed one byte at a time) and fail
 * as soon as the bytes seen exceed a limit, without waiting for the end of the head.
 */
import { Headers, InvalidHeader, isToken, normalizeHeaderValue } from './datastructures';
import { LocalProtocolError } from '../errors';
import {
  DEFAULT_HTTP_LIMITS,
  HttpParseError,
  isDigit,
  isReason,
  isTarget,
  isVersion,
  latin1,
  Request,
  Response,
  SecurityError,
  type HttpLimits,
} from './http11-messages';

export {
  DEFAULT_HTTP_LIMITS,
  HttpParseError,
  Request,
  Response,
  SecurityError,
  type HttpLimits,
} from './http11-messages';

/**
 * The result of feeding bytes to a parser: `{ done: false }` means "need more bytes";
 * otherwise the message, how many bytes of the LAST input it used (`consumed`), and the
 * bytes after it (`trailing`: the first WebSocket frames, sent before we answered).
 */
export type ParseResult<T> = { done: false } | { done: true; value: T; consumed: number; trailing: Uint8Array };

const NEED_MORE: ParseResult<never> = Object.freeze({ done: false });
const EMPTY = new Uint8Array(0);

type Phase = 'head' | 'body' | 'done' | 'failed';

/**
 * Shared incremental machinery of {@link RequestParser} and {@link ResponseParser}: splits
 * the head into CRLF-terminated lines, checks limits, and fills {@link HttpParser.headers}.
 */
export abstract class HttpParser<T> {
  protected readonly limits: Readonly<HttpLimits>;
  /** Headers parsed so far. */
  readonly headers = new Headers();
  protected phase: Phase = 'head';
  #error: Error | undefined;
  #sawStartLine = false;
  #headerCount = 0;
  /** Bytes of the head seen so far, including the unfinished line. */
  #headBytes = 0;
  /** The unfinished line, when a chunk ended inside it (at most one line long). */
  #partial = Buffer.alloc(0);
  #partialLength = 0;

  constructor(limits: Partial<HttpLimits> = {}) {
    this.limits = { ...DEFAULT_HTTP_LIMITS, ...limits };
  }

  /**
   * Feeds the next bytes received. The parser copies what it must keep, so `chunk` may be
   * reused afterwards.
   * @throws HttpParseError / SecurityError on invalid input or an exceeded limit (and again
   *   on every later call); LocalProtocolError if called after the message was complete
   */
  feed(chunk: Uint8Array): ParseResult<T> {
    if (this.phase === 'failed') throw this.#error!;
    if (this.phase === 'done') throw new LocalProtocolError('the HTTP message is already complete');
    try {
      let pos = 0;
      if (this.phase === 'head') pos = this.#feedHead(chunk);
      if (this.phase === 'head') return NEED_MORE;
      return this.#settle(chunk, this.phase === 'body' ? this.feedBody(chunk, pos) : pos);
    } catch (err) {
      this.phase = 'failed';
      this.#error = err instanceof InvalidHeader ? new HttpParseError(err.message, 400) : (err as Error);
      throw this.#error;
    }
  }

  /** The peer closed the connection: completes a read-until-close body, else throws. */
  feedEof(): ParseResult<T> {
    if (this.phase === 'failed') throw this.#error!;
    if (this.phase === 'done') throw new LocalProtocolError('the HTTP message is already complete');
    const where = this.phase === 'head' ? 'headers' : 'body';
    if (this.phase === 'body' && this.endBody()) return this.#settle(EMPTY, 0);
    this.phase = 'failed';
    this.#error = new HttpParseError(`connection closed before the end of the ${where}`);
    throw this.#error;
  }

  #settle(chunk: Uint8Array, pos: number): ParseResult<T> {
    if (this.phase !== 'done') return NEED_MORE;
    return { done: true, value: this.buildMessage(), consumed: pos, trailing: chunk.subarray(pos) };
  }

  /** Parses the start line (without CRLF). */
  protected abstract parseStartLine(line: string): void;
  /** The blank line was read: returns 'done' or 'body'. */
  protected abstract headComplete(): 'done' | 'body';
  /** Body bytes from `chunk[pos]`; returns where the message ended (sets phase 'done') or chunk.length. */
  protected feedBody(chunk: Uint8Array, pos: number): number {
    void chunk;
    return pos;
  }
  /** Whether the body may end at end of stream. */
  protected endBody(): boolean {
    return false;
  }
  protected abstract buildMessage(): T;
  /** Limit error for a start line that is too long. */
  protected abstract startLineTooLong(): SecurityError;

  #feedHead(chunk: Uint8Array): number {
    const { maxStartLineLength, maxHeaderLineLength, maxHeaderSize } = this.limits;
    let pos = 0;
    while (pos < chunk.length && this.phase === 'head') {
      // A line may take its content plus CRLF; never look further than a limit allows.
      const lineMax = (this.#sawStartLine ? maxHeaderLineLength : maxStartLineLength) + 2;
      const window = Math.min(chunk.length - pos, lineMax - this.#partialLength, maxHeaderSize - this.#headBytes);
      // Search the rest of the chunk in place unless a limit cuts it short (saves a view).
      let lf = -1;
      if (window === chunk.length - pos) {
        const found = chunk.indexOf(0x0a, pos);
        if (found !== -1) lf = found - pos;
      } else if (window > 0) {
        lf = chunk.subarray(pos, pos + window).indexOf(0x0a);
      }
      const end = lf === -1 ? pos + window : pos + lf + 1;
      this.#headBytes += end - pos;
      if (lf === -1) {
        this.#keep(chunk, pos, end);
        pos = end;
        break;
      }
      let line: Uint8Array;
      if (this.#partialLength === 0) {
        line = chunk.subarray(pos, end - 1);
      } else {
        this.#keep(chunk, pos, end - 1);
        line = this.#partial.subarray(0, this.#partialLength);
      }
      pos = end;
      this.#partialLength = 0;
      this.#line(line);
    }
    if (this.phase === 'head') {
      if (this.#partialLength >= (this.#sawStartLine ? maxHeaderLineLength : maxStartLineLength) + 2) {
        throw this.#sawStartLine ? new SecurityError('header line too long', 431) : this.startLineTooLong();
      }
      if (this.#headBytes >= maxHeaderSize) throw new SecurityError('header fields too large', 431);
    }
    return pos;
  }

  /** Appends chunk[start, end) to the unfinished line; capacity doubles (amortized O(1)). */
  #keep(chunk: Uint8Array, start: number, end: number): void {
    const needed = this.#partialLength + end - start;
    if (needed > this.#partial.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#partial.length * 2, 256));
      grown.set(this.#partial.subarray(0, this.#partialLength));
      this.#partial = grown;
    }
    if (end - start <= 16) {
      // Byte-at-a-time input: copying a few bytes by hand beats creating a view.
      for (let i = start, at = this.#partialLength; i < end; i++, at++) this.#partial[at] = chunk[i]!;
    } else {
      this.#partial.set(chunk.subarray(start, end), this.#partialLength);
    }
    this.#partialLength = needed;
  }

  /** One line, LF removed. RFC 9112 §2.2: lines end with CRLF; a bare CR is invalid. */
  #line(raw: Uint8Array): void {
    if (raw.length === 0 || raw[raw.length - 1] !== 0x0d) throw new HttpParseError('line not terminated by CRLF');
    const length = raw.length - 1;
    for (let i = 0; i < length; i++) {
      if (raw[i] === 0x0d || raw[i] === 0x00) throw new HttpParseError('CR or NUL inside a line');
    }
    if (!this.#sawStartLine) {
      // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
      if (length === 0 && this.ignoresLeadingEmptyLines()) return;
      this.#sawStartLine = true;
      this.parseStartLine(latin1(raw, 0, length));
      return;
    }
    if (length === 0) {
      this.phase = this.headComplete();
      return;
    }
    // RFC 9112 §5.2: obsolete line folding; a server MUST reject it (400).
    if (raw[0] === 0x20 || raw[0] === 0x09) throw new HttpParseError('obsolete line folding');
    if (++this.#headerCount > this.limits.maxHeaderCount) throw new SecurityError('too many header lines', 431);
    const colon = raw.subarray(0, length).indexOf(0x3a);
    if (colon <= 0) throw new HttpParseError('header line without a name and a colon');
    const name = latin1(raw, 0, colon);
    // RFC 9112 §5.1: no whitespace between the name and the colon: the token check covers it.
    if (!isToken(name)) throw new HttpParseError(`invalid header name ${JSON.stringify(name)}`);
    this.headers.append(name, normalizeHeaderValue(name, latin1(raw, colon + 1, length)));
  }

  /** Whether empty lines before the start line are skipped (requests only). */
  protected ignoresLeadingEmptyLines(): boolean {
    return false;
  }
}

/** Reads one Content-Length value: 1*DIGIT, and identical if repeated (RFC 9112 §6.3). */
function contentLength(headers: Headers): number | undefined {
  const values = headers.getAll('content-length');
  if (values.length === 0) return undefined;
  const text = values[0]!;
  if (values.some((v) => v !== text)) throw new HttpParseError('conflicting Content-Length headers');
  if (text.length === 0 || text.length > 15) throw new HttpParseError(`invalid Content-Length ${JSON.stringify(text)}`);
  for (let i = 0; i < text.length; i++) {
    if (!isDigit(text.charCodeAt(i))) throw new HttpParseError(`invalid Content-Length ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/**
 * Incremental parser of the client's handshake request. A request with a body
 * (Transfer-Encoding, or Content-Length other than 0) is rejected with 400: its bytes would
 * otherwise be read as WebSocket frames.
 */
export class RequestParser extends HttpParser<Request> {
  #method = '';
  #path = '';
  #version = '';

  protected parseStartLine(line: string): void {
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    const sp1 = line.indexOf(' ');
    const sp2 = sp1 === -1 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp2 === -1) throw new HttpParseError('malformed request line');
    const method = line.slice(0, sp1);
    const target = line.slice(sp1 + 1, sp2);
    const version = line.slice(sp2 + 1);
    if (!isToken(method)) throw new HttpParseError('invalid method');
    if (!isTarget(target)) throw new HttpParseError('invalid request target');
    if (!isVersion(version)) throw new HttpParseError('invalid HTTP version');
    this.#method = method;
    this.#path = target;
    this.#version = version.slice(5);
  }

  protected override ignoresLeadingEmptyLines(): boolean {
    return true;
  }

  protected startLineTooLong(): SecurityError {
    return new SecurityError('request line too long', 414);
  }

  protected headComplete(): 'done' {
    if (this.headers.has('transfer-encoding')) throw new HttpParseError('request bodies are not supported');
    if ((contentLength(this.headers) ?? 0) !== 0) throw new HttpParseError('request bodies are not supported');
    return 'done';
  }

  protected buildMessage(): Request {
    return new Request(this.#path, this.headers, { method: this.#method, httpVersion: this.#version });
  }
}

/**
 * Incremental parser of the server's handshake response. 1xx (including 101), 204 and 304
 * have no body; otherwise the body is read by Content-Length, or until the connection
 * closes (call {@link HttpParser.feedEof}). Transfer codings (chunked) are not supported:
 * HttpParseError.
 */
export class ResponseParser extends HttpParser<Response> {
  #statusCode = 0;
  #reason = '';
  #version = '';
  #bodyParts: Buffer[] = [];
  #bodySize = 0;
  /** Bytes still expected, or -1 to read until close. */
  #remaining = -1;
  #hasBody = false;

  protected parseStartLine(line: string): void {
    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    const version = line.slice(0, 8);
    if (!isVersion(version) || line[8] !== ' ') throw new HttpParseError('malformed status line');
    const code = line.slice(9, 12);
    if (code.length !== 3 || ![0, 1, 2].every((i) => isDigit(code.charCodeAt(i)))) {
      throw new HttpParseError('invalid status code');
    }
    // Tolerate a missing SP when the reason is empty ("HTTP/1.1 101").
    if (line.length > 12 && line[12] !== ' ') throw new HttpParseError('malformed status line');
    const reason = line.slice(13);
    const status = Number(code);
    if (status < 100 || status > 599) throw new HttpParseError(`invalid status code ${status}`);
    if (!isReason(reason)) throw new HttpParseError('invalid reason phrase');
    this.#statusCode = status;
    this.#reason = reason;
    this.#version = version.slice(5);
  }

  protected startLineTooLong(): SecurityError {
    return new SecurityError('status line too long', 400);
  }

  protected headComplete(): 'done' | 'body' {
    const status = this.#statusCode;
    // RFC 9112 §6.3: these responses never have a body, whatever the headers say.
    if (status < 200 || status === 204 || status === 304) return 'done';
    this.#hasBody = true;
    if (this.headers.has('transfer-encoding')) throw new HttpParseError('transfer codings are not supported');
    const length = contentLength(this.headers);
    if (length !== undefined && length > this.limits.maxBodySize) {
      throw new SecurityError(`body of ${length} bytes exceeds maxBodySize`, 413);
    }
    if (length === 0) return 'done';
    this.#remaining = length ?? -1;
    return 'body';
  }

  protected override feedBody(chunk: Uint8Array, pos: number): number {
    const take = this.#remaining === -1 ? chunk.length - pos : Math.min(this.#remaining, chunk.length - pos);
    if (take > 0) {
      this.#bodySize += take;
      if (this.#bodySize > this.limits.maxBodySize) throw new SecurityError('body exceeds maxBodySize', 413);
      this.#bodyParts.push(Buffer.from(chunk.subarray(pos, pos + take)));
    }
    if (this.#remaining !== -1) {
      this.#remaining -= take;
      if (this.#remaining === 0) this.phase = 'done';
    }
    return pos + take;
  }

  protected override endBody(): boolean {
    if (this.#remaining !== -1) return false;
    this.phase = 'done';
    return true;
  }

  protected buildMessage(): Response {
    const body = this.#hasBody ? Buffer.concat(this.#bodyParts, this.#bodySize) : undefined;
    const response = new Response(this.#statusCode, this.#reason, this.headers, body);
    response.httpVersion = this.#version;
    return response;
  }
}

/**
 * Parses a request from one buffer (a one-shot {@link RequestParser}). For input that
 * arrives in pieces keep a RequestParser and feed it: calling this again on a growing
 * buffer would rescan it every time.
 */
export function parseRequest(buffer: Uint8Array, limits?: Partial<HttpLimits>): ParseResult<Request> {
  return new RequestParser(limits).feed(buffer);
}

/**
 * Parses a response from one buffer (a one-shot {@link ResponseParser}). With `eof` the
 * buffer is everything the peer sent (completes a read-until-close body).
 */
export function parseResponse(buffer: Uint8Array, limits?: Partial<HttpLimits>, eof = false): ParseResult<Response> {
  const parser = new ResponseParser(limits);
  const result = parser.feed(buffer);
  return result.done || !eof ? result : parser.feedEof();
}
