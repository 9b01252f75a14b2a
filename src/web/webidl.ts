/**
 * The argument checks and conversions of the browser's WebSocket: what WebIDL does to the
 * arguments before the WebSockets Standard's steps run, and the steps that throw.
 */
import { isToken } from '../handshake/datastructures';

/** A DOMException named `name` (the standard's "throw a SyntaxError DOMException"). */
export function domError(message: string, name: 'SyntaxError' | 'InvalidAccessError' | 'InvalidStateError'): DOMException {
  return new DOMException(message, name);
}

/**
 * WebSockets Standard §3.1 "get a URL record": parse (Node has no base URL, so a relative
 * URL fails), map http(s) to ws(s), refuse other schemes and any fragment.
 */
export function webSocketURL(url: unknown): URL {
  // USVString conversion: a URL object becomes its href.
  const text = String(url);
  let record: URL;
  try {
    record = new URL(text);
  } catch {
    throw domError(`Failed to construct 'WebSocket': The URL '${text}' is invalid.`, 'SyntaxError');
  }
  if (record.protocol === 'http:') record.protocol = 'ws:';
  else if (record.protocol === 'https:') record.protocol = 'wss:';
  if (record.protocol !== 'ws:' && record.protocol !== 'wss:') {
    throw domError(`Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${record.protocol}' is not allowed.`, 'SyntaxError');
  }
  // A fragment, even an empty one ("ws://h/#"): the serialization has '#' only as its delimiter.
  if (record.href.includes('#')) {
    throw domError(`Failed to construct 'WebSocket': The URL contains a fragment identifier ('${record.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`, 'SyntaxError');
  }
  return record;
}

/** WebIDL `DOMString` conversion (a Symbol throws a TypeError, as String() does not). */
function domString(value: unknown): string {
  if (typeof value === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
  return String(value);
}

/**
 * WebIDL `(DOMString or sequence<DOMString>)`, then §3.1 steps 3-4: every subprotocol must be
 * a token (RFC 9110 §5.6.2, the grammar of Sec-WebSocket-Protocol, RFC 6455 §4.1) and none
 * may repeat. Repeats are compared ASCII case-insensitively, as web-platform-tests and
 * Chromium do (websockets/Create-protocols-repeated-case-insensitive).
 */
export function subprotocolList(protocols: unknown): string[] {
  let list: string[];
  if (protocols === undefined) list = [];
  else if (typeof protocols === 'object' && protocols !== null && Symbol.iterator in protocols) list = Array.from(protocols as Iterable<unknown>, domString);
  else list = [domString(protocols)];
  const seen = new Set<string>();
  for (const p of list) {
    if (!isToken(p)) throw domError(`Failed to construct 'WebSocket': The subprotocol '${p}' is invalid.`, 'SyntaxError');
    const key = p.toLowerCase();
    if (seen.has(key)) throw domError(`Failed to construct 'WebSocket': The subprotocol '${p}' is duplicated.`, 'SyntaxError');
    seen.add(key);
  }
  return list;
}

/** WebIDL `[Clamp] unsigned short`: NaN is 0, clamped to 0..65535, rounded half to even. */
export function clampUnsignedShort(value: unknown): number {
  if (typeof value === 'symbol' || typeof value === 'bigint') throw new TypeError('Cannot convert the close code to a number');
  let x = Number(value);
  if (Number.isNaN(x)) return 0;
  x = Math.min(Math.max(x, 0), 65535);
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * WebSockets Standard §3.2 close() steps 1-2: the code, if present, is 1000 or 3000-4999
 * (InvalidAccessError); the reason, as UTF-8, is at most 123 bytes (SyntaxError; RFC 6455
 * §5.5: a control frame's payload is at most 125 bytes, 2 of which are the code).
 */
export function closeArguments(code: unknown, reason: unknown): { code: number | undefined; reason: Buffer } {
  let c: number | undefined;
  if (code !== undefined) {
    c = clampUnsignedShort(code);
    if (c !== 1000 && !(c >= 3000 && c <= 4999)) {
      throw domError(`Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${c} is neither.`, 'InvalidAccessError');
    }
  }
  // USVString: Buffer.from encodes a lone surrogate as U+FFFD, as the conversion does.
  const bytes = reason === undefined ? Buffer.alloc(0) : Buffer.from(domString(reason));
  if (bytes.length > 123) {
    throw domError(`Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes.`, 'SyntaxError');
  }
  return { code: c, reason: bytes };
}
