/**
 * The server side of WebSocket over HTTP/2 (RFC 8441): the handshake dialect for extended
 * CONNECT streams (checked by handshake-h2.ts, negotiated as over HTTP/1.1, answered with
 * `:status 200` and no Sec-WebSocket-Accept, §5), and the wiring of a WebSocketServer to a
 * Node http2 server's 'stream' events. The HTTP/1.1 upgrades such a server also gets (with
 * `allowHTTP1: true`) still arrive as 'upgrade' events, on server.ts's usual path: once a
 * server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, browsers send every WebSocket to that
 * origin over HTTP/2, while other clients keep upgrading over HTTP/1.1 (docs/http2.md).
 */
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';

import { isToken, normalizeHeaderValue } from '../handshake/datastructures';
import { RemoteProtocolError } from '../errors';
import { buildSubprotocols } from '../handshake/headers';
import { checkExtendedConnect, CONNECTION_SPECIFIC, isWebSocketConnect, type Http2HeaderMap } from '../handshake/handshake-h2';
import { serverReject } from './diagnostics';
import { cancelOnDestroy } from './http2-stream';
import { forEachHeader, HandshakeRefusal, negotiateDeflate, type HandshakeDialect, type UpgradePlan, type UpgradeSettings } from './server-upgrade';

/** A Node http2 server, cleartext (h2c) or TLS. */
export type AnyHttp2Server = http2.Http2Server | http2.Http2SecureServer;

/** Whether `server` is one of Node's http2 servers (they alone can change their SETTINGS). */
export function isHttp2Server(server: object): server is AnyHttp2Server {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

/**
 * The request object of an extended CONNECT: Node's own `Http2ServerRequest` (what its
 * compatibility API gives to 'request' listeners), so `req.headers`, `req.url`,
 * `req.httpVersion` ('2.0'), `req.socket` and `req.stream` work as users expect.
 */
export function http2Request(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders?: readonly string[]): IncomingMessage {
  // Every way this stream may now end abruptly (handshake timeout, terminate()) is a CANCEL.
  cancelOnDestroy(stream);
  const raw = rawHeaders ?? Object.entries(headers).flatMap(([n, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [String(v)]).flatMap((x) => [n, x])));
  // Typed as IncomingMessage because that is what 'connection', verifyClient and
  // handleProtocols are declared with (as in ws); the members they use are the same.
  return new http2.Http2ServerRequest(stream, headers, {}, raw) as unknown as IncomingMessage;
}

/** One `name: value` line as an HTTP/2 field, or null when it may not be sent. */
function field(name: string, value: unknown): [string, string] | null {
  const lower = String(name).toLowerCase();
  if (!isToken(lower) || CONNECTION_SPECIFIC.has(lower)) return null;
  try {
    return [lower, normalizeHeaderValue(lower, String(value))];
  } catch {
    // CR, LF, NUL or a character above U+00FF.
    return null;
  }
}

function stream2(socket: Duplex): http2.ServerHttp2Stream {
  return socket as http2.ServerHttp2Stream;
}

/** After our last frame, the client's half of a refused stream is not wanted (RFC 9113 §8.1). */
function closeAfterResponse(this: http2.ServerHttp2Stream): void {
  if (!this.closed) this.close(http2.constants.NGHTTP2_NO_ERROR);
}

/**
 * Refuses an extended CONNECT with `code` (RFC 8441 §5 keeps RFC 6455's statuses: 400, 401,
 * 403, 426 with Sec-WebSocket-Version, ...). Status and headers may come from verifyClient,
 * i.e. from application code: a bad status becomes 500, a bad or connection-specific field
 * is dropped (RFC 9113 §8.2.2 forbids them), so nothing an application passes can throw here.
 */
export function refuseStream(socket: Duplex, code: number, message?: string, headers?: OutgoingHttpHeaders | ReadonlyArray<readonly [string, string]>): void {
  const stream = stream2(socket);
  if (stream.destroyed) return;
  if (stream.headersSent || !stream.writable) {
    stream.destroy();
    return;
  }
  // HTTP/2 has no final 1xx (RFC 9113 §8.1) and no 101 (§8.6).
  if (!(Number.isInteger(code) && code >= 200 && code <= 599)) code = 500;
  const body = message ?? STATUS_CODES[code] ?? '';
  serverReject(socket, code, body);
  const out: http2.OutgoingHttpHeaders = { ':status': code, 'content-type': 'text/plain; charset=utf-8' };
  const add = (name: string, value: unknown): void => {
    const f = field(name, value);
    if (f === null || f[0] === 'content-length') return;
    const prev = out[f[0]];
    out[f[0]] = prev === undefined ? f[1] : Array.isArray(prev) ? [...prev, f[1]] : [String(prev), f[1]];
  };
  forEachHeader(headers, add);
  try {
    stream.respond(out);
    stream.once('finish', closeAfterResponse);
    stream.end(body);
  } catch {
    // The session went away under us: nothing to answer on.
    stream.destroy();
  }
}

/**
 * The accept response's fields from ws's lines (the status line first, then `Name: value`
 * lines that 'headers' listeners may have added); lines that are not valid HTTP/2 fields are
 * dropped.
 */
function acceptFields(lines: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ':status': 200 };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const f = field(line.slice(0, colon), line.slice(colon + 1).trim());
    if (f === null) continue;
    const prev = out[f[0]];
    out[f[0]] = prev === undefined ? f[1] : Array.isArray(prev) ? [...prev, f[1]] : [String(prev), f[1]];
  }
  return out;
}

/** The RFC 8441 dialect of the server handshake (see server-upgrade.ts's HandshakeDialect). */
export const HTTP2: HandshakeDialect = {
  plan(req: IncomingMessage, settings: UpgradeSettings): UpgradePlan {
    if (req.rawHeaders.length / 2 > settings.maxHeaderCount) {
      throw new HandshakeRefusal(431, `more than ${settings.maxHeaderCount} header fields`);
    }
    let handshake;
    try {
      handshake = checkExtendedConnect(req.headers as Http2HeaderMap, req.rawHeaders);
    } catch (err) {
      if (err instanceof RemoteProtocolError) {
        const headers = (err as { headers?: ReadonlyArray<readonly [string, string]> }).headers ?? [];
        throw new HandshakeRefusal(err.statusCode ?? 400, err.message, headers);
      }
      throw new HandshakeRefusal(400, err instanceof Error ? err.message : 'invalid request');
    }
    return { handshake, ...negotiateDeflate(handshake, settings) };
  },
  acceptLines(plan: UpgradePlan, protocol: string | null): string[] {
    const lines = ['HTTP/2 200'];
    // buildSubprotocols throws on a value that is not a token: the request then gets 500.
    if (protocol !== null) lines.push(`sec-websocket-protocol: ${buildSubprotocols([protocol])}`);
    if (plan.extensionsHeader !== null) lines.push(`sec-websocket-extensions: ${plan.extensionsHeader}`);
    return lines;
  },
  refuse: refuseStream,
  accept(socket: Duplex, lines: readonly string[]): Buffer | null {
    // The HEADERS frame goes ahead of every DATA frame of the stream (RFC 9113 §8.1).
    stream2(socket).respond(acceptFields(lines));
    return null;
  },
};

/** Marks the streams a WebSocketServer took, so the compatibility API leaves them alone. */
const kTaken = Symbol('wscore.h2Taken');
/** Marks a WebSocketServer's listeners on an http2 server, with the server's path check. */
const kOwner = Symbol('wscore.h2Owner');

/** What {@link attachHttp2} needs of a WebSocketServer. */
export interface StreamHandler {
  shouldHandle(req: IncomingMessage): boolean;
  handleStreamRequest(stream: http2.ServerHttp2Stream, req: IncomingMessage): void;
}

type OwnedListener = ((...args: never[]) => void) & { [kOwner]?: StreamHandler };

function ownersOf(server: AnyHttp2Server, event: string): StreamHandler[] {
  const out: StreamHandler[] = [];
  for (const l of server.listeners(event) as OwnedListener[]) if (l[kOwner] !== undefined) out.push(l[kOwner]);
  return out;
}

/**
 * Listens for extended CONNECT streams on `server` for `wss`; returns what undoes it.
 *
 * Node's compatibility API (present once the server has a 'request' listener) answers every
 * CONNECT with 405 unless a 'connect' listener exists: so a 'connect' listener takes the
 * WebSocket streams out of its hands, and keeps its 405 for other CONNECTs when nobody else
 * listens. The 'stream' listener is put first, so a WebSocket stream is ours before the
 * compatibility API sees it. A stream for a path no WebSocketServer of this server serves is
 * refused with 400 by the first of them, as HTTP/1.1 upgrades are.
 */
export function attachHttp2(server: AnyHttp2Server, wss: StreamHandler): () => void {
  const onStream: OwnedListener = ((stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) => {
    const h = headers as Http2HeaderMap;
    if (h[':method'] !== 'CONNECT' || h[':protocol'] === undefined) return;
    if ((stream as { [kTaken]?: boolean })[kTaken] === true || stream.destroyed) return;
    if (!isWebSocketConnect(h)) return;
    const req = http2Request(stream, headers, rawHeaders);
    if (!wss.shouldHandle(req)) {
      const owners = ownersOf(server, 'stream');
      if (owners.some((o) => o !== wss && o.shouldHandle(req))) return;
      if (owners[0] !== wss) return;
    }
    (stream as { [kTaken]?: boolean })[kTaken] = true;
    wss.handleStreamRequest(stream, req);
  }) as OwnedListener;
  const onConnect: OwnedListener = ((req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if ((req.stream as { [kTaken]?: boolean })[kTaken] === true) return;
    const others = (server.listeners('connect') as OwnedListener[]).filter((l) => l[kOwner] === undefined);
    if (others.length === 0 && ownersOf(server, 'connect')[0] === wss) {
      res.statusCode = 405;
      res.end();
    }
  }) as OwnedListener;
  onStream[kOwner] = wss;
  onConnect[kOwner] = wss;
  server.prependListener('stream', onStream as never);
  server.on('connect', onConnect as never);
  return () => {
    server.removeListener('stream', onStream as never);
    server.removeListener('connect', onConnect as never);
  };
}
