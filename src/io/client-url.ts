/**
 * The client's view of a URL and of a failed 101, as ws presents them: which URLs are
 * WebSocket URLs (RFC 6455 §3; http: and https: mean ws: and wss:, as in ws), and ws's
 * messages for a response that breaks RFC 6455 §4.1.
 */
import { LocalProtocolError, RemoteProtocolError } from '../errors';
import type { Extension } from '../extensions/extension';
import { InvalidHandshakeHeader, InvalidHeaderValue } from '../handshake/handshake';
import { InvalidURI, parseUri } from '../handshake/uri';
import { InvalidURLError } from './errors';

/** Where a client connects: what Node's request needs, and the URL `ws.url` shows. */
export interface Target {
  secure: boolean;
  host: string;
  port: number;
  hostHeader: string;
  path: string;
  socketPath: string | undefined;
  auth: string | undefined;
  href: string;
  /** The port as given to Node's request (ws passes the URL's own text, a number by default). */
  requestPort: string | number;
}

/** Parses ws:, wss:, http:, https: and ws+unix: URLs (http(s) mean ws(s), as in ws). */
export function parseTarget(address: string | URL): Target {
  const text = typeof address === 'string' ? address : address.href;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidURLError(`Invalid URL: ${text}`, text);
  }
  // ws's messages for the three ways a parsable URL is not a WebSocket URL (RFC 6455 §3).
  if (!['ws:', 'wss:', 'http:', 'https:', 'ws+unix:'].includes(url.protocol)) {
    throw new InvalidURLError('The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"', text);
  }
  if (url.hash !== '' || text.includes('#')) throw new InvalidURLError('The URL contains a fragment identifier', text);
  if (url.protocol === 'ws+unix:') {
    // ws+unix:/path/to.sock:/request/path — the socket path, then the request path after ':'.
    const [socketPath = '', path = '/'] = decodeURIComponent(url.pathname).split(':');
    if (socketPath === '') throw new InvalidURLError("The URL's pathname is empty", text);
    return { secure: false, host: 'localhost', port: 0, hostHeader: 'localhost', path: path + url.search, socketPath, auth: undefined, href: url.href, requestPort: 0 };
  }
  // http: and https: mean ws: and wss: (as in ws), and `url` says so. The text as given is
  // what is checked (the URL parser would silently drop a CR/LF that parseUri refuses).
  let wsText = text;
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    wsText = `ws${url.protocol === 'https:' ? 's' : ''}:${text.slice(url.protocol.length)}`;
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  }
  try {
    const uri = parseUri(wsText);
    const auth = uri.userInfo === undefined ? undefined : `${uri.userInfo[0]}:${uri.userInfo[1]}`;
    const requestPort = url.port === '' ? uri.port : url.port;
    return { secure: uri.secure, host: uri.host, port: uri.port, hostHeader: uri.hostHeader, path: uri.resourceName, socketPath: undefined, auth, href: url.href, requestPort };
  } catch (err) {
    if (err instanceof InvalidURI) throw new InvalidURLError(err.message, text);
    throw err;
  }
}

/**
 * ws's message for a 101 response that breaks RFC 6455 §4.1 (code written for ws matches
 * them); the handshake module's detailed error stays the `cause`.
 */
export function wsHandshakeMessage(err: unknown, protocols: readonly string[], extensions: readonly Extension[]): string {
  if (!(err instanceof InvalidHandshakeHeader)) {
    // The rest come from the extension accepting the response: parameters the offer did not
    // allow, or malformed ones (RFC 7692 §7.1).
    return err instanceof LocalProtocolError || err instanceof RemoteProtocolError ? 'Invalid Sec-WebSocket-Extensions header' : err instanceof Error ? err.message : String(err);
  }
  switch (err.header.toLowerCase()) {
    case 'upgrade':
      return 'Invalid Upgrade header';
    case 'sec-websocket-accept':
      return 'Invalid Sec-WebSocket-Accept header';
    case 'sec-websocket-protocol':
      return protocols.length === 0 ? 'Server sent a subprotocol but none was requested' : 'Server sent an invalid subprotocol';
    case 'sec-websocket-extensions':
      if (err instanceof InvalidHeaderValue) return 'Invalid Sec-WebSocket-Extensions header';
      return extensions.length === 0 ? 'Server sent a Sec-WebSocket-Extensions header but no extension was requested' : 'Server indicated an extension that was not requested';
    default:
      return err.message;
  }
}
