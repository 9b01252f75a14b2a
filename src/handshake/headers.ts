/**
 * Parsers and builders for the header values of the opening handshake (RFC 6455 §4, §9.1,
 * §11.3): `Connection` and `Upgrade` (RFC 7230 §6.1, §6.7), `Sec-WebSocket-Protocol` and
 * `Sec-WebSocket-Extensions`.
 *
 * Every parser is a single left-to-right scan: each step consumes at least one character or
 * stops, so the work is linear in the input whatever its shape. No regular expression is
 * used on peer input: backtracking regexes over header values were the cause of ws
 * CVE-2021-32640 and websocket-extensions CVE-2020-7662 (pathological spacing).
 * The scan only calls `length`, `charCodeAt` and `slice` on the input, which the tests use
 * to count the work done.
 *
 * Results are arrays; nothing is keyed by peer-chosen names in a plain object, so names
 * such as `__proto__` or `constructor` are ordinary strings (ws NSP-550).
 */
import { isToken } from './datastructures';
import { LocalProtocolError, RemoteProtocolError } from '../errors';

/** One or several header lines of the same field (several lines form one list, RFC 7230 §3.2.2). */
export type HeaderValues = string | readonly string[];

/** An extension parameter: name and value (`null` when the parameter has no value). */
export type ExtensionParam = [name: string, value: string | null];

/** One element of Sec-WebSocket-Extensions (RFC 6455 §9.1): `name; p1=v; p2`. */
export interface ExtensionHeader {
  name: string;
  params: ExtensionParam[];
}

/**
 * The opening handshake failed (RFC 6455 §4.1 client side, §4.2.1 server side).
 * `statusCode` is the HTTP status a server should answer with (400 unless stated) and
 * `headers` the headers that answer should carry (e.g. `Sec-WebSocket-Version: 13` with 426,
 * RFC 6455 §4.4). On the client side the status is only informative: the client simply
 * fails the connection (§4.1: "_Fail the WebSocket Connection_").
 */
export class InvalidHandshake extends RemoteProtocolError {
  override name = 'InvalidHandshake';
  /** Headers for the rejection response a server sends. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  constructor(message: string, statusCode = 400, headers: ReadonlyArray<readonly [string, string]> = []) {
    // 1002 is never sent for a handshake failure (no WebSocket frames exist yet); the base
    // class wants one, and "protocol error" is the honest one.
    super(message, 1002, statusCode);
    this.headers = headers;
  }
}

/** A header required by RFC 6455 §4 is missing, duplicated or has the wrong value. */
export class InvalidHandshakeHeader extends InvalidHandshake {
  override name = 'InvalidHandshakeHeader';
  /** The header's name as RFC 6455 spells it. */
  readonly header: string;
  /** The offending value (cut to 200 characters), undefined when the header is missing. */
  readonly value: string | undefined;
  constructor(
    header: string,
    value: string | undefined,
    message?: string,
    statusCode = 400,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ) {
    const shown = value === undefined ? undefined : clip(value);
    super(
      message ?? (shown === undefined ? `missing ${header} header` : `invalid ${header} header: ${JSON.stringify(shown)}`),
      statusCode,
      headers,
    );
    this.header = header;
    this.value = shown;
  }
}

/** A header value does not follow its grammar (RFC 7230 §7 lists, RFC 6455 §9.1, §11.3). */
export class InvalidHeaderValue extends InvalidHandshakeHeader {
  override name = 'InvalidHeaderValue';
  /** Index in the (single) value where parsing stopped. */
  readonly position: number;
  constructor(header: string, value: string, position: number, what: string) {
    super(header, value, `invalid ${header} header at position ${position}: ${what}`);
    this.position = position;
  }
}

/** The subset of string the scanners use (so a test can count calls). */
interface Text {
  readonly length: number;
  charCodeAt(index: number): number;
  slice(start: number, end: number): string;
}

/** Error values are echoed in messages; a 64 KiB value must not be. */
function clip(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}...` : value;
}

// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. A 128-entry table: one lookup per character.
const TCHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const SEMI = 0x3b;
const EQ = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/** The parsing state of one header value. */
class Scanner {
  pos = 0;
  constructor(
    readonly text: Text,
    readonly header: string,
  ) {}

  fail(what: string): never {
    throw new InvalidHeaderValue(this.header, this.text.slice(0, Math.min(this.text.length, 201)), this.pos, what);
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  /** OWS = *( SP / HTAB ) (RFC 7230 §3.2.3). */
  skipOWS(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== SP && c !== HTAB) return;
      this.pos++;
    }
  }

  /** token = 1*tchar. */
  token(what: string): string {
    const start = this.pos;
    while (this.pos < this.text.length && isTchar(this.text.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    return this.text.slice(start, this.pos);
  }

  /** quoted-string (RFC 7230 §3.2.6), returned unescaped. The caller is at the DQUOTE. */
  quotedString(): string {
    this.pos++;
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated quoted-string');
      const c = this.text.charCodeAt(this.pos);
      if (c === DQUOTE) {
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c === BACKSLASH) {
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ): keep the escaped character.
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        const e = this.peek();
        if (e === -1 || !(e === HTAB || (e >= SP && e !== 0x7f && e <= 0xff))) this.fail('bad quoted-pair');
        runStart = this.pos;
        this.pos++;
        continue;
      }
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      if (!(c === HTAB || (c >= SP && c !== 0x7f && c <= 0xff))) this.fail('bad character in quoted-string');
      this.pos++;
    }
  }
}

/**
 * RFC 7230 §7 list: `1#element`. Empty elements (",,", leading or trailing commas) are
 * accepted as the RFC requires of recipients; at least one real element is required.
 * `item` must consume at least one character or throw, which keeps the loop linear.
 */
function parseList<T>(values: HeaderValues, header: string, item: (s: Scanner) => T): T[] {
  const out: T[] = [];
  const list: readonly Text[] = Array.isArray(values) ? (values as readonly Text[]) : [values as Text];
  for (const value of list) {
    const s = new Scanner(value, header);
    let found = 0;
    for (;;) {
      s.skipOWS();
      if (s.atEnd()) break;
      if (s.peek() === COMMA) {
        s.pos++;
        continue;
      }
      out.push(item(s));
      found++;
      s.skipOWS();
      if (s.atEnd()) break;
      if (s.peek() !== COMMA) s.fail('expected "," or end of value');
      s.pos++;
    }
    if (found === 0) s.fail('empty list');
  }
  return out;
}

/** extension-param = token [ "=" (token | quoted-string) ] (RFC 6455 §9.1). */
function parseParam(s: Scanner): ExtensionParam {
  const name = s.token('parameter name');
  s.skipOWS();
  if (s.peek() !== EQ) return [name, null];
  s.pos++;
  s.skipOWS();
  if (s.peek() === DQUOTE) {
    const start = s.pos;
    const value = s.quotedString();
    // RFC 6455 §9.1: "the value after quoted-string unescaping MUST conform to the 'token' ABNF".
    if (!isToken(value)) {
      s.pos = start;
      s.fail('quoted parameter value is not a token');
    }
    return [name, value];
  }
  return [name, s.token('parameter value')];
}

/** extension = extension-token *( ";" extension-param ). */
function parseExtensionItem(s: Scanner): ExtensionHeader {
  const name = s.token('extension name');
  const params: ExtensionParam[] = [];
  for (;;) {
    s.skipOWS();
    if (s.peek() !== SEMI) return { name, params };
    s.pos++;
    s.skipOWS();
    params.push(parseParam(s));
  }
}

/**
 * `Connection` (RFC 7230 §6.1): its connection options, as written. Compare them
 * case-insensitively (see {@link hasToken}); the handshake needs "upgrade" among them.
 * @throws InvalidHeaderValue on a malformed value
 */
export function parseConnection(values: HeaderValues): string[] {
  return parseList(values, 'Connection', (s) => s.token('connection option'));
}

/**
 * `Upgrade` (RFC 7230 §6.7): `protocol-name ["/" protocol-version]` items, as written
 * (e.g. `["websocket"]`, `["HTTP/2.0", "websocket"]`).
 * @throws InvalidHeaderValue on a malformed value
 */
export function parseUpgrade(values: HeaderValues): string[] {
  return parseList(values, 'Upgrade', (s) => {
    const start = s.pos;
    s.token('protocol name');
    if (s.peek() === SLASH) {
      s.pos++;
      s.token('protocol version');
    }
    return s.text.slice(start, s.pos);
  });
}

/**
 * `Sec-WebSocket-Protocol` (RFC 6455 §4.1, §11.3.4): a comma list of tokens, possibly over
 * several header lines, in the client's order of preference.
 * @throws InvalidHeaderValue on a malformed value
 */
export function parseSubprotocols(values: HeaderValues): string[] {
  return parseList(values, 'Sec-WebSocket-Protocol', (s) => s.token('subprotocol'));
}

/**
 * `Sec-WebSocket-Extensions` (RFC 6455 §9.1, §11.3.2): the extensions in order, each with
 * its parameters in order; quoted values are unquoted (and must then be tokens). The same
 * name may appear several times (a client's alternative offers).
 * @throws InvalidHeaderValue on a malformed value
 */
export function parseExtensions(values: HeaderValues): ExtensionHeader[] {
  return parseList(values, 'Sec-WebSocket-Extensions', parseExtensionItem);
}

/**
 * The parameter part of one extension element, without the name: `""`, or
 * `"p1; p2=v"` (the format {@link Extension.offer} and {@link Extension.accept} use).
 * @throws InvalidHeaderValue on a malformed value
 */
export function parseExtensionParams(value: string, header = 'Sec-WebSocket-Extensions'): ExtensionParam[] {
  const s = new Scanner(value, header);
  const params: ExtensionParam[] = [];
  s.skipOWS();
  if (s.atEnd()) return params;
  for (;;) {
    params.push(parseParam(s));
    s.skipOWS();
    if (s.atEnd()) return params;
    if (s.peek() !== SEMI) s.fail('expected ";" or end of parameters');
    s.pos++;
    s.skipOWS();
  }
}

/**
 * Whether a token list (from {@link parseConnection} / {@link parseUpgrade}) holds `token`,
 * ignoring ASCII case (RFC 7230 §6.1, §6.7: these tokens are case-insensitive).
 */
export function hasToken(list: readonly string[], token: string): boolean {
  const wanted = token.toLowerCase();
  return list.some((t) => t.toLowerCase() === wanted);
}

function requireToken(s: string, what: string): string {
  if (!isToken(s)) throw new LocalProtocolError(`${what} must be an RFC 7230 token, got ${JSON.stringify(clip(s))}`);
  return s;
}

/**
 * Builds a Sec-WebSocket-Protocol value: `"chat, superchat"`.
 * @throws LocalProtocolError if a name is not a token (RFC 6455 §4.1)
 */
export function buildSubprotocols(protocols: readonly string[]): string {
  if (protocols.length === 0) throw new LocalProtocolError('at least one subprotocol is required');
  return protocols.map((p) => requireToken(p, 'a subprotocol')).join(', ');
}

/**
 * Builds the parameter part of an extension element: `"p1; p2=v"` (RFC 6455 §9.1). Values
 * must be tokens, so they are never quoted.
 * @throws LocalProtocolError on a name or value that is not a token
 */
export function buildExtensionParams(params: readonly ExtensionParam[]): string {
  return params
    .map(([k, v]) =>
      v === null ? requireToken(k, 'an extension parameter') : `${requireToken(k, 'an extension parameter')}=${requireToken(v, 'an extension parameter value')}`,
    )
    .join('; ');
}

/**
 * Builds a Sec-WebSocket-Extensions value: `"permessage-deflate; client_max_window_bits, x"`.
 * @throws LocalProtocolError on a name, parameter or value that is not a token
 */
export function buildExtensions(extensions: readonly ExtensionHeader[]): string {
  if (extensions.length === 0) throw new LocalProtocolError('at least one extension is required');
  return extensions
    .map(({ name, params }) => {
      const p = buildExtensionParams(params);
      return p === '' ? requireToken(name, 'an extension name') : `${requireToken(name, 'an extension name')}; ${p}`;
    })
    .join(', ');
}
