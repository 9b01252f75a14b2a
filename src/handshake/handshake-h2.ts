/**
 * The opening handshake of WebSocket over HTTP/2 (RFC 8441), sans-IO: the extended CONNECT
 * request a client sends (§4, §5), the server's checks of it, and the client's checks of the
 * server's 2xx. Subprotocols and extensions are negotiated exactly as over HTTP/1.1 (§5: the
 * Sec-WebSocket-Protocol, -Extensions and -Version fields keep their RFC 6455 meaning): this
 * module reuses handshake.ts's checks for them. What HTTP/2 changes:
 * - no Upgrade, Connection, Sec-WebSocket-Key or Sec-WebSocket-Accept (§5);
 * - `:method CONNECT` with `:protocol websocket`, and `:scheme`, `:path`, `:authority` (§4,
 *   §5; RFC 9113 §8.5), instead of a GET with Host;
 * - a 2xx status instead of 101 (§5; RFC 9110 §9.3.6: any 2xx opens the tunnel).
 * Header maps are Node's: lower-case names, pseudo-header fields included.
 */
import { Headers } from './datastructures';
import { clientOffers } from './extension-negotiation';
import type { Extension } from '../extensions/extension';
import { WEBSOCKET_VERSION } from '../frames/opcode';
import { checkNegotiation, checkOffers, type ClientOffers, type HandshakeResult } from './handshake';
import { buildExtensions, buildSubprotocols, InvalidHandshake, InvalidHandshakeHeader } from './headers';

/** An HTTP/2 header block as Node presents it (`IncomingHttpHeaders` & pseudo-headers). */
export type Http2HeaderMap = Readonly<Record<string, string | string[] | number | undefined>>;

/** The `:protocol` value that asks for a WebSocket (RFC 8441 §4, the Upgrade token). */
export const WEBSOCKET_PROTOCOL = 'websocket';

/**
 * Header fields that are connection-specific and forbidden in HTTP/2 (RFC 9113 §8.2.2), plus
 * Host, which `:authority` replaces (§8.3.1): never sent, and dropped from extra headers.
 */
export const CONNECTION_SPECIFIC = new Set(['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'host']);

/** Headers the extended CONNECT sets itself; same-named extra headers are dropped. */
const OWN_REQUEST = new Set(['origin', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions', 'sec-websocket-key']);

/** What a valid extended CONNECT asks for (the result of {@link checkExtendedConnect}). */
export interface ExtendedConnectRequest extends ClientOffers {
  /** `:authority` (the Host of HTTP/1.1). */
  authority: string;
  /** `:scheme`: 'https' or 'http'. */
  scheme: string;
  /** `:path`: the request-target, path and query. */
  path: string;
}

function pseudo(headers: Http2HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Whether an HTTP/2 request is an extended CONNECT for a WebSocket (RFC 8441 §4). */
export function isWebSocketConnect(headers: Http2HeaderMap): boolean {
  return headers[':method'] === 'CONNECT' && pseudo(headers, ':protocol')?.toLowerCase() === WEBSOCKET_PROTOCOL;
}

/**
 * The header fields of a request, pseudo-header fields left out, with their repetitions: from
 * Node's raw list when there is one (it keeps repeated lines apart), else from the map.
 */
function regularHeaders(headers: Http2HeaderMap, rawHeaders?: readonly string[]): Headers {
  const out = new Headers();
  if (rawHeaders !== undefined) {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (!rawHeaders[i]!.startsWith(':')) out.append(rawHeaders[i]!, rawHeaders[i + 1]!);
    }
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, String(v));
  }
  return out;
}

/**
 * The server's checks of an extended CONNECT (RFC 8441 §4-§5): `:method CONNECT` and
 * `:protocol websocket`; `:scheme`, `:path` and `:authority` present (§4: "the :scheme and
 * :path pseudo-header fields ... MUST also be included"; §5 keeps `:authority`); then the
 * checks shared with HTTP/1.1 ({@link checkOffers}: Sec-WebSocket-Version 13, else 426 with
 * `Sec-WebSocket-Version: 13`; the subprotocol and extension offers parse, else 400). A
 * Sec-WebSocket-Key, which §5 says is not used, is ignored.
 * @throws InvalidHandshake with the status (and headers) to answer
 */
export function checkExtendedConnect(headers: Http2HeaderMap, rawHeaders?: readonly string[]): ExtendedConnectRequest {
  if (headers[':method'] !== 'CONNECT') throw new InvalidHandshake(`a WebSocket over HTTP/2 is opened with CONNECT, not ${JSON.stringify(String(headers[':method']).slice(0, 50))}`, 405, [['Allow', 'CONNECT']]);
  if (!isWebSocketConnect(headers)) throw new InvalidHandshakeHeader(':protocol', pseudo(headers, ':protocol'), 'the :protocol pseudo-header must be websocket (RFC 8441 §4)');
  const scheme = pseudo(headers, ':scheme');
  const path = pseudo(headers, ':path');
  const authority = pseudo(headers, ':authority');
  if (scheme === undefined) throw new InvalidHandshakeHeader(':scheme', undefined);
  if (path === undefined) throw new InvalidHandshakeHeader(':path', undefined);
  if (authority === undefined) throw new InvalidHandshakeHeader(':authority', undefined);
  return { authority, scheme, path, ...checkOffers(regularHeaders(headers, rawHeaders)) };
}

/** Options of {@link buildExtendedConnect}. */
export interface ExtendedConnectOptions {
  /** `:authority`: host, plus ":port" when not the scheme's default. */
  authority: string;
  /** `:scheme`: 'https' for wss:, 'http' for ws: (h2c). */
  scheme: 'https' | 'http';
  /** `:path`: path and query ("/chat?room=1"). */
  path: string;
  /** The Origin header field (RFC 6455 §10.2). */
  origin?: string;
  /** Subprotocols to offer, in order of preference. */
  subprotocols?: readonly string[];
  /** Extensions to offer (§9.1 of RFC 6455). */
  extensions?: readonly Extension[];
  /**
   * More header fields (cookies, auth...). Names are lower-cased (RFC 9113 §8.2.1); the
   * connection-specific ones ({@link CONNECTION_SPECIFIC}) and the handshake's own are dropped.
   */
  extraHeaders?: ReadonlyArray<readonly [string, string]>;
}

/** The header block of a client's extended CONNECT (RFC 8441 §4-§5), for Node's `session.request()`. */
export function buildExtendedConnect(options: ExtendedConnectOptions): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {
    ':method': 'CONNECT',
    ':protocol': WEBSOCKET_PROTOCOL,
    ':scheme': options.scheme,
    ':path': options.path,
    ':authority': options.authority,
    'sec-websocket-version': WEBSOCKET_VERSION,
  };
  if (options.origin !== undefined) out.origin = options.origin;
  if (options.subprotocols !== undefined && options.subprotocols.length > 0) out['sec-websocket-protocol'] = buildSubprotocols(options.subprotocols);
  const offers = clientOffers(options.extensions ?? []);
  if (offers.length > 0) out['sec-websocket-extensions'] = buildExtensions(offers);
  for (const [name, value] of options.extraHeaders ?? []) {
    const lower = name.toLowerCase();
    if (lower.startsWith(':') || CONNECTION_SPECIFIC.has(lower) || OWN_REQUEST.has(lower)) continue;
    const prev = out[lower];
    out[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** Whether a response status opens the tunnel (RFC 8441 §5, RFC 9110 §9.3.6: any 2xx). */
export function isTunnelStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * The client's checks of the server's 2xx to its extended CONNECT: the subprotocol and the
 * extensions, as over HTTP/1.1 ({@link checkNegotiation}; RFC 8441 §5). The status is the
 * caller's to check first ({@link isTunnelStatus}).
 * @throws InvalidHandshake
 */
export function checkExtendedConnectResponse(
  headers: Http2HeaderMap,
  expected: { subprotocols?: readonly string[]; extensions?: readonly Extension[] },
): HandshakeResult {
  return checkNegotiation(regularHeaders(headers), expected);
}
