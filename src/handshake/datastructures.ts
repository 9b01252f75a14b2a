/**
 * HTTP header container for the opening handshake, and shared type aliases.
 *
 * Header names are case-insensitive (RFC 7230 §3.2, RFC 9110 §5.1), a name may occur several
 * times, and the original order and spelling matter for forwarding and debugging. Lookups
 * go through a Map from the lower-case name to its values, so `get` costs O(1) whatever the
 * number of headers.
 */
import { WebSocketError } from '../errors';

/** A WebSocket message payload: text (string) or binary (bytes). */
export type Data = string | Uint8Array;

// websockets' type aliases (websockets.typing). Plain strings: they name what a string means.
/** The value of an Origin header (RFC 6454), e.g. "https://app.example". */
export type Origin = string;
/** A subprotocol name (Sec-WebSocket-Protocol, RFC 6455 §11.3.4). */
export type Subprotocol = string;
/** An extension name (Sec-WebSocket-Extensions, RFC 6455 §9.1), e.g. "permessage-deflate". */
export type ExtensionName = string;
/**
 * An HTTP status code (websockets' `int | HTTPStatus`): a number, or a member of any numeric
 * enum of statuses, which TypeScript treats as a number.
 */
export type StatusLike = number;
/**
 * What a `logger` option takes (websockets' `logging.Logger | LoggerAdapter`): `console`,
 * or any object with these four methods (pino, winston, bunyan and log4js fit). wscore calls
 * them with one preformatted string. Python's `warning` is `warn` here, as on `console`.
 */
export interface LoggerLike {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}
/** websockets' AsyncHandler: a handler whose result is awaited. */
export type AsyncHandler<T = unknown> = (arg: T) => PromiseLike<void>;
/** websockets' SyncHandler: a handler called synchronously. */
export type SyncHandler<T = unknown> = (arg: T) => void;

/**
 * Anything {@link Headers} can be built from: another Headers, a Map or plain object whose
 * values are a string or a list of strings (`undefined` values are skipped, so Node's
 * `IncomingHttpHeaders` fits), or an iterable of [name, value] pairs.
 */
export type HeadersLike =
  | Headers
  | ReadonlyMap<string, string | readonly string[]>
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | Iterable<readonly [string, string]>;

/** Several values were found for a header that must have one (websockets' MultipleValuesError). */
export class MultipleValuesError extends WebSocketError {
  override name = 'MultipleValuesError';
  /** The header name, as asked for. */
  readonly key: string;
  /** Every value found. */
  readonly values: readonly string[];
  constructor(key: string, values: readonly string[]) {
    super(`multiple values for header ${key}: ${values.map((v) => JSON.stringify(v)).join(', ')}`);
    this.key = key;
    this.values = values;
  }
}

/**
 * A header name that is not an RFC 7230 §3.2.6 token, or a value with CR, LF, NUL or a
 * character above U+00FF. Rejecting these when a header is stored, not when it is sent,
 * is what stops header injection (a value smuggling "\r\nX-Evil: 1", as in undici
 * CVE-2026-1527). A TypeError, like Node's own ERR_INVALID_HTTP_TOKEN / ERR_INVALID_CHAR.
 */
export class InvalidHeader extends TypeError {
  override name = 'InvalidHeader';
  /** The offending header name (possibly the invalid one itself). */
  readonly headerName: string;
  /** The offending value, when the value was the problem. */
  readonly headerValue: string | undefined;
  constructor(message: string, headerName: string, headerValue?: string) {
    super(message);
    this.headerName = headerName;
    this.headerValue = headerValue;
  }
}

// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. A 128-entry table: one lookup per character.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Whether `text` is a non-empty RFC 7230 §3.2.6 token (header names, methods, ...). */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09; // RFC 7230 §3.2.3: OWS = *( SP / HTAB )
}

/**
 * Returns `value` without surrounding optional whitespace (RFC 7230 §3.2.4), or throws
 * InvalidHeader if it holds CR, LF, NUL (RFC 9110 §5.5: "invalid and dangerous") or a
 * character above U+00FF (it would not survive the latin1 encoding of the header block:
 * U+010A would become the byte 0x0A, a line feed). Other control characters are kept, as
 * RFC 9110 §5.5 allows for robustness.
 */
export function normalizeHeaderValue(name: string, value: string): string {
  if (typeof value !== 'string') throw new InvalidHeader(`value of header ${name} must be a string`, name);
  let start = 0;
  let end = value.length;
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0x00 || c > 0xff) {
      throw new InvalidHeader(`invalid character U+${c.toString(16).padStart(4, '0')} in value of header ${name}`, name, value);
    }
  }
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !isToken(name)) {
    throw new InvalidHeader(`invalid header name ${JSON.stringify(name)}`, String(name));
  }
}

/**
 * Case-insensitive, multi-valued HTTP headers that keep insertion order and the original
 * spelling of names.
 *
 * Semantics (the seeds disagree; wscore picks these, like the WHATWG Headers of fetch):
 * - {@link Headers.set} REPLACES every value of a name with one value;
 *   {@link Headers.append} (alias {@link Headers.add}) ADDS one more value.
 * - {@link Headers.get} returns the single value, `undefined` when absent, and throws
 *   {@link MultipleValuesError} when there are several; {@link Headers.getAll} returns all.
 * - Iteration, {@link Headers.entries}, {@link Headers.keys}, {@link Headers.values} and
 *   {@link Headers.rawItems} walk the name/value pairs in insertion order with names as
 *   given; {@link Headers.size} counts those pairs. {@link Headers.names} lists each
 *   distinct name once, lower-cased, and {@link Headers.nameCount} counts them (Python's
 *   `len(headers)`).
 * - Names must be tokens and values must not contain CR, LF, NUL or characters above
 *   U+00FF ({@link InvalidHeader}); surrounding spaces and tabs of values are trimmed.
 */
export class Headers implements Iterable<[string, string]> {
  /** Every pair in order, name spelled as given. */
  #pairs: Array<[string, string]> = [];
  /** Lower-case name -> its values in order. A Map, so "__proto__" is just a name. */
  #index = new Map<string, string[]>();

  constructor(init?: HeadersLike) {
    if (init !== undefined) this.update(init);
  }

  /**
   * Builds headers from Node's `IncomingMessage.rawHeaders`: a flat list of names and
   * values, alternating, with the original spelling and repetitions.
   */
  static fromRawHeaders(raw: readonly string[]): Headers {
    if (raw.length % 2 !== 0) throw new TypeError('rawHeaders must hold name/value pairs');
    const headers = new Headers();
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
    return headers;
  }

  /** Number of name/value pairs (a name with two values counts twice). */
  get size(): number {
    return this.#pairs.length;
  }

  /**
   * Number of distinct header names, whatever their number of values: websockets'
   * `len(headers)` (which counts the keys of its dict). {@link Headers.size} counts pairs.
   */
  get nameCount(): number {
    return this.#index.size;
  }

  /**
   * The value of header `name`: `defaultValue` (`undefined` unless given) if absent
   * (websockets' `get(key, default)`).
   * @throws MultipleValuesError if the header has several values (as websockets' `get`:
   *   the default stands in for a missing header only)
   */
  get(name: string): string | undefined;
  get<D>(name: string, defaultValue: D): string | D;
  get<D>(name: string, defaultValue?: D): string | D | undefined {
    const values = this.#index.get(name.toLowerCase());
    if (values === undefined) return defaultValue;
    if (values.length > 1) throw new MultipleValuesError(name, values.slice());
    return values[0];
  }

  /** Every value of header `name`, in order (an empty array if absent). */
  getAll(name: string): string[] {
    const values = this.#index.get(name.toLowerCase());
    return values === undefined ? [] : values.slice();
  }

  /** Whether header `name` has at least one value. */
  has(name: string): boolean {
    return this.#index.has(name.toLowerCase());
  }

  /**
   * Replaces every value of `name` with `value`. The pair takes the place of the first
   * existing occurrence (or goes last if there was none) and is spelled as given here.
   * @throws InvalidHeader
   */
  set(name: string, value: string): this {
    checkName(name);
    const clean = normalizeHeaderValue(name, value);
    const key = name.toLowerCase();
    if (!this.#index.has(key)) return this.#push(name, key, clean);
    let replaced = false;
    this.#pairs = this.#pairs.filter((pair) => {
      if (pair[0].toLowerCase() !== key) return true;
      if (replaced) return false;
      replaced = true;
      pair[0] = name;
      pair[1] = clean;
      return true;
    });
    this.#index.set(key, [clean]);
    return this;
  }

  /**
   * Adds one value for `name`, after any existing ones.
   * @throws InvalidHeader
   */
  append(name: string, value: string): this {
    checkName(name);
    return this.#push(name, name.toLowerCase(), normalizeHeaderValue(name, value));
  }

  /** Alias of {@link Headers.append} (websockets' name). */
  add(name: string, value: string): this {
    return this.append(name, value);
  }

  /** Removes every value of `name`. Returns whether there was any. O(size). */
  delete(name: string): boolean {
    const key = name.toLowerCase();
    if (!this.#index.delete(key)) return false;
    this.#pairs = this.#pairs.filter((pair) => pair[0].toLowerCase() !== key);
    return true;
  }

  /** Removes every header. */
  clear(): void {
    this.#pairs = [];
    this.#index.clear();
  }

  /** Appends every header of `init` (nothing is replaced; see {@link Headers.set}). */
  update(init: HeadersLike): this {
    if (init instanceof Headers) {
      // Already validated: copy without checking again. A snapshot, so h.update(h) ends.
      for (const [name, value] of init.#pairs.slice()) this.#push(name, name.toLowerCase(), value);
    } else if (init instanceof Map) {
      for (const [name, value] of init as ReadonlyMap<string, string | readonly string[]>) this.#appendAll(name, value);
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('each header must be a [name, value] pair');
        this.append(pair[0], pair[1]);
      }
    } else if (typeof init === 'object' && init !== null) {
      // Own enumerable keys only: a parsed JSON "__proto__" key is a header like any other.
      const record = init as Readonly<Record<string, string | readonly string[] | undefined>>;
      for (const name of Object.keys(record)) {
        const value = record[name];
        if (value !== undefined) this.#appendAll(name, value);
      }
    } else {
      throw new TypeError('headers must be a Headers, Map, object or iterable of pairs');
    }
    return this;
  }

  /** An independent copy. */
  copy(): Headers {
    return new Headers(this);
  }

  /** Each distinct header name once, lower-cased, in order of first appearance. */
  names(): IterableIterator<string> {
    return this.#index.keys();
  }

  /** The [name, value] pairs in insertion order (names as given). */
  *entries(): IterableIterator<[string, string]> {
    for (const [name, value] of this.#pairs) yield [name, value];
  }

  /** The name of each pair, in order, as given (repeated for multi-valued headers). */
  *keys(): IterableIterator<string> {
    for (const pair of this.#pairs) yield pair[0];
  }

  /** The value of each pair, in order. */
  *values(): IterableIterator<string> {
    for (const pair of this.#pairs) yield pair[1];
  }

  /** websockets' name for {@link Headers.entries}: every (name, value) pair as given. */
  rawItems(): IterableIterator<[string, string]> {
    return this.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** The headers as an HTTP header block: "Name: value\r\n" per pair, then "\r\n". */
  toString(): string {
    let out = '';
    for (const [name, value] of this.#pairs) out += `${name}: ${value}\r\n`;
    return `${out}\r\n`;
  }

  #appendAll(name: string, value: string | readonly string[]): void {
    if (typeof value === 'string') this.append(name, value);
    else if (Array.isArray(value)) for (const v of value as readonly string[]) this.append(name, v);
    else throw new InvalidHeader(`value of header ${String(name)} must be a string or an array of strings`, String(name));
  }

  #push(name: string, key: string, value: string): this {
    this.#pairs.push([name, value]);
    const values = this.#index.get(key);
    if (values === undefined) this.#index.set(key, [value]);
    else values.push(value);
    return this;
  }
}
