/**
 * The server side of the opening handshake for one request (RFC 6455 §4.2): checks,
 * verifyClient, subprotocol choice, extension negotiation, the 101 response, and the
 * rejections (400, 401, 405, 426, 431, 503).
 */
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';

import { Headers, isToken, normalizeHeaderValue } from '../handshake/datastructures';
import { RemoteProtocolError } from '../errors';
import type { Extension } from '../extensions/extension';
import { buildAcceptResponse, checkClientRequest, InvalidHandshakeHeader, InvalidMethod, negotiateExtensions, type ClientHandshake, type ClientOffers } from '../handshake/handshake';
import type { ExtendedConnectRequest } from '../handshake/handshake-h2';
import { Request } from '../handshake/http11';
import { createDeflate, type DeflateExtension, type PerMessageDeflateOptions } from './deflate-glue';
import { serverReject } from './diagnostics';

/** What verifyClient receives (ws's `info`). */
export interface VerifyClientInfo {
  /** The Origin header ('' or undefined when absent). */
  origin: string | undefined;
  /** Whether the connection is TLS. */
  secure: boolean;
  req: IncomingMessage;
}

/** ws's synchronous verifyClient: return false to refuse with 401. */
export type VerifyClientSync = (info: VerifyClientInfo) => boolean;
/** ws's asynchronous verifyClient: call `callback(false, 403, 'Forbidden', headers)` to refuse. */
export type VerifyClientAsync = (
  info: VerifyClientInfo,
  callback: (verified: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
) => void;

/** How a refusal is answered (the dialect's refuse(), bound to the socket or stream). */
export type Refuse = (code: number, message?: string, headers?: OutgoingHttpHeaders) => void;

/**
 * Runs ws's verifyClient, sync or with a callback (none: accepted). `accept` of a sync
 * verifyClient runs outside the try, so its own errors stay the caller's; a throw of the
 * application's callback becomes `failed(err)` (the request then gets 500).
 */
export function runVerifyClient(
  verify: VerifyClientSync | VerifyClientAsync | undefined,
  req: IncomingMessage,
  accept: () => void,
  refuse: Refuse,
  failed: (err: unknown) => void,
): void {
  if (verify !== undefined) {
    const socket = req.socket as { authorized?: boolean; encrypted?: boolean } | null;
    const info: VerifyClientInfo = { origin: req.headers.origin, secure: Boolean(socket?.authorized || socket?.encrypted), req };
    try {
      if (verify.length === 2) {
        (verify as VerifyClientAsync)(info, (verified, code, message, headers) => {
          if (verified) accept();
          else refuse(code ?? 401, message, headers);
        });
        return;
      }
      if (!(verify as VerifyClientSync)(info)) {
        refuse(401);
        return;
      }
    } catch (err) {
      failed(err);
      return;
    }
  }
  accept();
}

/** The result of a handshake that may go on to the 101. */
export interface UpgradePlan {
  /** The checked request: RFC 6455's over HTTP/1.1, RFC 8441's over HTTP/2. */
  handshake: ClientHandshake | ExtendedConnectRequest;
  /** The subprotocols offered, in order. */
  protocols: Set<string>;
  /** The negotiated permessage-deflate, or null. */
  deflate: DeflateExtension | null;
  /** The Sec-WebSocket-Extensions answer, or null. */
  extensionsHeader: string | null;
}

/**
 * How a handshake is read and answered on its transport: HTTP/1.1 ({@link HTTP11}, here) or
 * an extended CONNECT on an HTTP/2 stream (http2-upgrade.ts). Everything else (path,
 * verifyClient, handleProtocols, 'headers', the connection) is the server's, shared.
 */
export interface HandshakeDialect {
  /** Checks the request and negotiates extensions. @throws HandshakeRefusal */
  plan(req: IncomingMessage, settings: UpgradeSettings): UpgradePlan;
  /** The accept response as ws's lines (the 'headers' event shows them and may add some). */
  acceptLines(plan: UpgradePlan, protocol: string | null): string[];
  /** Answers a refusal with `code` and closes the socket or stream. */
  refuse(socket: Duplex, code: number, message?: string, headers?: OutgoingHttpHeaders | ReadonlyArray<readonly [string, string]>): void;
  /**
   * Sends the accept response: returns the bytes to write ahead of the first frames (the 101
   * of HTTP/1.1), or null when the response went out on its own (HTTP/2 HEADERS).
   */
  accept(socket: Duplex, lines: readonly string[]): Buffer | null;
}

/** The settings {@link planUpgrade} reads. */
export interface UpgradeSettings {
  perMessageDeflate: false | PerMessageDeflateOptions;
  maxPayload: number;
  maxHeaderCount: number;
}

/** A refusal: status, message and headers of the response. */
export class HandshakeRefusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: ReadonlyArray<readonly [string, string]> = [],
  ) {
    super(message);
  }
}

/**
 * ws's response bodies (and 'wsClientError' messages) for a refused request, by the header at
 * fault, so code that matches them keeps working; the status codes stay RFC 6455's.
 */
const WS_REFUSALS: Readonly<Record<string, string>> = {
  upgrade: 'Invalid Upgrade header',
  'sec-websocket-key': 'Missing or invalid Sec-WebSocket-Key header',
  'sec-websocket-version': 'Missing or invalid Sec-WebSocket-Version header',
  'sec-websocket-protocol': 'Invalid Sec-WebSocket-Protocol header',
  'sec-websocket-extensions': 'Invalid or unacceptable Sec-WebSocket-Extensions header',
};

function wsRefusalMessage(err: RemoteProtocolError): string {
  if (err instanceof InvalidMethod) return 'Invalid HTTP method';
  if (err instanceof InvalidHandshakeHeader) return WS_REFUSALS[err.header.toLowerCase()] ?? err.message;
  return err.message;
}

/**
 * Checks the request (RFC 6455 §4.2.1) and negotiates extensions (§9.1).
 * @throws HandshakeRefusal with the HTTP status to answer
 */
export function planUpgrade(req: IncomingMessage, settings: UpgradeSettings): UpgradePlan {
  // The head's line count is limited like the standalone parser's (too many: 431).
  if (req.rawHeaders.length / 2 > settings.maxHeaderCount) {
    throw new HandshakeRefusal(431, `more than ${settings.maxHeaderCount} header lines`);
  }
  let handshake: ClientHandshake;
  try {
    const request = new Request(req.url ?? '/', Headers.fromRawHeaders(req.rawHeaders), {
      method: req.method ?? 'GET',
      httpVersion: req.httpVersion,
    });
    handshake = checkClientRequest(request);
  } catch (err) {
    if (err instanceof RemoteProtocolError) {
      const headers = (err as { headers?: ReadonlyArray<readonly [string, string]> }).headers ?? [];
      throw new HandshakeRefusal(err.statusCode ?? 400, wsRefusalMessage(err), headers);
    }
    throw new HandshakeRefusal(400, err instanceof Error ? err.message : 'invalid request');
  }
  return { handshake, ...negotiateDeflate(handshake, settings) };
}

/**
 * Negotiates permessage-deflate (RFC 7692 through RFC 6455 §9.1) for the offers of a checked
 * request, whatever its HTTP version (RFC 8441 §5 keeps the negotiation as it is).
 * @throws HandshakeRefusal (400) on offers that cannot be accepted
 */
export function negotiateDeflate(handshake: ClientOffers, settings: UpgradeSettings): Omit<UpgradePlan, 'handshake'> {
  let deflate: DeflateExtension | null = null;
  let extensionsHeader: string | null = null;
  if (settings.perMessageDeflate !== false && handshake.extensions.length > 0) {
    const candidate = createDeflate(settings.perMessageDeflate, true, settings.maxPayload);
    if (candidate !== null) {
      try {
        const available: Extension[] = [candidate];
        const result = negotiateExtensions(handshake.extensions, available);
        if (result.extensions.length > 0) {
          deflate = candidate;
          extensionsHeader = result.header;
        } else {
          candidate.dispose?.();
        }
      } catch (err) {
        candidate.dispose?.();
        throw new HandshakeRefusal(400, WS_REFUSALS['sec-websocket-extensions']!);
      }
    }
  }
  return { protocols: new Set(handshake.subprotocols), deflate, extensionsHeader };
}

/**
 * The 101 response as ws's array of lines (what the 'headers' event shows and may change).
 */
export function acceptLines(plan: UpgradePlan, protocol: string | null): string[] {
  // This dialect's plans come from planUpgrade: an HTTP/1.1 handshake, which has a key.
  const response = buildAcceptResponse({ key: (plan.handshake as ClientHandshake).key, subprotocol: protocol, extensions: plan.extensionsHeader });
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  for (const [name, value] of response.headers.rawItems()) lines.push(`${name}: ${value}`);
  return lines;
}

/**
 * Calls `add` for every header line of a refusal's headers (verifyClient's callback), given
 * as [name, value] pairs or as an object whose array values stand for several lines.
 */
export function forEachHeader(headers: OutgoingHttpHeaders | ReadonlyArray<readonly [string, string]> | undefined, add: (name: string, value: unknown) => void): void {
  if (Array.isArray(headers)) {
    for (const [name, value] of headers as ReadonlyArray<readonly [string, string]>) add(name, value);
  } else if (headers !== undefined) {
    for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) add(name, v);
    }
  }
}

/**
 * Answers a refused handshake and closes the socket (RFC 6455 §4.2.2 item 4: "an appropriate
 * error code"), with `Connection: close`.
 */
export function abortHandshake(
  socket: Duplex,
  code: number,
  message?: string,
  headers?: OutgoingHttpHeaders | ReadonlyArray<readonly [string, string]>,
): void {
  const s = socket as Duplex & { [kAborting]?: boolean };
  // Once answered, later calls (Node's parser reports every further chunk of a broken head
  // as another 'clientError') leave the lingering close below alone.
  if (socket.destroyed || s[kAborting] === true) return;
  s[kAborting] = true;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // The status and headers may come from verifyClient's callback, i.e. from application
  // code that may echo request data: a status that is not a number, or a header line that
  // could smuggle "\r\nSet-Cookie: ..." (undici CVE-2026-1527's class), must never reach the
  // wire. Bad statuses become 500; bad header lines are dropped (docs/security.md).
  if (!(Number.isInteger(code) && code >= 100 && code <= 599)) code = 500;
  const body = message ?? STATUS_CODES[code] ?? '';
  serverReject(socket, code, body);
  const lines = [`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`];
  const add = (name: string, value: unknown): void => {
    if (!isToken(String(name))) return;
    try {
      lines.push(`${name}: ${normalizeHeaderValue(name, String(value))}`);
    } catch {
      // CR, LF, NUL or a character above U+00FF: dropped.
    }
  };
  forEachHeader(headers, add);
  socket.once('finish', () => lingerThenDestroy(socket));
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

const kAborting: unique symbol = Symbol('wscore.aborting');

/** How long a refused connection is read (and discarded) after its response, at most. */
const LINGER_MS = 2000;
/** How many bytes a refused connection may still send while lingering. */
const LINGER_BYTES = 1024 * 1024;

/**
 * Closes a refused connection after its response was written, without losing the response:
 * destroying a socket whose receive buffer holds unread bytes (the rest of a too-large head,
 * a flood) sends a TCP reset, and a reset makes the peer's kernel drop our 431/400 before
 * the peer reads it. So the socket is read and discarded until the peer closes too, for at
 * most {@link LINGER_MS} and {@link LINGER_BYTES} (HTTP servers' "lingering close").
 */
function lingerThenDestroy(socket: Duplex): void {
  if (socket.destroyed) return;
  let discarded = 0;
  const done = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(done, LINGER_MS);
  timer.unref();
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) done();
  });
  socket.once('end', done);
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
}

/** The HTTP/1.1 dialect: RFC 6455's GET + Upgrade, answered with 101 on the socket. */
export const HTTP11: HandshakeDialect = {
  plan: planUpgrade,
  acceptLines,
  refuse: abortHandshake,
  accept: (_socket, lines) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
};
