/**
 * The opening handshake of RFC 6455 §4: the key and accept values (§1.3, §4.2.2), the
 * client's request and the checks of the server's response (§4.1), the server's checks of
 * the request (§4.2.1), subprotocol selection and extension negotiation (§4.2.2, §9.1), and
 * the responses a server sends (101, or a rejection).
 *
 * Failures are typed {@link InvalidHandshake} errors. On the server they carry the HTTP
 * status and headers to reject with:
 * - 405 + `Allow: GET`: the method is not GET (§4.2.1 item 1);
 * - 400: HTTP version below 1.1, missing or repeated Host, missing or malformed
 *   Sec-WebSocket-Key, malformed Upgrade/Connection/Sec-WebSocket-Protocol/-Extensions;
 * - 426 + `Upgrade: websocket` + `Connection: Upgrade`: the request is not an upgrade to
 *   websocket (RFC 7231 §6.5.15);
 * - 426 + `Sec-WebSocket-Version: 13`: any version but 13, or none (§4.2.2 item 4, §4.4).
 * The size limits of the head (16 KiB, 100 lines: 431) belong to the HTTP parser (http11.ts).
 */
import { createHash, randomBytes } from 'node:crypto';

import { Headers, type HeadersLike, MultipleValuesError } from './datastructures';
import { LocalProtocolError } from '../errors';
import { clientFinalize, clientOffers, serverNegotiate } from './extension-negotiation';
import type { Extension } from '../extensions/extension';
import { ACCEPT_GUID, WEBSOCKET_VERSION } from '../frames/frame';
import {
  buildExtensions,
  buildSubprotocols,
  type ExtensionHeader,
  hasToken,
  type HeaderValues,
  InvalidHandshake,
  InvalidHandshakeHeader,
  parseConnection,
  parseExtensions,
  parseSubprotocols,
  parseUpgrade,
} from './headers';
import { Request, Response } from './http11';

export { InvalidHandshake, InvalidHandshakeHeader, InvalidHeaderValue } from './headers';

/** The server answered the opening handshake with a status other than 101 (RFC 6455 §4.1). */
export class InvalidStatus extends InvalidHandshake {
  override name = 'InvalidStatus';
  /** The whole response: status, headers and body. */
  readonly response: Response;
  constructor(response: Response) {
    super(`server rejected WebSocket connection: HTTP ${response.statusCode} ${response.reasonPhrase}`.trimEnd(), response.statusCode);
    this.response = response;
  }
}

/** The request method is not GET (RFC 6455 §4.2.1 item 1): 405 with `Allow: GET`. */
export class InvalidMethod extends InvalidHandshake {
  override name = 'InvalidMethod';
  constructor(readonly method: string) {
    super(`the opening handshake must be a GET request, not ${JSON.stringify(method.slice(0, 50))}`, 405, [['Allow', 'GET']]);
  }
}

/** Headers that buildClientRequest / buildAcceptResponse set and extra headers may not. */
const OWN_REQUEST = ['host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions'];
const OWN_RESPONSE = ['upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions'];

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 §4.1 item 7). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/**
 * Sec-WebSocket-Accept for a key: base64 of the SHA-1 of the key followed by the GUID
 * (RFC 6455 §1.3, §4.2.2 item 5.4).
 */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + ACCEPT_GUID, 'latin1').digest('base64');
}

const B64 = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') B64[ch.charCodeAt(0)] = 1;

/**
 * Whether `key` is base64 of exactly 16 bytes (RFC 6455 §4.2.1 item 5): 22 base64
 * characters and "==". (Node's base64 decoder skips invalid characters, so it cannot
 * tell; this checks the text itself.)
 */
export function isValidKey(key: string): boolean {
  if (key.length !== 24 || key.charCodeAt(22) !== 0x3d || key.charCodeAt(23) !== 0x3d) return false;
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    if (c >= 128 || B64[c] !== 1) return false;
  }
  return true;
}

/** The single value of a header, or InvalidHandshakeHeader when repeated. */
function single(headers: Headers, name: string): string | undefined {
  try {
    return headers.get(name);
  } catch (err) {
    if (err instanceof MultipleValuesError) throw new InvalidHandshakeHeader(name, err.values.join(', '), `more than one ${name} header`);
    throw err;
  }
}

/** Every line of a header as one list source (RFC 7230 §3.2.2), or undefined if absent. */
function lines(headers: Headers, name: string): HeaderValues | undefined {
  const all = headers.getAll(name);
  return all.length === 0 ? undefined : all;
}

function addExtra(headers: Headers, extra: HeadersLike | undefined, own: readonly string[]): void {
  if (extra === undefined) return;
  for (const [name, value] of new Headers(extra)) {
    if (own.includes(name.toLowerCase())) throw new LocalProtocolError(`extra header ${name} would override the handshake's own`);
    headers.append(name, value);
  }
}

/** Options of {@link buildClientRequest}. */
export interface ClientRequestOptions {
  /** The Host header: host, plus ":port" when not the default port (RFC 6455 §4.1 item 4). */
  host: string;
  /** The request-target: path and query ("/chat?room=1"). */
  path: string;
  /** The Origin header (RFC 6455 §4.1 item 8, §10.2), for browser-like clients. */
  origin?: string;
  /** Subprotocols to offer, in order of preference (§4.1 item 10). */
  subprotocols?: readonly string[];
  /** Extensions to offer (§4.1 item 11, §9.1). */
  extensions?: readonly Extension[];
  /** More headers (cookies, auth...). May not repeat a header set here: LocalProtocolError. */
  extraHeaders?: HeadersLike;
  /** The Sec-WebSocket-Key to use (default: {@link generateKey}); for tests. */
  key?: string;
}

/**
 * The client's opening handshake request (RFC 6455 §4.1): GET, HTTP/1.1, Host, Upgrade,
 * Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, and Origin,
 * Sec-WebSocket-Protocol, Sec-WebSocket-Extensions when given, then the extra headers.
 * The key is `request.headers.get('Sec-WebSocket-Key')`: keep it for
 * {@link checkServerResponse}.
 * @throws LocalProtocolError on a subprotocol or extension offer that is not a token, or
 *   an extra header that collides with a handshake header
 */
export function buildClientRequest(options: ClientRequestOptions): Request {
  const key = options.key ?? generateKey();
  if (!isValidKey(key)) throw new LocalProtocolError('the key must be base64 of 16 bytes');
  const headers = new Headers();
  headers.append('Host', options.host);
  headers.append('Upgrade', 'websocket');
  headers.append('Connection', 'Upgrade');
  headers.append('Sec-WebSocket-Key', key);
  headers.append('Sec-WebSocket-Version', WEBSOCKET_VERSION);
  if (options.origin !== undefined) headers.append('Origin', options.origin);
  if (options.subprotocols !== undefined && options.subprotocols.length > 0) {
    headers.append('Sec-WebSocket-Protocol', buildSubprotocols(options.subprotocols));
  }
  const offers = clientOffers(options.extensions ?? []);
  if (offers.length > 0) headers.append('Sec-WebSocket-Extensions', buildExtensions(offers));
  addExtra(headers, options.extraHeaders, options.origin === undefined ? OWN_REQUEST : [...OWN_REQUEST, 'origin']);
  return new Request(options.path, headers);
}

/** What the client offered, for {@link checkServerResponse}. */
export interface ClientExpectations {
  /** The Sec-WebSocket-Key sent. */
  key: string;
  /** The subprotocols offered. */
  subprotocols?: readonly string[];
  /** The extensions offered. */
  extensions?: readonly Extension[];
}

/** The outcome of a successful opening handshake. */
export interface HandshakeResult {
  /** The subprotocol in use, or null. */
  subprotocol: string | null;
  /** The extensions in use, in the order they apply (§9.1). */
  extensions: Extension[];
}

/** Upgrade must name websocket and Connection must name upgrade (RFC 6455 §4.1, §4.2.1). */
function checkUpgrade(headers: Headers, statusCode: number): void {
  const upgradeHeaders: ReadonlyArray<readonly [string, string]> = statusCode === 426 ? [['Upgrade', 'websocket'], ['Connection', 'Upgrade']] : [];
  const upgrade = lines(headers, 'Upgrade');
  if (upgrade === undefined || !hasToken(parseUpgrade(upgrade), 'websocket')) {
    throw new InvalidHandshakeHeader('Upgrade', upgrade?.toString(), 'the Upgrade header must name websocket', statusCode, upgradeHeaders);
  }
  const connection = lines(headers, 'Connection');
  if (connection === undefined || !hasToken(parseConnection(connection), 'upgrade')) {
    throw new InvalidHandshakeHeader('Connection', connection?.toString(), 'the Connection header must name upgrade', statusCode, upgradeHeaders);
  }
}

/**
 * The client's checks of the server's response, in the order of RFC 6455 §4.1 ("the client
 * MUST validate the server's response as follows"): status 101; Upgrade holds "websocket"
 * and Connection holds "upgrade" (case-insensitive token lists); Sec-WebSocket-Accept is
 * {@link acceptKey}(key); a subprotocol, if any, is one that was offered (and only one); every
 * extension accepted was offered (its {@link Extension.finalize} accepts the parameters).
 * @throws InvalidStatus for a status other than 101; InvalidHandshake otherwise
 */
export function checkServerResponse(response: Response, expected: ClientExpectations): HandshakeResult {
  if (response.statusCode !== 101) throw new InvalidStatus(response);
  const headers = response.headers;
  checkUpgrade(headers, 400);
  const accept = single(headers, 'Sec-WebSocket-Accept');
  if (accept === undefined) throw new InvalidHandshakeHeader('Sec-WebSocket-Accept', undefined);
  if (accept !== acceptKey(expected.key)) throw new InvalidHandshakeHeader('Sec-WebSocket-Accept', accept, 'Sec-WebSocket-Accept does not match the key sent');
  return checkNegotiation(headers, expected);
}

/**
 * The client's checks of what the server chose (RFC 6455 §4.1, the last two items): at most
 * one subprotocol, one that was offered; every extension accepted was offered. Shared by the
 * HTTP/1.1 response and RFC 8441's 200 to an extended CONNECT (handshake-h2.ts).
 * @throws InvalidHandshake
 */
export function checkNegotiation(headers: Headers, expected: Omit<ClientExpectations, 'key'>): HandshakeResult {
  let subprotocol: string | null = null;
  const protocolLines = lines(headers, 'Sec-WebSocket-Protocol');
  if (protocolLines !== undefined) {
    const chosen = parseSubprotocols(protocolLines);
    if (chosen.length > 1) throw new InvalidHandshakeHeader('Sec-WebSocket-Protocol', chosen.join(', '), 'the server chose more than one subprotocol');
    subprotocol = chosen[0]!;
    if (!(expected.subprotocols ?? []).includes(subprotocol)) {
      throw new InvalidHandshakeHeader('Sec-WebSocket-Protocol', subprotocol, `the server chose subprotocol ${JSON.stringify(subprotocol)}, which was not offered`);
    }
  }

  const extensionLines = lines(headers, 'Sec-WebSocket-Extensions');
  const extensions = extensionLines === undefined ? [] : clientFinalize(parseExtensions(extensionLines), expected.extensions ?? []);
  return { subprotocol, extensions };
}

/** What a valid client request asks for (the result of {@link checkClientRequest}). */
export interface ClientHandshake {
  /** The Host header. */
  host: string;
  /** The request-target. */
  path: string;
  /** The Sec-WebSocket-Key, for {@link buildAcceptResponse}. */
  key: string;
  /** The Origin header, if any (§4.2.1 item 7, §10.2: check it against an allow-list). */
  origin: string | undefined;
  /** The subprotocols offered, in the client's order of preference. */
  subprotocols: string[];
  /** The extension offers, in order (several may name the same extension). */
  extensions: ExtensionHeader[];
}

/**
 * The server's checks of the client's opening handshake, in the order of RFC 6455 §4.2.1:
 * GET; HTTP/1.1 or later; one Host; Upgrade holds "websocket"; Connection holds "upgrade";
 * Sec-WebSocket-Key is base64 of 16 bytes; Sec-WebSocket-Version is 13; and the optional
 * Sec-WebSocket-Protocol and Sec-WebSocket-Extensions parse.
 * @throws InvalidHandshake (InvalidMethod, InvalidHandshakeHeader, InvalidHeaderValue) with
 *   the status and headers to reject with (see the module comment)
 */
export function checkClientRequest(request: Request): ClientHandshake {
  if (request.method !== 'GET') throw new InvalidMethod(request.method);
  const [major, minor] = request.httpVersion.split('.').map(Number) as [number, number | undefined];
  if (!(major > 1 || (major === 1 && (minor ?? 0) >= 1))) {
    throw new InvalidHandshake(`the opening handshake needs HTTP/1.1 or later, not HTTP/${request.httpVersion}`, 400);
  }
  const headers = request.headers;
  const host = single(headers, 'Host');
  if (host === undefined) throw new InvalidHandshakeHeader('Host', undefined);
  checkUpgrade(headers, 426);
  const key = single(headers, 'Sec-WebSocket-Key');
  if (key === undefined) throw new InvalidHandshakeHeader('Sec-WebSocket-Key', undefined);
  if (!isValidKey(key)) throw new InvalidHandshakeHeader('Sec-WebSocket-Key', key, 'Sec-WebSocket-Key must be base64 of 16 bytes');
  return { host, path: request.path, key, ...checkOffers(headers) };
}

/** What a client offers in its opening handshake, whatever the HTTP version. */
export type ClientOffers = Pick<ClientHandshake, 'origin' | 'subprotocols' | 'extensions'>;

/**
 * The request checks that HTTP/1.1 and RFC 8441 §5 share: Sec-WebSocket-Version is 13 (else
 * 426 with `Sec-WebSocket-Version: 13`, RFC 6455 §4.4), and Origin, Sec-WebSocket-Protocol
 * and Sec-WebSocket-Extensions parse.
 * @throws InvalidHandshake
 */
export function checkOffers(headers: Headers): ClientOffers {
  const versions = headers.getAll('Sec-WebSocket-Version');
  if (versions.length !== 1 || versions[0] !== WEBSOCKET_VERSION) {
    throw new InvalidHandshakeHeader(
      'Sec-WebSocket-Version',
      versions.length === 0 ? undefined : versions.join(', '),
      versions.length === 0 ? 'missing Sec-WebSocket-Version header (this server speaks 13)' : `unsupported WebSocket version ${JSON.stringify(versions.join(', '))} (this server speaks 13)`,
      426,
      [['Sec-WebSocket-Version', WEBSOCKET_VERSION]],
    );
  }
  const protocolLines = lines(headers, 'Sec-WebSocket-Protocol');
  const extensionLines = lines(headers, 'Sec-WebSocket-Extensions');
  return {
    origin: single(headers, 'Origin'),
    subprotocols: protocolLines === undefined ? [] : parseSubprotocols(protocolLines),
    extensions: extensionLines === undefined ? [] : parseExtensions(extensionLines),
  };
}

/** A server's own choice among the offered subprotocols: one of them, or null for none. */
export type HandleProtocols = (offered: readonly string[]) => string | null;

/**
 * Chooses the subprotocol (RFC 6455 §4.2.2 item 5.4: one of the client's, or none). With
 * `handleProtocols` its answer is used; otherwise the first of the client's offers (its
 * order of preference, §4.1 item 10) that `supported` holds.
 * @throws LocalProtocolError if `handleProtocols` picks one the client did not offer (the
 *   client would fail the connection, §4.1)
 */
export function selectSubprotocol(offered: readonly string[], supported: readonly string[], handleProtocols?: HandleProtocols): string | null {
  if (handleProtocols !== undefined) {
    const chosen = handleProtocols(offered);
    if (chosen !== null && !offered.includes(chosen)) throw new LocalProtocolError(`subprotocol ${JSON.stringify(chosen)} was not offered by the client`);
    return chosen;
  }
  return offered.find((p) => supported.includes(p)) ?? null;
}

/**
 * Server side of extension negotiation (RFC 6455 §9.1): see {@link serverNegotiate} for the
 * rules. `offers` is the request's Sec-WebSocket-Extensions (one or several lines, or
 * parsed offers).
 * @returns the extensions in use and the Sec-WebSocket-Extensions value to answer with
 *   (null: send none)
 * @throws InvalidHeaderValue (400) if the offers do not parse
 */
export function negotiateExtensions(
  offers: HeaderValues | readonly ExtensionHeader[] | undefined,
  available: readonly Extension[],
): { extensions: Extension[]; header: string | null } {
  if (offers === undefined || available.length === 0) return { extensions: [], header: null };
  const parsed = typeof offers === 'string' || (offers.length > 0 && typeof offers[0] === 'string') ? parseExtensions(offers as HeaderValues) : (offers as readonly ExtensionHeader[]);
  const { extensions, response } = serverNegotiate(parsed, available);
  return { extensions, header: response.length === 0 ? null : buildExtensions(response) };
}

/** Options of {@link buildAcceptResponse}. */
export interface AcceptOptions {
  /** The client's Sec-WebSocket-Key. */
  key: string;
  /** The subprotocol chosen ({@link selectSubprotocol}), or null/undefined for none. */
  subprotocol?: string | null;
  /** The Sec-WebSocket-Extensions value ({@link negotiateExtensions}), or null for none. */
  extensions?: string | null;
  /** More headers (Set-Cookie...). May not repeat a handshake header: LocalProtocolError. */
  extraHeaders?: HeadersLike;
}

/**
 * The server's 101 Switching Protocols (RFC 6455 §4.2.2 item 5): Upgrade: websocket,
 * Connection: Upgrade, Sec-WebSocket-Accept, and Sec-WebSocket-Protocol /
 * Sec-WebSocket-Extensions when negotiated, then the extra headers.
 */
export function buildAcceptResponse(options: AcceptOptions): Response {
  const headers = new Headers();
  headers.append('Upgrade', 'websocket');
  headers.append('Connection', 'Upgrade');
  headers.append('Sec-WebSocket-Accept', acceptKey(options.key));
  if (options.subprotocol !== undefined && options.subprotocol !== null) headers.append('Sec-WebSocket-Protocol', buildSubprotocols([options.subprotocol]));
  if (options.extensions !== undefined && options.extensions !== null) headers.append('Sec-WebSocket-Extensions', options.extensions);
  addExtra(headers, options.extraHeaders, OWN_RESPONSE);
  return new Response(101, 'Switching Protocols', headers);
}

/**
 * A rejection of the opening handshake (RFC 6455 §4.2.2 item 4: "an appropriate error
 * code"). A body gets `Content-Type: text/plain; charset=utf-8` unless `headers` has one;
 * `Content-Length` and `Connection: close` are added unless given (the connection is not
 * reused after a refused upgrade).
 */
export function buildRejectResponse(statusCode: number, headers?: HeadersLike, body?: Uint8Array | string): Response {
  const h = new Headers(headers);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body ?? new Uint8Array(0);
  if (bytes.length > 0 && !h.has('Content-Type')) h.append('Content-Type', 'text/plain; charset=utf-8');
  if (!h.has('Content-Length')) h.append('Content-Length', String(bytes.length));
  if (!h.has('Connection')) h.append('Connection', 'close');
  return new Response(statusCode, undefined, h, bytes);
}

/** The response a server sends for a failed handshake: its status, headers and message. */
export function rejectResponseFor(error: InvalidHandshake): Response {
  return buildRejectResponse(error.statusCode ?? 400, error.headers, `Failed to open a WebSocket connection: ${error.message}.\n`);
}
