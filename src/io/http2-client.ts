/**
 * The client side of WebSocket over HTTP/2 (RFC 8441), for `http2: true | 'auto'`: an
 * HTTP/2 connection of its own per WebSocket (`http2.connect`), the server's SETTINGS
 * awaited and checked for SETTINGS_ENABLE_CONNECT_PROTOCOL (§3), the extended CONNECT sent
 * (§4), the 2xx checked (§5; subprotocol and extensions as over HTTP/1.1), and the stream
 * handed to the connection, which runs on it as on any Duplex. With 'auto', a server that
 * does not speak HTTP/2, or does not advertise the setting, gets the HTTP/1.1 upgrade instead.
 */
import type { IncomingHttpHeaders } from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';

import type { Extension } from '../extensions/extension';
import { buildExtendedConnect, checkExtendedConnectResponse, isTunnelStatus, type Http2HeaderMap } from '../handshake/handshake-h2';
import { clientOffer, type ClientOptions, type ClientSocket } from './client-options';
import { wsHandshakeMessage, type Target } from './client-url';
import { CONNECTING } from './ready-state';
import { NodeStreamTransport } from './node-stream-transport';
import { readRefusalBody } from './refusal-body';
import { kConnection } from './transport-connection';
import { cancelOnDestroy } from './http2-stream';
import { ExtendedConnectUnsupportedError, InvalidServerHandshakeError, InvalidStatusError } from './errors';

/** What client.ts lends the HTTP/2 handshake of one WebSocket. */
export interface Http2Hooks {
  /** Whether the handshake is still wanted (not aborted, timed out or closed). */
  live(): boolean;
  /** Fails the handshake ('error' then 'close' 1006); socket errors become typed ConnectErrors. */
  fail(err: Error): void;
  /** Registers what an abort (timeout, close(), terminate()) must tear down besides the request. */
  side(session: http2.ClientHttp2Session): void;
  /** The handshake succeeded: its timer and bookkeeping go. */
  done(): void;
  /** Continues with the HTTP/1.1 upgrade (`http2: 'auto'`). */
  fallback(): void;
}

/** TLS and socket options of ClientOptions that mean the same to `http2.connect`. */
const SESSION_OPTIONS = [
  'ca', 'cert', 'key', 'pfx', 'passphrase', 'crl', 'ciphers', 'ecdhCurve', 'minVersion', 'maxVersion', 'secureContext',
  'rejectUnauthorized', 'checkServerIdentity', 'servername', 'sigalgs', 'secureOptions', 'family', 'lookup', 'localAddress',
] as const;

/**
 * Errors that HTTP/1.1 would meet too, so 'auto' does not retry: the TCP connect, DNS, and a
 * certificate that does not verify.
 */
function isConnectFailure(err: Error & { syscall?: string; code?: string }): boolean {
  if (err.syscall === 'connect' || err.syscall === 'getaddrinfo' || err.syscall === 'queryA' || err.syscall === 'queryAaaa') return true;
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(err.code ?? '');
}

const EMPTY = Buffer.alloc(0);

/** Starts the RFC 8441 handshake of `ws` (see the module comment). */
export function startHttp2(
  ws: ClientSocket,
  target: Target,
  protocols: readonly string[],
  options: ClientOptions,
  extra: Array<[string, string]>,
  hooks: Http2Hooks,
): void {
  const auto = options.http2 === 'auto';
  const scheme = target.secure ? 'https' : 'http';
  const sessionOptions: http2.SecureClientSessionOptions = {};
  for (const name of SESSION_OPTIONS) {
    if (options[name as keyof ClientOptions] !== undefined) (sessionOptions as Record<string, unknown>)[name] = options[name as keyof ClientOptions];
  }
  if (target.socketPath !== undefined) {
    const path = target.socketPath;
    sessionOptions.createConnection = () => net.connect(path);
  }
  const host = net.isIPv6(target.host) ? `[${target.host}]` : target.host;
  const session = http2.connect(`${scheme}://${host}:${target.port}`, sessionOptions);
  let settingsSeen = false;
  hooks.side(session);
  // Once the connection is open, the session's errors reach it as its stream's close (1006).
  session.on('error', (err: Error) => {
    if (!hooks.live()) return;
    // A peer that does not speak HTTP/2 (no h2 in ALPN, or an HTTP/1.1 answer to the h2c
    // preface) fails before its SETTINGS: 'auto' then uses HTTP/1.1.
    if (auto && !settingsSeen && !isConnectFailure(err)) {
      session.destroy();
      hooks.fallback();
      return;
    }
    hooks.fail(err);
  });
  session.once('remoteSettings', (settings: http2.Settings) => {
    settingsSeen = true;
    if (!hooks.live()) {
      session.destroy();
      return;
    }
    // RFC 8441 §3: no extended CONNECT before the server said it understands it.
    if (settings.enableConnectProtocol !== true) {
      session.close();
      if (auto) hooks.fallback();
      else hooks.fail(new ExtendedConnectUnsupportedError(target.href));
      return;
    }
    openStream(ws, session, target, scheme, protocols, options, extra, hooks);
  });
}

function openStream(
  ws: ClientSocket,
  session: http2.ClientHttp2Session,
  target: Target,
  scheme: 'https' | 'http',
  protocols: readonly string[],
  options: ClientOptions,
  extra: Array<[string, string]>,
  hooks: Http2Hooks,
): void {
  const connection = ws[kConnection];
  const offer = clientOffer(options, target, extra, connection.options.maxPayload);
  const deflate = offer.deflate;
  const extensions: Extension[] = deflate === null ? [] : [deflate];
  extra = offer.headers;
  // A Host given as a header is the authority, as it is the Host over HTTP/1.1.
  let authority = target.hostHeader;
  let origin = options.origin;
  for (const [name, value] of extra) {
    const lower = name.toLowerCase();
    if (lower === 'host') authority = value;
    else if (lower === 'origin') origin ??= value;
  }
  let stream: http2.ClientHttp2Stream;
  try {
    stream = session.request(buildExtendedConnect({ authority, scheme, path: target.path, origin, subprotocols: protocols, extensions, extraHeaders: extra }), { endStream: false });
  } catch (err) {
    // A header value Node's HTTP/2 refuses (ERR_HTTP2_INVALID_HEADER_VALUE, ...).
    deflate?.dispose?.();
    session.destroy();
    hooks.fail(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  // An abrupt end (terminate(), timeouts) resets the stream with CANCEL (RFC 8441 §5).
  cancelOnDestroy(stream);
  // One HTTP/2 connection per WebSocket: it ends with the stream.
  stream.once('close', () => session.close());
  stream.on('error', (err: Error) => {
    if (hooks.live()) {
      deflate?.dispose?.();
      hooks.fail(err);
    }
  });
  stream.once('response', (headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader) => {
    if (!hooks.live()) {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    }
    const status = Number(headers[':status'] ?? 0);
    if (!isTunnelStatus(status)) {
      deflate?.dispose?.();
      readRefusalBody(stream, (body) => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        if (hooks.live()) hooks.fail(new InvalidStatusError(status, '', withoutPseudo(headers), body, target.href));
      });
      return;
    }
    let result;
    try {
      result = checkExtendedConnectResponse(headers as Http2HeaderMap, { subprotocols: protocols, extensions });
    } catch (err) {
      deflate?.dispose?.();
      stream.close(http2.constants.NGHTTP2_CANCEL);
      hooks.fail(new InvalidServerHandshakeError(wsHandshakeMessage(err, protocols, extensions), target.href, err));
      return;
    }
    if (connection.readyState !== CONNECTING) {
      deflate?.dispose?.();
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    }
    hooks.done();
    const used = result.extensions.length > 0 ? deflate : null;
    if (used === null) deflate?.dispose?.();
    const ext = headers['sec-websocket-extensions'];
    connection.setNegotiated(result.subprotocol ?? '', used === null ? '' : Array.isArray(ext) ? ext.join(', ') : String(ext ?? ''), used);
    connection.attach(new NodeStreamTransport(stream), EMPTY, 'client');
    try {
      ws.emit('open');
    } catch (err) {
      connection.fail(1011, 'internal error', err instanceof Error ? err : new Error(String(err)), true);
    }
  });
}

/** The response's header fields without the pseudo-header fields, as InvalidStatusError keeps them. */
function withoutPseudo(headers: http2.IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(':')) (out as Record<string, unknown>)[name] = value;
  }
  return out;
}
