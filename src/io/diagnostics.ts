/**
 * Observability: Node `diagnostics_channel` events, `NODE_DEBUG=wscore` logging and the
 * counters behind `WebSocketServer#stats()`. Every channel is defined here; the rest of io/
 * calls the functions below, one line per hook. Payloads are documented in docs/diagnostics.md.
 *
 * Cost when nobody listens: each publishing function first checks `hasSubscribers` (and the
 * debug log its `enabled` flag) and returns before building anything, so the per-frame hooks
 * allocate nothing. The counters are plain number fields on an object the server shares with
 * its connections (`TransportConnection#stats`, null on client connections).
 */
import * as dc from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { debuglog } from 'node:util';


/** The channels, by name (docs/diagnostics.md). */
export const channels = Object.freeze({
  /** A WebSocketServer starts handling an upgrade request. */
  serverUpgrade: dc.channel('wscore:server:upgrade'),
  /** An opening handshake is refused with an HTTP status (RFC 6455 §4.2.2). */
  serverReject: dc.channel('wscore:server:reject'),
  /** A connection is OPEN (server or client side). */
  open: dc.channel('wscore:open'),
  /** A frame was parsed from the peer (unmasked, before any inflate). */
  frameReceived: dc.channel('wscore:frame:received'),
  /** A frame was queued for the peer (before masking; compressed if it is). */
  frameSent: dc.channel('wscore:frame:sent'),
  /** A connection reported an error ('error' event, or where it goes unlistened). */
  error: dc.channel('wscore:error'),
  /** A connection is CLOSED (a failed client handshake included). */
  close: dc.channel('wscore:close'),
});

/** Payload of `wscore:server:upgrade`. */
export interface UpgradeDiagnostic {
  server: unknown;
  request: IncomingMessage;
  socket: Duplex;
}
/** Payload of `wscore:server:reject`. */
export interface RejectDiagnostic {
  socket: Duplex;
  statusCode: number;
  message: string;
}
/** Payload of `wscore:open`. */
export interface OpenDiagnostic {
  websocket: unknown;
  isServer: boolean;
  protocol: string;
  extensions: string;
}
/** Payload of `wscore:frame:received` and `wscore:frame:sent`. */
export interface FrameDiagnostic {
  websocket: unknown;
  opcode: number;
  fin: boolean;
  /** RSV1-RSV3 as bits 4, 2, 1 (RSV1 set: a compressed message, RFC 7692 §6). */
  rsv: number;
  /** The payload; a view valid only during the call (copy it to keep it). */
  payload: Uint8Array;
}
/** Payload of `wscore:error`. */
export interface ErrorDiagnostic {
  websocket: unknown;
  error: Error;
}
/** Payload of `wscore:close`. */
export interface CloseDiagnostic {
  websocket: unknown;
  code: number;
  reason: string;
  /** Both close frames were exchanged before the connection ended (RFC 6455 §7.1.5). */
  wasClean: boolean;
}

/** `NODE_DEBUG=wscore`: handshakes, closes and errors (no frames: see the channels for those). */
const debug = debuglog('wscore');

/**
 * What the per-frame and error hooks read of a connection (its send side, ./sending-connection.ts,
 * satisfies it): declared here so that this module sits below the connection and its
 * receive path, which both call it.
 */
export interface CountedConnection {
  readonly owner: unknown;
  readonly isServer: boolean;
  /** The server's counters (stats()); null on a client connection. */
  stats: ServerCounters | null;
}

/** What the open, close and counter hooks read of a connection (TransportConnection). */
export interface DiagnosticSubject extends CountedConnection {
  readonly protocol: string;
  readonly extensions: string;
  readonly closeFrameSent: boolean;
  readonly closeFrameReceived: boolean;
  readonly closeCode: number;
  readonly closeReason: Buffer;
  readonly sender: { stats: ServerCounters | null } | null;
}

/** The counters of one WebSocketServer, shared with its connections (plain increments). */
export class ServerCounters {
  /** Connections accepted since the server started. */
  accepted = 0;
  /** Whole data messages received / sent (broadcast and publish included). */
  messagesIn = 0;
  messagesOut = 0;
  /** Bytes read from / written to the connections' sockets after the upgrade. */
  bytesIn = 0;
  bytesOut = 0;
  /** Connections dropped for not reading (maxBufferedAmount, maxPendingAutoPongs). */
  drops = 0;
  /** Handshakes refused with an HTTP status. */
  rejected = 0;
}

/** What `WebSocketServer#stats()` returns (docs/diagnostics.md). */
export interface WebSocketServerStats {
  /** Open connections now (CONNECTING handshakes excluded). */
  connections: number;
  /** Handshakes in progress now. */
  handshakes: number;
  /** Connections accepted since the server started. */
  accepted: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  drops: number;
  rejected: number;
  /** Bytes queued for the peers and not yet written to the OS, over every connection now. */
  pendingBytes: number;
}

/** Where a socket in its handshake finds its server's counters (for `rejected`). */
const kCounters: unique symbol = Symbol('wscore.counters');

export function serverUpgrade(server: unknown, counters: ServerCounters, request: IncomingMessage, socket: Duplex): void {
  (socket as Duplex & { [kCounters]?: ServerCounters })[kCounters] = counters;
  if (debug.enabled) debug('server upgrade %s %s from %s', request.method, request.url, request.socket?.remoteAddress);
  if (channels.serverUpgrade.hasSubscribers) channels.serverUpgrade.publish({ server, request, socket } satisfies UpgradeDiagnostic);
}

export function serverReject(socket: Duplex, statusCode: number, message: string): void {
  const counters = (socket as Duplex & { [kCounters]?: ServerCounters })[kCounters];
  if (counters !== undefined) counters.rejected++;
  if (debug.enabled) debug('handshake refused: %d %s', statusCode, message);
  if (channels.serverReject.hasSubscribers) channels.serverReject.publish({ socket, statusCode, message } satisfies RejectDiagnostic);
}

export function opened(connection: DiagnosticSubject): void {
  if (debug.enabled) debug('open (%s) protocol=%j extensions=%j', connection.isServer ? 'server' : 'client', connection.protocol, connection.extensions);
  if (channels.open.hasSubscribers) {
    channels.open.publish({ websocket: connection.owner, isServer: connection.isServer, protocol: connection.protocol, extensions: connection.extensions } satisfies OpenDiagnostic);
  }
}

/**
 * A frame from the peer; `info` is header byte 0 (FIN, RSV, opcode) plus reader flags.
 * `lent`: the transport's reused read buffer, if any (subscribers get a copy of a view of it).
 */
export function frameReceived(connection: CountedConnection, info: number, payload: Uint8Array, lent: ArrayBufferLike | null = null): void {
  const stats = connection.stats;
  // A data frame with FIN completes a message (RFC 6455 §5.4).
  if (stats !== null && (info & 0x88) === 0x80) stats.messagesIn++;
  if (channels.frameReceived.hasSubscribers) publishFrame(channels.frameReceived, connection, info, payload.buffer === lent ? Buffer.from(payload) : payload);
}

/** A frame queued for the peer; `b0` is its header byte 0, `payload` as it goes (unmasked). */
export function frameSent(connection: CountedConnection, b0: number, payload: Uint8Array | string): void {
  const stats = connection.stats;
  if (stats !== null && (b0 & 0x88) === 0x80) stats.messagesOut++;
  if (channels.frameSent.hasSubscribers) publishFrame(channels.frameSent, connection, b0, typeof payload === 'string' ? Buffer.from(payload) : payload);
}

/** A pre-framed message (broadcast): header byte 0 and the payload are read from `frame`. */
export function preparedFrameSent(connection: CountedConnection, frame: Uint8Array): void {
  const stats = connection.stats;
  if (stats !== null) stats.messagesOut++;
  if (!channels.frameSent.hasSubscribers) return;
  const len = frame[1]! & 0x7f;
  const header = len === 127 ? 10 : len === 126 ? 4 : 2;
  publishFrame(channels.frameSent, connection, frame[0]!, frame.subarray(header));
}

function publishFrame(channel: dc.Channel, connection: CountedConnection, b0: number, payload: Uint8Array): void {
  channel.publish({ websocket: connection.owner, opcode: b0 & 0x0f, fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, payload } satisfies FrameDiagnostic);
}

export function errored(connection: CountedConnection, error: Error): void {
  if (debug.enabled) debug('error (%s): %s', connection.isServer ? 'server' : 'client', error.message);
  if (channels.error.hasSubscribers) channels.error.publish({ websocket: connection.owner, error } satisfies ErrorDiagnostic);
}

/** A server connection is attached: it counts in its server's counters from now on. */
export function attachCounters(connection: DiagnosticSubject, counters: ServerCounters): void {
  counters.accepted++;
  connection.stats = counters;
  connection.sender!.stats = counters;
}

/** Bytes read from a connection's socket. */
export function bytesRead(connection: CountedConnection, n: number): void {
  if (connection.stats !== null) connection.stats.bytesIn += n;
}

/** A snapshot for `WebSocketServer#stats()`. */
export function serverStats(counters: ServerCounters, connections: number, handshakes: number, pendingBytes: number): WebSocketServerStats {
  const { accepted, messagesIn, messagesOut, bytesIn, bytesOut, drops, rejected } = counters;
  return { connections, handshakes, accepted, messagesIn, messagesOut, bytesIn, bytesOut, drops, rejected, pendingBytes };
}

/** A connection was dropped by a buffer limit (it also reports an error). */
export function dropped(connection: CountedConnection): void {
  if (connection.stats !== null) connection.stats.drops++;
}

export function closed(connection: DiagnosticSubject): void {
  const wasClean = connection.closeFrameSent && connection.closeFrameReceived;
  if (debug.enabled) debug('close (%s) code=%d reason=%j clean=%s', connection.isServer ? 'server' : 'client', connection.closeCode, connection.closeReason.toString(), wasClean);
  if (channels.close.hasSubscribers) {
    channels.close.publish({ websocket: connection.owner, code: connection.closeCode, reason: connection.closeReason.toString(), wasClean } satisfies CloseDiagnostic);
  }
}
