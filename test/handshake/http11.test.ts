import { describe, expect, it } from 'vitest';

import { Headers } from '../../src/handshake/datastructures';
import { LocalProtocolError, RemoteProtocolError } from '../../src/errors';
import {
  DEFAULT_HTTP_LIMITS,
  HttpParseError,
  parseRequest,
  parseResponse,
  Request,
  RequestParser,
  Response,
  ResponseParser,
  SecurityError,
  type HttpLimits,
  type ParseResult,
} from '../../src/handshake/http11';

const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
const FRAME = Uint8Array.of(0x81, 0x02, 0x68, 0x69);
const HANDSHAKE =
  'GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

type Done<T> = Extract<ParseResult<T>, { done: true }>;

/** Feeds `input` in pieces of `size` bytes; returns the result and the trailing bytes. */
function feedInPieces<T>(parser: RequestParser | ResponseParser, input: Uint8Array, size: number): Done<T> {
  for (let at = 0; at < input.length; at += size) {
    const result = parser.feed(input.subarray(at, at + size));
    if (result.done) {
      expect(result.trailing).toEqual(input.subarray(at, at + size).subarray(result.consumed));
      return { ...result, trailing: Uint8Array.from([...result.trailing, ...input.subarray(at + size)]) } as Done<T>;
    }
  }
  throw new Error('message never completed');
}

function expectStatus(fn: () => unknown, status: number, cls: typeof HttpParseError = HttpParseError): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(RemoteProtocolError);
  expect((caught as HttpParseError).statusCode).toBe(status);
}

describe('RequestParser', () => {
  const input = Buffer.concat([enc(HANDSHAKE), FRAME]);

  it.each([input.length, 1, 2, 7, 64])('parses a handshake fed in pieces of %d bytes; the frame after it is trailing data', (size) => {
    const result = feedInPieces<Request>(new RequestParser(), input, size);
    const request = result.value;
    expect([request.method, request.path, request.httpVersion]).toEqual(['GET', '/chat?room=1', '1.1']);
    expect(request.headers.get('sec-websocket-key')).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    expect(request.headers.size).toBe(5);
    expect(result.trailing).toEqual(FRAME);
  });

  it('parses every split into two pieces', () => {
    for (let k = 1; k < input.length; k++) {
      const parser = new RequestParser();
      const first = parser.feed(input.subarray(0, k));
      const result = first.done ? first : parser.feed(input.subarray(k));
      if (!result.done || result.value.path !== '/chat?room=1') throw new Error(`split at ${k} failed`);
    }
    expect(parseRequest(input)).toMatchObject({ done: true, consumed: HANDSHAKE.length });
  });

  it('reports the version for the handshake to judge, and skips an empty line before the request line', () => {
    const result = parseRequest(enc('\r\nGET / HTTP/1.0\r\nHost: h\r\n\r\n'));
    expect(result.done && [result.value.httpVersion, result.value.path]).toEqual(['1.0', '/']);
    expect(parseRequest(enc('GET / HTTP/1.1\r\nHost: h\r\n'))).toEqual({ done: false });
    expect(parseRequest(enc('GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n')).done).toBe(true);
  });

  it.each([
    ['a bare LF line end', 'GET / HTTP/1.1\nHost: h\r\n\r\n'],
    ['a bare LF header line', 'GET / HTTP/1.1\r\nHost: h\n\r\n'],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: h\0\r\n\r\n'],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n'],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n'],
    ['a header without colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n'],
    ['an empty header name', 'GET / HTTP/1.1\r\n: h\r\n\r\n'],
    ['a non-token header name', 'GET / HTTP/1.1\r\nX[1]: h\r\n\r\n'],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\n\r\n'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\n\r\n'],
    ['a missing version', 'GET /\r\n\r\n'],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n'],
    ['a version with junk', 'GET / HTTP/1.1x\r\n\r\n'],
    ['a target with a control character', 'GET /\x01 HTTP/1.1\r\n\r\n'],
    ['a target with raw non-ASCII', 'GET /\u00e9 HTTP/1.1\r\n\r\n'],
    ['a request body (Content-Length)', 'GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello'],
    ['a request body (Transfer-Encoding)', 'GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['an invalid Content-Length', 'GET / HTTP/1.1\r\nContent-Length: -0\r\n\r\n'],
  ])('rejects %s with 400', (_name, text) => {
    expectStatus(() => parseRequest(enc(text)), 400);
  });

  it('keeps failing after an error, and refuses input after the end', () => {
    const parser = new RequestParser();
    expect(() => parser.feed(enc('BAD\r\n'))).toThrow(HttpParseError);
    expect(() => parser.feed(enc(HANDSHAKE))).toThrow(HttpParseError);
    const done = new RequestParser();
    expect(done.feed(enc(HANDSHAKE)).done).toBe(true);
    expect(() => done.feed(FRAME)).toThrow(LocalProtocolError);
  });

  it('fails on end of stream inside the head', () => {
    const parser = new RequestParser();
    parser.feed(enc('GET / HTTP/1.1\r\n'));
    expectStatus(() => parser.feedEof(), 400);
  });
});

describe('RequestParser limits', () => {
  /** Feeds generated bytes in pieces until the parser throws; returns the error and bytes fed. */
  function feedUntilError(piece: Uint8Array, first: Uint8Array, chunkSize: number, limits?: Partial<HttpLimits>): { err: unknown; fed: number } {
    const parser = new RequestParser(limits);
    const stream = Buffer.concat([first, ...Array.from({ length: Math.ceil((64 * 1024) / piece.length) }, () => piece)]);
    let fed = 0;
    // At most 20 MB: the generator repeats `stream` (the error must come long before).
    for (let total = 0; total < 20 * 1024 * 1024; ) {
      for (let at = total === 0 ? 0 : first.length; at < stream.length; at += chunkSize) {
        const chunk = stream.subarray(at, Math.min(at + chunkSize, stream.length));
        try {
          parser.feed(chunk);
        } catch (err) {
          return { err, fed: fed + chunk.length };
        }
        fed += chunk.length;
        total += chunk.length;
      }
    }
    return { err: undefined, fed };
  }

  const start = enc('GET / HTTP/1.1\r\n');
  const kbHeader = enc(`X-Pad: ${'a'.repeat(1000 - 9)}\r\n`); // 1000-byte lines: the 16 KiB total trips first

  it.each([1, 4096])('a 20 MB header block fed in %d-byte pieces fails with 431 just after 16 KiB', (chunkSize) => {
    const { err, fed } = feedUntilError(kbHeader, start, chunkSize);
    expect(err).toBeInstanceOf(SecurityError);
    expect((err as SecurityError).statusCode).toBe(431);
    expect(fed).toBeGreaterThanOrEqual(DEFAULT_HTTP_LIMITS.maxHeaderSize);
    expect(fed).toBeLessThanOrEqual(DEFAULT_HTTP_LIMITS.maxHeaderSize + chunkSize);
  });

  it('a single endless header line fails with 431 just after 8 KiB, even in one 20 MB chunk', () => {
    const { err, fed } = feedUntilError(enc('a'.repeat(4096)), enc('GET / HTTP/1.1\r\nX-Long: '), 1);
    expect((err as SecurityError).statusCode).toBe(431);
    expect(fed).toBeLessThanOrEqual(16 + 8194 + 1);
    const huge = Buffer.alloc(20 * 1024 * 1024, 0x61);
    start.copy(huge);
    expectStatus(() => parseRequest(huge), 431, SecurityError);
  });

  it('an endless request line fails with 414 just after 8 KiB', () => {
    const { err, fed } = feedUntilError(enc('/aaaaaaa'), enc('GET '), 1);
    expect((err as SecurityError).statusCode).toBe(414);
    expect(fed).toBe(8192 + 2);
  });

  it('allows 100 header lines, not 101', () => {
    const head = (n: number): string => `GET / HTTP/1.1\r\n${'X: y\r\n'.repeat(n)}\r\n`;
    expect(parseRequest(enc(head(100))).done).toBe(true);
    expectStatus(() => parseRequest(enc(head(101))), 431, SecurityError);
  });

  it('accepts lines and heads exactly at the limits, and honours custom limits', () => {
    const limits = { maxStartLineLength: 30, maxHeaderLineLength: 20, maxHeaderSize: 64 };
    const line20 = `X-A: ${'b'.repeat(15)}`;
    const request = `GET /${'p'.repeat(16)} HTTP/1.1\r\n${line20}\r\n`; // 30 + 2 + 20 + 2 = 54 bytes
    expect(parseRequest(enc(`${request}X: ${'c'.repeat(3)}\r\n\r\n`), limits).done).toBe(true); // 64 bytes
    expectStatus(() => parseRequest(enc(`${request}X: ${'c'.repeat(4)}\r\n\r\n`), limits), 431, SecurityError);
    expectStatus(() => parseRequest(enc(`GET /${'p'.repeat(17)} HTTP/1.1\r\n\r\n`), limits), 414, SecurityError);
    expectStatus(() => parseRequest(enc(`GET / HTTP/1.1\r\n${line20}b\r\n\r\n`), limits), 431, SecurityError);
  });
});

describe('ResponseParser', () => {
  const accept = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

  it.each([1, 5, 1000])('parses a 101 fed in pieces of %d bytes; the frame after it is trailing data', (size) => {
    const result = feedInPieces<Response>(new ResponseParser(), Buffer.concat([enc(accept), FRAME]), size);
    expect([result.value.statusCode, result.value.reasonPhrase, result.value.body]).toEqual([101, 'Switching Protocols', undefined]);
    expect(result.value.headers.get('sec-websocket-accept')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(result.trailing).toEqual(FRAME);
  });

  it('reads a Content-Length body, in pieces, and leaves what follows', () => {
    const input = enc('HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!extra');
    const result = feedInPieces<Response>(new ResponseParser(), input, 3);
    expect(Buffer.from(result.value.body!).toString()).toBe('nope!');
    expect(Buffer.from(result.trailing).toString()).toBe('extra');
  });

  it('reads a body until the connection closes', () => {
    const parser = new ResponseParser();
    expect(parser.feed(enc('HTTP/1.1 400 Bad Request\r\n\r\nsome'))).toEqual({ done: false });
    expect(parser.feed(enc(' text'))).toEqual({ done: false });
    const result = parser.feedEof();
    expect(result.done && Buffer.from(result.value.body!).toString()).toBe('some text');
    const once = parseResponse(enc('HTTP/1.1 500 Oops\r\n\r\nbody'), undefined, true);
    expect(once.done && once.value.reasonPhrase).toBe('Oops');
  });

  it.each([
    ['204 without body', 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n', undefined],
    ['Content-Length: 0', 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', ''],
    ['a status line without reason', 'HTTP/1.1 101\r\n\r\n', undefined],
    ['an empty reason', 'HTTP/1.1 101 \r\n\r\n', undefined],
  ])('completes %s at the blank line', (_name, text, body) => {
    const result = parseResponse(enc(text));
    expect(result.done).toBe(true);
    if (result.done) expect(result.value.body === undefined ? undefined : Buffer.from(result.value.body).toString()).toBe(body);
  });

  it.each([
    ['a bad status code', 'HTTP/1.1 1o1 X\r\n\r\n', 400],
    ['a status code of 600', 'HTTP/1.1 600 X\r\n\r\n', 400],
    ['a 4-digit status code', 'HTTP/1.1 1010 X\r\n\r\n', 400],
    ['a control character in the reason', 'HTTP/1.1 200 O\x01K\r\n\r\n', 400],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', 400],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
    ['Content-Length with a sign', 'HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n', 400],
    ['chunked transfer coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['a body over maxBodySize (Content-Length)', `HTTP/1.1 200 OK\r\nContent-Length: ${1024 * 1024 + 1}\r\n\r\n`, 413],
  ])('rejects %s', (_name, text, status) => {
    expectStatus(() => parseResponse(enc(text)), status);
  });

  it('limits a read-until-close body, and fails on EOF inside a Content-Length body', () => {
    const parser = new ResponseParser({ maxBodySize: 10 });
    parser.feed(enc('HTTP/1.1 400 Bad\r\n\r\n0123456789'));
    expectStatus(() => parser.feed(enc('x')), 413, SecurityError);
    const short = new ResponseParser();
    short.feed(enc('HTTP/1.1 400 Bad\r\nContent-Length: 10\r\n\r\n01234'));
    expectStatus(() => short.feedEof(), 400);
  });
});

describe('serialize', () => {
  it('round-trips a request', () => {
    const request = new Request('/chat?x=1', { Host: 'h', Upgrade: 'websocket' });
    const wire = request.serialize();
    expect(wire.toString('latin1')).toBe('GET /chat?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n');
    const parsed = parseRequest(wire);
    expect(parsed.done && [...parsed.value.headers]).toEqual([['Host', 'h'], ['Upgrade', 'websocket']]);
  });

  it('round-trips a response with a body and a default reason', () => {
    const response = new Response(426, undefined, new Headers({ 'Sec-WebSocket-Version': '13', 'Content-Length': '3' }), enc('bye'));
    const wire = response.serialize();
    expect(wire.toString('latin1')).toBe('HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 3\r\n\r\nbye');
    const parsed = parseResponse(wire);
    expect(parsed.done && Buffer.from(parsed.value.body!).toString()).toBe('bye');
  });

  it.each([
    ['a path with a space', () => new Request('/a b').serialize()],
    ['a path with CRLF', () => new Request('/\r\nX-Evil: 1').serialize()],
    ['an empty path', () => new Request('').serialize()],
    ['a method that is not a token', () => new Request('/', {}, { method: 'GE T' }).serialize()],
    ['a status code of 99', () => new Response(99, 'x').serialize()],
    ['a reason with CRLF', () => new Response(400, 'Bad\r\nX-Evil: 1').serialize()],
  ])('refuses to serialize %s', (_name, fn) => {
    expect(fn).toThrow(LocalProtocolError);
  });
});
