/**
 * WebSocket URIs (RFC 6455 §3): `ws://host[:port]/path[?query]` and `wss://...`.
 *
 * Parsing uses the WHATWG URL parser (IDN to punycode, IPv6 normalisation, percent-encoding
 * of non-ASCII characters, dot-segment removal) behind stricter checks of the raw string,
 * because WHATWG is lenient where a client should not be: it silently drops tabs and
 * newlines, turns "\" into "/" (so "ws://evil\@good" would reach "evil"), accepts "ws:host"
 * without "//", and accepts port 0.
 *
 * Not supported: `ws+unix:` (WebSocket over a Unix socket) URLs; connect over a Unix
 * socket with the client's socket options instead.
 */
import { WebSocketError } from '../errors';

/** `uri` is not a valid WebSocket URI. */
export class InvalidURI extends WebSocketError {
  override name = 'InvalidURI';
  /** The rejected input. */
  readonly uri: string;
  constructor(uri: string, reason: string) {
    super(`${JSON.stringify(uri)} is not a valid WebSocket URI: ${reason}`);
    this.uri = uri;
  }
}

/** A parsed, normalised WebSocket URI. Build one with {@link parseUri}. */
export class WebSocketURI {
  /** true for wss (TLS), false for ws. */
  readonly secure: boolean;
  /** Host name, lower-case, IDN in punycode; an IPv6 literal WITHOUT brackets ("::1"). */
  readonly host: string;
  /** Port, always set: 80 / 443 by default. */
  readonly port: number;
  /** Path, percent-encoded, never empty ("/" at least). */
  readonly path: string;
  /** Query without "?", percent-encoded; "" when there is none. */
  readonly query: string;
  /** User name, percent-decoded, when the URI has user information. */
  readonly username: string | undefined;
  /** Password, percent-decoded ("" when only a user name was given), with user information. */
  readonly password: string | undefined;

  constructor(init: {
    secure: boolean;
    host: string;
    port: number;
    path: string;
    query: string;
    username?: string | undefined;
    password?: string | undefined;
  }) {
    this.secure = init.secure;
    this.host = init.host;
    this.port = init.port;
    this.path = init.path;
    this.query = init.query;
    this.username = init.username;
    this.password = init.password;
  }

  /** The request-target of the handshake (RFC 6455 §3 "resource name"): path [ "?" query ]. */
  get resourceName(): string {
    return this.query === '' ? this.path : `${this.path}?${this.query}`;
  }

  /** [username, password] for HTTP Basic authentication, or undefined without user information. */
  get userInfo(): readonly [username: string, password: string] | undefined {
    return this.username === undefined ? undefined : [this.username, this.password ?? ''];
  }

  /**
   * The value of the Host header (RFC 6455 §4.1 item 4, RFC 9110 §7.2): the host, with
   * brackets around an IPv6 literal, and ":port" unless it is the default of the scheme.
   */
  get hostHeader(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return this.port === (this.secure ? 443 : 80) ? host : `${host}:${this.port}`;
  }

  /** The URI without user information, e.g. "wss://example.com/chat?x=1". */
  toString(): string {
    return `${this.secure ? 'wss' : 'ws'}://${this.hostHeader}${this.resourceName}`;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Why the raw string is unacceptable before WHATWG parsing, or null. */
function rawProblem(uri: string): string | null {
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'control character';
    if (c === 0x5c) return 'backslash'; // WHATWG reads "\" as "/" in ws URLs; RFC 3986 does not allow it
    // RFC 6455 §3: "Fragment identifiers are meaningless ... and MUST NOT be used".
    if (c === 0x23) return 'fragment identifier ("#" must be escaped as %23)';
    // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG
    if (c === 0x25 && !(isHex(uri.charCodeAt(i + 1)) && isHex(uri.charCodeAt(i + 2)))) return 'malformed percent-encoding';
  }
  if (uri.startsWith(' ') || uri.endsWith(' ')) return 'surrounding spaces';
  return null;
}

function decode(uri: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidURI(uri, 'user information is not valid percent-encoded UTF-8');
  }
}

/**
 * Parses and validates a WebSocket URI (RFC 6455 §3).
 * @throws InvalidURI for another scheme, no "//", a missing host, a port of 0 or above
 *   65535, a fragment, control characters, backslashes or malformed percent-encoding
 */
export function parseUri(uri: string): WebSocketURI {
  if (typeof uri !== 'string') throw new InvalidURI(String(uri), 'not a string');
  const problem = rawProblem(uri);
  if (problem !== null) throw new InvalidURI(uri, problem);
  const lower = uri.slice(0, 6).toLowerCase();
  const secure = lower.startsWith('wss://');
  if (!secure && !lower.startsWith('ws://')) throw new InvalidURI(uri, 'scheme is not ws:// or wss://');
  // WHATWG would read "ws:///path" as host "path": the authority must not be empty.
  const afterSlashes = uri.charAt(secure ? 6 : 5);
  if (afterSlashes === '' || afterSlashes === '/' || afterSlashes === '?') throw new InvalidURI(uri, 'missing host');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidURI(uri, 'malformed URI');
  }
  let host = url.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw new InvalidURI(uri, 'missing host');
  // WHATWG returns "" for the scheme's default port; it accepts 0, which no server listens on.
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidURI(uri, 'invalid port');
  const hasUser = url.username !== '' || url.password !== '';
  return new WebSocketURI({
    secure,
    host,
    port,
    path: url.pathname === '' ? '/' : url.pathname,
    query: url.search.startsWith('?') ? url.search.slice(1) : url.search,
    username: hasUser ? decode(uri, url.username) : undefined,
    password: hasUser ? decode(uri, url.password) : undefined,
  });
}
