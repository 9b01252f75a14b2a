/**
 * The client side of the opening handshake over Node's http/https (RFC 6455 §4.1): the
 * request, redirects, the checks of the server's response, typed errors, and handing the
 * upgraded socket to the connection.
 *
 * Node's http client is used (not a hand-written one) so that ws's options keep working:
 * `agent`, TLS options, `lookup`, `family`, `localAddress`, `createConnection`, ...
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';

import { Headers, isToken } from '../handshake/datastructures';
import type { Extension } from '../extensions/extension';
import { buildClientRequest, checkServerResponse } from '../handshake/handshake';
import { Response } from '../handshake/http11';
import { parseTarget, type Target, wsHandshakeMessage } from './client-url';
import { CLOSED, CONNECTING } from './ready-state';
import { openTransport, resolveTransportChoice, type TransportChoice } from './transport-select';
import { kConnection } from './transport-connection';
import { clientOffer, type ClientOptions, type ClientSocket } from './client-options';
import {
  ConnectError,
  ConnectionRefusedError,
  DNSError,
  HandshakeTimeoutError,
  InvalidServerHandshakeError,
  InvalidStatusError,
  InvalidURLError,
  TooManyRedirectsError,
} from './errors';
import { DEFAULT_HANDSHAKE_TIMEOUT } from '../limits';
import { startHttp2 } from './http2-client';
import { proxyConnection, resolveProxy } from './proxy';
import { readRefusalBody } from './refusal-body';
import { TimerEntry } from './timers';

export type { ClientOptions, ClientSocket } from './client-options';

/** The handshake in progress of one client WebSocket. */
interface Pending {
  request: http.ClientRequest | null;
  timer: TimerEntry<ClientSocket> | null;
  timeout: number;
  redirects: number;
  aborted: boolean;
  /** The first target: credentials belong to its host, and to TLS if it was secure. */
  origin: Target | null;
  /**
   * What an abort tears down besides `request`: the socket to the proxy while the tunnel is
   * asked for, or the HTTP/2 session (http2-client.ts).
   */
  side: { destroy(): void } | null;
  /** The `transport` option and WSCORE_TRANSPORT, resolved when the WebSocket was made. */
  transport: TransportChoice;
}

const pendingOf = new WeakMap<object, Pending>();

/** Headers the client handshake sets itself (RFC 6455 §4.1); same-named extra headers are dropped. */
const HANDSHAKE_HEADERS = new Set(['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions']);

function onHandshakeTimeout(ws: ClientSocket): void {
  abortClientHandshake(ws, new HandshakeTimeoutError(pendingOf.get(ws)?.timeout ?? 0, ws._url));
}

/** Node's OutgoingHttpHeaders as name/value pairs (numbers as text, arrays as repeated lines). */
function headerPairs(headers: http.OutgoingHttpHeaders | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (headers === undefined) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, String(v)]);
    else out.push([name, String(value)]);
  }
  return out;
}

/** Maps a socket/DNS error to a typed {@link ConnectError}. */
function connectError(err: Error & { code?: string; hostname?: string }, target: Target): ConnectError {
  if (err instanceof ConnectError) return err;
  const code = err.code ?? 'WS_ERR_CONNECT';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    return new DNSError(err.hostname ?? target.host, code, target.href, err);
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOENT') {
    return new ConnectionRefusedError(`${err.message} (${target.href})`, code, target.href, err);
  }
  return new ConnectError(err.message, code, target.href, { cause: err });
}

/**
 * Starts the opening handshake of a client WebSocket. Throws synchronously on an invalid
 * URL or option (as ws does); everything later is reported as 'error' then 'close'.
 */
export function startClient(ws: ClientSocket, address: string | URL, protocols: readonly string[], options: ClientOptions): void {
  if (options.protocolVersion !== undefined && options.protocolVersion !== 13) {
    throw new RangeError(`Unsupported protocol version: ${options.protocolVersion} (supported versions: 13)`);
  }
  const target = parseTarget(address);
  if (options.proxy !== undefined && options.proxy !== false && (options.agent !== undefined || options.createConnection !== undefined)) {
    throw new TypeError('The proxy option cannot be combined with agent or createConnection');
  }
  // An HTTP/2 session through a proxy tunnel is not implemented: 'auto' takes HTTP/1.1 then.
  const viaProxy = options.http2 !== undefined && options.http2 !== false && resolveProxy(options.proxy, target) !== null;
  if (viaProxy && options.http2 === true) throw new TypeError('The http2 option cannot be combined with a proxy (http2: \'auto\' uses HTTP/1.1 through it)');
  ws._url = target.href;
  const transport = resolveTransportChoice(options.transport);
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const pending: Pending = { request: null, timer: null, timeout, redirects: 0, aborted: false, origin: target, side: null, transport };
  pendingOf.set(ws, pending);
  if (timeout > 0) {
    pending.timer = new TimerEntry(ws, onHandshakeTimeout);
    pending.timer.arm(timeout);
  }
  const offered = options.protocols === undefined ? protocols : typeof options.protocols === 'string' ? [options.protocols] : options.protocols;
  if (new Set(offered).size !== offered.length || offered.some((p) => typeof p !== 'string' || !isToken(p))) {
    pendingOf.delete(ws);
    pending.timer?.cancel();
    throw new SyntaxError('An invalid or duplicated subprotocol was specified');
  }
  // The `auth` option is userinfo given apart (the URL's own userinfo wins, as in ws). It is
  // turned into an Authorization header here, never handed to Node's http client, which would
  // repeat it on every redirect whatever the host.
  if (target.auth === undefined && typeof options.auth === 'string') target.auth = options.auth;
  if ((options.http2 === true || options.http2 === 'auto') && !viaProxy) {
    startHttp2(ws, target, offered, options, headerPairs(options.headers), {
      live: () => pendingOf.get(ws) === pending && !pending.aborted,
      fail: (err) => abortClientHandshake(ws, connectError(err, target)),
      side: (session) => (pending.side = session),
      done: () => {
        pending.timer?.cancel();
        pendingOf.delete(ws);
      },
      fallback: () => {
        pending.side = null;
        request(ws, target, offered, options, headerPairs(options.headers));
      },
    });
    return;
  }
  request(ws, target, offered, options, headerPairs(options.headers));
}

function request(
  ws: ClientSocket,
  target: Target,
  protocols: readonly string[],
  options: ClientOptions,
  extra: Array<[string, string]>,
  beforeSend?: (req: http.ClientRequest) => void,
): void {
  const pending = pendingOf.get(ws)!;
  const connection = ws[kConnection];
  const offer = clientOffer(options, target, extra, connection.options.maxPayload);
  const deflate = offer.deflate;
  const extensions: Extension[] = deflate === null ? [] : [deflate];
  extra = offer.headers;
  // As with ws, the handshake's own headers win over extra headers of the same name; a Host
  // or Origin given as a header is used as such.
  let host = target.hostHeader;
  let origin = options.origin;
  const own: Array<[string, string]> = [];
  for (const [name, value] of extra) {
    const lower = name.toLowerCase();
    if (lower === 'host') host = value;
    else if (lower === 'origin') origin ??= value;
    else if (!HANDSHAKE_HEADERS.has(lower)) own.push([name, value]);
  }
  const built = buildClientRequest({ host, path: target.path, origin, subprotocols: protocols, extensions, extraHeaders: own });
  const key = built.headers.get('Sec-WebSocket-Key')!;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of built.headers.rawItems()) {
    const prev = headers[name];
    headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  const {
    headers: _h,
    origin: _o,
    perMessageDeflate: _p,
    handshakeTimeout: _t,
    followRedirects: _f,
    maxRedirects: _m,
    protocolVersion: _v,
    protocols: _ps,
    finishRequest,
    http2: _h2,
    auth: _au,
    maxPayload: _mp,
    closeTimeout: _ct,
    highWaterMark: _hw,
    maxBufferedAmount: _mb,
    heartbeat: _hb,
    rawFrames: _rf,
    autoPong: _ap,
    skipUTF8Validation: _su,
    allowSynchronousEvents: _as,
    proxy: _px,
    reconnect: _rc,
    transport: _tr,
    ...requestOptions
  } = options;
  const reqOptions: https.RequestOptions = {
    ...requestOptions,
    method: 'GET',
    headers,
    path: target.path,
    setHost: false,
  };
  if (target.socketPath !== undefined) {
    reqOptions.socketPath = target.socketPath;
  } else {
    reqOptions.host = target.host;
    reqOptions.port = target.requestPort;
    if (target.secure && reqOptions.servername === undefined && !net.isIP(target.host)) reqOptions.servername = target.host;
  }
  // Without an agent, connect directly (an agent's pool has no use for upgraded sockets).
  const proxy = options.agent === undefined && options.createConnection === undefined ? resolveProxy(options.proxy, target) : null;
  if (proxy !== null) {
    // Node's http client calls createConnection (and waits for its callback) only without an agent.
    reqOptions.agent = undefined;
    reqOptions.createConnection = proxyConnection(proxy, target, (socket) => (pending.side = socket)) as unknown as typeof reqOptions.createConnection;
  } else if (options.agent === undefined && options.createConnection === undefined) {
    reqOptions.agent = false as unknown as http.Agent;
    reqOptions.createConnection = (target.secure ? tlsConnect : netConnect) as typeof reqOptions.createConnection;
  }
  const req = (target.secure ? https.request : http.request)(reqOptions);
  pending.request = req;

  req.on('error', (err: Error & { code?: string }) => {
    if (pending.request !== req || pending.aborted) return;
    abortClientHandshake(ws, connectError(err, target));
  });
  req.on('response', (res) => {
    if (pending.request !== req || pending.aborted) return;
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (options.followRedirects && location !== undefined && status >= 300 && status < 400) {
      res.resume();
      redirect(ws, target, location, protocols, options, extra, req);
      return;
    }
    if (ws.listenerCount('unexpected-response') > 0) {
      // The listener owns the response; the handshake timer still guards the socket.
      ws.emit('unexpected-response', req, res);
      return;
    }
    readRefusalBody(res, (body) => {
      req.destroy();
      abortClientHandshake(ws, new InvalidStatusError(status, res.statusMessage ?? '', res.headers, body, target.href));
    });
  });
  req.on('upgrade', (res: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pending.request !== req || pending.aborted) {
      socket.destroy();
      return;
    }
    ws.emit('upgrade', res);
    if (connection.readyState !== CONNECTING) {
      socket.destroy();
      return;
    }
    let result;
    try {
      const response = new Response(res.statusCode ?? 0, res.statusMessage, Headers.fromRawHeaders(res.rawHeaders));
      result = checkServerResponse(response, { key, subprotocols: protocols, extensions });
    } catch (err) {
      socket.destroy();
      abortClientHandshake(ws, new InvalidServerHandshakeError(wsHandshakeMessage(err, protocols, extensions), target.href, err));
      return;
    }
    pending.timer?.cancel();
    pendingOf.delete(ws);
    const used = result.extensions.length > 0 ? deflate : null;
    if (used === null) deflate?.dispose?.();
    connection.setNegotiated(result.subprotocol ?? '', used === null ? '' : res.headers['sec-websocket-extensions'] ?? '', used);
    const opened = openTransport(socket, head, pending.transport);
    connection.attach(opened.transport, opened.head, 'client');
    try {
      ws.emit('open');
    } catch (err) {
      connection.fail(1011, 'internal error', err instanceof Error ? err : new Error(String(err)), true);
    }
  });
  if (beforeSend !== undefined) {
    beforeSend(req);
    // The 'redirect' listener closed the WebSocket: the request was destroyed unsent.
    if (pending.aborted) return;
  }
  if (finishRequest) finishRequest(req, ws);
  else req.end();
}

function redirect(
  ws: ClientSocket,
  from: Target,
  location: string,
  protocols: readonly string[],
  options: ClientOptions,
  extra: Array<[string, string]>,
  req: http.ClientRequest,
): void {
  const pending = pendingOf.get(ws)!;
  const max = options.maxRedirects ?? 10;
  req.destroy();
  if (++pending.redirects > max) {
    abortClientHandshake(ws, new TooManyRedirectsError(max, from.href));
    return;
  }
  let next: Target;
  try {
    next = parseTarget(new URL(location, from.href));
  } catch (err) {
    abortClientHandshake(ws, err instanceof InvalidURLError ? err : new InvalidURLError(`Invalid URL: ${location}`, location));
    return;
  }
  const origin = pending.origin ?? from;
  // The first request's credentials travel as a header from here on (so a later hop's own
  // userinfo does not replace them, as with curl and ws).
  if (origin.auth !== undefined && !extra.some(([n]) => n.toLowerCase() === 'authorization')) {
    extra = [...extra, ['Authorization', `Basic ${Buffer.from(origin.auth).toString('base64')}`]];
  }
  // Credentials stay with the host they were meant for and never go from TLS to plaintext
  // (curl's rule, ws's too). With a 'redirect' listener the application decides: it gets the
  // new request and may remove headers from it before it is sent.
  if (ws.listenerCount('redirect') === 0) {
    const sameHost = next.socketPath !== undefined || origin.socketPath !== undefined ? next.socketPath === origin.socketPath : next.host === origin.host && next.port === origin.port;
    if (!sameHost || (origin.secure && !next.secure)) {
      extra = extra.filter(([n]) => {
        const lower = n.toLowerCase();
        return lower !== 'authorization' && lower !== 'cookie' && (sameHost || lower !== 'host');
      });
      next.auth = undefined;
    }
  }
  ws._url = next.href;
  // The listener gets the new request before it is sent (it may change its headers), and
  // may call close() or terminate(), which aborts it.
  request(ws, next, protocols, options, extra, (nextReq) => ws.emit('redirect', next.href, nextReq));
}

function netConnect(options: net.NetConnectOpts & { path?: string; socketPath?: string }): net.Socket {
  const o = { ...options } as net.NetConnectOpts & { path?: string; socketPath?: string };
  if (o.socketPath !== undefined) (o as net.IpcNetConnectOpts).path = o.socketPath;
  return net.connect(o);
}

function tlsConnect(options: tls.ConnectionOptions & { path?: string }): tls.TLSSocket {
  const o = { ...options };
  delete o.path;
  return tls.connect(o);
}

/**
 * Fails a client handshake in progress: 'error' (if anyone listens; ws would throw
 * otherwise, we do not crash the process), then 'close' with 1006.
 */
export function abortClientHandshake(ws: ClientSocket, err: Error): void {
  const connection = ws[kConnection];
  const pending = pendingOf.get(ws);
  if (connection.readyState === CLOSED || pending === undefined || pending.aborted) return;
  pending.aborted = true;
  pending.timer?.cancel();
  pendingOf.delete(ws);
  pending.request?.destroy();
  pending.side?.destroy();
  connection.abortHandshake(err);
}
